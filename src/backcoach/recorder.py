"""Writes each session to the history: a row when it starts, updated when it ends, so a
crash still leaves a record. Errors (full disk, read-only folder) reach the banner and
never stop the session."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from backcoach.session.plan import SegmentKind, Side, Timeline
from backcoach.store.atomic import StorageError
from backcoach.store.history import ExerciseTime, History

if TYPE_CHECKING:  # the session's event types load with its first session, not at start-up
    from backcoach.session.events import Finished

log = logging.getLogger(__name__)


def exercise_times(timeline: Timeline, done: set[int]) -> list[ExerciseTime]:
    """Seconds and sides per exercise, from the segments played to their end."""
    seconds: dict[int, float] = defaultdict(float)
    sides: dict[int, set[str]] = defaultdict(set)
    for i in sorted(done):
        seg = timeline.segments[i]
        if seg.is_work:
            seconds[seg.exercise_index] += seg.duration
            if seg.kind is SegmentKind.HOLD or seg.side is not Side.BOTH:
                sides[seg.exercise_index].add(seg.side.value)
    return [ExerciseTime(exercise_id=timeline.exercises[i].id,
                         exercise_name=timeline.exercises[i].name,
                         seconds=seconds[i], sides=len(sides[i] - {"both"}) or 1)
            for i in sorted(seconds)]


class HistoryRecorder:
    """Connects the window's session signals to the history database."""

    def __init__(self, history: History, window) -> None:
        self.history = history
        self.window = window
        self.session_id: int | None = None
        self._timeline: Timeline | None = None
        window.session_started.connect(self.on_started)
        window.session_finished.connect(self.on_finished)

    def _problem(self, exc: Exception) -> None:
        log.warning("history not saved: %s", exc)
        self.window.banner.show_message(f"Your history could not be saved: {exc}")

    def on_started(self, driver) -> None:
        """Record the new session as running."""
        timeline: Timeline = driver.engine.timeline
        self._timeline = timeline
        try:
            self.session_id = self.history.start_session(
                timeline.routine_id, timeline.routine_name, timeline.level.value,
                segments_total=len(timeline.segments))
        except (StorageError, OSError) as exc:
            self.session_id = None
            self._problem(exc)

    def on_finished(self, summary, event: Finished) -> None:
        """Record how the session ended."""
        if self.session_id is None or self._timeline is None:
            return
        done = set(self.window.last_done_segments)
        try:
            self.history.finish_session(
                self.session_id, "completed" if event.completed else "stopped",
                segments_done=summary.segments_done, active_seconds=summary.active_seconds,
                per_exercise=exercise_times(self._timeline, done))
        except (StorageError, OSError) as exc:
            self._problem(exc)
        self.session_id = None
