"""Kill the real app with SIGKILL at random moments and check that nothing is lost or damaged.

Not a pytest module (it takes minutes): run it by hand or in a nightly job,

    QT_QPA_PLATFORM=offscreen python tests/kill_test.py --runs 50

Each run starts a new `python -m backcoach --home H start kill-test` process on the same
home folder. The routine is a tiny user routine written into H/data/routines/ (one
built-in exercise with 1 s holds), so a session completes in about seven seconds. While
the app runs, the script polls the history database (read-only) and remembers every
completed session it saw; then it kills the process with SIGKILL at a random moment:
before a session starts, during one, or after it has completed. After every kill:

- the database passes `PRAGMA integrity_check`;
- the number of completed sessions never decreases, and every completed session seen
  before any kill is still there, still completed;
- the settings file parses as JSON and holds valid settings.

It prints a summary and exits with status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROUTINE_ID = "kill-test"
ROUTINE_TOML = f"""\
id = "{ROUTINE_ID}"
name = "Kill test"
description = "A tiny routine for tests/kill_test.py: one 1-second hold on each side."
get_ready = 3

[rest_between]
beginner = 0
intermediate = 0
advanced = 0

[[items]]
exercise = "knee-to-chest"
[items.beginner]
hold = 1
reps = 1
"""
SESSION_SECONDS = 3 + 1 + 2 + 1  # get ready, left hold, switch gap, right hold
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Snapshot:
    """What the database held at one moment: id -> status, for every session."""

    statuses: dict[int, str]

    @property
    def completed(self) -> set[int]:
        return {sid for sid, status in self.statuses.items() if status == "completed"}


@dataclass
class Ledger:
    """Everything observed so far, across runs, and the checks' verdicts."""

    seen_completed: set[int] = field(default_factory=set)
    completed_count: int = 0
    kills: Counter = field(default_factory=Counter)
    checks_passed: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        """Count a passed check, or remember a failed one."""
        if ok:
            self.checks_passed += 1
        else:
            self.failures.append(what)


def prepare_home(home: Path) -> None:
    """Write the tiny routine and settings that skip the safety notice and the voice."""
    from backcoach.store.settings import Settings, VoiceSettings, save_settings

    routines = home / "data" / "routines"
    routines.mkdir(parents=True, exist_ok=True)
    (routines / f"{ROUTINE_ID}.toml").write_text(ROUTINE_TOML, encoding="utf-8")
    settings = home / "config" / "settings.json"
    if not settings.exists():
        save_settings(settings, Settings(first_run_notice_seen=True, get_ready_seconds=3,
                                         switch_gap_seconds=2,
                                         voice=VoiceSettings(enabled=False)))


def snapshot(db: Path) -> Snapshot | None:
    """The sessions as a reader sees them now (None if there is no database yet)."""
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return None
    try:
        rows = conn.execute("SELECT id, status FROM sessions").fetchall()
    except sqlite3.OperationalError as exc:  # schema not created yet, or briefly locked
        if "no such table" in str(exc) or "locked" in str(exc) or "busy" in str(exc):
            return None
        raise
    finally:
        conn.close()
    return Snapshot({int(sid): str(status) for sid, status in rows})


def integrity(db: Path) -> list[str]:
    """`PRAGMA integrity_check` as a reader opening the file after the crash."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def settings_problem(path: Path) -> str | None:
    """Why the settings file is not valid JSON settings, or None if it is."""
    from backcoach.store.settings import SettingsFormatError, settings_from_dict

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{path} is missing"
    except (UnicodeDecodeError, ValueError) as exc:
        return f"{path} is not valid JSON: {exc}"
    fixes: list[str] = []
    try:
        settings_from_dict(data, problems=fixes)
    except SettingsFormatError as exc:
        return f"{path} is not settings: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        return f"{path} has no version"
    return "; ".join(fixes) or None


def classify(before: Snapshot | None, last: Snapshot | None) -> str:
    """When the kill fell: before this run's session began, during it, or after it ended."""
    old = set(before.statuses) if before else set()
    mine = {sid: st for sid, st in (last.statuses if last else {}).items() if sid not in old}
    if not mine:
        return "before a session"
    if any(st == "running" for st in mine.values()):
        return "during a session"
    return "after a session"


def verify(ledger: Ledger, db: Path, settings: Path, run: int) -> None:
    """The checks made after every kill."""
    rows = integrity(db) if db.exists() else ["ok"]
    ledger.check(rows == ["ok"], f"run {run}: integrity_check says {rows[:3]}")
    now = snapshot(db) or Snapshot({})
    count = len(now.completed)
    ledger.check(count >= ledger.completed_count,
                 f"run {run}: completed sessions went from {ledger.completed_count} to {count}")
    lost = ledger.seen_completed - now.completed
    ledger.check(not lost, f"run {run}: completed sessions lost after the kill: {sorted(lost)}")
    ledger.completed_count = max(ledger.completed_count, count)
    ledger.seen_completed |= now.completed
    problem = settings_problem(settings)
    ledger.check(problem is None, f"run {run}: settings file: {problem}")


def one_run(run: int, home: Path, ledger: Ledger, rng: random.Random, python: str,
            max_wait: float, log_dir: Path) -> None:
    """Start the app, watch the database, kill it at a random moment, check."""
    db = home / "data" / "history.sqlite3"
    settings = home / "config" / "settings.json"
    before = snapshot(db)
    delay = rng.uniform(0.05, max_wait)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    log = (log_dir / f"run-{run:03d}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen([python, "-m", "backcoach", "--home", str(home), "start",
                             ROUTINE_ID, "--level", "beginner"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    last = before
    try:
        while time.monotonic() - started < delay:
            if proc.poll() is not None:
                ledger.check(False, f"run {run}: the app exited by itself with status "
                                    f"{proc.returncode} (see {log.name})")
                break
            seen = snapshot(db)
            if seen is not None:
                last = seen
                ledger.seen_completed |= seen.completed
            time.sleep(min(POLL_SECONDS, max(0.0, delay - (time.monotonic() - started))))
        else:
            seen = snapshot(db)  # the latest view, right before the kill
            if seen is not None:
                last = seen
                ledger.seen_completed |= seen.completed
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    when = classify(before, last)
    ledger.kills[when] += 1
    verify(ledger, db, settings, run)
    print(f"run {run:3d}: killed after {delay:5.2f} s, {when:<17} "
          f"completed so far {ledger.completed_count:3d}", flush=True)


def summary(ledger: Ledger, runs: int, home: Path) -> str:
    """The closing report."""
    lines = [
        f"runs: {runs}",
        "kills: " + ", ".join(f"{n} {when}" for when, n in sorted(ledger.kills.items())),
        f"completed sessions in the history: {ledger.completed_count}",
        f"checks passed: {ledger.checks_passed} of {ledger.checks_passed + len(ledger.failures)}",
        f"home: {home}",
    ]
    lines += [f"FAILED: {f}" for f in ledger.failures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the kills and report; exit status 1 if any check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--home", type=Path, default=None,
                        help="home folder to use (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-wait", type=float, default=SESSION_SECONDS + 4.0,
                        help="latest kill, in seconds after the start (default: %(default)s)")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    home = args.home or Path(tempfile.mkdtemp(prefix="backcoach-kill-"))
    prepare_home(home)
    log_dir = home / "kill-logs"
    log_dir.mkdir(exist_ok=True)
    print(f"kill test: {args.runs} runs, seed {seed}, home {home}", flush=True)
    ledger = Ledger()
    for run in range(1, args.runs + 1):
        one_run(run, home, ledger, rng, args.python, args.max_wait, log_dir)
    print(summary(ledger, args.runs, home))
    return 1 if ledger.failures else 0


if __name__ == "__main__":
    sys.exit(main())
