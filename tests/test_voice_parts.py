"""The voice's smaller parts: phrase cache, chime, playback choice and aplay, `say` and `doctor`."""

from __future__ import annotations

import argparse
import array
import math
import os
import subprocess
import sys
import time
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from tests.helpers.voice_fakes import (
    SineEngine,
    failing_factory,
)

from backcoach.commands import voice_commands
from backcoach.voice import diagnose, playback
from backcoach.voice.cache import PhraseCache, Sound, VoiceParams, trim_silence, wav_stats
from backcoach.voice.chime import SAMPLE_RATE, SOUNDS, bundled_sound, sound_at_volume, write_wav
from backcoach.voice.diagnose import Finding, Level
from backcoach.voice.playback import (
    AplayPlayback,
    AudioChoice,
    AudioProbe,
    FallbackPlayback,
    NullPlayback,
    Playback,
    choose_playback,
    parse_pcm_list,
)

ROOT = Path(__file__).resolve().parent.parent
NO_OUTPUT = AudioProbe(qt_outputs=(), aplay="/usr/bin/aplay", alsa_cards=(), sound_server=None)




def _wait_for(condition, seconds: float = 10.0) -> None:
    """Poll `condition` until it holds or `seconds` pass (the assertion after it decides)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _tone(seconds: float, amplitude: int = 8000) -> list[int]:
    return [round(amplitude * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE))
            for i in range(round(seconds * SAMPLE_RATE))]


def test_a_silent_linux_machine_does_not_load_qtmultimedia(monkeypatch) -> None:
    """With no ALSA card and no sound server, Qt is not asked; with either, it is."""
    asked: list[int] = []
    monkeypatch.setattr(playback.sys, "platform", "linux")
    monkeypatch.setattr(playback, "qt_audio_outputs", lambda: asked.append(1) or ("Speakers",))
    monkeypatch.setattr(playback, "alsa_cards", lambda: ())
    monkeypatch.setattr(playback, "sound_server_socket", lambda environ=None: None)
    assert playback.probe_audio().qt_outputs is None and asked == []
    monkeypatch.setattr(playback, "sound_server_socket", lambda environ=None: "/run/user/1/pulse/native")
    assert playback.probe_audio().qt_outputs == ("Speakers",) and asked == [1]
    monkeypatch.setattr(playback, "sound_server_socket", lambda environ=None: None)
    monkeypatch.setattr(playback, "alsa_cards", lambda: ("0 [PCH]: HDA-Intel",))
    assert playback.probe_audio().qt_outputs == ("Speakers",) and asked == [1, 1]


# -- cache and sounds -----------------------------------------------------------------------

def test_trim_silence_keeps_only_the_audible_part(tmp_path: Path) -> None:
    """Leading and trailing silence is cut (a few ms kept), so phrases are timed by what is heard."""
    source, target = tmp_path / "raw.wav", tmp_path / "trimmed.wav"
    write_wav(source, [0] * round(0.3 * SAMPLE_RATE) + _tone(0.5) + [0] * round(0.4 * SAMPLE_RATE))
    duration = trim_silence(source, target)
    assert duration == pytest.approx(0.55, abs=0.01)
    assert wav_stats(target).duration == pytest.approx(duration)


def test_cache_key_covers_voice_rate_volume_and_text(tmp_path: Path) -> None:
    """Each of voice, rate, volume and text names a different file; a corrupt file is a miss."""
    cache = PhraseCache(tmp_path)
    base = VoiceParams("gmw/en", 160, 1.0)
    paths = {cache.path_for(p, t) for p, t in [
        (base, "Rest"), (VoiceParams("gmw/en-us", 160, 1.0), "Rest"),
        (VoiceParams("gmw/en", 200, 1.0), "Rest"), (VoiceParams("gmw/en", 160, 0.5), "Rest"),
        (base, "Rest.")]}
    assert len(paths) == 5
    cache.path_for(base, "Rest").write_bytes(b"not a wav")
    assert cache.load(base, "Rest") is None


def test_bundled_sounds_match_their_generator() -> None:
    """resources/sounds/*.wav are what tools/make_sounds.py writes (samples equal within rounding)."""
    for name, synth in SOUNDS.items():
        with wave.open(str(bundled_sound(name))) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
            stored = array.array("h", wav.readframes(wav.getnframes()))
        fresh = synth()
        assert len(stored) == len(fresh)
        assert max(abs(a - b) for a, b in zip(stored, fresh, strict=True)) <= 1
        assert 0.05 < wav_stats(bundled_sound(name)).rms < 0.5
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "make_sounds.py"), "--check"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_chime_at_volume_is_scaled_and_reused(tmp_path: Path) -> None:
    """A quieter chime is a scaled copy made once in the cache folder."""
    loud = sound_at_volume("chime", 1.0, tmp_path)
    quiet = sound_at_volume("chime", 0.25, tmp_path)
    assert wav_stats(quiet).rms == pytest.approx(wav_stats(loud).rms * 0.25, rel=0.02)
    stamp = quiet.stat().st_mtime_ns
    assert sound_at_volume("chime", 0.25, tmp_path) == quiet and quiet.stat().st_mtime_ns == stamp


# -- playback ---------------------------------------------------------------------------------

PIPEWIRE_PCMS = parse_pcm_list("null\n    Discard all samples (playback) or generate zero samples "
                                "(capture)\npipewire\n    PipeWire Sound Server\ndefault\n"
                                "    Default ALSA Output (currently PipeWire Media Server)\n"
                                "sysdefault:CARD=PCH\n    HDA Intel PCH, ALC257 Analog\n"
                                "    Default Audio Device\n")
PULSE_PCMS = (("null", "Discard all samples"), ("pulse", "PulseAudio Sound Server"),
              ("sysdefault:CARD=PCH", "HDA Intel PCH, ALC887-VD Analog"))
SERVER = "/run/user/1000/pulse/native"
CARD = ("0 [PCH            ]: HDA-Intel - HDA Intel PCH",)


def _choose(monkeypatch: pytest.MonkeyPatch, probe: AudioProbe, qt: tuple[str, ...] = (),
            platform: str = "linux") -> tuple[AudioChoice, list[int]]:
    """choose_playback on `platform`, with Qt listing `qt` (and how often Qt was asked)."""
    asked: list[int] = []
    monkeypatch.setattr(playback.sys, "platform", platform)
    monkeypatch.setattr(playback, "qt_audio_outputs", lambda: asked.append(1) or qt)
    return choose_playback(probe=probe, environ={}), asked


def _aplay_device(choice: AudioChoice) -> str | None:
    assert isinstance(choice.playback, FallbackPlayback), choice.playback
    aplay = choice.playback.active
    assert isinstance(aplay, AplayPlayback) and aplay.executable == "/usr/bin/aplay"
    return aplay.device


def test_linux_plays_through_aplay_to_the_sound_server_without_asking_qt(monkeypatch) -> None:
    """With a sound server, aplay plays through ALSA's PipeWire or Pulse device; Qt is not even asked."""
    routed, asked = _choose(monkeypatch, AudioProbe(None, "/usr/bin/aplay", CARD, SERVER,
                                                    PIPEWIRE_PCMS), qt=("Speakers",))
    assert _aplay_device(routed) is None and routed.problem is None  # ALSA's default is PipeWire
    assert asked == [] and routed.probe is not None and routed.probe.qt_outputs is None
    pulse, asked = _choose(monkeypatch, AudioProbe(None, "/usr/bin/aplay", CARD, SERVER,
                                                   PULSE_PCMS), qt=("Speakers",))
    assert _aplay_device(pulse) == "pulse" and asked == []
    card, asked = _choose(monkeypatch, AudioProbe(None, "/usr/bin/aplay", CARD, None))
    assert _aplay_device(card) is None and asked == []


def test_linux_takes_qt_when_aplay_is_missing_or_cannot_reach_the_server(monkeypatch) -> None:
    """No aplay, or ALSA with no way to the sound server: Qt; with no Qt output, a card, else the fix."""
    missing, asked = _choose(monkeypatch, AudioProbe(None, None, CARD, SERVER), qt=("Speakers",))
    assert missing.playback.name == "qt" and asked == [1]
    assert missing.probe is not None and missing.probe.qt_outputs == ("Speakers",)
    unrouted = AudioProbe(None, "/usr/bin/aplay", CARD, SERVER, PULSE_PCMS[::2])  # no "pulse"
    assert _choose(monkeypatch, unrouted, qt=("Speakers",))[0].playback.name == "qt"
    last_resort, _ = _choose(monkeypatch, unrouted, qt=())
    assert isinstance(last_resort.playback, AplayPlayback) and last_resort.playback.device is None
    no_card, _ = _choose(monkeypatch, replace(unrouted, alsa_cards=()), qt=())
    assert isinstance(no_card.playback, NullPlayback)
    assert SERVER in no_card.problem and "libasound2-plugins" in no_card.problem
    silent, asked = _choose(monkeypatch, AudioProbe(None, "/usr/bin/aplay", (), None))
    assert isinstance(silent.playback, NullPlayback) and not silent.playback.audible
    assert "No sound" in silent.problem and "PipeWire" in silent.problem and asked == []
    no_aplay, _ = _choose(monkeypatch, AudioProbe(None, None, (), None))
    assert "alsa-utils" in no_aplay.problem


def test_windows_and_macos_play_through_qt(monkeypatch) -> None:
    """Elsewhere Qt is the playback when it lists an output; with none, silence and the fix."""
    for platform in ("win32", "darwin"):
        qt, asked = _choose(monkeypatch, AudioProbe(None, None, (), None), ("Speakers",), platform)
        assert qt.playback.name == "qt" and qt.problem is None and asked == [1]
        silent, _ = _choose(monkeypatch, AudioProbe(None, None, (), None), (), platform)
        assert isinstance(silent.playback, NullPlayback) and "No sound" in silent.problem


def test_aplay_list_of_devices_is_read(tmp_path: Path) -> None:
    """`aplay -L` is parsed into names and descriptions (the real one lists ALSA's null device)."""
    assert dict(PIPEWIRE_PCMS)["sysdefault:CARD=PCH"] == "HDA Intel PCH, ALC257 Analog"
    assert [name for name, _ in PIPEWIRE_PCMS] == ["null", "pipewire", "default",
                                                  "sysdefault:CARD=PCH"]
    aplay = __import__("shutil").which("aplay")
    if aplay:
        assert ("null", "Discard all samples (playback) or generate zero samples (capture)") \
            in playback.alsa_pcms(aplay)
    assert playback.alsa_pcms(str(tmp_path / "no-aplay")) == ()


def test_audio_override_from_the_environment() -> None:
    """BACKCOACH_AUDIO picks the playback: aplay:DEVICE, none."""
    choice = choose_playback(environ={"BACKCOACH_AUDIO": "aplay:null"}, probe=NO_OUTPUT)
    assert isinstance(choice.playback, AplayPlayback) and choice.playback.device == "null"
    assert choice.playback.command(Sound("x", Path("/a.wav"), 1.0)) == ["aplay", "-q", "-D", "null",
                                                                         "/a.wav"]
    none = choose_playback(environ={"BACKCOACH_AUDIO": "none"}, probe=NO_OUTPUT)
    assert isinstance(none.playback, NullPlayback) and none.problem is None


def test_alsa_cards_parsing(tmp_path: Path) -> None:
    """/proc/asound/cards lists cards; "--- no soundcards ---" means none."""
    none, some = tmp_path / "none", tmp_path / "some"
    none.write_text("--- no soundcards ---\n")
    some.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n"
                    "                      HDA Intel PCH at 0xf7f10000 irq 32\n")
    assert playback.alsa_cards(none) == ()
    assert playback.alsa_cards(some) == ("0 [PCH            ]: HDA-Intel - HDA Intel PCH",)
    assert playback.alsa_cards(tmp_path / "missing") == ()


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_aplay_to_the_null_device_works_without_a_sound_card(tmp_path: Path) -> None:
    """A real aplay process plays a phrase to ALSA's null device, is reaped, and reports nothing."""
    path = tmp_path / "tone.wav"
    write_wav(path, _tone(0.2))
    sink = AplayPlayback("null")
    sink.play(Sound("tone", path, 0.2))
    _wait_for(lambda: not sink.running)
    assert sink.running == 0 and sink.problems() == []
    sink.close()


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_aplay_failure_is_reported_once_with_the_fix(tmp_path: Path) -> None:
    """aplay failing (a device that does not exist) becomes one plain problem naming the fix."""
    path = tmp_path / "tone.wav"
    write_wav(path, _tone(0.1))
    sink = AplayPlayback("backcoach_no_such_device")
    sink.play(Sound("tone", path, 0.1))
    sink.play(Sound("tone", path, 0.1))
    _wait_for(lambda: not sink.running)
    problems = sink.problems()
    assert len(problems) == 1 and "aplay failed" in problems[0] and "sound device" in problems[0]
    sink.close()


def test_stop_terminates_a_playing_process_without_reporting_it(tmp_path: Path) -> None:
    """stop() ends a phrase that is still playing at once; being stopped is not a problem."""
    fake = tmp_path / "aplay"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    sink = AplayPlayback(executable=str(fake))
    sink.play(Sound("long", tmp_path / "x.wav", 60.0))
    assert sink.running == 1
    sink.stop()
    _wait_for(lambda: not sink.running)
    assert sink.running == 0  # long before the 60 s phrase would have ended
    assert sink.problems() == []
    sink.close()


def test_an_aplay_that_never_finishes_is_ended_and_reported(tmp_path: Path) -> None:
    """aplay still running well past its phrase's end (a device taking no sound) is ended and reported."""
    fake = tmp_path / "aplay"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    sink = AplayPlayback(executable=str(fake))
    sink.HUNG_AFTER = 0.2
    sink.play(Sound("short", tmp_path / "x.wav", 0.1))
    problems: list[str] = []
    _wait_for(lambda: bool(problems.extend(sink.problems()) or problems))
    assert len(problems) == 1 and "did not finish" in problems[0] and "sound server" in problems[0]
    _wait_for(lambda: not sink.running)
    assert sink.running == 0 and sink.problems() == []  # ended, and not reported twice
    sink.close()


class _StandIn(Playback):
    """Stands in for Qt with an output (this machine may have none): notes what it is asked."""

    name = "stand-in"
    latency = 0.02
    audible = True

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.played: list[str] = []
        self.trouble: list[str] = []

    def preload(self, sound: Sound) -> None:
        self.loaded.append(sound.text)

    def play(self, sound: Sound) -> None:
        self.played.append(sound.text)

    def problems(self) -> list[str]:
        out, self.trouble = self.trouble, []
        return out


def _failing_aplay_sink(tmp_path: Path, fallback) -> tuple[FallbackPlayback, Sound, Sound]:
    """aplay to a device that does not exist (it fails for real), with `fallback` behind it."""
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    write_wav(first, _tone(0.1))
    write_wav(second, _tone(0.1))
    sink = FallbackPlayback(AplayPlayback("backcoach_no_such_device"), fallback)
    return sink, Sound("Get ready", first, 0.1), Sound("Switch", second, 0.1)


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_a_failing_aplay_hands_over_to_qt_once_for_the_rest_of_the_run(tmp_path: Path) -> None:
    """aplay failing: the next phrase plays through the fallback, sounds preloaded; it is made only once."""
    made: list[_StandIn] = []
    sink, first, second = _failing_aplay_sink(tmp_path, lambda: made.append(_StandIn()) or made[-1])
    sink.preload(first)
    sink.preload(second)
    assert (sink.name, sink.latency, sink.preloaded) == ("aplay:backcoach_no_such_device", 0.03, 0)
    sink.play(first)
    aplay = sink.active
    assert isinstance(aplay, AplayPlayback)
    _wait_for(lambda: not aplay.running)
    sink.play(second)
    assert len(made) == 1 and sink.active is made[0]
    assert made[0].loaded == ["Get ready", "Switch"] and made[0].played == ["Switch"]
    assert (sink.name, sink.latency) == ("stand-in", 0.02)
    assert sink.problems() == []  # sound carries on: nothing to tell the user
    made[0].trouble.append("Sound cannot be played: Qt could not play b.wav.")
    assert sink.problems() == ["Sound cannot be played: Qt could not play b.wav."]
    assert len(made) == 1  # no second hand-over
    sink.release()
    sink.close()


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_a_failing_aplay_with_no_qt_output_is_reported_and_aplay_kept(tmp_path: Path, qapp) -> None:
    """aplay failing where Qt lists no output (real Qt): the failure reaches the user; aplay plays on."""
    from PySide6.QtMultimedia import QMediaDevices

    if QMediaDevices.audioOutputs():
        pytest.skip("this machine has an audio output")
    sink, first, second = _failing_aplay_sink(tmp_path, playback._qt_if_it_has_an_output)
    sink.play(first)
    aplay = sink.active
    assert isinstance(aplay, AplayPlayback)
    _wait_for(lambda: not aplay.running)
    problems = sink.problems()
    assert len(problems) == 1 and "aplay failed" in problems[0] and "sound device" in problems[0]
    sink.play(second)
    assert sink.active is aplay
    _wait_for(lambda: not aplay.running)
    assert sink.problems() == []  # the same failure is not told twice
    sink.close()


def test_qt_sound_effect_without_an_output_reports_a_problem(qapp) -> None:
    """With no audio device, QtMultimedia's error status is turned into a plain message."""
    from PySide6.QtMultimedia import QMediaDevices

    if QMediaDevices.audioOutputs():
        pytest.skip("this machine has an audio output")
    sink = playback.QtPlayback()
    sound = Sound("chime", bundled_sound("chime"), 0.6)
    sink.preload(sound)
    sink.play(sound)
    deadline = time.monotonic() + 5
    problems: list[str] = []
    while not problems and time.monotonic() < deadline:
        qapp.processEvents()
        problems += sink.problems()
        time.sleep(0.01)
    assert problems and "Sound cannot be played" in problems[0]
    sink.close()


# -- command line -------------------------------------------------------------------------------

def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="backcoach")
    parser.add_argument("--home", default=None)
    voice_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.speech
def test_say_out_writes_an_audible_wav_with_the_settings_voice(tmp_path: Path, capsys) -> None:
    """`backcoach say TEXT --out FILE` renders with the app's pipeline to a non-silent WAV."""
    out = tmp_path / "hello.wav"
    assert _run(["say", "Switch legs", "--out", str(out), "--rate", "180"]) == 0
    stats = wav_stats(out)
    assert stats.rms > 0.02 and 0.3 < stats.duration < 2.0
    assert f"wrote {out}" in capsys.readouterr().out


def test_say_without_audio_output_explains_and_suggests_out(tmp_path: Path, capsys,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`say` on a machine with no sound exits 1 with the reason and the --out hint."""
    monkeypatch.setattr(voice_commands, "_worker", lambda home, problems: __import__(
        "backcoach.voice.speech", fromlist=["SpeechWorker"]).SpeechWorker(
            SineEngine, PhraseCache(tmp_path), on_problem=problems.append))
    monkeypatch.setattr(playback, "choose_playback",
                        lambda **_: AudioChoice(NullPlayback(), "No sound: no device. Fix it."))
    assert _run(["say", "Breathe in"]) == 1
    err = capsys.readouterr().err
    assert "No sound: no device" in err and "--out FILE.wav" in err


def test_say_reports_a_missing_engine_with_its_fix(tmp_path: Path, capsys,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`say` with no speech engine exits 1 and prints the install command."""
    monkeypatch.setattr(voice_commands, "_worker", lambda home, problems: __import__(
        "backcoach.voice.speech", fromlist=["SpeechWorker"]).SpeechWorker(
            failing_factory, PhraseCache(tmp_path), on_problem=problems.append))
    assert _run(["say", "Breathe in", "--out", str(tmp_path / "x.wav")]) == 1
    assert "sudo apt-get install libespeak-ng1" in capsys.readouterr().err


def test_say_checks_its_options() -> None:
    """Out-of-range rate or volume is a usage error."""
    from backcoach.cli import UsageError

    with pytest.raises(UsageError):
        _run(["say", "x", "--rate", "20"])
    with pytest.raises(UsageError):
        _run(["say", "x", "--volume", "2"])


@pytest.mark.speech
def test_voices_lists_english_voices(capsys) -> None:
    """`backcoach voices` lists the engine's English voices."""
    assert _run(["voices"]) == 0
    out = capsys.readouterr().out
    assert "gmw/en" in out or "en" in out.lower()


def test_doctor_exit_status_follows_the_worst_finding(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor exits 1 on any FAIL, 0 with warnings only, and prints each fix under its finding."""
    warn = [Finding("Audio output", Level.WARN, "No audio output.", "Plug in speakers.")]
    monkeypatch.setattr(diagnose, "run_checks", lambda home: warn)
    assert _run(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "[warn] Audio output: No audio output." in out and "fix: Plug in speakers." in out
    monkeypatch.setattr(diagnose, "run_checks", lambda home: [
        *warn, Finding("Speech engine", Level.FAIL, "No engine.", "sudo apt-get install libespeak-ng1")])
    assert _run(["doctor"]) == 1
    assert "1 problem(s) and 1 warning(s)" in capsys.readouterr().out


def test_doctor_no_display_is_a_failure_with_the_fix() -> None:
    """With no display and no QT_QPA_PLATFORM, doctor says so (without letting Qt abort it)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux display check")
    report = diagnose.check_qt(environ={"PATH": os.environ.get("PATH", "")})
    assert report.finding.level is Level.FAIL
    assert "QT_QPA_PLATFORM=offscreen" in report.finding.fix and "xvfb-run" in report.finding.fix


def test_doctor_offscreen_qt_starts_and_lists_outputs() -> None:
    """Qt is started in a child process; offscreen is a warning (runs, shows nothing)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    report = diagnose.check_qt(environ=env)
    assert report.finding.level is Level.WARN and "offscreen" in report.finding.summary
    assert report.outputs is not None


def test_doctor_no_audio_output_is_a_warning_not_a_failure() -> None:
    """No sound card and no sound server: a WARN with the fix, never a FAIL."""
    findings = diagnose.check_audio((), NO_OUTPUT)
    audio = next(f for f in findings if f.area == "Audio output")
    assert audio.level is Level.WARN and "PulseAudio" in audio.fix
    assert all(f.level is not Level.FAIL for f in findings)


def test_doctor_says_which_way_sound_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor names aplay's ALSA device on Linux, and why not when ALSA cannot reach the sound server."""
    monkeypatch.setattr(diagnose.sys, "platform", "linux")
    routed = AudioProbe(None, "/usr/bin/aplay", CARD, SERVER, PULSE_PCMS)
    audio = next(f for f in diagnose.check_audio(("Speakers",), routed) if f.area == "Audio output")
    assert audio.level is Level.OK and "ALSA's 'pulse' device" in audio.summary
    assert "Speakers" in audio.summary  # Qt stands by
    unrouted = replace(routed, alsa_cards=(), alsa_pcms=PULSE_PCMS[::2])
    audio = next(f for f in diagnose.check_audio((), unrouted) if f.area == "Audio output")
    assert audio.level is Level.WARN and SERVER in audio.summary
    assert "libasound2-plugins" in audio.fix and "Fix" not in audio.summary


def test_doctor_speech_check_with_a_fake_engine_and_a_missing_one() -> None:
    """The speech check renders a phrase and measures it; a failing engine is a FAIL with the fix."""
    ok = diagnose.check_speech(SineEngine, timeout=5)
    assert [f.level for f in ok if f.area != "Speech library"] == [Level.OK, Level.OK]
    bad = diagnose.check_speech(failing_factory, timeout=5)
    engine = next(f for f in bad if f.area == "Speech engine")
    assert engine.level is Level.FAIL and "libespeak-ng1" in engine.fix


def test_doctor_unwritable_folder_is_a_failure(tmp_path: Path) -> None:
    """A data folder that cannot be created is a FAIL naming --home as the way out."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    findings = diagnose.check_folders(str(blocker))
    assert all(f.level is Level.FAIL for f in findings)
    assert "--home" in findings[0].fix
    assert all(f.level is Level.OK for f in diagnose.check_folders(str(tmp_path / "home")))


def test_qt_probe_runs_in_a_frozen_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a bundle (no `python -c`), doctor's Qt probe re-runs BackCoach with a marker variable."""
    import subprocess
    import sys

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    command, env = diagnose.qt_probe_command({"QT_QPA_PLATFORM": "offscreen"})
    assert command == [sys.executable] and env[diagnose.QT_PROBE_ENV] == "1"
    monkeypatch.delattr(sys, "frozen")
    # The marker really makes the command line run the probe (here through python -m).
    out = subprocess.run([sys.executable, "-m", "backcoach"], capture_output=True, text=True,
                         env={**env, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert "platform=offscreen" in out.stdout
