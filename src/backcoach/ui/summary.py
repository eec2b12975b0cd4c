"""The done screen: what was done, saved to history, and the way back home."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from backcoach.session.plan import SegmentKind, Side, Timeline
from backcoach.ui.widgets import format_clock


@dataclass(frozen=True)
class SessionSummary:
    """What the done screen shows (and the history stores)."""

    routine_name: str
    level: str
    completed: bool
    active_seconds: float
    exercises_done: tuple[str, ...]
    sides_done: int
    segments_done: int
    segments_total: int


def summarise(timeline: Timeline, done_indices: set[int], completed: bool,
              active_seconds: float) -> SessionSummary:
    """Summarise a session from the segments that were played to their end."""
    done = [timeline.segments[i] for i in sorted(done_indices)]
    work = [s for s in done if s.is_work]
    exercises: list[str] = []
    for seg in work:
        name = timeline.exercise(seg).name
        if name not in exercises:
            exercises.append(name)
    sides = sum(1 for s in work if s.kind is SegmentKind.HOLD and s.side is not Side.BOTH)
    return SessionSummary(routine_name=timeline.routine_name, level=timeline.level.value,
                          completed=completed, active_seconds=active_seconds,
                          exercises_done=tuple(exercises), sides_done=sides,
                          segments_done=len(done), segments_total=len(timeline.segments))


class SummaryView(QWidget):
    """Shows a SessionSummary; Enter, Space, Esc or the button go home."""

    home_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.headline = QLabel(objectName="summaryHeadline")
        self.headline.setProperty("role", "title")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details = QLabel(objectName="summaryDetails")
        self.details.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details.setWordWrap(True)
        self.details.setStyleSheet("font-size: 16pt;")
        self.saved = QLabel(objectName="summarySaved")
        self.saved.setProperty("role", "muted")
        self.saved.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.home_button = QPushButton("Back to home", objectName="homeButton")
        self.home_button.setProperty("primary", True)
        self.home_button.setMinimumSize(280, 60)
        self.home_button.setStyleSheet("font-size: 16pt;")
        self.home_button.clicked.connect(self.home_requested)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.home_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 40, 40, 40)
        layout.addStretch(2)
        layout.addWidget(self.headline)
        layout.addSpacing(12)
        layout.addWidget(self.details)
        layout.addWidget(self.saved)
        layout.addSpacing(24)
        layout.addLayout(row)
        layout.addStretch(3)

    def clear(self) -> None:
        """Show nothing (until the next summary)."""
        self.summary = None
        for label in (self.headline, self.details, self.saved):
            label.clear()
        self.setAccessibleDescription("")

    def show_summary(self, summary: SessionSummary, saved_note: str = "") -> None:
        """Fill in the screen."""
        self.summary = summary
        self.headline.setText("Well done!" if summary.completed else "Session ended early")
        lines = [f"{summary.routine_name} · {summary.level}",
                 f"Time: {format_clock(summary.active_seconds)}",
                 f"Exercises: {', '.join(summary.exercises_done) or 'none finished'}"]
        if summary.sides_done:
            lines.append(f"Sides held: {summary.sides_done}")
        lines.append(f"Steps done: {summary.segments_done} of {summary.segments_total}")
        self.details.setText("\n".join(lines))
        self.saved.setText(saved_note)
        self.setAccessibleDescription(self.headline.text() + ". " + " ".join(lines))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter, Space or Escape go home."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space,
                           Qt.Key.Key_Escape):
            self.home_requested.emit()
        else:
            super().keyPressEvent(event)
