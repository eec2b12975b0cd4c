"""The Qt binding the project installs is one that the app can run on for hours."""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer


def test_qt_calls_keep_references_to_none() -> None:
    """The installed PySide6 is not 6.12.0's, which on Python 3.11 leaks None until Python aborts."""
    timer = QTimer()
    before = sys.getrefcount(None)
    for _ in range(1000):
        timer.setSingleShot(True)
        timer.start(1000)
        timer.stop()
    assert sys.getrefcount(None) >= before - 10
