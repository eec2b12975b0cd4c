"""What a finished session leaves in memory: no OpenSSL for file names, no pictures, no sounds."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers.app import build_test_app, step
from tests.helpers.clock import FakeClock
from tests.helpers.voice_fakes import SineEngine, crit, make_timeline

from backcoach.catalog.model import Level
from backcoach.session.plan import CueKind, SegmentKind
from backcoach.store.settings import VoiceSettings
from backcoach.ui.driver import EngineDriver
from backcoach.voice.cache import CACHE_FORMAT, PhraseCache, VoiceParams
from backcoach.voice.coach import VoiceCoach
from backcoach.voice.scheduler import Action
from backcoach.voice.speech import SpeechWorker


def test_phrase_files_keep_their_names(tmp_path: Path) -> None:
    """A phrase's file name is still the SHA-256 it always was, so rendered phrases stay cached."""
    params = VoiceParams("gmw/en", 170, 0.8)
    raw = f"{CACHE_FORMAT}|pyttsx3|{sys.platform}|gmw/en|170|0.80|Breathe in"
    expected = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    assert PhraseCache(tmp_path).path_for(params, "Breathe in").name == f"{expected}.wav"


def test_the_voice_does_not_load_openssl() -> None:
    """Loading the voice and naming a phrase's file imports neither hashlib nor OpenSSL's _hashlib."""
    code = ("import sys; from pathlib import Path\n"
            "import backcoach.voice.coach, backcoach.voice.speech\n"
            "from backcoach.voice.cache import PhraseCache, VoiceParams\n"
            "PhraseCache(Path('.')).path_for(VoiceParams(), 'Rest')\n"
            "print(sorted(m for m in ('hashlib', '_hashlib', 'ssl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.strip() == "[]"


# -- the session page's pictures ---------------------------------------------------------------

def _caches_filled() -> dict[str, int]:
    """How many entries each of the illustration's module-level caches holds."""
    from backcoach.ui import illustration

    return {"frames": len(illustration._frames), "renderers": len(illustration._renderers),
            **{name: getattr(illustration, name).cache_info().currsize
               for name in ("_themed_svg", "_fills_view_box", "_scenes", "_framing", "_travel")}}


def _run_into_first_movement(parts, routine: str) -> None:
    """Start `routine` and let it run until its first movement is on screen."""
    window = parts.window
    window.start_routine(routine, Level.BEGINNER)
    while window.driver.engine.segment.kind is not SegmentKind.MOVE:
        step(parts, 1)


def _finish(parts) -> None:
    """Let the running session play to its end (the summary is shown)."""
    while parts.window.driver is not None:
        step(parts, 1)


def test_a_finished_session_leaves_no_pictures_or_pose_data(qtbot, home: Path) -> None:
    """Once a session ends, the illustration caches, the view's picture and the next-up thumbnail are gone."""
    parts = build_test_app(qtbot, home)
    try:
        _run_into_first_movement(parts, "pre-run-mobility")
        page = parts.window.session_view
        assert page.illustration.is_animating()
        assert all(_caches_filled()[name] for name in ("frames", "renderers", "_scenes", "_travel"))
        assert not page.next_thumb.pixmap().isNull()
        _finish(parts)
        assert parts.window.stack.currentWidget() is parts.window.summary_view
        assert set(_caches_filled().values()) == {0}
        view = page.illustration
        assert (view._renderer, view._scene, view._poses, view.picture_cache_bytes) == (None, None, None, 0)
        assert not view.is_animating() and not view.is_preparing()
        assert page.next_thumb.pixmap().isNull()
    finally:
        parts.close()


def test_a_second_session_prepares_again_and_shows_its_frames(qtbot, home: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """After a session freed its pictures, the next one reloads the pose data ahead, once, and animates."""
    from backcoach.art import scene

    loads: list[int] = []
    real_load = scene.load_scenes
    monkeypatch.setattr(scene, "load_scenes", lambda *a: loads.append(1) or real_load(*a))
    parts = build_test_app(qtbot, home)
    try:
        _run_into_first_movement(parts, "pre-run-mobility")
        _finish(parts)
        loads.clear()
        window = parts.window
        window.start_routine("post-run-cool-down", Level.BEGINNER)
        view = window.session_view.illustration
        qtbot.waitUntil(lambda: not view.is_preparing(), timeout=5000)
        moves = {(s.exercise_id, s.from_position, s.position)
                 for s in window.driver.engine.timeline.segments if s.kind is SegmentKind.MOVE}
        assert loads == [1] and _caches_filled()["_travel"] == len(moves)
        while window.driver.engine.segment.kind is not SegmentKind.MOVE:
            step(parts, 1)
        assert loads == [1]  # the first movement found its pose data ready
        assert view.is_animating() and _caches_filled()["frames"] >= 1
        qtbot.waitUntil(lambda: view.progress > 0.3, timeout=10000)  # frames follow the real clock
        image = view.grab().toImage()
        target = view._placed()[1]
        colours = {image.pixel(x, y) for x in range(target.left(), target.right(), 7)
                   for y in range(target.top(), target.bottom(), 7)}
        assert len(colours) > 3  # a figure is drawn, not an empty box
    finally:
        parts.close()


# -- the voice's sounds --------------------------------------------------------------------------

def _voice_timeline():
    """Two segments whose last cue, "Well done", sounds past the end of the session."""
    return make_timeline(
        (SegmentKind.GET_READY, 3.0, (crit(0.0, "Get ready", CueKind.GET_READY), crit(2.0, "1"))),
        (SegmentKind.HOLD, 2.0, (crit(0.0, "Hug the knee in", CueKind.PHASE),
                                 crit(2.0, "Well done", CueKind.WELL_DONE))))


def _play_through(driver: EngineDriver, coach: VoiceCoach, clock: FakeClock) -> None:
    """Run a session to its end on the fake clock, the coach seeing every step."""
    driver.start()
    while driver.engine.state.value == "running":
        clock.advance(1 / 32)
        driver.tick()
        coach.poll()


def test_a_finished_sessions_sounds_are_let_go_after_its_last_phrase(qtbot, tmp_path: Path) -> None:
    """Preloaded Qt sounds go once the session ended and "Well done" played; the next session reloads them."""
    from backcoach.voice.playback import QtPlayback

    clock = FakeClock()
    playback = QtPlayback()
    worker = SpeechWorker(SineEngine, PhraseCache(tmp_path / "voice"))
    coach = VoiceCoach(VoiceSettings(), clock=clock, worker=worker, playback=playback,
                       cache_dir=tmp_path / "voice")
    try:
        driver = EngineDriver(_voice_timeline(), clock)
        with qtbot.waitSignal(coach.prepared, timeout=5000):
            coach.attach(driver)
        ready = playback.preloaded
        assert ready == 4 + 2  # every phrase and both chimes
        _play_through(driver, coach, clock)
        assert [d.text for d in coach.recent if d.action is Action.PLAYED][-1] == "Well done"
        driver.deleteLater()
        qtbot.wait(600)  # the driver is gone and the release checked, more than once
        assert playback.preloaded == ready  # "Well done" is still sounding
        clock.advance(2.0)
        qtbot.waitUntil(lambda: playback.preloaded == 0, timeout=3000)
        driver = EngineDriver(_voice_timeline(), clock)
        coach.attach(driver)
        assert playback.preloaded == ready
    finally:
        coach.shutdown()


# -- malloc arenas --------------------------------------------------------------------------------

def _probe(script: str, mode: str) -> int:
    """Run a memory probe `script` in a fresh Python with `mode`; the count it prints."""
    out = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True,
                         timeout=60, check=True)
    return int(out.stdout)


ARENA_PROBE = """
import sys, threading
from backcoach.memory import limit_malloc_arenas
def arenas():  # glibc puts each thread arena at a 64 MB boundary, anonymous and writable
    found = 0
    for line in open("/proc/self/maps"):
        fields = line.split()
        if len(fields) == 5 and fields[1].startswith("rw") and \\
                int(fields[0].split("-")[0], 16) % (64 << 20) == 0:
            found += 1
    return found
if sys.argv[1] == "limit":
    limit_malloc_arenas()
before = arenas()
meet = threading.Barrier(7)
def work():
    kept = [bytearray(100_000) for _ in range(5)]
    meet.wait()
    meet.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for thread in threads:
    thread.start()
meet.wait()
print(arenas() - before)
meet.wait()
for thread in threads:
    thread.join()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="malloc arenas are glibc's")
def test_threads_share_malloc_arenas_once_limited() -> None:
    """Six live threads that allocate get six new glibc arenas, but at most one once the limit is set."""
    assert _probe(ARENA_PROBE, "none") >= 3  # the probe sees arenas being made
    assert _probe(ARENA_PROBE, "limit") <= 1


# -- the session page between sessions ------------------------------------------------------------

def test_the_session_page_is_let_go_after_a_session_and_built_again_for_the_next(qtbot,
                                                                                  home: Path) -> None:
    """A second after the summary the session page is deleted; the next session builds a new one and runs."""
    import shiboken6

    parts = build_test_app(qtbot, home)
    try:
        window = parts.window
        window.start_routine("post-run-cool-down", Level.BEGINNER)
        first = window.session_view
        _finish(parts)
        assert window.stack.currentWidget() is window.summary_view
        qtbot.waitUntil(lambda: not shiboken6.isValid(first), timeout=5000)
        assert window._session_view is None and window.stack.indexOf(window.summary_view) >= 0
        window.start_routine("post-run-cool-down", Level.BEGINNER)
        second = window.session_view
        assert second is not first and window.stack.currentWidget() is second
        step(parts, 12)
        assert window.driver is not None and second.isVisible()
        assert second.title.text()  # the new page follows the session
    finally:
        parts.close()


def test_a_running_session_keeps_its_page(qtbot, home: Path) -> None:
    """Asking to let go of the session page while a session runs does nothing."""
    parts = build_test_app(qtbot, home)
    try:
        window = parts.window
        window.start_routine("post-run-cool-down", Level.BEGINNER)
        page = window.session_view
        window.drop_session_view()
        assert window.session_view is page and window.stack.currentWidget() is page
    finally:
        parts.close()


MMAP_PROBE = """
import sys
from backcoach.memory import fix_mmap_threshold
def mappings():
    return sum(1 for line in open("/proc/self/maps") if len(line.split()) == 5)
if sys.argv[1] == "fix":
    assert fix_mmap_threshold()
freed = bytearray(4_000_000)  # mapped; freeing it raises glibc's threshold unless fixed
del freed
before = mappings()
kept = bytearray(300_000)
print(mappings() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="the mmap threshold is glibc's")
def test_large_blocks_stay_mappings_of_their_own_once_the_threshold_is_fixed() -> None:
    """After a 4 MB block is freed, a 300 kB one comes from the heap, but gets its own mapping once fixed."""
    assert _probe(MMAP_PROBE, "none") == 0
    assert _probe(MMAP_PROBE, "fix") >= 1
