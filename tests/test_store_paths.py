"""Paths come from one place, honour --home and BACKCOACH_HOME, and logging rotates."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backcoach.store.atomic import StorageError
from backcoach.store.logs import BACKUP_COUNT, MAX_BYTES, close_logging, setup_logging
from backcoach.store.paths import APP_NAME, ENV_HOME, AppPaths, resolve_paths


def _all_dirs(paths: AppPaths) -> list[Path]:
    return [paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir,
            paths.user_exercises_dir, paths.user_routines_dir]


def test_env_home_gives_the_four_folders_under_it(home: Path) -> None:
    """BACKCOACH_HOME puts config, data, cache and logs inside it."""
    paths = resolve_paths()
    assert paths == AppPaths(home / "config", home / "data", home / "cache", home / "logs")
    assert paths.settings_file == home / "config" / "settings.json"
    assert paths.history_db == home / "data" / "history.sqlite3"
    assert paths.user_exercises_dir == home / "data" / "exercises"
    assert paths.user_routines_dir == home / "data" / "routines"


def test_explicit_home_beats_the_environment(home: Path, tmp_path: Path) -> None:
    """--home DIR wins over BACKCOACH_HOME."""
    chosen = tmp_path / "chosen"
    assert resolve_paths(chosen).config_dir == chosen / "config"
    assert resolve_paths(str(chosen)).data_dir == chosen / "data"  # the CLI passes a str


def test_relative_and_tilde_homes_become_absolute(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative --home is taken from the current folder and ~ is expanded."""
    monkeypatch.chdir(tmp_path)
    assert resolve_paths("rel").log_dir == tmp_path / "rel" / "logs"
    monkeypatch.setenv("HOME", str(tmp_path / "fakehome"))
    assert resolve_paths("~/bc").cache_dir == tmp_path / "fakehome" / "bc" / "cache"


def test_environ_can_be_passed_in(tmp_path: Path) -> None:
    """An explicit environment mapping is used instead of os.environ."""
    paths = resolve_paths(environ={ENV_HOME: str(tmp_path / "x")})
    assert paths.data_dir == tmp_path / "x" / "data"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG folders are Linux's")
def test_without_override_the_xdg_folders_are_used(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With no home and an empty BACKCOACH_HOME, platformdirs' XDG folders are used."""
    monkeypatch.setenv(ENV_HOME, "")
    for var in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{var}_HOME", str(tmp_path / var.lower()))
    paths = resolve_paths()
    assert APP_NAME == "backcoach"
    assert paths.config_dir == tmp_path / "config" / "backcoach"
    assert paths.data_dir == tmp_path / "data" / "backcoach"
    assert paths.cache_dir == tmp_path / "cache" / "backcoach"
    assert paths.log_dir.is_relative_to(tmp_path / "state" / "backcoach")
    assert not any(p.exists() for p in _all_dirs(paths))


def test_resolving_creates_nothing_and_ensure_creates_everything(tmp_path: Path) -> None:
    """resolve_paths only computes; ensure() makes every folder and can run twice."""
    paths = resolve_paths(tmp_path / "h")
    assert not (tmp_path / "h").exists()
    assert paths.ensure() is paths
    assert all(p.is_dir() for p in _all_dirs(paths))
    paths.ensure()


def test_ensure_failure_names_the_folder(tmp_path: Path) -> None:
    """If a folder cannot be created (a file is in the way), the error names it."""
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "data").write_text("not a folder")
    with pytest.raises(StorageError) as info:
        resolve_paths(tmp_path / "h").ensure()
    assert str(tmp_path / "h" / "data") in str(info.value)


def test_app_paths_is_frozen(tmp_path: Path) -> None:
    """AppPaths cannot be changed after it is made, so it is safe to share."""
    paths = resolve_paths(tmp_path)
    with pytest.raises(AttributeError):
        paths.data_dir = tmp_path  # type: ignore[misc]


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    close_logging()
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_logging_writes_to_the_log_folder(tmp_path: Path) -> None:
    """setup_logging creates the folder and returns the file the records go to."""
    path = setup_logging(tmp_path / "logs")
    logging.getLogger("backcoach.test").info("hello from the test")
    assert path == tmp_path / "logs" / "backcoach.log"
    assert "hello from the test" in path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("restore_root_logger")
def test_logging_twice_does_not_duplicate_lines(tmp_path: Path) -> None:
    """A second setup replaces the first handler instead of adding another."""
    setup_logging(tmp_path)
    path = setup_logging(tmp_path)
    logging.getLogger("backcoach.test").warning("once")
    assert path.read_text(encoding="utf-8").count("once") == 1


@pytest.mark.usefixtures("restore_root_logger")
def test_logging_rotates_at_one_megabyte_keeping_three(tmp_path: Path) -> None:
    """The log rotates at 1 MB and keeps three old files, so it never grows without bound."""
    setup_logging(tmp_path)
    line = "x" * 1000
    logger = logging.getLogger("backcoach.test")
    for _ in range(5 * MAX_BYTES // 1000):
        logger.info(line)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["backcoach.log", *(f"backcoach.log.{n}" for n in range(1, BACKUP_COUNT + 1))]
    assert all(p.stat().st_size <= MAX_BYTES for p in tmp_path.iterdir())


@pytest.mark.usefixtures("restore_root_logger")
def test_a_full_log_left_by_an_earlier_run_rotates_at_the_first_record(tmp_path: Path) -> None:
    """A log already at 1 MB from an earlier run is moved to .1 before the first new line."""
    old = tmp_path / "backcoach.log"
    old.write_text("o" * MAX_BYTES, encoding="utf-8")
    setup_logging(tmp_path)
    logging.getLogger("backcoach.test").info("first of this run")
    assert (tmp_path / "backcoach.log.1").read_text(encoding="utf-8") == "o" * MAX_BYTES
    assert "first of this run" in old.read_text(encoding="utf-8")
    assert old.stat().st_size < 1000


def test_logging_to_an_unusable_folder_raises_storage_error(tmp_path: Path) -> None:
    """A log folder that cannot be created gives a StorageError, not a traceback."""
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(StorageError, match="Could not write the log"):
        setup_logging(tmp_path / "file" / "logs")
