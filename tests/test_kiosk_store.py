"""The kiosk's Qt-free storage: the staff PIN file, the kiosk configuration, the counts."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest
from tests.helpers.clock import FakeClock

from backcoach.store.kiosk_stats import KioskStats
from backcoach.store.staff import (
    LOCK_SECONDS,
    MAX_TRIES,
    SCRYPT_N,
    KioskConfig,
    StaffStore,
    hash_pin,
    load_kiosk_config,
    pin_problem,
    save_kiosk_config,
)

PIN = "90817263"


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def staff(tmp_path: Path, wall: FakeClock) -> StaffStore:
    store = StaffStore(tmp_path / "config", clock=wall)
    store.set_pin(PIN)
    return store


def test_pin_is_stored_as_a_salted_scrypt_hash(staff: StaffStore, tmp_path: Path) -> None:
    """The file holds scrypt parameters, a random salt and the hash; never the PIN."""
    raw = staff.path.read_bytes()
    assert PIN.encode() not in raw
    record = json.loads(raw)["scrypt"]
    assert record["n"] == SCRYPT_N and record["r"] == 8 and record["p"] == 1
    salt = base64.b64decode(record["salt"])
    assert len(salt) == 16
    assert base64.b64decode(record["hash"]) == hash_pin(PIN, salt)
    other = StaffStore(tmp_path / "other")
    other.set_pin(PIN)
    assert json.loads(other.path.read_bytes())["scrypt"]["salt"] != record["salt"]
    assert staff.path.stat().st_mode & 0o077 == 0


def test_right_and_wrong_pins(staff: StaffStore) -> None:
    """The right PIN passes; a wrong one fails and says how many tries are left."""
    assert staff.verify(PIN).ok
    check = staff.verify("1234")
    assert not check.ok and check.tries_left == MAX_TRIES - 1
    assert staff.verify(PIN).ok
    assert staff.tries_left() == MAX_TRIES  # a right PIN clears the count


def test_five_wrong_tries_lock_entry_for_a_minute_across_restarts(
        staff: StaffStore, tmp_path: Path, wall: FakeClock) -> None:
    """Five wrong tries lock entry for 60 s, even for a new process; then it opens again."""
    for _ in range(MAX_TRIES - 1):
        assert not staff.verify("0000").locked_for
    locked = staff.verify("0000")
    assert locked.locked_for == LOCK_SECONDS
    assert not staff.verify(PIN).ok  # the right PIN is refused while locked
    restarted = StaffStore(tmp_path / "config", clock=wall)
    wall.advance(30)
    assert restarted.locked_for() == pytest.approx(30)
    assert not restarted.verify(PIN).ok
    wall.advance(30)
    assert restarted.locked_for() == 0
    assert restarted.verify(PIN).ok


def test_a_clock_set_back_does_not_stretch_the_lock(staff: StaffStore, wall: FakeClock) -> None:
    """If the wall clock goes back an hour, the lock still lasts at most a minute."""
    for _ in range(MAX_TRIES):
        staff.verify("0000")
    wall.advance(-3600)
    assert staff.locked_for() == LOCK_SECONDS


def test_pin_rules() -> None:
    """4 to 12 digits, not all the same digit."""
    assert pin_problem("1234") is None
    assert pin_problem("123") and pin_problem("1" * 13) and pin_problem("12a4")
    assert pin_problem("1111") and pin_problem("１２３４")


def test_damaged_staff_file_is_moved_aside(tmp_path: Path) -> None:
    """A damaged PIN file is moved aside and reported; no PIN is then set."""
    store = StaffStore(tmp_path)
    store.path.write_text("{not json")
    assert not store.has_pin()
    assert store.problem and (tmp_path / "staff.json.bak").exists()


def test_kiosk_config_round_trip_and_bad_values(tmp_path: Path) -> None:
    """The configuration is saved and read back; a bad value falls back to its default."""
    config = KioskConfig(enabled=True, routines=("a", "b"), featured="b", volume_cap=0.5,
                         after_summary_seconds=60, paused_seconds=300)
    save_kiosk_config(tmp_path, config)
    assert load_kiosk_config(tmp_path) == (config, None)
    data = json.loads((tmp_path / "kiosk.json").read_text())
    data["volume_cap"] = 7
    data["paused_seconds"] = "long"
    (tmp_path / "kiosk.json").write_text(json.dumps(data))
    loaded, problem = load_kiosk_config(tmp_path)
    assert loaded.volume_cap == KioskConfig().volume_cap and loaded.routines == ("a", "b")
    assert "volume_cap" in problem and "paused_seconds" in problem
    (tmp_path / "kiosk.json").write_text("][")
    loaded, problem = load_kiosk_config(tmp_path)
    assert loaded == KioskConfig() and "moved" in problem


def test_anonymous_counts(tmp_path: Path) -> None:
    """Started and completed are counted per day and routine, and nothing else is kept."""
    today = date(2025, 3, 10)
    stats = KioskStats(tmp_path, today=lambda: today)
    stats.record_started("core")
    stats.record_started("core")
    stats.record_completed("core")
    stats.record_started("hips", day=date(2025, 3, 9))
    days = stats.recent_days(3)
    assert [(d.day.day, d.started, d.completed) for d in days] == [(10, 2, 1), (9, 1, 0), (8, 0, 0)]
    assert stats.per_routine(30) == {"core": (2, 1), "hips": (1, 0)}
    data = json.loads(stats.path.read_text())
    assert set(data) == {"version", "days"}
    assert data["days"]["2025-03-10"] == {"core": [2, 1]}
    stats.path.write_text('{"days": 3}')
    assert stats.recent_days(1)[0].started == 0 and stats.problem


def test_autostart_entry_validates_and_starts_the_kiosk() -> None:
    """The autostart entry validates and its Exec line parses into a kiosk start."""
    import shlex
    import shutil
    import subprocess

    from backcoach.cli import build_parser

    entry = Path(__file__).parent.parent / "packaging" / "linux" / \
        "backcoach-kiosk-autostart.desktop"
    text = entry.read_text()
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    argv = shlex.split(exec_line.removeprefix("Exec="))
    assert argv[0] == "backcoach"
    args = build_parser().parse_args(argv[1:])
    assert args.kiosk is True and args.func.__name__ == "cmd_open"
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    result = subprocess.run([tool, str(entry)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
