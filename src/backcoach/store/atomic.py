"""Atomic file writes and moving corrupt files aside.

A settings file or export is either the old version or the new one, never half of each:
we write a temp file in the same folder, fsync it, then `os.replace` it over the target.
Any failure leaves the original untouched and raises a `StorageError` whose message tells
the user what failed and what to do about it.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


class Damage(NamedTuple):
    """A damaged file that was moved aside: what was wrong, and where the file is now."""

    error: Exception
    backup: Path


class StorageError(OSError):
    """A file operation failed; the message is written for the user, not the developer."""

    def __init__(self, message: str, *, path: Path | None = None,
                 cause: OSError | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        if cause is not None:
            self.errno = cause.errno

    def __str__(self) -> str:
        return self.message


def storage_error(action: str, path: Path, exc: OSError, *, folder: Path | None = None,
                  unchanged: bool = True) -> StorageError:
    """Turn an OSError into a StorageError saying what failed and what the user can do.

    `action` is a verb phrase such as "save" or "move aside"; `unchanged` adds a reassurance
    that the previous version of the file is still there.
    """
    folder = folder if folder is not None else path.parent
    reason = exc.strerror or str(exc)
    keep = " Your previous copy is unchanged." if unchanged and path.exists() else ""
    if exc.errno in _FULL:
        text = (f"Could not {action} {path}: the disk holding {folder} is full. "
                f"Free some space and try again.{keep}")
    elif exc.errno in _NOT_WRITABLE:
        text = (f"Could not {action} {path}: the folder {folder} is not writable ({reason}). "
                f"Check its permissions, or choose another folder with --home DIR or the "
                f"BACKCOACH_HOME environment variable.{keep}")
    elif exc.errno == errno.ENOENT and not folder.is_dir():
        text = f"Could not {action} {path}: the folder {folder} does not exist."
    else:
        text = f"Could not {action} {path}: {reason}.{keep}"
    return StorageError(text, path=path, cause=exc)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash or error never leaves a partial file."""
    path = Path(path)
    folder = path.parent
    tmp = folder / f".{path.name}.{os.urandom(6).hex()}.tmp"  # not secrets: it loads OpenSSL
    fd: int | None = None
    try:
        # 0o666 lets the umask decide the mode, as a plain open() would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        _copy_mode(path, tmp)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = None
        os.replace(tmp, path)
    except BaseException as exc:
        if fd is not None:
            _quietly(os.close, fd)
        _quietly(os.unlink, tmp)
        if isinstance(exc, OSError) and not isinstance(exc, StorageError):
            raise storage_error("save", path, exc) from exc
        raise
    _fsync_dir(folder)


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """`atomic_write_bytes` for text; newlines are written exactly as given."""
    atomic_write_bytes(path, text.encode(encoding))


def next_backup_path(path: Path, tag: str = "bak") -> Path:
    """The first free name among `<name>.<tag>`, `<name>.<tag>.1`, `<name>.<tag>.2` ..."""
    path = Path(path)
    for n in itertools.count():
        suffix = f".{tag}" if n == 0 else f".{tag}.{n}"
        candidate = path.with_name(path.name + suffix)
        if not os.path.lexists(candidate):
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover


def move_aside(path: Path) -> Path:
    """Rename a corrupt file to `<name>.bak` (or `.bak.1`, ...) and return the new path.

    An older backup is never overwritten: on POSIX `os.rename` would silently replace one,
    so we hard-link to the new name (which fails if it exists) and then unlink the original.
    """
    path = Path(path)
    while True:
        target = next_backup_path(path)
        try:
            _rename_no_replace(path, target)
        except FileExistsError:
            continue  # another process took that name between our check and the rename
        except OSError as exc:
            raise storage_error("move aside", path, exc, unchanged=False) from exc
        log.warning("moved %s aside to %s", path, target)
        return target


# What a damaged JSON file (or a parser checking its content) raises; binascii.Error is a
# ValueError.
DAMAGED_JSON = (UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError,
                AttributeError)


def read_json_file(path: Path, parse: Callable[[Any], T]) -> tuple[T | None, Damage | None]:
    """Read a small JSON file the app owns, never losing it if it is damaged.

    Missing: (None, None). Not readable: StorageError. Not JSON, or `parse` (which checks
    and converts the decoded data) raises one of DAMAGED_JSON: the file is moved aside and
    (None, Damage(error, backup)) returned; StorageError if it cannot be moved aside.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise storage_error("read", path, exc) from exc
    try:
        return parse(json.loads(raw.decode("utf-8"))), None
    except DAMAGED_JSON as exc:
        return None, Damage(error=exc, backup=move_aside(path))


def copy_aside(path: Path, data: bytes, tag: str = "bak") -> Path:
    """Write `data` (the current content of `path`) to a new backup file next to it."""
    target = next_backup_path(Path(path), tag)
    atomic_write_bytes(target, data)
    return target


def _rename_no_replace(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError) as exc:
        if isinstance(exc, FileNotFoundError) and not os.path.lexists(src):
            raise
        # No hard links here (FAT, some network shares): fall back to a checked rename.
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "backup exists", str(dst)) from exc
        os.rename(src, dst)
        return
    os.unlink(src)
    _fsync_dir(src.parent)


def _copy_mode(original: Path, tmp: Path) -> None:
    """Keep the permissions of the file we replace (best effort)."""
    try:
        mode = stat.S_IMODE(os.stat(original).st_mode)
    except OSError:
        return
    _quietly(os.chmod, tmp, mode)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; not possible on Windows, so best effort."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("could not fsync folder %s: %s", folder, exc)
    finally:
        os.close(fd)


def _quietly(func: Callable[..., object], *args: object) -> None:
    """Run a clean-up step whose failure must not hide the original error."""
    try:
        func(*args)
    except OSError as exc:
        log.debug("clean-up %s%r failed: %s", getattr(func, "__name__", func), args, exc)
