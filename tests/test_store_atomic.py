"""Atomic writes never leave a half-written or missing file, and backups never overwrite."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from backcoach.store import atomic
from backcoach.store.atomic import (
    StorageError,
    atomic_write_bytes,
    atomic_write_text,
    copy_aside,
    move_aside,
)


def _raise(code: int):
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))
    return fail


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "settings.json"
    path.write_bytes(b"original")
    return path


@pytest.fixture
def read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder no file can be created in: chmod, plus a simulation when we run as root."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "settings.json").write_bytes(b"original")
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    probe = folder / "probe"
    try:
        probe.write_bytes(b"")
    except PermissionError:
        pass  # chmod is enough: we are not root
    else:
        # root ignores permissions, so make creating files here fail as the kernel would.
        probe.unlink()
        real_open = os.open

        def guarded_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
            if Path(os.fsdecode(path)).parent == folder and flags & os.O_CREAT:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(atomic.os, "open", guarded_open)
    yield folder
    folder.chmod(stat.S_IRWXU)


def test_write_replaces_content_and_leaves_no_temp_file(target: Path) -> None:
    """A successful write replaces the content and cleans up after itself."""
    atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert _leftovers(target.parent) == []


def test_write_creates_a_missing_file(tmp_path: Path) -> None:
    """Writing a file that does not exist yet creates it."""
    path = tmp_path / "fresh.json"
    atomic_write_bytes(path, b"{}")
    assert path.read_bytes() == b"{}"


def test_text_is_utf8_and_newlines_are_kept_exactly(tmp_path: Path) -> None:
    """Text is encoded as UTF-8 with no newline translation (CSV needs its CRLF)."""
    path = tmp_path / "out.csv"
    atomic_write_text(path, "Ünïcode,ok\r\nline two\n")
    assert path.read_bytes() == "Ünïcode,ok\r\nline two\n".encode()


def test_write_keeps_the_permissions_of_the_replaced_file(target: Path) -> None:
    """Replacing a file keeps its mode instead of the temp file's."""
    target.chmod(0o640)
    atomic_write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("step", ["write", "fsync"])
def test_full_disk_leaves_the_original_intact(target: Path, monkeypatch: pytest.MonkeyPatch,
                                              step: str) -> None:
    """ENOSPC while writing or syncing keeps the old file and says to free some space."""
    monkeypatch.setattr(atomic.os, step, _raise(errno.ENOSPC))
    with pytest.raises(StorageError) as info:
        atomic_write_bytes(target, b"new content")
    monkeypatch.undo()
    assert target.read_bytes() == b"original"
    assert _leftovers(target.parent) == []
    assert "Free some space" in str(info.value)
    assert str(target.parent) in str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert isinstance(info.value, OSError)


def test_partial_write_then_full_disk_leaves_the_original_intact(
        target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills up half-way through the data still leaves the old file whole."""
    real_write = os.write
    calls = []

    def short_then_full(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "write", short_then_full)
    with pytest.raises(StorageError, match="full"):
        atomic_write_bytes(target, b"new content that is long")
    monkeypatch.undo()
    assert calls == [24, 21]
    assert target.read_bytes() == b"original"
    assert _leftovers(target.parent) == []


def test_failed_rename_leaves_the_original_intact(target: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final os.replace fails, the old file stays and the temp file is removed."""
    monkeypatch.setattr(atomic.os, "replace", _raise(errno.EIO))
    with pytest.raises(StorageError, match="unchanged"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"original"
    assert _leftovers(target.parent) == []


def test_read_only_folder_names_the_folder(read_only_folder: Path) -> None:
    """A folder we may not write in gives a message naming it; the file is untouched."""
    path = read_only_folder / "settings.json"
    with pytest.raises(StorageError) as info:
        atomic_write_bytes(path, b"new")
    assert f"the folder {read_only_folder} is not writable" in str(info.value)
    assert "--home" in str(info.value)
    assert path.read_bytes() == b"original"
    assert _leftovers(read_only_folder) == []


def test_read_only_file_system_is_explained(target: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """EROFS (a read-only mount) is reported as a folder that is not writable."""
    monkeypatch.setattr(atomic.os, "open", _raise(errno.EROFS))
    with pytest.raises(StorageError, match="is not writable"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"original"


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    """Writing into a folder that does not exist says so."""
    with pytest.raises(StorageError, match="does not exist"):
        atomic_write_bytes(tmp_path / "nope" / "file", b"x")


def test_interrupt_mid_write_cleans_up_and_propagates(target: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyboardInterrupt during the write removes the temp file and is not swallowed."""
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"original"
    assert _leftovers(target.parent) == []


def test_move_aside_numbers_backups_and_never_overwrites(tmp_path: Path) -> None:
    """Successive corrupt files become .bak, .bak.1, .bak.2, each keeping its content."""
    path = tmp_path / "settings.json"
    moved = []
    for n in range(3):
        path.write_text(f"corrupt {n}")
        moved.append(move_aside(path))
        assert not path.exists()
    assert [p.name for p in moved] == ["settings.json.bak", "settings.json.bak.1",
                                       "settings.json.bak.2"]
    assert [p.read_text() for p in moved] == ["corrupt 0", "corrupt 1", "corrupt 2"]


def test_move_aside_without_hard_links_still_never_overwrites(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without hard links, the rename fallback keeps older backups."""
    monkeypatch.setattr(atomic.os, "link", _raise(errno.EPERM))
    path = tmp_path / "history.sqlite3"
    (tmp_path / "history.sqlite3.bak").write_text("older backup")
    path.write_text("corrupt")
    assert move_aside(path).name == "history.sqlite3.bak.1"
    assert (tmp_path / "history.sqlite3.bak").read_text() == "older backup"
    assert (tmp_path / "history.sqlite3.bak.1").read_text() == "corrupt"


def test_move_aside_skips_a_name_taken_in_a_race(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process takes the .bak name first, the next free name is used."""
    path = tmp_path / "settings.json"
    path.write_text("corrupt")
    real_link = os.link

    def racing_link(src: str, dst: str) -> None:
        if Path(dst).name == "settings.json.bak" and not Path(dst).exists():
            Path(dst).write_text("the other process's backup")
        real_link(src, dst)

    monkeypatch.setattr(atomic.os, "link", racing_link)
    assert move_aside(path).name == "settings.json.bak.1"
    assert (tmp_path / "settings.json.bak").read_text() == "the other process's backup"


def test_move_aside_of_a_missing_file_raises_storage_error(tmp_path: Path) -> None:
    """Moving aside a file that is not there is an error with a readable message."""
    with pytest.raises(StorageError, match="Could not move aside"):
        move_aside(tmp_path / "missing.json")


def test_copy_aside_keeps_the_original_in_place(target: Path) -> None:
    """copy_aside writes a tagged backup and leaves the file itself alone."""
    backup = copy_aside(target, target.read_bytes(), tag="v1.bak")
    assert backup.name == "settings.json.v1.bak"
    assert backup.read_bytes() == target.read_bytes() == b"original"
    assert copy_aside(target, b"again", tag="v1.bak").name == "settings.json.v1.bak.1"


def test_read_json_file_missing_good_and_damaged(tmp_path: Path) -> None:
    """read_json_file: missing gives None, good data is parsed, damage is moved aside whole."""
    from backcoach.store.atomic import read_json_file

    path = tmp_path / "x.json"
    assert read_json_file(path, dict) == (None, None)
    path.write_text('{"a": 1}')
    assert read_json_file(path, lambda d: d["a"]) == (1, None)
    path.write_text('{"b": 1}')
    value, damage = read_json_file(path, lambda d: d["a"])
    assert value is None and isinstance(damage.error, KeyError)
    assert damage.backup.read_text() == '{"b": 1}' and not path.exists()
