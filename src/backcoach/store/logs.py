"""The app's log file: small, rotating, and readable in a bug report.

Plain `logging` with a RotatingFileHandler (1 MB x 3 backups) on the root logger, so
messages from every part of the app (and warnings from libraries) end up in one file.
Calling `setup_logging` again replaces our handler instead of adding a second one.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from backcoach.store.atomic import storage_error

LOG_FILE = "backcoach.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"


class _BackCoachFileHandler(RotatingFileHandler):
    """Marks the handler as ours, so set-up and tear-down find it again."""


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Log to `log_dir/backcoach.log`; returns its path. Raises StorageError if unwritable."""
    log_dir = Path(log_dir)
    path = log_dir / LOG_FILE
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = _BackCoachFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                        encoding="utf-8")
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
