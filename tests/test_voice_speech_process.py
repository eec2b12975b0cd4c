"""The speech helper process: real espeak-ng renders outside our process, idles out, is killed if hung."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backcoach.voice import speech_process
from backcoach.voice.cache import PhraseCache, VoiceParams, wav_stats
from backcoach.voice.speech import SpeechError, SpeechHung, SpeechUnavailable, SpeechWorker
from backcoach.voice.speech_process import HelperEngine, HelperGone, helper_command

MIN_RMS = 0.02


def _fake_helper(body: str) -> tuple[list[str], dict[str, str]]:
    """A helper command running `body` (Python) instead of the real helper."""
    return [sys.executable, "-c", body], dict(os.environ)


def _gone(engine: HelperEngine, pid: int, timeout: float = 10.0) -> bool:
    """Whether helper `pid` has ended (and been reaped) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.pid is None and not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.speech
def test_real_helper_renders_audible_speech_and_lists_voices(tmp_path: Path) -> None:
    """The real helper (pyttsx3 + espeak-ng in a child) writes an audible WAV and lists English voices."""
    engine = HelperEngine()
    try:
        assert engine.pid is not None and engine.pid != os.getpid()
        assert any(v.id.lower().rsplit("/", 1)[-1].startswith("en") for v in engine.voices())
        path = tmp_path / "phrase.wav"
        engine.render("Breathe in slowly, then breathe out.", VoiceParams(), path)
        stats = wav_stats(path)
        assert stats.rms > MIN_RMS and 1.0 < stats.duration < 5.0
    finally:
        engine.close()


_APP_SIDE = r"""
import json, sys
from pathlib import Path
from backcoach.voice.cache import PhraseCache, VoiceParams
from backcoach.voice.speech import SpeechWorker
from backcoach.voice.speech_process import HelperEngine
worker = SpeechWorker(HelperEngine, PhraseCache(Path(sys.argv[1])))
sound = worker.render("Switch legs.", VoiceParams()).result(30)
maps = Path("/proc/self/maps").read_text()
print(json.dumps({"duration": sound.duration, "espeak_here": "espeak" in maps,
                  "pyttsx3_here": "pyttsx3" in sys.modules}))
worker.shutdown()
"""


@pytest.mark.speech
def test_the_app_process_never_loads_espeak_or_pyttsx3(tmp_path: Path) -> None:
    """A worker driving the helper gets real audio; its own process loads neither espeak-ng nor pyttsx3."""
    out = subprocess.run([sys.executable, "-c", _APP_SIDE, str(tmp_path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["duration"] > 0.3
    assert report["espeak_here"] is False and report["pyttsx3_here"] is False


@pytest.mark.speech
def test_idle_helper_leaves_and_the_next_render_starts_a_new_one(tmp_path: Path) -> None:
    """After idle_exit seconds without work the helper exits (reaped); the next render starts another."""
    engine = HelperEngine(idle_exit=0.5)
    try:
        engine.render("One.", VoiceParams(), tmp_path / "one.wav")
        first = engine.pid
        assert first is not None and _gone(engine, first)
        engine.render("Two.", VoiceParams(), tmp_path / "two.wav")
        assert engine.starts == 2 and engine.pid not in (None, first)
        assert wav_stats(tmp_path / "two.wav").rms > MIN_RMS
    finally:
        engine.close()


def test_hung_helper_is_killed_and_the_render_fails_as_hung(tmp_path: Path) -> None:
    """A helper that never answers a render is killed after reply_timeout; SpeechHung is raised."""
    body = "import sys, time\nprint('{\"voices\": []}', flush=True)\nsys.stdin.readline()\ntime.sleep(60)"
    engine = HelperEngine(reply_timeout=0.5, command=_fake_helper(body))
    pid = engine.pid
    assert pid is not None
    started = time.monotonic()
    with pytest.raises(SpeechHung):
        engine.render("Hello.", VoiceParams(), tmp_path / "x.wav")
    assert time.monotonic() - started < 5
    assert _gone(engine, pid)


def test_unavailable_engine_message_reaches_the_user_unchanged(tmp_path: Path) -> None:
    """The helper's plain message (no engine) is the worker's problem message, not wrapped twice."""
    message = "Spoken cues are off: test message. The on-screen cues and the chime still work."
    body = f"import json\nprint(json.dumps({{'unavailable': {message!r}}}), flush=True)"
    problems: list[str] = []
    worker = SpeechWorker(lambda: HelperEngine(command=_fake_helper(body)),
                          PhraseCache(tmp_path / "voice"), on_problem=problems.append)
    try:
        with pytest.raises(SpeechUnavailable):
            worker.render("Hello.", VoiceParams()).result(15)
        assert problems == [message]
    finally:
        worker.shutdown()


def test_helper_that_dies_on_each_request_fails_after_one_retry(tmp_path: Path) -> None:
    """A helper that crashes mid-request is started once more, then the render fails plainly."""
    body = "import sys\nprint('{\"voices\": []}', flush=True)\nsys.stdin.readline()\nsys.exit(5)"
    engine = HelperEngine(command=_fake_helper(body))
    with pytest.raises(HelperGone, match="exit status 5"):
        engine.render("Hello.", VoiceParams(), tmp_path / "x.wav")
    assert engine.starts == 2


def test_nonsense_from_the_helper_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """A line that is not JSON ends that helper and fails the render with SpeechError."""
    body = "import sys\nprint('{\"voices\": []}', flush=True)\nsys.stdin.readline()\n" \
           "print('Audio saved', flush=True)\nimport time; time.sleep(30)"
    engine = HelperEngine(command=_fake_helper(body))
    pid = engine.pid
    with pytest.raises(SpeechError, match="nonsense"):
        engine.render("Hello.", VoiceParams(), tmp_path / "x.wav")
    assert pid is not None and _gone(engine, pid)


def test_worker_shutdown_lets_the_helper_go(tmp_path: Path) -> None:
    """Shutting the worker down closes its helper at once rather than at the idle timeout."""
    body = ("import sys, json\nprint(json.dumps({'voices': []}), flush=True)\n"
            "for line in sys.stdin:\n    open(json.loads(line)['path'], 'wb').write(b'x' * 100)\n"
            "    print(json.dumps({'ok': True}), flush=True)\n")
    engines: list[HelperEngine] = []

    def factory() -> HelperEngine:
        engines.append(HelperEngine(command=_fake_helper(body)))
        return engines[-1]

    worker = SpeechWorker(factory, PhraseCache(tmp_path / "voice"))
    worker.render("Hello.", VoiceParams())
    assert worker.wait_ready(15)
    deadline = time.monotonic() + 10
    while not engines and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = engines[0].pid
    assert pid is not None
    worker.shutdown()
    assert _gone(engines[0], pid)


def test_helper_command_runs_from_source_and_from_a_frozen_bundle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From source the helper is this module on the package's path; frozen, BackCoach with a marker."""
    argv, env = helper_command({"PYTHONPATH": "/elsewhere"})
    assert argv == [sys.executable, "-m", "backcoach.voice.speech_process"]
    package_root = str(Path(speech_process.__file__).resolve().parents[2])
    assert env["PYTHONPATH"].split(os.pathsep) == [package_root, "/elsewhere"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    argv, env = helper_command({})
    assert argv == [sys.executable] and env[speech_process.HELPER_ENV] == "1"


@pytest.mark.speech
def test_the_command_line_serves_as_the_helper_with_the_marker(tmp_path: Path) -> None:
    """`backcoach` with the marker set is the helper (how a frozen bundle runs it): it renders real speech."""
    env = {**os.environ, speech_process.HELPER_ENV: "1"}
    engine = HelperEngine(command=([sys.executable, "-m", "backcoach"], env))
    try:
        engine.render("Well done.", VoiceParams(), tmp_path / "done.wav")
        assert wav_stats(tmp_path / "done.wav").rms > MIN_RMS
    finally:
        engine.close()
