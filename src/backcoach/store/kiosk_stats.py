"""Anonymous kiosk counts (no Qt): routines started and completed per day.

On a shared gym PC no personal history is kept. Staff still want to know whether the
corner is used, so this keeps, per local calendar day and routine, two numbers: how many
sessions were started and how many were completed. No time of day, no level, nothing a
member could be recognised by. The file is JSON in the data folder, written atomically,
and keeps the last KEEP_DAYS days.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from backcoach.store.atomic import atomic_write_text, read_json_file, storage_error

log = logging.getLogger(__name__)

STATS_FILE = "kiosk-stats.json"
VERSION = 1
KEEP_DAYS = 400


@dataclass(frozen=True)
class DayCount:
    """One day's totals over every routine."""

    day: date
    started: int
    completed: int


class KioskStats:
    """Per-day, per-routine counts of started and completed sessions."""

    def __init__(self, data_dir: Path, *, today: Callable[[], date] = date.today) -> None:
        self.path = Path(data_dir) / STATS_FILE
        self.today = today
        self.problem: str | None = None

    def _read(self) -> dict[str, dict[str, list[int]]]:
        days, damage = read_json_file(self.path, _parse_days)
        if damage is not None:
            self.problem = (f"The kiosk counts {self.path} were damaged "
                            f"({type(damage.error).__name__}); they were moved to "
                            f"{damage.backup} and counting starts again.")
            log.warning("%s", self.problem)
        return days or {}

    def _write(self, days: dict[str, dict[str, list[int]]]) -> None:
        oldest = (self.today() - timedelta(days=KEEP_DAYS)).isoformat()
        kept = {d: days[d] for d in sorted(days) if d >= oldest}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error("save", self.path, exc) from exc
        atomic_write_text(self.path, json.dumps({"version": VERSION, "days": kept},
                                                indent=1, sort_keys=True) + "\n")

    def _bump(self, routine_id: str, column: int, day: date | None) -> None:
        days = self._read()
        key = (day or self.today()).isoformat()
        counts = days.setdefault(key, {}).setdefault(routine_id, [0, 0])
        counts[column] += 1
        self._write(days)

    def record_started(self, routine_id: str, day: date | None = None) -> None:
        """Count a session started (raises StorageError if it cannot be saved)."""
        self._bump(routine_id, 0, day)

    def record_completed(self, routine_id: str, day: date | None = None) -> None:
        """Count a session completed to its end."""
        self._bump(routine_id, 1, day)

    def recent_days(self, n: int = 14) -> list[DayCount]:
        """The last `n` days, newest first, including days with no sessions."""
        days = self._read()
        today = self.today()
        out = []
        for back in range(n):
            day = today - timedelta(days=back)
            routines = days.get(day.isoformat(), {})
            out.append(DayCount(day, sum(c[0] for c in routines.values()),
                                sum(c[1] for c in routines.values())))
        return out

    def per_routine(self, n_days: int = 30) -> dict[str, tuple[int, int]]:
        """(started, completed) per routine over the last `n_days` days."""
        oldest = (self.today() - timedelta(days=n_days - 1)).isoformat()
        totals: dict[str, list[int]] = {}
        for day, routines in self._read().items():
            if day >= oldest:
                for rid, (started, completed) in routines.items():
                    t = totals.setdefault(rid, [0, 0])
                    t[0] += started
                    t[1] += completed
        return {rid: (t[0], t[1]) for rid, t in sorted(totals.items())}

    def clear(self) -> None:
        """Forget every count."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise storage_error("delete", self.path, exc) from exc


def _parse_days(data: dict) -> dict[str, dict[str, list[int]]]:
    """The counts per ISO day and routine: [started, completed]; raises if malformed."""
    clean = {str(d): {str(r): [int(c[0]), int(c[1])] for r, c in routines.items()}
             for d, routines in data["days"].items()}
    for day in clean:
        date.fromisoformat(day)
    return clean
