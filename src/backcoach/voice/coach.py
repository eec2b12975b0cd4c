"""VoiceCoach: the Qt edge of the voice. Listens to the engine driver and speaks on time.

    coach = VoiceCoach(settings.voice)                 # starts the speech worker
    coach.problem.connect(window.banner.show_message)  # plain message + exact fix
    window.session_started.connect(coach.attach)      # prepares the timeline, follows it
    window.mute_toggled.connect(coach.set_muted)
    settings_store.subscribe(lambda s: coach.apply_settings(s.voice))

Nothing here waits on speech. Phrases are rendered ahead by the speech worker thread, which
drives the engine in a helper process that leaves when idle (voice/speech_process.py)
(`prepare`, done by `attach`, best also when a routine is picked), answers come back as
queued signals, and at each cue the CueScheduler decides from phrase lengths and the
clock what to play; playback only starts or stops a sound. A missing engine, a hung one
or a machine without sound is reported through `problem` once, and the session carries
on (with the chime for critical cues where audio works but speech does not).
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from backcoach.memory import fix_mmap_threshold, limit_malloc_arenas
from backcoach.session.events import Event
from backcoach.session.plan import CueKind, Timeline
from backcoach.store.settings import VoiceSettings
from backcoach.voice import chime as chime_sounds
from backcoach.voice.cache import PhraseCache, Sound, VoiceParams, wav_duration
from backcoach.voice.playback import NullPlayback, Playback, choose_playback
from backcoach.voice.scheduler import NOT_READY, CueScheduler, Decision, PhraseLookup
from backcoach.voice.speech import (
    SpeechHung,
    SpeechUnavailable,
    SpeechWorker,
    VoiceInfo,
)
from backcoach.voice.speech_process import HelperEngine

log = logging.getLogger(__name__)

TEST_PHRASE = "This is your coach. Breathe in... and breathe out."
RELEASE_CHECK_MS = 250  # how often a finished session's sounds wait for its last phrase
_Key = tuple[VoiceParams, str]


def voice_params(settings: VoiceSettings) -> VoiceParams:
    """The part of the voice settings that changes the rendered audio."""
    return VoiceParams.from_settings(settings)


def default_cache_dir() -> Path:
    """`<user cache>/voice`, or a temporary folder if that cannot be created."""
    from backcoach.store.paths import resolve_paths

    folder = resolve_paths().cache_dir / "voice"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("voice cache %s unusable (%s); using a temporary folder", folder, exc)
        return Path(tempfile.mkdtemp(prefix="backcoach-voice-"))
    return folder


def timeline_phrases(timeline: Timeline) -> list[str]:
    """Every text the timeline may speak (full and short forms), in order of first use."""
    seen: dict[str, None] = {}
    for seg in timeline.segments:
        for cue in seg.cues:
            for text in (cue.text, cue.short_text):
                if text:
                    seen.setdefault(text, None)
    return list(seen)


class VoiceCoach(QObject):
    """Speaks a session's cues on time, or not at all; never blocks the UI thread.

    Signals: `problem(str)` a message for the banner (what is wrong, what still works, the
    fix); `decision(Decision)` what became of each cue (for traces and tests);
    `prepared(int)` all phrases of the prepared timeline are rendered (or failed), with
    how many are ready; `voices_changed(list[VoiceInfo])` once the engine has listed them.
    """

    problem = Signal(str)
    decision = Signal(object)
    prepared = Signal(int)
    voices_changed = Signal(list)

    _rendered = Signal(object, object)  # (key, future), emitted from the worker thread
    _worker_problem = Signal(str)
    _worker_voices = Signal(list)

    def __init__(self, settings: VoiceSettings | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 worker: SpeechWorker | None = None, playback: Playback | None = None,
                 cache_dir: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._settings = settings or VoiceSettings()
        self._params = voice_params(self._settings)
        self._sounds: dict[_Key, Sound] = {}
        self._latest: dict[str, Sound] = {}  # newest render of each text, any voice
        self._pending: dict[_Key, Future] = {}
        self._failed: set[_Key] = set()
        self._retried: set[_Key] = set()
        self._chimes: dict[tuple[str, float], Sound | None] = {}
        self._prepared_for: Timeline | None = None
        self._prepare_left: set[_Key] = set()
        self._prepare_total = 0
        self._reported: list[str] = []
        self.recent: deque[Decision] = deque(maxlen=500)
        self._driver: QObject | None = None
        self._closed = False

        self._rendered.connect(self._on_rendered, Qt.ConnectionType.QueuedConnection)
        self._worker_problem.connect(self._on_worker_problem, Qt.ConnectionType.QueuedConnection)
        self._worker_voices.connect(self.voices_changed, Qt.ConnectionType.QueuedConnection)

        if worker is None:
            cache = PhraseCache(cache_dir or default_cache_dir())
            worker = SpeechWorker(HelperEngine, cache)  # see speech_process
        worker.on_problem = self._safe(self._worker_problem.emit)
        worker.on_voices = self._safe(self._worker_voices.emit)
        self._worker = worker
        self._cache_dir = worker.cache.folder

        self._playback = playback
        self._audio_problem: str | None = None
        self._scheduler = CueScheduler(playback or NullPlayback(), self, self._settings,
                                       on_decision=self._on_decision)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.poll)
        self._release_timer = QTimer(self)  # see _release_sounds
        self._release_timer.setSingleShot(True)
        self._release_timer.timeout.connect(self._release_sounds)
        limit_malloc_arenas()  # the voice's threads share malloc arenas: see backcoach.memory
        fix_mmap_threshold()  # and its sound buffers are returned whole when freed
        # The audio output is chosen before the speech thread starts: QtMultimedia's device
        # probe and the thread's loading of libespeak-ng, run at the same moment, can
        # deadlock in the dynamic loader (seen when the voice loads as a session starts).
        if playback is None:
            self._choose_playback()
        worker.start()

    # -- queries ---------------------------------------------------------------------
    @property
    def settings(self) -> VoiceSettings:
        """The voice settings in force."""
        return self._settings

    @property
    def muted(self) -> bool:
        """Whether M has muted the voice."""
        return self._scheduler.muted

    @property
    def speech_available(self) -> bool:
        """False once the speech engine is known not to work (the chime stands in)."""
        return self._worker.unavailable is None

    @property
    def playback(self) -> Playback:
        """The playback in use (chosen on first need)."""
        return self._sink()

    @property
    def problems(self) -> list[str]:
        """Every problem reported so far."""
        return list(self._reported)

    @property
    def scheduler(self) -> CueScheduler:
        """The timing policy (for tests and traces)."""
        return self._scheduler

    def wait_ready(self, timeout: float) -> bool:
        """Block until the speech engine has started or failed (so its voices are known)."""
        return self._worker.wait_ready(timeout)

    def available_voices(self) -> list[VoiceInfo]:
        """The engine's voices ([] until it has started; then `voices_changed` fires)."""
        return self._worker.voices()

    # -- wiring ----------------------------------------------------------------------
    @Slot(object)
    def attach(self, driver) -> None:
        """Follow an EngineDriver's session: prepare its timeline and listen to its events.

        The coach adopts the driver's clock so that cue moments and its own clock agree.
        """
        self.detach()
        self._release_timer.stop()
        self._driver = driver
        self._clock = driver.clock
        timeline = driver.engine.timeline
        if timeline is not self._prepared_for:
            self.prepare(timeline)
        else:
            self._preload(timeline)  # the playback may have let them go (_release_sounds)
        self._scheduler.set_timeline(timeline, self._clock())
        driver.event.connect(self.on_event)
        driver.destroyed.connect(self._on_driver_destroyed)

    @Slot()
    def detach(self) -> None:
        """Stop following the current driver (silences the session)."""
        driver, self._driver = self._driver, None
        if driver is not None:
            with contextlib.suppress(RuntimeError, TypeError):  # already gone
                driver.event.disconnect(self.on_event)
                driver.destroyed.disconnect(self._on_driver_destroyed)
            self._scheduler.set_timeline(None, self._clock())
            self._arm(None)

    def _on_driver_destroyed(self, *_: object) -> None:
        self._driver = None  # a finished session's "Well done" may still be playing
        self._release_timer.start(0)

    def _release_sounds(self) -> None:
        """The session is over: once its last phrase has played, let the playback forget the
        sounds it holds ready (QtMultimedia keeps each phrase decoded: some 2.5 MB for a
        short session). The next session's attach preloads its phrases again."""
        if self._driver is not None or self._playback is None or self._closed:
            return
        now = self._clock()
        if self._scheduler.waiting or self._scheduler.busy_until(now) > now:
            wait = self._scheduler.busy_until(now) - now
            self._release_timer.start(max(RELEASE_CHECK_MS, math.ceil(wait * 1000)))
            return
        self._playback.release()

    @Slot(object)
    def prepare(self, timeline: Timeline) -> None:
        """Render every phrase of the timeline ahead, earliest first (returns at once)."""
        self._sink()
        self._prepared_for = timeline
        texts = timeline_phrases(timeline)
        self._prepare_total = len(texts)
        self._prepare_left = set()
        for rank, text in enumerate(texts):
            key = (self._params, text)
            if key in self._sounds:
                self._sink().preload(self._sounds[key])
                continue
            self._prepare_left.add(key)
            self._request(text, priority=rank)
        if not self._prepare_left:
            self.prepared.emit(self._prepare_total)
        self._preload_chimes()

    def _preload(self, timeline: Timeline) -> None:
        """Hold the timeline's rendered phrases and the chimes ready to play again."""
        sink = self._sink()
        for text in timeline_phrases(timeline):
            sound = self._sounds.get((self._params, text))
            if sound is not None:
                sink.preload(sound)
        self._preload_chimes()

    def _preload_chimes(self) -> None:
        for name in ("chime", "tick"):
            sound = self._chime(name)
            if sound is not None:
                self._sink().preload(sound)

    @Slot(object)
    def on_event(self, event: Event) -> None:
        """An engine event (connected to EngineDriver.event by `attach`)."""
        self._sink()
        self._arm(self._scheduler.handle(event, self._clock()))
        self._collect_playback_problems()

    @Slot()
    def poll(self) -> None:
        """Start whatever is due now (the timer calls this; tests may too)."""
        self._arm(self._scheduler.poll(self._clock()))
        self._collect_playback_problems()

    # -- controls --------------------------------------------------------------------
    @Slot(bool)
    def set_muted(self, muted: bool) -> None:
        """M: silence at once and stay quiet; unmuting replays nothing."""
        self._scheduler.set_muted(bool(muted), self._clock())
        self._arm(None if muted else self._scheduler.poll(self._clock()))

    @Slot(object)
    def apply_settings(self, settings: VoiceSettings) -> None:
        """Take new voice settings now; a new voice, rate or volume re-renders in the background."""
        self._settings = settings
        self._scheduler.apply_settings(settings, self._clock())
        params = voice_params(settings)
        if params != self._params:
            self._params = params
            for key, future in list(self._pending.items()):
                if key[0] != params and future.cancel():
                    del self._pending[key]
            if self._prepared_for is not None:
                self.prepare(self._prepared_for)
        self.poll()

    @Slot()
    def test_voice(self, text: str = "") -> None:
        """Speak a sample with the current settings (after whatever is playing)."""
        text = text or TEST_PHRASE
        sink = self._sink()
        if not self.speech_available:
            self._report(self._worker.unavailable or "Speech is not available.", again=True)
        elif not sink.audible and self._audio_problem:
            self._report(self._audio_problem, again=True)
        self._request(text, priority=-1)
        self._arm(self._scheduler.say(text, self._clock()))

    @Slot()
    def stop(self) -> None:
        """Silence everything now (leaving a session)."""
        self._scheduler.stop_all(self._clock(), "stopped")
        self._arm(None)

    def shutdown(self) -> None:
        """Stop the worker and the playback (at application exit)."""
        if self._closed:
            return
        self._closed = True
        self.detach()
        self.stop()
        self._worker.shutdown()
        if self._playback is not None:
            self._playback.close()

    # -- SoundSource for the scheduler -----------------------------------------------
    def phrase(self, text: str) -> PhraseLookup:
        """The rendered phrase in the current voice (or the previous voice while re-rendering)."""
        key = (self._params, text)
        sound = self._sounds.get(key)
        if sound is not None:
            return sound
        if key in self._failed:
            return None
        if key not in self._pending:
            self._request(text, priority=-1)
        return self._latest.get(text, NOT_READY)

    def chime(self, kind: CueKind) -> Sound | None:
        """Tick for countdown numbers, chime for other critical cues, nothing for breaths."""
        if kind in (CueKind.BREATHE_IN, CueKind.BREATHE_OUT):
            return None
        return self._chime("tick" if kind is CueKind.COUNTDOWN else "chime")

    def _chime(self, name: str) -> Sound | None:
        key = (name, self._params.volume)
        if key not in self._chimes:
            try:
                path = chime_sounds.sound_at_volume(name, self._params.volume, self._cache_dir)
                self._chimes[key] = Sound(f"[{name}]", path, wav_duration(path))
                self._sink().preload(self._chimes[key])
            except OSError as exc:
                log.warning("chime %s unavailable: %s", name, exc)
                self._chimes[key] = None
        return self._chimes[key]

    # -- internals -------------------------------------------------------------------
    def _sink(self) -> Playback:
        """The playback (chosen at construction); its problem is reported at first use,
        once listeners are connected."""
        if self._playback is None:
            self._choose_playback()
        if self._audio_problem:
            self._report(self._audio_problem)
        return self._playback

    def _choose_playback(self) -> None:
        choice = choose_playback()
        self._playback = choice.playback
        self._scheduler.sink = choice.playback
        log.info("voice playback: %s", choice.playback.name)
        self._audio_problem = choice.problem

    def _request(self, text: str, priority: float) -> None:
        key = (self._params, text)
        if key in self._sounds or key in self._pending or self._closed:
            return
        self._failed.discard(key)
        future = self._worker.render(text, key[0], priority)
        self._pending[key] = future
        emit = self._safe(self._rendered.emit)
        future.add_done_callback(lambda f, k=key: emit(k, f))

    @staticmethod
    def _safe(emit: Callable[..., None]) -> Callable[..., None]:
        def call(*args: object) -> None:
            # RuntimeError: the coach was deleted, nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                emit(*args)
        return call

    def _on_rendered(self, key: _Key, future: Future) -> None:
        if self._pending.get(key) is future:
            del self._pending[key]
        if future.cancelled() or self._closed:
            return
        exc = future.exception()
        if exc is None:
            sound = future.result()
            self._sounds[key] = sound
            if key[0] == self._params:
                self._latest[key[1]] = sound
            self._sink().preload(sound)
        elif isinstance(exc, SpeechHung) and key not in self._retried:
            self._retried.add(key)  # one more try on the fresh engine
            self._pending.pop(key, None)
            self._request(key[1], priority=50)
            return
        else:
            self._failed.add(key)
            if not isinstance(exc, SpeechUnavailable | SpeechHung):
                log.warning("could not render %r: %s", key[1], exc)
        if key in self._prepare_left:
            self._prepare_left.discard(key)
            if not self._prepare_left:
                ready = sum((self._params, t) in self._sounds
                            for t in timeline_phrases(self._prepared_for)) \
                    if self._prepared_for is not None else 0
                self.prepared.emit(ready)
        self.poll()

    def _on_worker_problem(self, message: str) -> None:
        self._scheduler.speech_available = self.speech_available
        self._report(message)
        self.poll()

    def _collect_playback_problems(self) -> None:
        if self._playback is not None:
            for message in self._playback.problems():
                self._report(message)

    def _report(self, message: str, again: bool = False) -> None:
        if message in self._reported and not again:
            return
        if message not in self._reported:
            self._reported.append(message)
        log.warning("voice: %s", message)
        self.problem.emit(message)

    def _on_decision(self, decision: Decision) -> None:
        self.recent.append(decision)
        self.decision.emit(decision)

    def _arm(self, wake: float | None) -> None:
        if wake is None or self._closed:
            self._timer.stop()
            return
        delay = wake - self._clock()
        self._timer.start(max(0, math.ceil(delay * 1000)) if delay < 3600 else 3_600_000)
