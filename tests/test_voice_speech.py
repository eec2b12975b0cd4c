"""The speech worker: one engine thread, a watchdog for real hangs, plain messages when speech is missing."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.helpers.voice_fakes import NO_ESPEAK, HangingEngine, SineEngine, failing_factory, words

from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Level
from backcoach.session.plan import build_plan
from backcoach.voice.cache import PhraseCache, VoiceParams, wav_stats
from backcoach.voice.coach import timeline_phrases
from backcoach.voice.speech import (
    SpeechHung,
    SpeechUnavailable,
    SpeechWorker,
    explain_engine_error,
)
from backcoach.voice.speech_process import HelperEngine

MIN_RMS = 0.02  # a phrase quieter than this (fraction of full scale) counts as silent


@pytest.fixture
def cache(tmp_path: Path) -> PhraseCache:
    return PhraseCache(tmp_path / "voice")


def _worker(factory, cache: PhraseCache, **kwargs) -> tuple[SpeechWorker, list[str]]:
    problems: list[str] = []
    worker = SpeechWorker(factory, cache, on_problem=problems.append, **kwargs)
    return worker, problems


def test_renders_on_one_worker_thread_and_caches(cache: PhraseCache) -> None:
    """All renders run on one thread that is not the caller's; a second request is a cache hit."""
    engine = SineEngine()
    worker, problems = _worker(lambda: engine, cache)
    try:
        sounds = [worker.render(t, VoiceParams()).result(5) for t in ("Breathe in", "3", "Rest")]
        assert [s.text for s in sounds] == ["Breathe in", "3", "Rest"]
        assert len(engine.thread_ids) == 1 and threading.get_ident() not in engine.thread_ids
        again = worker.render("3", VoiceParams()).result(5)
        assert again.path == sounds[1].path and len(engine.rendered) == 3
        worker.render("3", VoiceParams(rate=200)).result(5)
        assert len(engine.rendered) == 4  # another rate is another phrase
        assert problems == []
    finally:
        worker.shutdown()


def test_hung_engine_is_replaced_by_a_fresh_one_without_blocking_the_caller(cache: PhraseCache) -> None:
    """A render that really blocks is written off by the watchdog; a fresh engine renders the queue."""
    release = threading.Event()
    hanging = HangingEngine(release)
    fresh = SineEngine()
    engines = iter([hanging, fresh])
    worker, problems = _worker(lambda: next(engines), cache, hang_timeout=0.3)
    try:
        t0 = time.monotonic()
        stuck = worker.render("Switch legs", VoiceParams())
        queued = [worker.render(t, VoiceParams()) for t in ("3", "2", "1")]
        assert time.monotonic() - t0 < 0.05  # render() never waits for the engine
        assert hanging.entered.wait(2)
        with pytest.raises(SpeechHung):
            stuck.result(5)
        assert [f.result(5).text for f in queued] == ["3", "2", "1"]
        assert worker.restarts == 1 and worker.unavailable is None
        assert len(problems) == 1 and "stopped responding" in problems[0]
        assert "sudo apt-get install --reinstall libespeak-ng1" in problems[0]
        assert fresh.rendered and not hanging.rendered
        release.set()  # let the abandoned thread finish: its late answer must be ignored
        deadline = time.monotonic() + 2
        while not hanging.rendered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert hanging.rendered and isinstance(stuck.exception(), SpeechHung)
        assert cache.load(VoiceParams(), "Switch legs") is None
    finally:
        release.set()
        worker.shutdown()


def test_engine_that_keeps_hanging_turns_speech_off_but_serves_the_cache(cache: PhraseCache) -> None:
    """After max_restarts hangs in a row speech is off for good; cached phrases are still served."""
    params = VoiceParams()
    warm, _ = _worker(SineEngine, cache)
    warm.render("Rest", params).result(5)
    warm.shutdown()
    release = threading.Event()
    worker, problems = _worker(lambda: HangingEngine(release), cache, hang_timeout=0.15,
                               max_restarts=1)
    try:
        with pytest.raises(SpeechHung):
            worker.render("Halfway", params).result(5)
        with pytest.raises((SpeechHung, SpeechUnavailable)):
            worker.render("Well done", params).result(5)
        deadline = time.monotonic() + 3
        while worker.unavailable is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert worker.unavailable and "Spoken cues are off" in worker.unavailable
        assert worker.render("Rest", params).result(5).text == "Rest"  # from the cache
        with pytest.raises(SpeechUnavailable):
            worker.render("Something new", params).result(5)
        assert problems[-1] == worker.unavailable
    finally:
        release.set()
        worker.shutdown()


def test_engine_creation_hanging_is_caught_too(cache: PhraseCache) -> None:
    """An engine whose creation blocks is written off like a hung render, and a fresh one is made."""
    release = threading.Event()
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 1:
            release.wait()
        return SineEngine()

    worker, problems = _worker(factory, cache, hang_timeout=0.2)
    try:
        assert worker.render("Get ready", VoiceParams()).result(5).text == "Get ready"
        assert worker.restarts == 1 and len(calls) == 2 and problems
    finally:
        release.set()
        worker.shutdown()


def test_factory_failing_like_missing_espeak_gives_the_fix(cache: PhraseCache) -> None:
    """Engine creation raising RuntimeError (no libespeak-ng) fails jobs with a message naming the fix."""
    worker, problems = _worker(failing_factory, cache)
    try:
        with pytest.raises(SpeechUnavailable) as caught:
            worker.render("3", VoiceParams()).result(5)
        assert worker.wait_ready(1)
        assert problems == [worker.unavailable] == [str(caught.value)]
        assert "sudo apt-get install libespeak-ng1" in problems[0]
        assert "on-screen cues" in problems[0]
    finally:
        worker.shutdown()


def test_explain_engine_error_names_package_or_reinstall() -> None:
    """The user's message names libespeak-ng1 for a missing library and pip for a missing package."""
    assert "libespeak-ng1" in explain_engine_error(RuntimeError(NO_ESPEAK))
    assert "pip install pyttsx3" in explain_engine_error(ImportError("No module named 'pyttsx3'"))


# Hides libespeak-ng from the dynamic loader, as on a PC without it: a sitecustomize, so the
# speech helper process (where the engine really starts) is without it too.
_HIDE_ESPEAK = r"""
import ctypes, ctypes.util
real_load = ctypes.cdll.LoadLibrary
def load(name, *a, **k):
    if "espeak" in str(name):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")
    return real_load(name, *a, **k)
ctypes.cdll.LoadLibrary = load
real_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if "espeak" in name else real_find(name)
"""

_WITHOUT_ESPEAK = r"""
import json, sys
from backcoach.voice import diagnose
from backcoach.voice.speech import SpeechWorker, SpeechUnavailable
from backcoach.voice.speech_process import HelperEngine
from backcoach.voice.cache import PhraseCache, VoiceParams
problems = []
w = SpeechWorker(HelperEngine, PhraseCache(__import__("pathlib").Path(sys.argv[1])),
                 on_problem=problems.append)
try:
    w.render("Breathe in", VoiceParams()).result(10)
    outcome = "rendered"
except SpeechUnavailable as exc:
    outcome = "unavailable"
w.shutdown()
findings = [f.__dict__ | {"level": f.level.name} for f in diagnose.check_speech(timeout=10)]
print(json.dumps({"outcome": outcome, "problems": problems, "findings": findings}))
"""


def test_real_pyttsx3_without_libespeak_reports_the_fix(tmp_path: Path) -> None:
    """libespeak-ng hidden from the loader: real pyttsx3 fails; the message and the doctor name the fix."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_HIDE_ESPEAK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_ESPEAK, str(tmp_path / "voice")],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "unavailable"
    assert len(report["problems"]) == 1
    message = report["problems"][0]
    assert "espeak-ng speech library is not installed" in message
    assert "sudo apt-get install libespeak-ng1" in message
    levels = {f["area"]: f["level"] for f in report["findings"]}
    assert levels == {"Speech library": "FAIL", "Speech engine": "FAIL"}
    assert all("libespeak-ng1" in f["fix"] for f in report["findings"])


@pytest.mark.speech
def test_every_phrase_of_the_default_routine_renders_with_real_espeak(cache: PhraseCache) -> None:
    """Real pyttsx3 + espeak-ng (in the helper): every cue phrase is audible and longer with more words."""
    catalog = load_builtin_catalog()
    texts: dict[str, None] = {}
    for level in Level:
        timeline = build_plan(catalog.routines["lower-back-for-runners"], catalog.exercises, level)
        texts.update(dict.fromkeys(timeline_phrases(timeline)))
    # Through the helper process, as the app renders: one fresh engine in a process of its
    # own (espeak-ng's state is process-wide, and other tests' engines live in this one).
    worker, problems = _worker(HelperEngine, cache)
    try:
        futures = {text: worker.render(text, VoiceParams()) for text in texts}
        sounds = {text: f.result(30) for text, f in futures.items()}
    finally:
        worker.shutdown()
    assert problems == []
    durations = {}
    for text, sound in sounds.items():
        stats = wav_stats(sound.path)
        assert stats.rms > MIN_RMS, f"{text!r} is silent (RMS {stats.rms:.4f})"
        assert 0.15 * words(text) <= stats.duration <= 0.3 + 0.75 * words(text), (text, stats)
        durations[text] = stats.duration
    # Punctuation adds pauses, so compare clearly different lengths, and the overall trend.
    for short, short_s in durations.items():
        for long, long_s in durations.items():
            if words(long) >= 2 * words(short) + 2:
                assert long_s > short_s, (short, short_s, long, long_s)
    assert statistics.correlation([words(t) for t in durations], list(durations.values())) > 0.95


def test_cached_phrases_are_served_without_starting_an_engine(cache: PhraseCache) -> None:
    """A worker whose phrases are all on disk never creates an engine (no helper process)."""
    first, _ = _worker(SineEngine, cache)
    try:
        first.render("Get ready", VoiceParams()).result(5)
    finally:
        first.shutdown()
    calls: list[int] = []

    def factory() -> SineEngine:
        calls.append(1)
        return SineEngine()

    worker, problems = _worker(factory, cache)
    try:
        assert worker.render("Get ready", VoiceParams()).result(5).text == "Get ready"
        assert calls == [] and worker.voices() == []
        assert worker.render("Rest", VoiceParams()).result(5).text == "Rest"  # a miss starts it
        assert calls == [1] and problems == []
    finally:
        worker.shutdown()


def test_wait_ready_starts_the_engine_for_its_voice_list(cache: PhraseCache) -> None:
    """wait_ready creates the engine though nothing was rendered, so the voice list is there."""
    worker, _ = _worker(SineEngine, cache)
    try:
        assert worker.wait_ready(5)
        assert [v.id for v in worker.voices()] == ["fake/en", "fake/fr"]
    finally:
        worker.shutdown()
