"""An event filter that counts one kind of event, for tests of how often Qt repaints or lays out."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class EventCounter(QObject):
    """Counts the events of `kind` the objects it filters receive; lets every event through."""

    def __init__(self, kind: QEvent.Type) -> None:
        super().__init__()
        self.kind = kind
        self.count = 0

    def eventFilter(self, obj, event) -> bool:  # type: ignore[no-untyped-def]
        """Count `kind`; let every event through."""
        if event.type() == self.kind:
            self.count += 1
        return False
