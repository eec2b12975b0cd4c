"""History keeps every session safely, shares the file between instances, counts streaks."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import backcoach
from backcoach.store.history import (
    SCHEMA_VERSION,
    ExerciseTime,
    History,
    HistoryError,
    monday_of,
    streak_days,
    weeks_meeting_goal,
)

TZ = timezone(timedelta(hours=2))
CAT_COW = ExerciseTime("cat-cow", "Cat-cow", 60.0, 1)
BIRD_DOG = ExerciseTime("bird-dog", "Bird dog", 90.0, 2)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def history(db: Path):
    db.parent.mkdir(parents=True, exist_ok=True)
    with History(db, clock=lambda: datetime(2024, 5, 15, 18, 0, tzinfo=TZ)) as h:
        yield h


def _record(h: History, day: date, status: str = "completed", minutes: float = 10,
            routine: str = "morning") -> int:
    start = datetime(day.year, day.month, day.day, 18, 0, tzinfo=TZ)
    sid = h.start_session(routine, routine.title(), "beginner", 8, now=start)
    h.finish_session(sid, status, segments_done=8 if status == "completed" else 3,
                     active_seconds=minutes * 60, now=start + timedelta(minutes=minutes))
    return sid


def _integrity(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    conn.close()
    return rows


# ---------------------------------------------------------------- recording

def test_round_trip_of_a_session(history: History) -> None:
    """A session's fields and per-exercise times come back exactly as written."""
    start = datetime(2024, 3, 10, 7, 30, tzinfo=TZ)
    sid = history.start_session("morning", "Morning back", "intermediate", 12, now=start)
    history.update_progress(sid, 4, 150.0, [CAT_COW])
    history.finish_session(sid, "completed", segments_done=12, active_seconds=600.5,
                           per_exercise=[CAT_COW, BIRD_DOG], now=start + timedelta(minutes=11))
    [s] = history.sessions()
    assert (s.id, s.routine_id, s.routine_name, s.level) == (
        sid, "morning", "Morning back", "intermediate")
    assert s.started_at == start and s.started_at.tzinfo == UTC
    assert s.ended_at == start + timedelta(minutes=11)
    assert s.local_date == date(2024, 3, 10)
    assert (s.status, s.segments_done, s.segments_total, s.active_seconds) == (
        "completed", 12, 12, 600.5)
    assert s.exercises == (CAT_COW, BIRD_DOG)


def test_progress_stores_totals_not_increments(history: History) -> None:
    """update_progress replaces the numbers so far; exercises not mentioned keep theirs."""
    sid = history.start_session("r", "R", "beginner", 10)
    history.update_progress(sid, 2, 50, [CAT_COW, BIRD_DOG])
    history.update_progress(sid, 3, 80, [ExerciseTime("cat-cow", "Cat-cow", 75.0, 2)])
    [s] = history.sessions()
    assert (s.segments_done, s.active_seconds, s.status) == (3, 80, "running")
    assert s.exercises == (ExerciseTime("cat-cow", "Cat-cow", 75.0, 2), BIRD_DOG)


def test_start_is_on_disk_before_the_session_ends(history: History, db: Path) -> None:
    """A started session is visible to another instance at once (crash leaves a record)."""
    sid = history.start_session("r", "R", "beginner", 10)
    history.update_progress(sid, 5, 300, [CAT_COW])
    with History(db) as other:
        [s] = other.sessions()
    assert (s.id, s.segments_done, s.active_seconds, s.exercises) == (sid, 5, 300, (CAT_COW,))
    assert s.status == "interrupted"  # not running in *that* instance
    assert history.sessions()[0].status == "running"  # but live in ours


def test_crashed_session_reads_as_interrupted_and_can_be_closed(db: Path) -> None:
    """A session left "running" by a crash shows as interrupted after reopening."""
    db.parent.mkdir(parents=True)
    crashed = History(db)
    sid = crashed.start_session("r", "R", "beginner", 10, now=datetime(2024, 1, 5, tzinfo=TZ))
    crashed.update_progress(sid, 6, 420, [CAT_COW])
    crashed.close()  # the process dies here; nothing else is written
    with History(db) as h:
        [s] = h.sessions()
        assert (s.status, s.segments_done, s.active_seconds) == ("interrupted", 6, 420)
        assert h.active_days() == set()
        assert h.totals().minutes == 7
        h.finish_session(sid, "stopped")  # e.g. a recovery dialog
        assert h.sessions()[0].status == "stopped"


def test_bad_calls_are_refused(history: History) -> None:
    """Unknown statuses, unknown or finished sessions and negative numbers raise ValueError."""
    sid = _record(history, date(2024, 1, 1))
    with pytest.raises(ValueError, match="status"):
        history.finish_session(sid, "running")
    with pytest.raises(ValueError, match="not a running session"):
        history.finish_session(sid, "completed")
    with pytest.raises(ValueError, match="not a running session"):
        history.update_progress(sid, 1, 1)
    with pytest.raises(ValueError, match="not a running session"):
        history.update_progress(999, 1, 1)
    live = history.start_session("r", "R", "beginner", 3)
    with pytest.raises(ValueError, match="active_seconds"):
        history.update_progress(live, 1, -5)
    with pytest.raises(ValueError, match="segments_total"):
        history.start_session("r", "R", "beginner", -1)
    with pytest.raises(ValueError, match="sides"):
        history.update_progress(live, 1, 1, [ExerciseTime("x", "X", 1, -1)])


def test_sessions_are_newest_first_and_limited(history: History) -> None:
    """sessions() lists the newest first; limit keeps the most recent ones."""
    ids = [_record(history, date(2024, 1, d)) for d in (3, 1, 2)]
    assert [s.id for s in history.sessions()] == [ids[0], ids[2], ids[1]]
    assert [s.id for s in history.sessions(limit=2)] == [ids[0], ids[2]]


def test_local_date_is_the_users_date_not_utc(history: History) -> None:
    """Half past midnight on 1 January (UTC+2) counts for 1 January although UTC says 31 Dec."""
    start = datetime(2024, 1, 1, 0, 30, tzinfo=TZ)
    sid = history.start_session("r", "R", "beginner", 1, now=start)
    history.finish_session(sid, "completed", now=start + timedelta(minutes=5))
    assert history.sessions()[0].started_at.date() == date(2023, 12, 31)
    assert history.active_days() == {date(2024, 1, 1)}


def test_injected_clock_supplies_now_and_today(db: Path) -> None:
    """Without explicit dates, the injected clock decides both timestamps and "today"."""
    db.parent.mkdir(parents=True)
    now = [datetime(2023, 12, 31, 21, 0, tzinfo=TZ)]
    with History(db, clock=lambda: now[0]) as h:
        h.finish_session(h.start_session("r", "R", "beginner", 1), "completed")
        now[0] = datetime(2024, 1, 1, 9, 0, tzinfo=TZ)
        h.finish_session(h.start_session("r", "R", "beginner", 1), "completed")
        assert h.streak_days() == 2
        assert [s.local_date for s in h.sessions()] == [date(2024, 1, 1), date(2023, 12, 31)]


# ---------------------------------------------------------------- streaks and goals

def test_streak_across_a_year_boundary(history: History) -> None:
    """30 Dec to 2 Jan is a 4-day streak, still shown the next day, gone the day after."""
    for day in (date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1), date(2024, 1, 2)):
        _record(history, day)
    _record(history, date(2023, 12, 28))  # a gap on the 29th breaks the run
    assert history.streak_days(date(2024, 1, 2)) == 4
    assert history.streak_days(date(2024, 1, 3)) == 4  # today not done yet: still alive
    assert history.streak_days(date(2024, 1, 4)) == 0
    assert history.streak_days(date(2023, 12, 31)) == 2  # later sessions do not count


def test_streak_across_a_leap_day(history: History) -> None:
    """28 Feb, 29 Feb and 1 Mar 2024 are three consecutive days."""
    for day in (date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)):
        _record(history, day)
    assert history.streak_days(date(2024, 3, 1)) == 3


def test_only_completed_and_stopped_sessions_make_a_day_active(history: History) -> None:
    """A stopped session counts as activity; a crashed or still-running one does not."""
    _record(history, date(2024, 4, 1), status="stopped")
    _record(history, date(2024, 4, 2))
    history.start_session("r", "R", "beginner", 5, now=datetime(2024, 4, 3, 8, tzinfo=TZ))
    assert history.active_days() == {date(2024, 4, 1), date(2024, 4, 2)}


def test_weekly_goal_across_iso_week_53(history: History) -> None:
    """ISO week 2020-W53 spans New Year; weeks are counted Monday to Sunday, not by year."""
    for day in (21, 23, 25):                        # 2020-W52
        _record(history, date(2020, 12, day))
    for day in (date(2020, 12, 30), date(2021, 1, 1), date(2021, 1, 3)):   # 2020-W53
        _record(history, day)
    for day in (4, 5, 6):                           # 2021-W01
        _record(history, date(2021, 1, day))
    assert date(2021, 1, 3).isocalendar()[:2] == (2020, 53)
    today = date(2021, 1, 12)                       # 2021-W02, nothing done yet
    assert history.weeks_meeting_goal(3, today) == 3
    assert history.weeks_meeting_goal(4, today) == 0
    _record(history, date(2021, 1, 11))
    _record(history, date(2021, 1, 12))
    assert history.weeks_meeting_goal(2, today) == 4   # the current week already counts
    assert history.weeks_meeting_goal(3, today) == 3   # not yet: the last complete one ends it


def test_weekly_goal_across_a_month_boundary(history: History) -> None:
    """A week from Mon 29 Jan to Sun 4 Feb 2024 counts its days in both months."""
    for day in (date(2024, 1, 29), date(2024, 2, 3), date(2024, 2, 4)):
        _record(history, day)
    assert history.weeks_meeting_goal(3, date(2024, 2, 5)) == 1
    assert history.weeks_meeting_goal(3, date(2024, 2, 4)) == 1


def test_weekly_goal_rejects_a_zero_goal() -> None:
    """A goal of zero days would make every week count: refused."""
    with pytest.raises(ValueError):
        weeks_meeting_goal([], 0, date(2024, 1, 1))


dates = st.dates(min_value=date(1999, 1, 1), max_value=date(2031, 12, 31))


@given(start=dates, length=st.integers(1, 60), before=st.sets(st.integers(2, 90)),
       late=st.integers(0, 2))
@example(start=date(2023, 12, 30), length=4, before=set(), late=1)
@example(start=date(2024, 2, 27), length=3, before={2}, late=0)
def test_streak_counts_the_final_run_of_days(start: date, length: int, before: set[int],
                                              late: int) -> None:
    """A run of N days ending today or yesterday is a streak of N; two days late it is 0."""
    run = [start + timedelta(days=i) for i in range(length)]
    earlier = [start - timedelta(days=n) for n in before]  # never the day just before
    today = run[-1] + timedelta(days=late)
    expected = length if late < 2 else 0
    assert streak_days(run + earlier, today) == expected


def _weeks_oracle(days: set[date], goal: int, today: date) -> int:
    """The same rule written with isocalendar() (year, week) pairs instead of Mondays."""
    per_week = Counter(d.isocalendar()[:2] for d in days if d <= today)

    def previous(week: tuple[int, int]) -> tuple[int, int]:
        return (date.fromisocalendar(week[0], week[1], 1) - timedelta(days=7)).isocalendar()[:2]

    week = today.isocalendar()[:2]
    if per_week[week] < goal:
        week = previous(week)
    count = 0
    while per_week[week] >= goal:
        count += 1
        week = previous(week)
    return count


@given(today=dates, offsets=st.sets(st.integers(-3, 150), max_size=120),
       goal=st.integers(1, 7))
@example(today=date(2021, 1, 12), offsets={1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20},
         goal=3)
def test_weeks_meeting_goal_matches_an_isocalendar_oracle(today: date, offsets: set[int],
                                                          goal: int) -> None:
    """Counting weeks by Monday agrees with counting ISO (year, week) pairs, any dates."""
    days = {today - timedelta(days=n) for n in offsets}
    assert weeks_meeting_goal(days, goal, today) == _weeks_oracle(days, goal, today)


@given(day=dates)
def test_monday_of_is_the_iso_week_start(day: date) -> None:
    """monday_of gives the Monday of the same ISO week."""
    monday = monday_of(day)
    assert monday.isocalendar()[:2] == day.isocalendar()[:2]
    assert monday.isoweekday() == 1


# ---------------------------------------------------------------- totals and charts

def test_totals(history: History) -> None:
    """Totals count all sessions, the completed ones, and every minute actually exercised."""
    _record(history, date(2024, 1, 1), minutes=10)
    _record(history, date(2024, 1, 2), status="stopped", minutes=4)
    sid = history.start_session("r", "R", "beginner", 5)
    history.update_progress(sid, 1, 90)
    t = history.totals()
    assert (t.sessions, t.completed, t.minutes) == (3, 1, 15.5)


def test_totals_of_an_empty_history(history: History) -> None:
    """A new history has zero everything, not None."""
    t = history.totals()
    assert (t.sessions, t.completed, t.minutes) == (0, 0, 0)


def test_minutes_per_week_buckets_by_iso_week(history: History) -> None:
    """Minutes land in the ISO week of their local date, with empty weeks as zero."""
    _record(history, date(2020, 12, 13), minutes=99)   # before the window
    _record(history, date(2020, 12, 22), minutes=10)
    _record(history, date(2021, 1, 3), minutes=5)      # Sunday of 2020-W53
    _record(history, date(2021, 1, 4), minutes=7)      # Monday of 2021-W01
    _record(history, date(2021, 1, 7), minutes=50)     # after "today"
    weeks = history.minutes_per_week(4, today=date(2021, 1, 6))
    assert weeks == [(date(2020, 12, 14), 0.0), (date(2020, 12, 21), 10.0),
                     (date(2020, 12, 28), 5.0), (date(2021, 1, 4), 7.0)]
    assert len(history.minutes_per_week(today=date(2021, 1, 6))) == 12


# ---------------------------------------------------------------- export and delete

def test_export_csv_content(history: History, tmp_path: Path) -> None:
    """The CSV has a header and one row per session, oldest first, with quoting intact."""
    start = datetime(2024, 2, 1, 7, 0, tzinfo=TZ)
    first = history.start_session("hips", 'Hips, "deep" élan', "advanced", 6, now=start)
    history.finish_session(first, "completed", segments_done=6, active_seconds=450,
                           per_exercise=[CAT_COW, BIRD_DOG], now=start + timedelta(minutes=8))
    second = history.start_session("r", "R", "beginner", 4,
                                   now=datetime(2024, 2, 2, 7, 0, tzinfo=TZ))
    out = tmp_path / "export.csv"
    history.export_csv(out)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [str(first), str(second)]
    assert rows[0] == {
        "id": str(first), "started_at_utc": "2024-02-01T05:00:00+00:00", "date": "2024-02-01",
        "ended_at_utc": "2024-02-01T05:08:00+00:00", "routine_id": "hips",
        "routine_name": 'Hips, "deep" élan', "level": "advanced", "status": "completed",
        "segments_done": "6", "segments_total": "6", "active_minutes": "7.50",
        "exercises": "Cat-cow 60s x1; Bird dog 90s x2"}
    assert rows[1]["status"] == "running" and rows[1]["ended_at_utc"] == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "export.csv"]


def test_export_to_a_missing_folder_raises_storage_error(history: History,
                                                         tmp_path: Path) -> None:
    """Exporting where the folder does not exist is a readable error, not a traceback."""
    with pytest.raises(OSError, match="does not exist"):
        history.export_csv(tmp_path / "nowhere" / "x.csv")


def test_delete_all(history: History, db: Path) -> None:
    """delete_all forgets every session and the history keeps working afterwards."""
    for day in range(1, 4):
        _record(history, date(2024, 6, day))
    history.delete_all()
    assert history.sessions() == [] and history.active_days() == set()
    _record(history, date(2024, 6, 9))
    assert len(history.sessions()) == 1
    assert _integrity(db) == ["ok"]


# ---------------------------------------------------------------- the file itself

def test_new_file_is_wal_with_a_schema_version(history: History, db: Path) -> None:
    """A new database uses WAL and records its schema version in user_version."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert history.problem is None and history.persistent


def test_garbage_file_is_moved_aside(db: Path) -> None:
    """A file that is not a database goes to .bak, a fresh history starts, the user is told."""
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite at all" * 200)
    db.with_name(db.name + "-wal").write_bytes(b"stale wal")
    with History(db) as h:
        assert h.backup == db.with_name("history.sqlite3.bak")
        assert h.backup.read_bytes() == b"this is not sqlite at all" * 200
        wal = db.with_name(db.name + "-wal")  # the stale WAL must not reach the new file
        assert not wal.exists() or wal.read_bytes() != b"stale wal"
        assert h.problem is not None
        assert "damaged" in h.problem and str(h.backup) in h.problem
        assert h.persistent and h.sessions() == []
        _record(h, date(2024, 1, 1))
    assert _integrity(db) == ["ok"]


def test_failed_integrity_check_is_moved_aside(db: Path) -> None:
    """A database that opens but fails integrity_check is replaced too, never overwritten."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        for day in range(1, 6):
            _record(h, date(2024, 1, day))
    with sqlite3.connect(db) as conn:  # point the index at the wrong column: rows go missing
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX sessions_by_date ON "
                     "sessions (routine_id)' WHERE name = 'sessions_by_date'")
    conn.close()
    db.with_name("history.sqlite3.bak").write_text("an older backup")
    with History(db) as h:
        assert "integrity check failed" in (h.problem or "")
        assert h.backup == db.with_name("history.sqlite3.bak.1")
        assert h.sessions() == []
    assert db.with_name("history.sqlite3.bak").read_text() == "an older backup"


def test_damaged_page_is_moved_aside(db: Path) -> None:
    """Overwritten bytes inside a table page are detected at open."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        for day in range(1, 29):
            _record(h, date(2024, 2, day), routine="r" * 80)
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page:2 * page + 400] = b"\xab" * 400
    db.write_bytes(bytes(data))
    with History(db) as h:
        assert h.backup is not None and "damaged" in (h.problem or "")
        assert h.sessions() == []


def test_newer_schema_is_left_untouched(db: Path) -> None:
    """A file from a newer BackCoach is not modified; this run keeps history in memory."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        _record(h, date(2024, 1, 1))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with History(db) as h:
        assert "newer BackCoach" in (h.problem or "")
        assert not h.persistent and h.backup is None
        _record(h, date(2024, 1, 2))
        assert len(h.sessions()) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    conn.close()


def test_unopenable_location_falls_back_to_memory(tmp_path: Path) -> None:
    """If no database can be created there, history works in memory and says why."""
    (tmp_path / "a-file").write_text("not a folder")
    with History(tmp_path / "a-file" / "history.sqlite3") as h:
        assert not h.persistent
        assert str(tmp_path / "a-file") in (h.problem or "")
        _record(h, date(2024, 1, 1))
        assert h.totals().sessions == 1


def test_full_disk_is_reported_and_earlier_rows_survive(history: History, db: Path) -> None:
    """When SQLite runs out of room the error says to free space; committed rows stay."""
    _record(history, date(2024, 1, 1))
    conn = history._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # this connection's "disk" is now full
    with pytest.raises(HistoryError, match="Free some space"):
        for _ in range(1000):
            history.start_session("r" * 500, "R" * 500, "beginner", 1)
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert all(s.routine_id == "morning" or len(s.routine_id) == 500
               for s in history.sessions())
    assert _integrity(db) == ["ok"]


def test_closed_history_raises_a_clear_error(db: Path) -> None:
    """Using a closed History raises HistoryError; closing twice is fine."""
    db.parent.mkdir(parents=True)
    h = History(db)
    h.close()
    h.close()
    with pytest.raises(HistoryError, match="closed"):
        h.sessions()


# ---------------------------------------------------------------- two instances, crashes

def test_two_instances_write_concurrently_without_losing_rows(db: Path) -> None:
    """Two History objects on one file, in two threads, both write every row safely."""
    db.parent.mkdir(parents=True)
    per_thread = 40
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            barrier.wait()
            with History(db) as h:  # both create the schema at the same moment, too
                for n in range(per_thread):
                    sid = h.start_session(name, name.title(), "beginner", 2)
                    h.update_progress(sid, 1, 10.0, [ExerciseTime(f"{name}-{n}", "Ex", 10, 1)])
                    h.finish_session(sid, "completed", segments_done=2, active_seconds=20.0)
                    h.sessions(limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with History(db) as h:
        sessions = h.sessions()
    assert Counter(s.routine_id for s in sessions) == {"left": per_thread, "right": per_thread}
    assert all(s.status == "completed" and len(s.exercises) == 1 for s in sessions)
    assert len({s.id for s in sessions}) == 2 * per_thread
    assert _integrity(db) == ["ok"]


def test_one_history_shared_by_threads(history: History) -> None:
    """One History object may be used from several threads (its lock serialises them)."""
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(15):
                sid = history.start_session("r", "R", "beginner", 1)
                history.finish_session(sid, "completed")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and history.totals().completed == 45


CHILD = """
import sys
from backcoach.store.history import ExerciseTime, History
h = History(sys.argv[1])
while True:
    sid = h.start_session("r", "R", "beginner", 3)
    h.update_progress(sid, 1, 1.0, [ExerciseTime("e", "E", 1.0, 1)])
    h.finish_session(sid, "completed", segments_done=3, active_seconds=3.0)
    print(sid, flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_write_leaves_a_sound_file_with_every_finished_session(db: Path) -> None:
    """Killing a writer at an arbitrary moment keeps integrity and every finished session."""
    db.parent.mkdir(parents=True)
    src = str(Path(backcoach.__file__).parent.parent)
    with subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE,
                          text=True, env={"PYTHONPATH": src}) as proc:
        assert proc.stdout is not None
        finished = [int(proc.stdout.readline()) for _ in range(25)]
        proc.kill()  # most likely inside one of the three transactions
        finished += [int(line) for line in proc.stdout.read().split()]
        proc.wait()
    assert _integrity(db) == ["ok"]
    with History(db) as h:
        assert h.problem is None
        done = {s.id for s in h.sessions() if s.status == "completed"}
    assert set(finished) <= done
