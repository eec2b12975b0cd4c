"""What the engine tells its listeners. Plain values: listeners may keep them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backcoach.session.plan import Cue, Segment


class State(StrEnum):
    """The engine's states; the only transitions are the engine's methods."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


@dataclass(frozen=True)
class SegmentStarted:
    """A segment became current: by time passing or by next / previous / restart."""

    segment: Segment
    at: float  # monotonic clock time of emission


@dataclass(frozen=True)
class CueDue:
    """A cue's moment has come. `late` is how far past its moment the engine noticed it."""

    segment: Segment
    cue: Cue
    due: float  # timeline time of the cue
    late: float  # seconds; listeners drop a critical cue that is too late
    at: float  # monotonic clock time of emission


@dataclass(frozen=True)
class StateChanged:
    """The engine moved between states; `reason` says why (e.g. "clock-jump")."""

    old: State
    new: State
    reason: str
    at: float


@dataclass(frozen=True)
class Finished:
    """The session ended: played to the end (completed) or stopped early."""

    completed: bool
    position: float  # timeline seconds reached
    at: float


Event = SegmentStarted | CueDue | StateChanged | Finished
