"""The app keeps running and says what happened when its files are broken or unwritable."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

from tests.helpers.app import build_test_app

from backcoach.catalog.model import Level
from backcoach.store import atomic
from backcoach.store.history import History


def _build(qtbot, home: Path):
    return build_test_app(qtbot, home)


def _play(parts, seconds: float) -> None:
    while seconds > 0 and parts.window.driver is not None:
        parts.clock.advance(1)
        parts.window.driver.tick()
        seconds -= 1


def test_corrupt_settings_file_is_moved_aside_and_reported(qtbot, home: Path) -> None:
    """A settings file that is not JSON: the app starts, the file becomes .bak, the banner says so."""
    settings = home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{ this is not json", encoding="utf-8")
    parts = _build(qtbot, home)
    assert (home / "config" / "settings.json.bak").read_text() == "{ this is not json"
    assert parts.window.banner.isVisibleTo(parts.window)
    assert "settings.json.bak" in parts.window.banner.label.text()
    parts.close()


def test_corrupt_database_is_moved_aside_and_reported(qtbot, home: Path) -> None:
    """A history file that is not a database: moved aside, a fresh one used, the user told."""
    db = home / "data" / "history.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"definitely not sqlite" * 100)
    parts = _build(qtbot, home)
    assert (home / "data" / "history.sqlite3.bak").exists()
    assert "damaged" in parts.window.banner.label.text()
    parts.window.start_routine("lower-back-for-runners", Level.BEGINNER)
    _play(parts, 10_000)
    assert [s.status for s in parts.history.sessions()] == ["completed"]
    parts.close()


def test_full_disk_keeps_the_session_going(qtbot, home: Path, monkeypatch) -> None:
    """With the disk full, saving settings and history fails with a clear message; the session goes on."""
    parts = _build(qtbot, home)
    window = parts.window

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    monkeypatch.setattr(History, "start_session", lambda *a, **k: full())
    window.start_routine("lower-back-for-runners", Level.BEGINNER)  # saves last_routine: fails
    text = window.banner.label.text()
    assert "full" in text.lower() and "could not be saved" in text
    _play(parts, 30)
    assert window.driver is not None and window.driver.engine.position() == 30
    assert window.settings_store.settings.last_routine == "lower-back-for-runners"  # kept in memory
    parts.close()


def test_read_only_data_folder(qtbot, home: Path, monkeypatch) -> None:
    """A data folder that cannot be written: history runs in memory, the banner names the folder."""
    (home / "data").mkdir(parents=True)
    real_connect = __import__("sqlite3").connect

    def refuse(target, *args, **kwargs):
        if str(target) != ":memory:":
            raise __import__("sqlite3").OperationalError("unable to open database file")
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr("backcoach.store.history.sqlite3.connect", refuse)
    parts = _build(qtbot, home)
    assert parts.history is not None and not parts.history.persistent
    assert str(home / "data") in parts.window.banner.label.text()
    parts.window.start_routine("lower-back-for-runners", Level.BEGINNER)
    _play(parts, 20)
    assert parts.window.driver.engine.position() == 20
    parts.close()


def test_two_instances_on_one_home_lose_nothing(qtbot, home: Path) -> None:
    """Two app instances writing one history (e.g. two profiles' windows): both sessions kept."""
    first, second = _build(qtbot, home), _build(qtbot, home)
    for parts in (first, second):
        parts.window.start_routine("lower-back-for-runners", Level.BEGINNER)
    _play(first, 10_000)
    _play(second, 10_000)
    with History(home / "data" / "history.sqlite3") as history:
        assert [s.status for s in history.sessions()] == ["completed", "completed"]
    json.loads((home / "config" / "settings.json").read_text())
    first.close()
    second.close()
    assert os.access(home / "data" / "history.sqlite3", os.R_OK)
