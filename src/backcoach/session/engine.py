"""The session engine: a small explicit state machine over a planned timeline.

Time is measured, never counted: the position is `offset + (clock() - anchor)`, where a
pause folds the running time into `offset` and drops the anchor. Whoever drives the
engine (a QTimer in the app, a loop in tests) only calls `tick()` to let it notice time
passing; how often it does so changes nothing but the latency of the events.

Clock jumps: if more than `max_jump` seconds (default 5) pass between two ticks while
running, the machine probably slept. Rather than racing through the holds that passed
unseen, the engine pauses at the position of the last tick, with reason "clock-jump".
Drivers must therefore tick at least every second or so while running (the window
does, to redraw the countdown).
"""

from __future__ import annotations

from collections.abc import Callable

from backcoach.session.events import (
    CueDue,
    Event,
    Finished,
    SegmentStarted,
    State,
    StateChanged,
)
from backcoach.session.plan import Segment, Timeline

Clock = Callable[[], float]
Listener = Callable[[Event], None]

DEFAULT_MAX_JUMP = 5.0


class EngineError(RuntimeError):
    """A method was called in a state where it means nothing (e.g. resume while idle)."""


class Engine:
    """Plays a timeline against a clock and tells listeners what happens, once, in order."""

    def __init__(self, timeline: Timeline, clock: Clock,
                 max_jump: float = DEFAULT_MAX_JUMP) -> None:
        if not timeline.segments:
            raise ValueError("cannot play an empty timeline")
        self.timeline = timeline
        self._clock = clock
        self._max_jump = max_jump
        self._listeners: list[Listener] = []
        self._state = State.IDLE
        self._offset: float = 0.0  # timeline position at the anchor
        self._anchor: float | None = None  # clock time when running resumed
        self._last_tick: float = 0.0
        self._index = 0  # current segment
        self._floor: float = 0.0  # cues before this timeline time are never emitted
        self._emitted: set[tuple[int, int]] = set()  # (segment, cue) already emitted
        self._done_segments: set[int] = set()  # segments played to their end

    # -- listeners -------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Add a listener; it is called synchronously, in subscription order."""
        self._listeners.append(listener)

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- queries ---------------------------------------------------------------------
    @property
    def state(self) -> State:
        """Idle, running, paused or finished."""
        return self._state

    @property
    def index(self) -> int:
        """Index of the current segment."""
        return self._index

    @property
    def segment(self) -> Segment:
        """The current segment."""
        return self.timeline.segments[self._index]

    @property
    def done_segments(self) -> frozenset[int]:
        """Indices of the segments played to their end (skipped ones do not count)."""
        return frozenset(self._done_segments)

    def position(self) -> float:
        """Seconds into the timeline, from the clock; frozen while not running."""
        if self._anchor is None:
            return self._offset
        return min(self._offset + (self._clock() - self._anchor), self.timeline.total)

    def segment_elapsed(self) -> float:
        """Seconds into the current segment."""
        return max(0.0, self.position() - self.segment.start)

    def segment_remaining(self) -> float:
        """Seconds left in the current segment."""
        return max(0.0, self.segment.end - self.position())

    def remaining(self) -> float:
        """Seconds left in the whole session."""
        return max(0.0, self.timeline.total - self.position())

    def time_to_next_event(self) -> float | None:
        """Seconds until the next cue or segment boundary, or None when not running."""
        if self._state is not State.RUNNING:
            return None
        pos = self.position()
        seg = self.segment
        upcoming = [seg.end]
        for j, cue in enumerate(seg.cues):
            moment = seg.start + cue.offset
            # A cue whose moment passed since the last tick is due now (wait 0), not skipped:
            # a timer that fires a fraction early must not push a cue to the next wake-up.
            if moment >= self._floor and (seg.index, j) not in self._emitted:
                upcoming.append(moment)
        return max(0.0, min(upcoming) - pos)

    # -- transitions -----------------------------------------------------------------
    def _set_state(self, new: State, reason: str) -> None:
        old, self._state = self._state, new
        self._emit(StateChanged(old=old, new=new, reason=reason, at=self._clock()))

    def start(self) -> None:
        """Begin at the first segment."""
        if self._state is not State.IDLE:
            raise EngineError(f"cannot start while {self._state}")
        now = self._clock()
        self._offset, self._anchor, self._last_tick = 0.0, now, now
        self._set_state(State.RUNNING, "start")
        self._emit(SegmentStarted(self.segment, at=now))
        self.tick()

    def pause(self, reason: str = "pause") -> None:
        """Freeze the position; nothing is emitted until resume."""
        if self._state is not State.RUNNING:
            return
        self._offset = self.position()
        self._anchor = None
        self._set_state(State.PAUSED, reason)

    def resume(self) -> None:
        """Carry on from where the pause froze the position."""
        if self._state is not State.PAUSED:
            return
        now = self._clock()
        self._anchor, self._last_tick = now, now
        self._set_state(State.RUNNING, "resume")
        self.tick()

    def toggle_pause(self) -> None:
        """Pause when running, resume when paused, start when idle."""
        if self._state is State.RUNNING:
            self.pause()
        elif self._state is State.PAUSED:
            self.resume()
        elif self._state is State.IDLE:
            self.start()

    def next(self) -> None:
        """Skip to the start of the next segment; past the last one the session ends."""
        if self._state in (State.IDLE, State.FINISHED):
            return
        if self._index + 1 >= len(self.timeline.segments):
            self._finish(completed=True)
            return
        self._jump(self._index + 1)

    def previous(self) -> None:
        """Go back to the start of the previous segment (or of the first one)."""
        if self._state in (State.IDLE, State.FINISHED):
            return
        self._jump(max(0, self._index - 1))

    def restart_step(self) -> None:
        """Go back to the start of the current segment."""
        if self._state in (State.IDLE, State.FINISHED):
            return
        self._jump(self._index)

    def stop(self) -> None:
        """End the session early."""
        if self._state in (State.IDLE, State.FINISHED):
            return
        self._finish(completed=False)

    def _jump(self, target: int) -> None:
        seg = self.timeline.segments[target]
        now = self._clock()
        self._offset = seg.start
        self._floor = seg.start
        if self._anchor is not None:
            self._anchor, self._last_tick = now, now
        self._index = target
        self._emit(SegmentStarted(seg, at=now))
        self.tick()

    def _finish(self, completed: bool) -> None:
        position = self.position()
        self._offset, self._anchor = position, None
        self._set_state(State.FINISHED, "completed" if completed else "stopped")
        self._emit(Finished(completed=completed, position=position, at=self._clock()))

    # -- time ------------------------------------------------------------------------
    def tick(self) -> None:
        """Notice the time that passed: emit due cues and segment starts, in order."""
        if self._state is not State.RUNNING or self._anchor is None:
            return
        now = self._clock()
        if now < self._last_tick:
            return  # a clock that went backwards: ignore rather than rewind
        if now - self._last_tick > self._max_jump:
            # Fold in only the time up to the last tick we saw, then pause.
            self._offset = min(self._offset + (self._last_tick - self._anchor),
                               self.timeline.total)
            self._anchor = None
            self._set_state(State.PAUSED, "clock-jump")
            return
        self._last_tick = now
        position = self.position()
        self._advance(position, now)
        if position >= self.timeline.total and self._state is State.RUNNING:
            self._finish(completed=True)

    def _advance(self, position: float, now: float) -> None:
        segments = self.timeline.segments
        while True:
            seg = segments[self._index]
            for j, cue in enumerate(seg.cues):
                moment = seg.start + cue.offset
                if moment > position:
                    break
                if moment < self._floor or (seg.index, j) in self._emitted:
                    continue
                self._emitted.add((seg.index, j))
                self._emit(CueDue(segment=seg, cue=cue, due=moment, late=position - moment,
                                  at=now))
            if position < seg.end or self._index + 1 >= len(segments):
                if position >= seg.end:
                    self._done_segments.add(seg.index)
                return
            self._done_segments.add(seg.index)
            self._index += 1
            self._emit(SegmentStarted(segments[self._index], at=now))
