"""The parsed-catalogue cache: served only while files are unchanged, never stale, never fatal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers.app import build_test_app

from backcoach.catalog import parse_cache
from backcoach.catalog.loader import Catalog, load_catalog, parse_toml
from backcoach.catalog.parse_cache import CACHE_FILE
from backcoach.resources import resources_dir

BUILTIN = resources_dir()
EXAMPLE = (BUILTIN / "exercises" / "knee-to-chest.toml").read_text(encoding="utf-8")
ROUTINE = (BUILTIN / "routines" / "lower-back-for-runners.toml").read_text(encoding="utf-8")
BUILTIN_FILES = [*BUILTIN.glob("exercises/*.toml"), *BUILTIN.glob("routines/*.toml")]


def _mine(name: str = "Mine one") -> str:
    """The example exercise under its own id and name."""
    return EXAMPLE.replace('id = "knee-to-chest"', 'id = "mine"', 1).replace(
        'name = "Knee to chest"', f'name = "{name}"', 1)


def _user_root(tmp_path: Path, exercise: str | None = None, routine: str | None = None) -> Path:
    root = tmp_path / "user"
    (root / "exercises").mkdir(parents=True, exist_ok=True)
    (root / "routines").mkdir(parents=True, exist_ok=True)
    if exercise is not None:
        (root / "exercises" / "mine.toml").write_text(exercise, encoding="utf-8")
    if routine is not None:
        (root / "routines" / "mine.toml").write_text(routine, encoding="utf-8")
    return root


def _view(catalog: Catalog) -> tuple[dict, dict, list[str]]:
    """What a catalogue holds, comparable (CatalogError compares by identity)."""
    return catalog.exercises, catalog.routines, [str(p) for p in catalog.problems]


def _entries(cache_dir: Path) -> dict:
    return json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))["entries"]


def _age(path: Path, seconds: float = 3600) -> None:
    """Set the file's mtime back (its ctime stays now, as the kernel keeps it)."""
    old = time.time_ns() - int(seconds * 10**9)
    os.utime(path, ns=(old, old))


@pytest.fixture
def no_racy_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files a test writes are milliseconds old; without this the racy rule keeps them out.

    The rule itself is tested with the real margin below.
    """
    monkeypatch.setattr(parse_cache, "RACY_NS", 0)


def test_a_hit_gives_the_same_catalogue_as_a_fresh_parse(tmp_path: Path, no_racy_margin) -> None:
    """Loaded through a filled cache, built-in and user items equal those of a plain parse."""
    user = _user_root(tmp_path, _mine(), ROUTINE.replace('exercise = "hip-rolling"',
                                                         'exercise = "mine"', 1)
                      .replace('id = "lower-back-for-runners"', 'id = "my-routine"', 1))
    cache = tmp_path / "cache"
    first = load_catalog(BUILTIN, (user,), cache)
    assert str(user / "exercises" / "mine.toml") in _entries(cache)
    written = (cache / CACHE_FILE).stat()
    second = load_catalog(BUILTIN, (user,), cache)
    fresh = load_catalog(BUILTIN, (user,))
    assert _view(second) == _view(fresh) == _view(first)
    assert "my-routine" in second.routines and second.problems == []
    again = (cache / CACHE_FILE).stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # not rewritten


def test_hits_are_served_from_the_cache_and_still_validated(tmp_path: Path) -> None:
    """A cached table edited to an invalid name is what loads: validation runs on every hit."""
    cache = tmp_path / "cache"
    load_catalog(BUILTIN, (), cache)
    doc = json.loads((cache / CACHE_FILE).read_text(encoding="utf-8"))
    entry = doc["entries"][str(BUILTIN / "exercises" / "knee-to-chest.toml")]
    entry["table"]["name"] = "x" * 61
    (cache / CACHE_FILE).write_text(json.dumps(doc), encoding="utf-8")
    catalog = load_catalog(BUILTIN, (), cache)
    assert "knee-to-chest" not in catalog.exercises
    problem = catalog.problems[0]  # then the routines that use it
    assert problem.file.endswith("knee-to-chest.toml") and problem.field == "name"
    assert "too long" in str(problem)


def test_edit_of_same_size_with_newer_mtime_is_read_anew(tmp_path: Path, no_racy_margin) -> None:
    """Same size, mtime bumped by a second: the new content loads, and is what the cache keeps."""
    user = _user_root(tmp_path, _mine("Mine one"))
    path = user / "exercises" / "mine.toml"
    _age(path)
    cache = tmp_path / "cache"
    assert load_catalog(BUILTIN, (user,), cache).exercises["mine"].name == "Mine one"
    before = path.stat()
    path.write_text(_mine("Mine two"), encoding="utf-8")
    os.utime(path, ns=(before.st_mtime_ns + 10**9, before.st_mtime_ns + 10**9))
    assert path.stat().st_size == before.st_size
    assert load_catalog(BUILTIN, (user,), cache).exercises["mine"].name == "Mine two"
    assert _entries(cache)[str(path)]["table"]["name"] == "Mine two"
    assert load_catalog(BUILTIN, (user,), cache).exercises["mine"].name == "Mine two"


def test_edit_keeping_size_and_mtime_is_still_read_anew(tmp_path: Path, no_racy_margin) -> None:
    """An edit with the old mtime put back (cp -p, touch -d) is caught by the change time."""
    user = _user_root(tmp_path, _mine("Mine one"))
    path = user / "exercises" / "mine.toml"
    _age(path)
    cache = tmp_path / "cache"
    load_catalog(BUILTIN, (user,), cache)
    before = path.stat()
    time.sleep(0.02)  # more than the kernel's coarse clock tick, so the ctime can move
    path.write_text(_mine("Mine two"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert load_catalog(BUILTIN, (user,), cache).exercises["mine"].name == "Mine two"


def test_a_file_changed_in_the_last_seconds_is_not_cached(tmp_path: Path) -> None:
    """With the real margin, a just-saved file (even with an old mtime) is parsed, not cached."""
    user = _user_root(tmp_path, _mine())
    cache = tmp_path / "cache"
    fresh = user / "exercises" / "mine.toml"
    aged_mtime = user / "routines" / "x.toml"
    aged_mtime.write_text(ROUTINE.replace('id = "lower-back-for-runners"', 'id = "x"', 1),
                          encoding="utf-8")
    _age(aged_mtime)  # its ctime is still now: a later edit in the same tick could hide
    catalog = load_catalog(BUILTIN, (user,), cache)
    assert {"mine", "knee-to-chest"} <= set(catalog.exercises) and "x" in catalog.routines
    entries = _entries(cache)
    assert str(BUILTIN / "exercises" / "knee-to-chest.toml") in entries  # built-ins are old
    assert str(fresh) not in entries and str(aged_mtime) not in entries


def test_a_file_that_does_not_parse_is_not_cached(tmp_path: Path, no_racy_margin) -> None:
    """Broken TOML is never cached, and gives the same problem on every load."""
    user = _user_root(tmp_path, _mine() + "\nbroken = [\n")
    cache = tmp_path / "cache"
    first = load_catalog(BUILTIN, (user,), cache)
    second = load_catalog(BUILTIN, (user,), cache)
    assert [str(p) for p in first.problems] == [str(p) for p in second.problems]
    assert len(first.problems) == 1 and "not valid TOML" in str(first.problems[0])
    assert str(user / "exercises" / "mine.toml") not in _entries(cache)


def test_a_table_json_cannot_carry_is_not_cached(tmp_path: Path, no_racy_margin) -> None:
    """A TOML date does not survive JSON: that file is parsed each time, the others cached."""
    user = _user_root(tmp_path, _mine() + "\nadded = 2024-05-01\n")
    cache = tmp_path / "cache"
    first = load_catalog(BUILTIN, (user,), cache)
    second = load_catalog(BUILTIN, (user,), cache)
    assert [str(p) for p in first.problems] == [str(p) for p in second.problems]
    assert "added" in str(first.problems[0])
    assert str(user / "exercises" / "mine.toml") not in _entries(cache)
    assert len(_entries(cache)) == len(BUILTIN_FILES)


@pytest.mark.parametrize("damage", [
    b"{ this is not json", b"\xff\xfe\x00", b"[]", b'{"format": 999, "entries": {}}',
    b'{"format": 1, "python": [3, 11], "salt": "line-dots<=64", "entries": {"%s": 5}}',
    b"half", b"null", b"{" * 100_000,
])
def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path: Path, damage: bytes,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Garbage, a wrong version or bad entries: the files are parsed, no crash, a good cache written."""
    cache = tmp_path / "cache"
    if damage == b"half":  # a real cache cut short
        load_catalog(BUILTIN, (), cache)
        damage = (cache / CACHE_FILE).read_bytes()[:5000]
    damage = damage.replace(b"%s", json.dumps(str(BUILTIN / "exercises" / "bird-dog.toml"))[1:-1]
                            .encode())
    cache.mkdir(exist_ok=True)
    (cache / CACHE_FILE).write_bytes(damage)
    with caplog.at_level(logging.DEBUG, logger="backcoach.catalog.parse_cache"):
        catalog = load_catalog(BUILTIN, (), cache)
    assert _view(catalog) == _view(load_catalog(BUILTIN))
    assert caplog.records and all(r.levelno <= logging.INFO for r in caplog.records)
    assert len(_entries(cache)) == len(BUILTIN_FILES)
    assert _view(load_catalog(BUILTIN, (), cache)) == _view(catalog)


def test_bad_entries_are_misses_not_errors(tmp_path: Path) -> None:
    """Entries with a null, a NaN or a wrong key in them are parsed afresh and replaced."""
    cache = tmp_path / "cache"
    load_catalog(BUILTIN, (), cache)
    doc = json.loads((cache / CACHE_FILE).read_text(encoding="utf-8"))
    spoilt = [str(BUILTIN / "exercises" / name) for name in ("bird-dog.toml", "knee-to-chest.toml")]
    spoilt.append(str(BUILTIN / "routines" / "core-strength.toml"))
    doc["entries"][spoilt[0]]["table"]["name"] = None
    doc["entries"][spoilt[1]]["table"]["timing"]["beginner"]["hold"] = float("nan")
    doc["entries"][spoilt[2]]["stat"] = [1, 2, 3]
    (cache / CACHE_FILE).write_text(json.dumps(doc), encoding="utf-8")
    assert _view(load_catalog(BUILTIN, (), cache)) == _view(load_catalog(BUILTIN))
    repaired = _entries(cache)
    for name in spoilt:
        assert repaired[name]["table"] == parse_toml(Path(name).read_bytes(), name).data


def test_an_unwritable_cache_folder_only_costs_the_cache(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A file where the cache folder should be: the catalogue loads, a line is logged, no crash."""
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="backcoach.catalog.parse_cache"):
        catalog = load_catalog(BUILTIN, (), blocker)
    assert _view(catalog) == _view(load_catalog(BUILTIN))
    assert any("could not save the catalogue cache" in r.getMessage() for r in caplog.records)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not stop root")
def test_a_read_only_cache_folder_only_costs_the_cache(tmp_path: Path) -> None:
    """A cache folder without write permission: the catalogue loads, no crash."""
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        assert _view(load_catalog(BUILTIN, (), cache)) == _view(load_catalog(BUILTIN))
        assert not (cache / CACHE_FILE).exists()
    finally:
        cache.chmod(0o700)


def test_entries_of_deleted_files_are_dropped(tmp_path: Path, no_racy_margin) -> None:
    """A user file removed since the last start leaves the cache, which is rewritten once."""
    user = _user_root(tmp_path, _mine())
    cache = tmp_path / "cache"
    load_catalog(BUILTIN, (user,), cache)
    assert str(user / "exercises" / "mine.toml") in _entries(cache)
    (user / "exercises" / "mine.toml").unlink()
    assert "mine" not in load_catalog(BUILTIN, (user,), cache).exercises
    assert str(user / "exercises" / "mine.toml") not in _entries(cache)


def test_a_hit_does_not_import_tomllib(tmp_path: Path) -> None:
    """The first start parses (tomllib loaded); the second, all hits, never imports tomllib."""
    code = ("import sys; from pathlib import Path;"
            "from backcoach.catalog.loader import load_builtin_catalog;"
            "c = load_builtin_catalog((Path(sys.argv[1]),), cache_dir=Path(sys.argv[2]));"
            "assert c.problems == [] and len(c.routines) > 1, c.problems;"
            "print('tomllib' in sys.modules)")
    args = [sys.executable, "-c", code, str(tmp_path / "data"), str(tmp_path / "cache")]
    runs = [subprocess.run(args, capture_output=True, text=True, timeout=60) for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"], [r.stderr for r in runs]


def test_the_app_keeps_its_cache_in_the_cache_folder(qtbot, home: Path) -> None:
    """Building the app leaves the parsed built-in files in <home>/cache for the next start."""
    parts = build_test_app(qtbot, home)
    entries = _entries(home / "cache")
    assert str(BUILTIN / "routines" / "lower-back-for-runners.toml") in entries
    assert set(parts.window.catalog.routines) == set(load_catalog(BUILTIN).routines)
    parts.close()
