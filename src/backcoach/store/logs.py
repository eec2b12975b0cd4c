"""The app's log file: small, rotating, and readable in a bug report.

Plain `logging` with a file handler that rotates at 1 MB keeping 3 old files, on the root
logger, so messages from every part of the app (and warnings from libraries) end up in one
file. Calling `setup_logging` again replaces our handler instead of adding a second one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from backcoach.store.atomic import storage_error

LOG_FILE = "backcoach.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"


class _BackCoachFileHandler(logging.FileHandler):
    """Our log file (set-up and tear-down find the handler by this class), rotated at
    MAX_BYTES with BACKUP_COUNT old files kept.

    logging.handlers.RotatingFileHandler does the same, but importing logging.handlers
    loads socket, pickle and queue for its network handlers: about 5 ms of start-up and
    1.6 MB of memory for a few lines of rotation."""

    def emit(self, record: logging.LogRecord) -> None:
        """Rotate first if this record would take the file past MAX_BYTES."""
        try:
            if self.stream is not None:
                size = len(self.format(record).encode("utf-8", "replace")) + 1
                if self.stream.tell() + size > MAX_BYTES and self.stream.tell() > 0:
                    self._rotate()
        except Exception:  # as logging does: a failing log must not fail the app
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        """backcoach.log -> .1 -> .2 -> .3 (the oldest is dropped); the next write
        opens a fresh file."""
        assert self.stream is not None
        self.stream.close()
        self.stream = None  # type: ignore[assignment]  # FileHandler reopens on emit
        base = self.baseFilename
        for n in range(BACKUP_COUNT - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Log to `log_dir/backcoach.log`; returns its path. Raises StorageError if unwritable."""
    log_dir = Path(log_dir)
    path = log_dir / LOG_FILE
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = _BackCoachFileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise storage_error("write the log", path, exc, unchanged=False) from exc
    handler.setFormatter(logging.Formatter(FORMAT))
    close_logging()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return path


def close_logging() -> None:
    """Remove and close the handler `setup_logging` installed (at exit, or in tests)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _BackCoachFileHandler):
            root.removeHandler(handler)
            handler.close()
