"""`--trace FILE`: every engine event and every cue as it is issued, as JSON lines.

Each line carries the monotonic time it was written, so a trace can be compared with
the plan to measure timing (the benchmarks do).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

from backcoach.session.events import CueDue, Event, Finished, SegmentStarted, StateChanged


def event_record(event: Event) -> dict[str, Any]:
    """A JSON-ready description of an engine event."""
    if isinstance(event, SegmentStarted):
        seg = event.segment
        return {"event": "segment_started", "index": seg.index, "kind": seg.kind.value,
                "exercise": seg.exercise_id, "side": seg.side.value, "start": seg.start,
                "duration": seg.duration, "at": event.at}
    if isinstance(event, CueDue):
        return {"event": "cue_due", "segment": event.segment.index, "kind": event.cue.kind.value,
                "text": event.cue.text, "due": event.due, "late": event.late, "at": event.at}
    if isinstance(event, StateChanged):
        return {"event": "state_changed", "old": event.old.value, "new": event.new.value,
                "reason": event.reason, "at": event.at}
    if isinstance(event, Finished):
        return {"event": "finished", "completed": event.completed, "position": event.position,
                "at": event.at}
    raise TypeError(f"not an engine event: {event!r}")


class TraceWriter:
    """Appends JSON lines to a file, flushing each so a crash loses nothing already seen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (held open)

    def write(self, record: dict[str, Any]) -> None:
        """Write one record with the monotonic time of writing."""
        record = {"t": time.monotonic(), **record}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def engine_event(self, event: Event) -> None:
        """Record an engine event."""
        self.write(event_record(event))

    def close(self) -> None:
        """Close the file."""
        self._file.close()
