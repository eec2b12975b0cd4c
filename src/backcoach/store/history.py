"""Session history in SQLite: crash-safe, shared safely by two running copies of the app.

Why it is built this way:

- WAL journal, `synchronous=FULL` and one short `BEGIN IMMEDIATE` transaction per write:
  a process killed at any moment leaves a database that passes `PRAGMA integrity_check`,
  and every call that returned has its row on disk. IMMEDIATE takes the write lock up
  front, so a second instance waits (`busy_timeout`) instead of failing with "database is
  locked" when it tries to upgrade a read lock.
- `start_session` writes the row at once (status "running"), and `update_progress` keeps
  it current, so a crash still leaves a record of the work done.
- Crashed sessions are *shown* as "interrupted" when read, never rewritten at open: a second
  app instance opening the file must not mark the first one's live session as dead. A row
  is "running" only for the `History` object that started it.
- Dates: each session stores its UTC start instant and the *local* calendar date it started
  on, fixed at write time, so streaks do not shift when the user travels or the clock
  changes. All "now" and "today" values can be passed in (or a clock injected), so tests
  never depend on the real date.
- A file that is not a database or fails `integrity_check` is moved aside as `.bak` (with
  its WAL) and a fresh history is started; `problem` says so. If the folder cannot hold a
  database at all, or the file is from a newer BackCoach, history lives in memory for this
  run and `problem` says why, so the app still works.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from backcoach.store.atomic import StorageError, atomic_write_text, move_aside, storage_error

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

RUNNING, COMPLETED, STOPPED, INTERRUPTED = "running", "completed", "stopped", "interrupted"
FINISHED_STATUSES = (COMPLETED, STOPPED)
ACTIVE_STATUSES = (COMPLETED, STOPPED)  # statuses that make a day count as active

# _MIGRATIONS[i] upgrades the schema from user_version i to i + 1.
_MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            routine_id TEXT NOT NULL,
            routine_name TEXT NOT NULL,
            level TEXT NOT NULL,
            started_at TEXT NOT NULL,       -- UTC, ISO 8601, e.g. 2024-03-10T22:30:00+00:00
            local_date TEXT NOT NULL,       -- the user's calendar date at the start
            ended_at TEXT,                  -- UTC, ISO 8601; NULL while running
            status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'stopped')),
            segments_done INTEGER NOT NULL DEFAULT 0 CHECK (segments_done >= 0),
            segments_total INTEGER NOT NULL CHECK (segments_total >= 0),
            active_seconds REAL NOT NULL DEFAULT 0 CHECK (active_seconds >= 0)
        )""",
        "CREATE INDEX sessions_by_date ON sessions (local_date)",
        """CREATE TABLE exercise_times (
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            exercise_id TEXT NOT NULL,
            exercise_name TEXT NOT NULL,
            seconds REAL NOT NULL CHECK (seconds >= 0),
            sides INTEGER NOT NULL CHECK (sides >= 0),
            PRIMARY KEY (session_id, exercise_id)
        )""",
    ],
]
assert len(_MIGRATIONS) == SCHEMA_VERSION

# SQLite primary result codes meaning "this file is damaged or not a database".
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class HistoryError(StorageError):
    """A history operation failed; the message is written for the user."""


@dataclass(frozen=True)
class ExerciseTime:
    """Time spent on one exercise in a session; `sides` is how many sides were worked."""

    exercise_id: str
    exercise_name: str
    seconds: float
    sides: int


@dataclass(frozen=True)
class SessionRecord:
    """One session as read back; `status` is "interrupted" for a crashed session."""

    id: int
    routine_id: str
    routine_name: str
    level: str
    started_at: datetime  # aware, UTC
    local_date: date
    ended_at: datetime | None
    status: str
    segments_done: int
    segments_total: int
    active_seconds: float
    exercises: tuple[ExerciseTime, ...] = ()


@dataclass(frozen=True)
class Totals:
    """Lifetime numbers: all sessions, completed ones, and minutes actually exercised."""

    sessions: int
    completed: int
    minutes: float


def local_now() -> datetime:
    """The default clock: the current time, aware, in the local time zone."""
    return datetime.now().astimezone()


class History:
    """The session history database. Safe to share between threads (one lock per object)."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = local_now) -> None:
        self.path = Path(path)
        self.clock = clock
        self.problem: str | None = None
        self.backup: Path | None = None
        self.persistent = True
        self._lock = threading.RLock()
        self._live: set[int] = set()
        self._conn: sqlite3.Connection | None = None
        self._conn = self._open()

    # ------------------------------------------------------------ opening

    def _open(self) -> sqlite3.Connection:
        try:
            existed = self.path.stat().st_size > 0
        except OSError:
            existed = False
        try:
            return self._connect(self.path, check=existed)
        except sqlite3.DatabaseError as exc:
            if _is_corrupt(exc):
                return self._replace_corrupt(exc)
            return self._in_memory(f"History could not be opened ({_reason(exc)}) in "
                                   f"{self.path.parent}. {self._advice(exc)}")
        except _NewerSchemaError as exc:
            return self._in_memory(f"The history in {self.path} was written by a newer "
                                   f"BackCoach (schema {exc.version}; this one knows up to "
                                   f"{SCHEMA_VERSION}). It was left untouched; sessions of "
                                   f"this run will not be saved.")

    def _connect(self, target: Path | str, *, check: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if target != ":memory:":
                mode = _enable_wal(conn)
                if mode.lower() != "wal":
                    log.warning("history: journal mode is %s, not WAL", mode)
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if check:
                rows = [r[0] for r in conn.execute("PRAGMA integrity_check(100)")]
                if rows != ["ok"]:
                    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
                    raise sqlite3.DatabaseError(f"integrity check failed: {rows[0]}{more}")
            self._upgrade(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction (two instances may race)."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise _NewerSchemaError(version)
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise _NewerSchemaError(version)
            for step in _MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _replace_corrupt(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        log.error("history %s is damaged: %s", self.path, exc)
        try:
            self.backup = move_aside(self.path)
            _move_companions(self.path, self.backup)
        except StorageError as move_exc:
            return self._in_memory(f"The history file {self.path} is damaged ({_reason(exc)}) "
                                   f"and could not be moved aside ({move_exc}). Sessions of "
                                   f"this run will not be saved.")
        self.problem = (f"The history file {self.path} was damaged ({_reason(exc)}). It was "
                        f"moved to {self.backup} and a new, empty history was started.")
        try:
            return self._connect(self.path, check=False)
        except sqlite3.DatabaseError as again:
            return self._in_memory(self.problem + f" The new file could not be created either "
                                                  f"({_reason(again)}); sessions of this run "
                                                  f"will not be saved.")

    def _in_memory(self, problem: str) -> sqlite3.Connection:
        log.error("history falls back to memory: %s", problem)
        self.problem = problem
        self.persistent = False
        return self._connect(":memory:", check=False)

    def _advice(self, exc: BaseException) -> str:
        if "readonly" in str(exc) or "unable to open" in str(exc):
            return (f"Check that the folder {self.path.parent} is writable, or choose another "
                    f"folder with --home DIR or BACKCOACH_HOME. Sessions of this run will not "
                    f"be saved.")
        return "Sessions of this run will not be saved."

    # ------------------------------------------------------------ writing

    def start_session(self, routine_id: str, routine_name: str, level: str,
                      segments_total: int, *, now: datetime | None = None) -> int:
        """Record a new session as "running" at once; returns its id."""
        _check_count("segments_total", segments_total)
        start = _aware(now if now is not None else self.clock())
        with self._lock:
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO sessions (routine_id, routine_name, level, started_at,"
                    " local_date, status, segments_total) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (routine_id, routine_name, level, _utc_text(start),
                     start.date().isoformat(), RUNNING, segments_total))
                session_id = int(cur.lastrowid or 0)
            self._live.add(session_id)
        return session_id

    def update_progress(self, session_id: int, segments_done: int, active_seconds: float,
                        per_exercise: Iterable[ExerciseTime] = ()) -> None:
        """Store the progress so far of a running session.

        Numbers are totals, not increments, so a repeated call is harmless; exercises not
        listed keep what was stored for them. Each call is one fsync'd transaction: call it
        at segment boundaries, not on every display tick.
        """
        _check_count("segments_done", segments_done)
        _check_seconds("active_seconds", active_seconds)
        items = _checked_exercises(per_exercise)
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE sessions SET segments_done = ?, active_seconds = ?"
                " WHERE id = ? AND status = ?",
                (segments_done, float(active_seconds), session_id, RUNNING))
            if cur.rowcount != 1:
                raise ValueError(f"session {session_id} is not a running session")
            _store_exercises(conn, session_id, items)

    def finish_session(self, session_id: int, status: str, *, segments_done: int | None = None,
                       active_seconds: float | None = None,
                       per_exercise: Iterable[ExerciseTime] | None = None,
                       now: datetime | None = None) -> None:
        """Close a session as "completed" or "stopped", with its final numbers if given.

        A crashed ("interrupted") session may be finished too, e.g. by a recovery dialog.
        """
        if status not in FINISHED_STATUSES:
            raise ValueError(f"status must be one of {FINISHED_STATUSES}, not {status!r}")
        if segments_done is not None:
            _check_count("segments_done", segments_done)
        if active_seconds is not None:
            _check_seconds("active_seconds", active_seconds)
        items = _checked_exercises(per_exercise) if per_exercise is not None else None
        end = _aware(now if now is not None else self.clock())
        with self._lock:
            with self._write() as conn:
                cur = conn.execute(
                    "UPDATE sessions SET status = ?, ended_at = ?,"
                    " segments_done = COALESCE(?, segments_done),"
                    " active_seconds = COALESCE(?, active_seconds)"
                    " WHERE id = ? AND status = ?",
                    (status, _utc_text(end), segments_done,
                     None if active_seconds is None else float(active_seconds), session_id,
                     RUNNING))
                if cur.rowcount != 1:
                    raise ValueError(f"session {session_id} is not a running session")
                if items is not None:
                    _store_exercises(conn, session_id, items)
            self._live.discard(session_id)

    def delete_all(self) -> None:
        """Forget every session, and compact the file so the data is really gone."""
        with self._write() as conn:
            conn.execute("DELETE FROM exercise_times")
            conn.execute("DELETE FROM sessions")
        with self._lock:
            self._live.clear()
            try:  # best effort: another instance reading the file makes VACUUM fail
                self._db().execute("VACUUM")
                self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.info("history: could not compact after deleting: %s", exc)

    def export_csv(self, path: Path) -> None:
        """Write every session, oldest first, as CSV (atomically; raises StorageError)."""
        import csv  # only for an export: not worth its import at every start

        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["id", "started_at_utc", "date", "ended_at_utc", "routine_id",
                         "routine_name", "level", "status", "segments_done", "segments_total",
                         "active_minutes", "exercises"])
        for s in reversed(self.sessions()):
            writer.writerow([
                s.id, _utc_text(s.started_at), s.local_date.isoformat(),
                _utc_text(s.ended_at) if s.ended_at else "", s.routine_id, s.routine_name,
                s.level, s.status, s.segments_done, s.segments_total,
                f"{s.active_seconds / 60:.2f}",
                "; ".join(f"{e.exercise_name} {e.seconds:g}s x{e.sides}" for e in s.exercises),
            ])
        atomic_write_text(Path(path), buffer.getvalue())

    # ------------------------------------------------------------ reading

    def sessions(self, limit: int | None = None) -> list[SessionRecord]:
        """Sessions, newest first."""
        with self._lock, self._errors("read the history"):
            conn = self._db()
            rows = conn.execute(
                "SELECT id, routine_id, routine_name, level, started_at, local_date, ended_at,"
                " status, segments_done, segments_total, active_seconds FROM sessions"
                " ORDER BY started_at DESC, id DESC LIMIT ?",
                (-1 if limit is None else limit,)).fetchall()
            ids = [r[0] for r in rows]
            exercises: dict[int, list[ExerciseTime]] = {i: [] for i in ids}
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for sid, *fields in conn.execute(
                        "SELECT session_id, exercise_id, exercise_name, seconds, sides"
                        f" FROM exercise_times WHERE session_id IN ({marks})"
                        " ORDER BY session_id, rowid", chunk):
                    exercises[sid].append(ExerciseTime(*fields))
        return [SessionRecord(
            id=r[0], routine_id=r[1], routine_name=r[2], level=r[3],
            started_at=datetime.fromisoformat(r[4]), local_date=date.fromisoformat(r[5]),
            ended_at=datetime.fromisoformat(r[6]) if r[6] else None,
            status=self._shown_status(r[0], r[7]), segments_done=r[8], segments_total=r[9],
            active_seconds=r[10], exercises=tuple(exercises[r[0]])) for r in rows]

    def _shown_status(self, session_id: int, status: str) -> str:
        if status == RUNNING and session_id not in self._live:
            return INTERRUPTED
        return status

    def active_days(self) -> set[date]:
        """Local dates with at least one completed or stopped session."""
        marks = ",".join("?" * len(ACTIVE_STATUSES))
        with self._lock, self._errors("read the history"):
            rows = self._db().execute(
                f"SELECT DISTINCT local_date FROM sessions WHERE status IN ({marks})",
                ACTIVE_STATUSES).fetchall()
        return {date.fromisoformat(r[0]) for r in rows}

    def streak_days(self, today: date | None = None) -> int:
        """Consecutive active days ending today (or yesterday, if today is not done yet)."""
        return streak_days(self.active_days(), today or self.clock().date())

    def weeks_meeting_goal(self, goal_days: int, today: date | None = None) -> int:
        """Consecutive ISO weeks with at least `goal_days` active days (see the function)."""
        return weeks_meeting_goal(self.active_days(), goal_days, today or self.clock().date())

    def totals(self) -> Totals:
        """All sessions, completed ones, and minutes of active time (crashed ones included)."""
        with self._lock, self._errors("read the history"):
            count, completed, seconds = self._db().execute(
                "SELECT COUNT(*), COALESCE(SUM(status = ?), 0), COALESCE(SUM(active_seconds), 0)"
                " FROM sessions", (COMPLETED,)).fetchone()
        return Totals(sessions=count, completed=completed, minutes=seconds / 60)

    def minutes_per_week(self, weeks: int = 12,
                         today: date | None = None) -> list[tuple[date, float]]:
        """(Monday, minutes) for the last `weeks` ISO weeks, oldest first, current one last."""
        if weeks < 1:
            return []
        today = today or self.clock().date()
        first = monday_of(today) - timedelta(weeks=weeks - 1)
        with self._lock, self._errors("read the history"):
            rows = self._db().execute(
                "SELECT local_date, SUM(active_seconds) FROM sessions"
                " WHERE local_date >= ? AND local_date <= ? GROUP BY local_date",
                (first.isoformat(), today.isoformat())).fetchall()
        minutes = {first + timedelta(weeks=i): 0.0 for i in range(weeks)}
        for day, seconds in rows:
            minutes[monday_of(date.fromisoformat(day))] += seconds / 60
        return list(minutes.items())

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the database (checkpointing the WAL); safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError("the history is closed", path=self.path)
        return self._conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction, under this object's lock, with user-facing errors."""
        with self._lock, self._errors("save to the history"):
            conn = self._db()
            with _transaction(conn):
                yield conn

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(self._explain(action, exc), path=self.path) from exc

    def _explain(self, action: str, exc: sqlite3.Error) -> str:
        text = str(exc)
        if "full" in text:
            return (f"Could not {action}: the disk holding {self.path.parent} is full. "
                    f"Free some space and try again.")
        if "readonly" in text or "read-only" in text:
            return (f"Could not {action}: the folder {self.path.parent} is not writable. "
                    f"Check its permissions, or choose another folder with --home DIR.")
        if "locked" in text or "busy" in text:
            return (f"Could not {action}: another BackCoach kept the history busy for more "
                    f"than {BUSY_TIMEOUT_MS // 1000} s. Try again.")
        return f"Could not {action} in {self.path}: {text}."


class _NewerSchemaError(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _store_exercises(conn: sqlite3.Connection, session_id: int,
                     items: Sequence[ExerciseTime]) -> None:
    conn.executemany(
        "INSERT INTO exercise_times (session_id, exercise_id, exercise_name, seconds, sides)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, exercise_id) DO UPDATE SET"
        " exercise_name = excluded.exercise_name, seconds = excluded.seconds,"
        " sides = excluded.sides",
        [(session_id, e.exercise_id, e.exercise_name, float(e.seconds), e.sides)
         for e in items])


def _move_companions(db: Path, backup: Path) -> None:
    """Keep a damaged database's WAL with its backup: left behind, SQLite would replay it
    into the fresh file. The -shm index is rebuilt from the WAL, so it is simply removed."""
    for suffix in ("-wal", "-journal", "-shm"):
        companion = db.with_name(db.name + suffix)
        try:
            if suffix == "-shm":
                companion.unlink(missing_ok=True)
            elif companion.exists():
                os.replace(companion, backup.with_name(backup.name + suffix))
        except OSError as exc:
            raise storage_error("move aside", companion, exc, unchanged=False) from exc


def _enable_wal(conn: sqlite3.Connection) -> str:
    """Switch to WAL, retrying while another instance does the same.

    Changing the journal mode needs an exclusive lock, and SQLite does not call the busy
    handler for it when two connections race to convert a new file: it fails at once
    with "database is locked". So we retry here, for at most the busy timeout.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.001
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    return "locked" in str(exc) or "busy" in str(exc)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _CORRUPT_CODES:
        return True
    return "integrity check failed" in str(exc) or "malformed" in str(exc) \
        or "not a database" in str(exc)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _aware(moment: datetime) -> datetime:
    """A naive datetime is taken as local time."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")


def _check_seconds(name: str, value: float) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1e9:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")


def _checked_exercises(items: Iterable[ExerciseTime]) -> list[ExerciseTime]:
    checked = list(items)
    for e in checked:
        _check_seconds(f"seconds of {e.exercise_id}", e.seconds)
        _check_count(f"sides of {e.exercise_id}", e.sides)
    return checked


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---------------------------------------------------------------- pure calendar rules

def monday_of(day: date) -> date:
    """The Monday starting the ISO week of `day` (ISO weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


def streak_days(days: Iterable[date], today: date) -> int:
    """Consecutive active days ending today, or ending yesterday if today has none yet."""
    active = {d for d in days if d <= today}
    day = today if today in active else today - timedelta(days=1)
    count = 0
    while day in active:
        count += 1
        day -= timedelta(days=1)
    return count


def weeks_meeting_goal(days: Iterable[date], goal_days: int, today: date) -> int:
    """Consecutive ISO weeks with >= `goal_days` active days, ending with the current week
    if it already meets the goal, else with the last complete week."""
    if goal_days < 1:
        raise ValueError(f"goal_days must be at least 1, not {goal_days}")
    per_week: dict[date, int] = {}
    for d in set(days):
        if d <= today:
            per_week[monday_of(d)] = per_week.get(monday_of(d), 0) + 1
    week = monday_of(today)
    if per_week.get(week, 0) < goal_days:
        week -= timedelta(weeks=1)
    count = 0
    while per_week.get(week, 0) >= goal_days:
        count += 1
        week -= timedelta(weeks=1)
    return count
