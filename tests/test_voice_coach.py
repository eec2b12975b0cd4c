"""VoiceCoach with the real EngineDriver: pre-rendered phrases on time, hangs and missing speech survived."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from tests.helpers.clock import FakeClock
from tests.helpers.voice_fakes import (
    HangingEngine,
    SineEngine,
    announce,
    crit,
    failing_factory,
    make_timeline,
    spoken_length,
)

from backcoach.session.plan import CueKind, SegmentKind, Timeline
from backcoach.store.settings import VoiceSettings
from backcoach.ui.driver import EngineDriver
from backcoach.voice import coach as coach_module
from backcoach.voice import playback as playback_module
from backcoach.voice.cache import PhraseCache, VoiceParams
from backcoach.voice.coach import TEST_PHRASE, VoiceCoach
from backcoach.voice.playback import (
    AplayPlayback,
    AudioChoice,
    FallbackPlayback,
    NullPlayback,
    RecordingPlayback,
)
from backcoach.voice.scheduler import Action, Decision
from backcoach.voice.speech import SpeechWorker


def _timeline() -> Timeline:
    return make_timeline(
        (SegmentKind.GET_READY, 6.0, (crit(0.0, "Get ready", CueKind.GET_READY),
                                      announce(0.8, "Knee to chest. Lie on your back.",
                                               short="Knee to chest"),
                                      crit(3.0, "3"), crit(4.0, "2"), crit(5.0, "1"))),
        (SegmentKind.HOLD, 4.0, (crit(0.0, "Hug the knee in", CueKind.PHASE),
                                 crit(4.0, "Well done", CueKind.WELL_DONE))))


class Rig:
    """A coach (fake engine, recording sink) and a driver sharing one clock."""

    def __init__(self, qtbot, tmp_path: Path, factory=SineEngine, clock=None,
                 hang_timeout: float = 5.0, timeline: Timeline | None = None) -> None:
        self.clock = clock or FakeClock()
        self.worker = SpeechWorker(factory, PhraseCache(tmp_path / "voice"),
                                   hang_timeout=hang_timeout)
        self.sink = RecordingPlayback(clock=self.clock)
        self.coach = VoiceCoach(VoiceSettings(), clock=self.clock, worker=self.worker,
                                playback=self.sink, cache_dir=tmp_path / "voice")
        self.problems: list[str] = []
        self.decisions: list[Decision] = []
        self.coach.problem.connect(self.problems.append)
        self.coach.decision.connect(self.decisions.append)
        self.timeline = timeline or _timeline()
        self.driver = EngineDriver(self.timeline, self.clock)
        self.qtbot = qtbot

    def step_to(self, position: float, step: float = 1 / 32) -> None:
        """Advance the fake clock in small steps, letting the driver and the coach see each one."""
        while self.driver.engine.position() < position - 1e-9 and \
                self.driver.engine.state.value == "running":
            self.clock.advance(step)
            self.driver.tick()
            self.coach.poll()

    def close(self) -> None:
        self.driver.stop()
        self.coach.shutdown()


@pytest.fixture
def rig(qtbot, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(qtbot, tmp_path)
    yield r
    r.close()


def test_attach_prepares_every_phrase_then_speaks_each_on_its_moment(rig: Rig) -> None:
    """attach() renders the timeline ahead; each cue then plays at its moment, the long setup shortened."""
    with rig.qtbot.waitSignal(rig.coach.prepared, timeout=5000) as ready:
        rig.coach.attach(rig.driver)
    assert ready.args == [8]  # every text and short text of the timeline
    t0 = rig.clock()
    rig.driver.start()
    rig.step_to(10.0)
    assert rig.sink.texts == ["Get ready", "Knee to chest", "3", "2", "1", "Hug the knee in",
                              "Well done"]
    starts = [p.start - t0 for p in rig.sink.played]
    assert starts == pytest.approx([0.0, 0.8, 3.0, 4.0, 5.0, 6.0, 10.0], abs=1 / 32)  # one clock step
    assert rig.problems == []


def test_mute_pause_and_stop_silence_the_voice(rig: Rig) -> None:
    """M mutes at once; pause stops the playing phrase; nothing stale plays on resume."""
    with rig.qtbot.waitSignal(rig.coach.prepared, timeout=5000):
        rig.coach.attach(rig.driver)
    rig.driver.start()
    rig.step_to(1.0)  # "Knee to chest" is playing
    rig.driver.pause()
    assert rig.sink.stops == [rig.clock()] and rig.sink.played[-1].stopped == rig.clock()
    rig.clock.advance(60)
    rig.driver.resume()
    rig.coach.set_muted(True)
    assert rig.coach.muted
    rig.step_to(4.5)
    rig.coach.set_muted(False)
    rig.step_to(5.5)
    assert rig.sink.texts == ["Get ready", "Knee to chest", "1"]


def test_hung_engine_keeps_the_session_on_pace_and_is_replaced(qtbot, tmp_path: Path) -> None:
    """A render that really hangs: driver ticks go on, the UI never stalls, the watchdog restarts speech."""
    release = threading.Event()
    engines = iter([HangingEngine(release), SineEngine()])
    timeline = make_timeline((SegmentKind.REST, 2.4, (crit(0.0, "Rest", CueKind.REST),
                                                      crit(1.2, "2"), crit(2.0, "1"))),
                             (SegmentKind.HOLD, 0.3, ()))
    r = Rig(qtbot, tmp_path, factory=lambda: next(engines), clock=time.monotonic,
            hang_timeout=0.4, timeline=timeline)
    r.sink.clock = time.monotonic
    stalls: list[float] = []
    last = [time.monotonic()]

    def probe() -> None:
        now = time.monotonic()
        stalls.append(now - last[0] - 0.005)
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(probe)
    ticks: list[float] = []
    r.driver.display_tick.connect(lambda: ticks.append(time.monotonic()))
    try:
        r.coach.attach(r.driver)
        timer.start(5)
        t0 = time.monotonic()
        with qtbot.waitSignal(r.driver.finished, timeout=6000):
            r.driver.start()
        elapsed = time.monotonic() - t0
        timer.stop()
        assert elapsed == pytest.approx(2.7, abs=0.15)  # the session kept its own pace
        assert len(ticks) >= 4 and max(b - a for a, b in itertools.pairwise(ticks)) < 1.05
        assert max(stalls) < 0.05, f"UI stalled {1000 * max(stalls):.0f} ms"
        assert r.worker.restarts == 1
        assert any("stopped responding" in p for p in r.problems)
        # The hung phrase's chime marks its moment; the rest is rendered by the fresh engine.
        assert [d.action for d in r.decisions if d.text == "Rest"] == [Action.CHIMED]
        assert r.sink.texts == ["[chime]", "2", "1"]
    finally:
        release.set()
        r.close()


def test_missing_speech_engine_session_runs_with_chimes_and_explains_the_fix(qtbot, tmp_path: Path
                                                                             ) -> None:
    """Engine creation fails as without libespeak-ng: the banner message names the fix; cues chime."""
    r = Rig(qtbot, tmp_path, factory=failing_factory)
    shown: list[str] = []
    visual: list[object] = []
    r.driver.segment_started.connect(visual.append)
    r.driver.cue_due.connect(visual.append)
    try:
        with qtbot.waitSignal(r.coach.problem, timeout=5000) as got:
            r.coach.attach(r.driver)
        assert "sudo apt-get install libespeak-ng1" in got.args[0]
        r.coach.problem.connect(shown.append)
        qtbot.waitUntil(lambda: not r.coach.speech_available, timeout=2000)
        r.driver.start()
        r.step_to(10.0)
        assert r.driver.engine.state.value == "finished"
        assert len(visual) == 2 + 7  # every step and every cue still reached the screen
        assert r.sink.texts == ["[chime]", "[tick]", "[tick]", "[tick]", "[chime]", "[chime]"]
        assert shown == []  # told once, not at every cue
    finally:
        r.close()


def test_live_settings_rerender_in_the_new_voice_and_list_voices(rig: Rig) -> None:
    """Voice, rate and volume changes re-render the prepared phrases; voices come from the engine."""
    with rig.qtbot.waitSignal(rig.coach.prepared, timeout=5000):
        rig.coach.attach(rig.driver)
    rig.qtbot.waitUntil(lambda: len(rig.coach.available_voices()) == 2, timeout=2000)
    assert [v.id for v in rig.coach.available_voices()] == ["fake/en", "fake/fr"]
    new = VoiceSettings(voice_id="fake/fr", rate=200, volume=0.5)
    with rig.qtbot.waitSignal(rig.coach.prepared, timeout=5000):
        rig.coach.apply_settings(new)
    sound = rig.coach.phrase("3")
    assert sound is not None and not isinstance(sound, type(coach_module.NOT_READY))
    assert sound.path == rig.worker.cache.path_for(VoiceParams("fake/fr", 200, 0.5), "3")
    rig.coach.apply_settings(VoiceSettings(enabled=False))
    rig.driver.start()
    rig.step_to(6.0)
    assert rig.sink.texts == []


def test_test_voice_speaks_a_sample_with_the_current_settings(rig: Rig) -> None:
    """The settings' Test button renders and plays a sample phrase."""
    rig.coach.test_voice()
    rig.qtbot.waitUntil(lambda: rig.coach.phrase(TEST_PHRASE) not in (None, coach_module.NOT_READY),
                        timeout=3000)
    rig.coach.poll()
    assert rig.sink.texts == [TEST_PHRASE]
    assert rig.sink.played[0].sound.duration == pytest.approx(spoken_length(TEST_PHRASE), abs=0.01)


def test_no_audio_output_is_reported_once_with_the_fix(qtbot, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any audio output the coach says so (with the fix) and the session still runs."""
    message = "No sound: this computer has no audio output ... Fix it."
    monkeypatch.setattr(coach_module, "choose_playback", lambda: AudioChoice(NullPlayback(), message))
    worker = SpeechWorker(SineEngine, PhraseCache(tmp_path / "voice"))
    coach = VoiceCoach(VoiceSettings(), worker=worker, cache_dir=tmp_path / "voice")
    problems: list[str] = []
    coach.problem.connect(problems.append)
    try:
        coach.prepare(_timeline())
        coach.prepare(_timeline())
        assert problems == [message]
        coach.test_voice()  # asking for sound again repeats why there is none
        assert problems == [message, message]
    finally:
        coach.shutdown()


@pytest.mark.skipif(not __import__("shutil").which("aplay"), reason="needs aplay (alsa-utils)")
def test_aplay_failing_in_a_session_is_told_once(qtbot, tmp_path: Path) -> None:
    """Real aplay failing (no such device), real Qt with no output: the user is told once, not left silent."""
    from PySide6.QtMultimedia import QMediaDevices

    if QMediaDevices.audioOutputs():
        pytest.skip("this machine has an audio output (Qt would take over)")
    clock = FakeClock()
    aplay = AplayPlayback("backcoach_no_such_device")
    sink = FallbackPlayback(aplay, playback_module._qt_if_it_has_an_output)
    worker = SpeechWorker(SineEngine, PhraseCache(tmp_path / "voice"))
    coach = VoiceCoach(VoiceSettings(), clock=clock, worker=worker, playback=sink,
                       cache_dir=tmp_path / "voice")
    problems: list[str] = []
    coach.problem.connect(problems.append)
    driver = EngineDriver(_timeline(), clock)
    try:
        with qtbot.waitSignal(coach.prepared, timeout=5000):
            coach.attach(driver)
        driver.start()
        while driver.engine.state.value == "running":
            clock.advance(1 / 32)
            driver.tick()
            coach.poll()
        qtbot.waitUntil(lambda: aplay.running == 0, timeout=5000)
        coach.poll()
        assert len(problems) == 1 and "aplay failed" in problems[0]
        assert "sound device" in problems[0] and sink.active is aplay
    finally:
        driver.stop()
        coach.shutdown()


CHOSEN_WITHOUT_QT = """
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
app = QCoreApplication(sys.argv[:1])
from backcoach.voice import playback
routed = (("default", "Default ALSA Output (currently PipeWire Media Server)"),)
playback.sound_server_socket = lambda environ=None: "/run/user/1000/pipewire-0"  # a desktop's
playback.alsa_pcms = lambda aplay, timeout=5.0: routed  # pipewire-alsa installed
from tests.helpers.voice_fakes import SineEngine
from backcoach.voice.cache import PhraseCache
from backcoach.voice.coach import VoiceCoach
from backcoach.voice.speech import SpeechWorker
folder = Path(sys.argv[1])
coach = VoiceCoach(worker=SpeechWorker(SineEngine, PhraseCache(folder)), cache_dir=folder)
print(coach.playback.name, "PySide6.QtMultimedia" in sys.modules)
coach.shutdown()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not __import__("shutil").which("aplay"),
                    reason="aplay is Linux's playback (alsa-utils)")
def test_a_linux_desktop_voice_plays_through_aplay_without_loading_qtmultimedia(tmp_path: Path) -> None:
    """With ALSA routed to the sound server, the coach picks aplay and QtMultimedia is never imported."""
    out = subprocess.run([sys.executable, "-c", CHOSEN_WITHOUT_QT, str(tmp_path)], capture_output=True,
                         text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["aplay", "False"]
