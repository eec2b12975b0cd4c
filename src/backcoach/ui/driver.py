"""The thin Qt adapter around the engine: wakes it on time, re-emits its events as signals.

The engine is plain Python and only notices time when ticked. This driver arms one
precise single-shot QTimer for the next cue, boundary or countdown digit, so the event
loop stays idle between moments (about one wake-up a second) and cues fire within a few
milliseconds of their schedule. It never counts ticks: the engine measures.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from backcoach.session.engine import Clock, Engine
from backcoach.session.events import CueDue, Event, Finished, SegmentStarted, StateChanged
from backcoach.session.plan import Timeline


class EngineDriver(QObject):
    """Owns an engine for one session and turns its events into Qt signals."""

    event = Signal(object)  # every engine event, in order
    segment_started = Signal(object)  # SegmentStarted
    cue_due = Signal(object)  # CueDue
    state_changed = Signal(object)  # StateChanged
    finished = Signal(object)  # Finished
    display_tick = Signal()  # time to redraw the countdown

    def __init__(self, timeline: Timeline, clock: Clock = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.engine = Engine(timeline, clock)
        self.engine.subscribe(self._on_event)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.tick)

    def _on_event(self, event: Event) -> None:
        self.event.emit(event)
        if isinstance(event, SegmentStarted):
            self.segment_started.emit(event)
        elif isinstance(event, CueDue):
            self.cue_due.emit(event)
        elif isinstance(event, StateChanged):
            self.state_changed.emit(event)
        elif isinstance(event, Finished):
            self.finished.emit(event)

    def tick(self) -> None:
        """Let the engine notice the time, redraw, and arm the timer for the next moment."""
        self.engine.tick()
        self.display_tick.emit()
        self._arm()

    def _arm(self) -> None:
        wait = self.engine.time_to_next_event()
        if wait is None:
            self._timer.stop()
            return
        # Wake for the next whole second of the countdown too, so digits change on time.
        to_second = self.engine.segment_remaining() % 1.0 or 1.0
        wait = min(wait, to_second)
        self._timer.start(max(1, round(wait * 1000)))

    # Controls: each forwards to the engine, then re-arms the timer.
    def start(self) -> None:
        """Start the session."""
        self.engine.start()
        self.tick()

    def toggle_pause(self) -> None:
        """Pause or resume."""
        self.engine.toggle_pause()
        self.tick()

    def pause(self, reason: str = "pause") -> None:
        """Pause (no-op unless running)."""
        self.engine.pause(reason)
        self.tick()

    def resume(self) -> None:
        """Resume (no-op unless paused)."""
        self.engine.resume()
        self.tick()

    def next(self) -> None:
        """Skip to the next step."""
        self.engine.next()
        self.tick()

    def previous(self) -> None:
        """Back to the previous step."""
        self.engine.previous()
        self.tick()

    def restart_step(self) -> None:
        """Restart the current step."""
        self.engine.restart_step()
        self.tick()

    def stop(self) -> None:
        """End the session early."""
        self.engine.stop()
        self._timer.stop()
