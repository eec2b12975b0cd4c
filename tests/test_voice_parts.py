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
    NullPlayback,
    choose_playback,
)

ROOT = Path(__file__).resolve().parent.parent
NO_OUTPUT = AudioProbe(qt_outputs=(), aplay="/usr/bin/aplay", alsa_cards=(), sound_server=None)




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

def test_choose_playback_prefers_qt_then_aplay_and_explains_silence() -> None:
    """Qt output first, then aplay with a card or sound server; with neither, a null sink and the fix."""
    qt = choose_playback(probe=AudioProbe(("Speakers",), "/usr/bin/aplay", ("0 [PCH ]",), None),
                         environ={})
    assert qt.playback.name == "qt" and qt.problem is None
    card = choose_playback(probe=AudioProbe((), "/usr/bin/aplay", ("0 [PCH ]: HDA",), None),
                           environ={})
    assert isinstance(card.playback, AplayPlayback) and card.problem is None
    server = choose_playback(probe=AudioProbe(None, "/usr/bin/aplay", (), "/run/user/1000/pulse/native"),
                             environ={})
    assert isinstance(server.playback, AplayPlayback)
    silent = choose_playback(probe=NO_OUTPUT, environ={})
    assert isinstance(silent.playback, NullPlayback) and not silent.playback.audible
    assert "No sound" in silent.problem and "PipeWire" in silent.problem
    no_aplay = choose_playback(probe=AudioProbe((), None, (), None), environ={})
    if sys.platform.startswith("linux"):
        assert "alsa-utils" in no_aplay.problem


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
    t0 = time.monotonic()
    sink.play(Sound("tone", path, 0.2))
    spawn = time.monotonic() - t0
    deadline = time.monotonic() + 5
    while sink.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.running == 0 and sink.problems() == []
    assert spawn < 0.05
    sink.close()


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_aplay_failure_is_reported_once_with_the_fix(tmp_path: Path) -> None:
    """aplay failing (a device that does not exist) becomes one plain problem naming the fix."""
    path = tmp_path / "tone.wav"
    write_wav(path, _tone(0.1))
    sink = AplayPlayback("backcoach_no_such_device")
    sink.play(Sound("tone", path, 0.1))
    sink.play(Sound("tone", path, 0.1))
    deadline = time.monotonic() + 5
    problems: list[str] = []
    while sink.running and time.monotonic() < deadline:
        time.sleep(0.01)
    problems += sink.problems()
    assert len(problems) == 1 and "aplay failed" in problems[0] and "sound device" in problems[0]
    sink.close()


def test_stop_terminates_a_playing_process_without_reporting_it(tmp_path: Path) -> None:
    """stop() ends a phrase that is still playing at once; being stopped is not a problem."""
    fake = tmp_path / "aplay"
    fake.write_text("#!/bin/sh\nexec sleep 5\n")
    fake.chmod(0o755)
    sink = AplayPlayback(executable=str(fake))
    sink.play(Sound("long", tmp_path / "x.wav", 5.0))
    assert sink.running == 1
    t0 = time.monotonic()
    sink.stop()
    deadline = time.monotonic() + 2
    while sink.running and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sink.running == 0 and time.monotonic() - t0 < 0.5
    assert sink.problems() == []
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
