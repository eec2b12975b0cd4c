"""The Qt binding the project installs is one that the app can run on for hours."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer


def test_qt_calls_keep_references_to_none() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on each void call (the
    interpreter then aborts after a few thousand); pyproject excludes it, and this proves it."""
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(1000):
        timer.setSingleShot(True)
        timer.start(1000)
        timer.stop()
    assert sys.getrefcount(None) >= before - 10
