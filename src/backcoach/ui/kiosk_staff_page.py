"""The kiosk's staff page, behind the PIN: routines shown, volume cap, idle times, PIN,
kiosk off, quit, and the anonymous counts.

Loaded when staff open it (see kiosk.py), not at every start.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backcoach.store.atomic import StorageError
from backcoach.store.staff import LIMITS, KioskConfig
from backcoach.ui.kiosk_pin import PinSetupDialog, no_auto_default, theme_of

if TYPE_CHECKING:
    from backcoach.ui.kiosk import KioskMode


def _panel(title: str) -> tuple[QFrame, QVBoxLayout]:
    """A titled white panel of the staff page."""
    frame = QFrame(objectName="staffPanel")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(18, 14, 18, 16)
    layout.setSpacing(10)
    heading = QLabel(title, objectName="panelTitle")
    layout.addWidget(heading)
    return frame, layout


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "note")
    label.setWordWrap(True)
    return label


def _field(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "field")
    label.setBuddy(buddy)
    return label


class StaffPage(QDialog):
    """The staff configuration, behind the PIN: routines, volume cap, idle times, PIN,
    kiosk off, quit, and the anonymous counts."""

    QUIT = 2
    KIOSK_OFF = 3

    def __init__(self, mode: KioskMode) -> None:
        super().__init__(mode.window)
        self.mode = mode
        self.setObjectName("staffPage")
        self.setWindowTitle("BackCoach staff page")
        self.setModal(True)
        window = mode.window
        catalog = window.catalog
        config = mode.config
        title = QLabel("Staff page")
        title.setProperty("role", "title")
        subtitle = QLabel("Kiosk mode is on: members can only pick and follow routines. "
                          "Nothing on this page is shown to them.")
        subtitle.setProperty("role", "muted")
        subtitle.setStyleSheet("font-size: 13pt;")
        subtitle.setWordWrap(True)

        # Routines and their order.
        self.routine_list = QListWidget(objectName="staffRoutines")
        self.routine_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.routine_list.setAccessibleName("Routines on the kiosk home screen")
        shown = [rid for rid in config.routines if rid in catalog.routines]
        rest = sorted((rid for rid in catalog.routines if rid not in shown),
                      key=lambda rid: catalog.routines[rid].name)
        for rid in shown + rest:
            item = QListWidgetItem(catalog.routines[rid].name)
            item.setData(Qt.ItemDataRole.UserRole, rid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (rid in shown or not shown)
                               else Qt.CheckState.Unchecked)
            self.routine_list.addItem(item)
        self.routine_list.setCurrentRow(0)
        up = QPushButton("Move up", objectName="staffUp")
        up.clicked.connect(lambda: self._move(-1))
        down = QPushButton("Move down", objectName="staffDown")
        down.clicked.connect(lambda: self._move(1))
        self.featured = QComboBox(objectName="staffFeatured")
        self.featured.setAccessibleName("Featured routine")
        self.featured.addItem("None", "")
        for rid in shown + rest:
            self.featured.addItem(catalog.routines[rid].name, rid)
        self.featured.setCurrentIndex(max(0, self.featured.findData(config.featured)))
        routines_panel, rb = _panel("Routines on the home screen")
        rb.addWidget(_note("Tick what members see. The order here is the order on screen."))
        rb.addWidget(self.routine_list, 1)
        moves = QHBoxLayout()
        moves.addWidget(up)
        moves.addWidget(down)
        moves.addStretch(1)
        rb.addLayout(moves)
        featured_row = QHBoxLayout()
        featured_row.addWidget(_field("Featured, chosen for each new member", self.featured))
        featured_row.addWidget(self.featured, 1)
        rb.addLayout(featured_row)

        # Voice cap and idle times.
        self.volume_cap = self._spin("staffVolumeCap", "Voice volume cap", 0, 100, " %",
                                     round(config.volume_cap * 100))
        lo, hi = LIMITS["after_summary_seconds"]
        self.after_summary = self._spin("staffAfterSummary", "Home after the summary",
                                        int(lo), int(hi), " s", config.after_summary_seconds)
        lo, hi = LIMITS["paused_seconds"]
        self.paused = self._spin("staffPaused", "Home after a pause", max(1, int(lo) // 60),
                                 int(hi) // 60, " min", max(1, config.paused_seconds // 60))
        lo, hi = LIMITS["running_margin_seconds"]
        self.margin = self._spin("staffMargin", "Margin after a session's end", int(lo), int(hi),
                                 " s", config.running_margin_seconds)
        idle_panel, ib = _panel("Voice and idle times")
        form = QGridLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(8)
        for row, (text, spin) in enumerate((
                ("Voice volume at most", self.volume_cap),
                ("Back home after the summary", self.after_summary),
                ("Back home after a pause", self.paused),
                ("Margin after a session's planned end", self.margin))):
            form.addWidget(_field(text, spin), row, 0)
            form.addWidget(spin, row, 1)
        form.setColumnStretch(0, 1)
        ib.addLayout(form)

        # Anonymous counts.
        self.counts = QTableWidget(0, 3, objectName="staffCounts")
        self.counts.setHorizontalHeaderLabels(["Day", "Started", "Completed"])
        self.counts.horizontalHeaderItem(0).setTextAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.counts.verticalHeader().setVisible(False)
        self.counts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.counts.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.counts.setShowGrid(False)
        self.counts.setAlternatingRowColors(True)
        self.counts.setAccessibleName("Sessions started and completed per day")
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.counts.setColumnWidth(col, 130)
        self.routine_counts = _note("")
        self.routine_counts.setObjectName("staffRoutineCounts")
        counts_panel, cb = _panel("Use of this PC: anonymous counts, last 14 days")
        cb.addWidget(self.counts, 1)
        cb.addWidget(self.routine_counts)
        self.fill_counts()

        self.message = QLabel(objectName="staffMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 13pt; font-weight: 600;")
        change_pin = QPushButton("Change PIN…", objectName="staffChangePin")
        change_pin.clicked.connect(self.change_pin)
        kiosk_off = QPushButton("Turn kiosk mode off", objectName="staffKioskOff")
        kiosk_off.clicked.connect(lambda: self.done(self.KIOSK_OFF))
        quit_button = QPushButton("Quit BackCoach", objectName="staffQuit")
        quit_button.clicked.connect(lambda: self.done(self.QUIT))
        cancel = QPushButton("Close", objectName="staffCancel")
        cancel.clicked.connect(self.reject)
        save = QPushButton("Save", objectName="staffSave")
        save.setProperty("primary", True)
        save.setMinimumWidth(160)
        save.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addWidget(change_pin)
        settings_action = window.actions_by_name.get("settings")
        if settings_action is not None:
            settings_button = QPushButton("Settings…", objectName="staffSettings")
            settings_button.clicked.connect(self.open_settings)
            buttons.addWidget(settings_button)
        buttons.addWidget(kiosk_off)
        buttons.addWidget(quit_button)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(save)

        right = QVBoxLayout()
        right.setSpacing(16)
        right.addWidget(idle_panel)
        right.addWidget(counts_panel, 1)
        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addWidget(routines_panel, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 22, 32, 22)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(columns, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        no_auto_default(self)
        theme = theme_of(window)
        self.setStyleSheet(f"""
            QDialog#staffPage {{ background: {theme.window}; border: 3px solid {theme.accent}; }}
            QFrame#staffPanel {{ background: {theme.surface}; border: 1px solid {theme.border};
                                 border-radius: 12px; }}
            QLabel#panelTitle {{ font-size: 15pt; font-weight: 700; }}
            QLabel[role="field"] {{ font-size: 12pt; }}
            QLabel[role="note"] {{ font-size: 11pt; color: {theme.muted}; }}
            QListWidget {{ font-size: 13pt; border: 1px solid {theme.border}; border-radius: 6px; }}
            QListWidget::item {{ padding: 4px; }}
            QTableWidget {{ font-size: 12pt; border: none; }}
            QHeaderView::section {{ font-size: 11pt; font-weight: 600; padding: 4px;
                                   border: none; border-bottom: 1px solid {theme.border};
                                   background: {theme.surface}; color: {theme.muted}; }}
            QSpinBox {{ font-size: 13pt; padding: 4px 8px; min-width: 120px; }}
        """)
        available = window.screen().availableGeometry() if window.screen() else None
        width, height = window.width(), window.height()
        if available is not None:
            width, height = min(width, available.width()), min(height, available.height())
        self.resize(max(width, 900), max(height, 620))

    def _spin(self, name: str, accessible: str, lo: int, hi: int, suffix: str,
              value: int) -> QSpinBox:
        spin = QSpinBox(objectName=name)
        spin.setRange(lo, hi)
        spin.setSuffix(suffix)
        spin.setValue(value)
        spin.setAccessibleName(accessible)
        return spin

    def _move(self, step: int) -> None:
        row = self.routine_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.routine_list.count():
            return
        item = self.routine_list.takeItem(row)
        self.routine_list.insertItem(target, item)
        self.routine_list.setCurrentRow(target)

    def fill_counts(self) -> None:
        """Fill the table from the anonymous counts."""
        stats = self.mode.stats
        try:
            days = stats.recent_days(14)
            per_routine = stats.per_routine(30)
        except StorageError as exc:
            self.routine_counts.setText(f"The counts could not be read: {exc}")
            return
        self.counts.setRowCount(len(days))
        today = stats.today()
        for row, day in enumerate(days):
            label = "Today" if day.day == today else day.day.strftime("%a %d %b")
            for col, value in enumerate((label, str(day.started), str(day.completed))):
                item = QTableWidgetItem(value)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.counts.setItem(row, col, item)
        routines = self.mode.window.catalog.routines
        if per_routine:
            parts = [f"{routines[rid].name if rid in routines else rid}: {s} started, "
                     f"{c} completed" for rid, (s, c) in per_routine.items()]
            self.routine_counts.setText("Last 30 days by routine: " + "; ".join(parts) + ".")
        else:
            self.routine_counts.setText("No sessions in the last 30 days.")

    def chosen_config(self) -> KioskConfig:
        """The configuration as set on the page."""
        ids = []
        for row in range(self.routine_list.count()):
            item = self.routine_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(item.data(Qt.ItemDataRole.UserRole))
        return dataclasses.replace(
            self.mode.config, routines=tuple(ids), featured=self.featured.currentData() or "",
            volume_cap=self.volume_cap.value() / 100,
            after_summary_seconds=self.after_summary.value(),
            paused_seconds=self.paused.value() * 60,
            running_margin_seconds=self.margin.value())

    def save(self) -> None:
        """Check, save and apply the configuration."""
        config = self.chosen_config()
        if not config.routines:
            self.message.setText("Tick at least one routine for the home screen.")
            return
        if config.featured and config.featured not in config.routines:
            self.message.setText("The featured routine must be one of the ticked routines.")
            return
        problem = self.mode.apply_config(config)
        if problem:
            self.message.setText(problem)
            return
        self.accept()

    def change_pin(self) -> None:
        """Set a new PIN (the current one was just given to open this page)."""
        if PinSetupDialog(self.mode.staff, self, first_time=False).exec() == \
                QDialog.DialogCode.Accepted:
            self.message.setText("The staff PIN was changed.")

    def open_settings(self) -> None:
        """The app's settings dialog, without asking for the PIN a second time."""
        with self.mode.guard.override():
            self.mode.window.actions_by_name["settings"].trigger()


# ---------------------------------------------------------------- the mode
