"""Kiosk mode for a shared gym PC: the staff-PIN guard, the PIN dialogs, the idle reset
and the staff page.

Members walk up, pick a routine, follow it and walk away; staff set the PC up once.

- **Guard.** `KioskGuard.allow` is the window's gatekeeper: in kiosk mode quitting (Ctrl+Q,
  Alt+F4, the close button: all reach `closeEvent`), leaving full screen, the settings,
  the editor, deleting history, the staff page and turning kiosk mode off all need the
  staff PIN. Unknown actions need it too (deny by default). The menu bar is hidden; the
  shortcuts still work, and Ctrl+Alt+S ("Staff…") opens the PIN prompt, then the staff
  page. Esc on the home screen does nothing, and a window manager that takes the window
  out of full screen is overruled.
- **Clean slate.** `IdleReset` watches input with an application event filter and an
  injected clock. After the summary (2 min), a pause (10 min), or a running session that
  should have ended long ago (its remaining time plus a margin, as a safety net), it
  closes any dialog, stops what was left, forgets the summary and goes home: the next
  member sees nothing of the previous one.
- **No personal data.** The history recorder is off in kiosk mode; only anonymous counts
  (store/kiosk_stats.py) are kept, shown to staff on the staff page.
- **Staff PIN.** store/staff.py keeps a salted scrypt hash, never the PIN; five wrong tries
  lock entry for a minute, across restarts.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.model import Level
from backcoach.session.events import State
from backcoach.store.atomic import StorageError
from backcoach.store.kiosk_stats import KioskStats
from backcoach.store.paths import AppPaths
from backcoach.store.settings import Settings
from backcoach.store.staff import (
    LIMITS,
    MAX_PIN_DIGITS,
    MAX_TRIES,
    MIN_PIN_DIGITS,
    STAFF_FILE,
    KioskConfig,
    StaffStore,
    pin_problem,
    save_kiosk_config,
)
from backcoach.ui.theme import Theme, resolve_theme

log = logging.getLogger(__name__)

KIOSK_HINT = "Pick a routine with the arrows, then press Enter or Space"
STAFF_SHORTCUT = "Ctrl+Alt+S"
# What each gated action is called in the PIN prompt ("Enter the staff PIN to ...").
ACTION_WORDS = {
    "quit": "quit BackCoach",
    "leave-fullscreen": "leave full screen",
    "settings": "open the settings",
    "editor": "open the routine editor",
    "delete-history": "delete the history",
    "kiosk-off": "turn kiosk mode off",
    "staff": "open the staff page",
    "profiles": "manage profiles",
}
# Actions a kiosk member has no use for: personal history, profiles, the theme (staff set
# it in the settings). They are disabled, and their home-screen buttons hidden.
NOT_IN_KIOSK = ("history", "profiles", "high_contrast")
_INPUT_EVENTS = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                           QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove,
                           QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate})
_WINDOW_EVENTS = frozenset({QEvent.Type.Show, QEvent.Type.WindowStateChange})


def _big(widget: QWidget, points: int, bold: bool = False) -> QWidget:
    widget.setStyleSheet(f"font-size: {points}pt;" + (" font-weight: 700;" if bold else ""))
    return widget


def _theme_of(widget: QWidget | None) -> Theme:
    window = widget.window() if widget is not None else None
    theme = getattr(window, "theme", None)
    return theme if isinstance(theme, Theme) else resolve_theme("system")


def _no_auto_default(dialog: QDialog) -> None:
    """Enter belongs to the fields (submit, next field): no button may take it over, or
    Enter after a wrong PIN would also press Cancel, the first "auto default" button."""
    for button in dialog.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)


def _framed(dialog: QDialog, parent: QWidget | None) -> None:
    """A visible edge and its own surface, so a dialog stands out on a full-screen kiosk
    even with no window manager drawing a frame."""
    theme = _theme_of(parent)
    dialog.setStyleSheet(f"QDialog#{dialog.objectName()} {{ background: {theme.surface}; "
                         f"border: 3px solid {theme.accent}; }}")


# ---------------------------------------------------------------- PIN dialogs

class PinDialog(QDialog):
    """Asks for the staff PIN; says how many tries are left and counts down a lock."""

    def __init__(self, staff: StaffStore, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.staff = staff
        self.setObjectName("pinDialog")
        self.setWindowTitle("Staff PIN")
        self.setModal(True)
        self.setMinimumWidth(560)
        _framed(self, parent)
        title = QLabel("Staff only")
        title.setProperty("role", "title")
        self.purpose = _big(QLabel(f"Enter the staff PIN to {purpose}."), 14)
        self.purpose.setWordWrap(True)
        self.pin_edit = QLineEdit(objectName="pinEdit")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setMaxLength(MAX_PIN_DIGITS)
        self.pin_edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(rf"\d{{0,{MAX_PIN_DIGITS}}}"), self.pin_edit))
        self.pin_edit.setPlaceholderText("PIN")
        self.pin_edit.setAccessibleName("Staff PIN")
        self.pin_edit.setMinimumHeight(56)
        self.pin_edit.setStyleSheet("font-size: 22pt; padding: 4px 12px; letter-spacing: 6px;")
        self.pin_edit.returnPressed.connect(self.submit)
        self.message = _big(QLabel(objectName="pinMessage"), 13)
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(48)
        self.cancel_button = QPushButton("Cancel", objectName="pinCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton("Unlock", objectName="pinOk")
        self.ok_button.setProperty("primary", True)
        self.ok_button.setMinimumWidth(160)
        self.ok_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 26, 32, 24)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(self.purpose)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self._lock_timer = QTimer(self)
        self._lock_timer.setInterval(1000)
        self._lock_timer.timeout.connect(self.refresh_lock)
        _no_auto_default(self)
        self.refresh_lock()

    def submit(self) -> None:
        """Check the PIN typed so far (the field is cleared either way)."""
        if not self.pin_edit.isEnabled():
            return
        entered = self.pin_edit.text()
        self.pin_edit.clear()
        if not entered:
            self.message.setText("Type the PIN, then press Enter.")
            return
        try:
            check = self.staff.verify(entered)
        except StorageError as exc:
            self.message.setText(f"The PIN could not be checked: {exc}")
            return
        if check.ok:
            self.accept()
        elif check.locked_for > 0:
            self.refresh_lock()
        else:
            tries = "1 more try" if check.tries_left == 1 else f"{check.tries_left} more tries"
            self.message.setText(f"Wrong PIN. {tries} before PIN entry locks for a minute.")
            self.pin_edit.setFocus()

    def refresh_lock(self) -> None:
        """Lock or unlock entry from the staff file (called every second while locked)."""
        try:
            left = self.staff.locked_for()
        except StorageError as exc:
            self.message.setText(f"The staff file could not be read: {exc}")
            left = 0.0
        locked = left > 0
        self.pin_edit.setEnabled(not locked)
        self.ok_button.setEnabled(not locked)
        if locked:
            self.message.setText(f"{MAX_TRIES} wrong tries: PIN entry is locked. "
                                 f"Try again in {math.ceil(left)} s.")
            if not self._lock_timer.isActive():
                self._lock_timer.start()
        elif self._lock_timer.isActive():
            self._lock_timer.stop()
            self.message.setText("You can try again now.")
            self.pin_edit.setFocus()


class PinSetupDialog(QDialog):
    """Sets (or changes) the staff PIN: typed twice, saved only as a salted hash."""

    def __init__(self, staff: StaffStore, parent: QWidget | None = None, *,
                 first_time: bool = True) -> None:
        super().__init__(parent)
        self.staff = staff
        self.setObjectName("pinSetupDialog")
        self.setWindowTitle("Set the staff PIN" if first_time else "Change the staff PIN")
        self.setModal(True)
        self.setMinimumWidth(640)
        _framed(self, parent)
        title = QLabel(self.windowTitle())
        title.setProperty("role", "title")
        intro = _big(QLabel(
            ("Kiosk mode is for a PC that members share. " if first_time else "")
            + "Staff need this PIN to quit BackCoach, change its settings or turn kiosk mode "
            f"off. Use {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits."), 13)
        intro.setWordWrap(True)
        reset = QLabel(f"The PIN is stored only as a salted hash. If it is forgotten, an "
                       f"administrator deletes {staff.path} and sets a new one.")
        reset.setProperty("role", "muted")
        reset.setStyleSheet("font-size: 11pt;")
        reset.setWordWrap(True)
        reset.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.first_edit = self._pin_edit("newPin", "New PIN")
        self.second_edit = self._pin_edit("repeatPin", "The same PIN again")
        self.first_edit.returnPressed.connect(self.second_edit.setFocus)
        self.second_edit.returnPressed.connect(self.submit)
        form = QGridLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(12)
        for row, (text, edit) in enumerate((("New PIN", self.first_edit),
                                             ("Same PIN again", self.second_edit))):
            label = _big(QLabel(text), 13)
            label.setBuddy(edit)
            form.addWidget(label, row, 0, Qt.AlignmentFlag.AlignVCenter)
            form.addWidget(edit, row, 1)
        form.setColumnStretch(1, 1)
        self.message = _big(QLabel(objectName="pinSetupMessage"), 13)
        self.message.setWordWrap(True)
        cancel = QPushButton("Cancel", objectName="pinSetupCancel")
        cancel.clicked.connect(self.reject)
        self.ok_button = QPushButton("Save PIN", objectName="pinSetupOk")
        self.ok_button.setProperty("primary", True)
        self.ok_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(self.ok_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 26, 32, 24)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(reset)
        layout.addWidget(self.message)
        layout.addLayout(row)
        _no_auto_default(self)

    def _pin_edit(self, name: str, accessible: str) -> QLineEdit:
        edit = QLineEdit(objectName=name)
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setMaxLength(MAX_PIN_DIGITS)
        edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(rf"\d{{0,{MAX_PIN_DIGITS}}}"), edit))
        edit.setAccessibleName(accessible)
        edit.setMinimumHeight(48)
        edit.setStyleSheet("font-size: 18pt; padding: 2px 10px; letter-spacing: 4px;")
        return edit

    def submit(self) -> None:
        """Save the PIN if both entries agree and it is a valid PIN."""
        first, second = self.first_edit.text(), self.second_edit.text()
        why = pin_problem(first)
        if why:
            self.message.setText(why)
            self.first_edit.setFocus()
            return
        if first != second:
            self.second_edit.clear()
            self.message.setText("The two PINs differ: type the same PIN twice.")
            self.second_edit.setFocus()
            return
        try:
            self.staff.set_pin(first)
        except (StorageError, ValueError) as exc:
            self.message.setText(f"The PIN could not be saved: {exc}")
            return
        self.first_edit.clear()
        self.second_edit.clear()
        self.accept()


# ---------------------------------------------------------------- guard

class KioskGuard:
    """The window's gatekeeper: everything but following routines needs the staff PIN."""

    def __init__(self, mode: KioskMode) -> None:
        self.mode = mode
        self._override = 0

    def allow(self, action: str) -> bool:
        """Whether `action` may go ahead; in kiosk mode asks for the staff PIN."""
        if not self.mode.active or self._override:
            return True
        allowed = self.mode.ask_pin(ACTION_WORDS.get(action, f"go on ({action})"))
        log.info("kiosk: %s %s", action, "allowed with the staff PIN" if allowed else "refused")
        if allowed and action == "leave-fullscreen":
            self.mode.fullscreen_released = True
        return allowed

    @contextmanager
    def override(self) -> Iterator[None]:
        """Let actions through without asking again (staff already gave the PIN)."""
        self._override += 1
        try:
            yield
        finally:
            self._override -= 1


# ---------------------------------------------------------------- idle reset

class IdleReset(QObject):
    """Brings the kiosk back to a clean home screen when a member walks away."""

    reset_done = Signal()

    def __init__(self, mode: KioskMode, clock: Callable[[], float]) -> None:
        super().__init__(mode)
        self.mode = mode
        self.window = mode.window
        self.clock = clock
        self.last_input = clock()
        self.clean = True
        self.paused_at: float | None = None
        self.summary_at: float | None = None
        self.expected_end: float | None = None
        self.running = False
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.check)
        self.window.session_started.connect(self._on_session_started)
        self.window.session_finished.connect(self._on_session_finished)

    def start(self) -> None:
        """Watch input and check once a second."""
        if not self.running:
            QApplication.instance().installEventFilter(self)
            self.running = True
        self.timer.start()
        self.touch()

    def stop(self) -> None:
        """Stop watching."""
        if self.running:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self.running = False
        self.timer.stop()

    # -- activity --------------------------------------------------------------------
    def touch(self) -> None:
        """Someone is here: restart the idle times."""
        now = self.clock()
        self.last_input = now
        self.clean = False
        driver = self.window.driver
        if driver is not None and driver.engine.state is State.RUNNING:
            self.expected_end = now + driver.engine.remaining()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Note input; swallow Esc on the home screen; keep the window full screen."""
        kind = event.type()
        if kind in _INPUT_EVENTS:
            self.touch()
            if kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape and \
                    self._on_home(obj):
                return True
        elif kind in _WINDOW_EVENTS and obj is self.window:
            self.mode.keep_fullscreen()
        return False

    def _on_home(self, obj: QObject) -> bool:
        if not isinstance(obj, QWidget) or obj.window() is not self.window:
            return False
        return (self.window.stack.currentWidget() is self.window.home
                and QApplication.activeModalWidget() is None)

    def _on_session_started(self, driver) -> None:
        self.touch()
        self.paused_at = None
        self.summary_at = None
        driver.state_changed.connect(self._on_state_changed)

    def _on_state_changed(self, event) -> None:
        now = self.clock()
        if event.new is State.PAUSED:
            self.paused_at = now
        elif event.new is State.RUNNING:
            self.paused_at = None
            driver = self.window.driver
            if driver is not None:
                self.expected_end = now + driver.engine.remaining()

    def _on_session_finished(self, summary, event) -> None:
        self.summary_at = self.clock()

    # -- the check -------------------------------------------------------------------
    def due(self) -> str | None:
        """Why a reset is due now ("paused", "running", "summary", "home"), or None."""
        config = self.mode.config
        now = self.clock()
        window = self.window
        driver = window.driver
        if driver is not None:
            state = driver.engine.state
            if state is State.PAUSED:
                since = max(self.last_input, self.paused_at or self.last_input)
                return "paused" if now - since >= config.paused_seconds else None
            if state is State.RUNNING and self.expected_end is not None:
                late = now - max(self.expected_end, self.last_input)
                return "running" if late >= config.running_margin_seconds else None
            return None
        if window.stack.currentWidget() is window.summary_view:
            since = max(self.last_input, self.summary_at or self.last_input)
            return "summary" if now - since >= config.after_summary_seconds else None
        if not self.clean and now - self.last_input >= config.after_summary_seconds:
            return "home"
        return None

    def check(self) -> None:
        """Reset if the member has gone (called every second, and by tests)."""
        if not self.mode.active or self.mode.setup_dialog is not None:
            return  # staff setting the PIN are not a member who walked away
        why = self.due()
        if why is not None:
            log.info("kiosk: back to a clean home screen (idle: %s)", why)
            self.reset()

    def reset(self) -> None:
        """Close dialogs, stop and forget the session, and show a fresh home screen."""
        close_modals()
        window = self.window
        window.discard_session()
        summary = window.summary_view
        summary.summary = None
        for label in (summary.headline, summary.details, summary.saved):
            label.clear()
        summary.setAccessibleDescription("")
        mute = window.actions_by_name["mute"]
        if mute.isChecked():
            mute.trigger()
        self.mode.prepare_home()
        self.mode.fullscreen_released = False
        self.mode.keep_fullscreen()
        self.paused_at = self.summary_at = self.expected_end = None
        self.last_input = self.clock()
        self.clean = True
        window.home.setFocus()
        self.reset_done.emit()


def close_modals() -> None:
    """Close every open dialog and popup, innermost first."""
    app = QApplication.instance()
    for _ in range(20):
        popup = app.activePopupWidget()
        if popup is None:
            break
        popup.close()
    for _ in range(20):
        modal = app.activeModalWidget()
        if modal is None:
            break
        if isinstance(modal, QDialog):
            modal.reject()
        else:
            modal.close()
        if app.activeModalWidget() is modal:
            modal.hide()


# ---------------------------------------------------------------- staff page

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
        _no_auto_default(self)
        theme = _theme_of(window)
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

class KioskMode(QObject):
    """Kiosk mode on one window: turns it on and off and owns the guard and idle reset."""

    active_changed = Signal(bool)

    def __init__(self, parts, paths: AppPaths, config: KioskConfig, *,
                 clock: Callable[[], float], wall_clock: Callable[[], float],
                 today: Callable[[], date]) -> None:
        super().__init__(parts.window)
        self.parts = parts
        self.window = window = parts.window
        self.paths = paths
        self.config = config
        self.staff = StaffStore(paths.config_dir, clock=wall_clock)
        self.stats = KioskStats(paths.data_dir, today=today)
        self.guard = KioskGuard(self)
        window.gatekeeper = self.guard.allow
        self.idle = IdleReset(self, clock)
        self.active = False
        self.fullscreen_released = False
        self.pin_dialog: PinDialog | None = None
        self.setup_dialog: PinSetupDialog | None = None
        self.staff_page: StaffPage | None = None
        self.initial_level = Level(window.settings_store.settings.default_level)
        self._routine_id: str | None = None
        self._cap_pending = False

        self.staff_action = self._add_action("staff", "Staff…", [STAFF_SHORTCUT],
                                             self.open_staff_page)
        self.kiosk_action = self._add_action("kiosk", "Kiosk mode for a shared PC…", [],
                                             self.turn_on)
        file_menu = getattr(window, "file_menu", None)
        if file_menu is not None:
            quit_action = window.actions_by_name.get("quit")
            file_menu.insertAction(quit_action, self.kiosk_action)
            file_menu.insertSeparator(quit_action)
        window.session_started.connect(self._on_session_started)
        window.session_finished.connect(self._on_session_finished)
        window.summary_view.home_requested.connect(self._on_summary_home)
        window.stack.currentChanged.connect(self._on_page_changed)
        window.settings_store.subscribe(self._on_settings)

    def _add_action(self, name: str, text: str, keys: list[str],
                    slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action-{name}")
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.window.addAction(action)
        self.window.actions_by_name[name] = action
        return action

    # -- on and off ------------------------------------------------------------------
    def activate(self) -> None:
        """Enter kiosk mode (the PIN is set up separately, see `ensure_pin`)."""
        window = self.window
        self.active = True
        self.active_changed.emit(True)  # e.g. profiles go back to the default one first
        self.initial_level = Level(window.settings_store.settings.default_level)
        set_recording(self.parts, False)
        window.menuBar().setVisible(False)
        self._show_member_extras(False)
        self.staff_action.setEnabled(True)
        self.kiosk_action.setVisible(False)
        home = window.home
        home.history_line.clear()
        home.history_line.hide()
        home.kiosk_hint.setText(KIOSK_HINT)
        home.kiosk_hint.show()
        home.hint.hide()
        self.prepare_home()
        self.fullscreen_released = False
        self.keep_fullscreen()
        self._enforce_volume_cap()
        self.idle.start()
        log.info("kiosk mode on")

    def deactivate(self) -> None:
        """Back to the normal app (history kept again, menus back)."""
        window = self.window
        self.active = False
        self.idle.stop()
        set_recording(self.parts, True)
        window.menuBar().setVisible(True)
        self._show_member_extras(True)
        self.staff_action.setEnabled(False)
        self.kiosk_action.setVisible(True)
        home = window.home
        home.kiosk_hint.hide()
        home.hint.show()
        home.history_line.show()
        home.set_catalog(window.catalog)
        if window.isFullScreen():
            window.showNormal()
            window.actions_by_name["fullscreen"].setChecked(False)
        log.info("kiosk mode off")
        self.active_changed.emit(False)

    def _show_member_extras(self, on: bool) -> None:
        """History, profiles and the theme toggle are not for a shared PC's members."""
        actions = [self.window.actions_by_name[name] for name in NOT_IN_KIOSK
                   if name in self.window.actions_by_name]
        for action in actions:
            no_history = action.objectName() == "action-history" and self.parts.history is None
            action.setEnabled(on and not no_history)
        for button in self.window.home.findChildren(QToolButton):
            if button.defaultAction() in actions:
                button.setVisible(on)

    def ensure_pin(self) -> bool:
        """Make sure a staff PIN exists, asking staff to set one (twice) if not."""
        return self.staff.has_pin() or self.setup_pin()

    def setup_pin(self) -> bool:
        """The set-PIN dialog; True once a PIN is saved."""
        dialog = PinSetupDialog(self.staff, self.window)
        self.setup_dialog = dialog
        try:
            return dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            self.setup_dialog = None
            dialog.deleteLater()

    def ask_pin(self, purpose: str) -> bool:
        """The PIN prompt; True when the right PIN was given."""
        try:
            has_pin = self.staff.has_pin()
        except StorageError as exc:
            self.window.banner.show_message(f"The staff PIN file cannot be read: {exc}")
            return False
        if not has_pin:  # deleted by an administrator to reset it: set a new one now
            return self.setup_pin()
        dialog = PinDialog(self.staff, purpose, self.window)
        self.pin_dialog = dialog
        try:
            return dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            self.pin_dialog = None
            dialog.deleteLater()

    def turn_on(self) -> None:
        """The menu action: set (or give) the staff PIN, then enter kiosk mode for good."""
        if self.active:
            return
        if self.staff.has_pin():
            dialog = PinDialog(self.staff, "turn kiosk mode on", self.window)
            self.pin_dialog = dialog
            ok = dialog.exec() == QDialog.DialogCode.Accepted
            self.pin_dialog = None
            dialog.deleteLater()
        else:
            ok = self.setup_pin()
        if not ok:
            return
        problem = self.apply_config(dataclasses.replace(self.config, enabled=True))
        if problem:
            self.window.banner.show_message(problem)
        self.activate()

    def turn_off(self) -> None:
        """Leave kiosk mode and remember that (a `--kiosk` start turns it on again)."""
        problem = self.apply_config(dataclasses.replace(self.config, enabled=False))
        if problem:
            self.window.banner.show_message(problem)
        self.deactivate()

    # -- staff page ------------------------------------------------------------------
    def open_staff_page(self) -> None:
        """Ctrl+Alt+S: the PIN, then the staff page."""
        if not self.active or not self.ask_pin(ACTION_WORDS["staff"]):
            return
        page = StaffPage(self)
        self.staff_page = page
        result = page.exec()
        self.staff_page = None
        page.deleteLater()
        if result == StaffPage.KIOSK_OFF:
            self.turn_off()
        elif result == StaffPage.QUIT:
            with self.guard.override():
                self.window.close()

    def apply_config(self, config: KioskConfig) -> str | None:
        """Save and apply a configuration; a message if it could not be saved."""
        self.config = config
        if self.active:
            self.prepare_home()
            self._enforce_volume_cap()
        try:
            save_kiosk_config(self.paths.config_dir, config)
        except StorageError as exc:
            log.warning("kiosk settings not saved: %s", exc)
            return f"The kiosk settings could not be saved: {exc}"
        return None

    # -- home ------------------------------------------------------------------------
    def _apply_routines(self) -> str:
        """Show the staff's routines in their order (again, if something rebuilt the
        cards, e.g. the routine editor); returns the featured routine's id or ""."""
        home = self.window.home
        catalog = self.window.catalog
        ids = [rid for rid in self.config.routines if rid in catalog.routines]
        featured = self.config.featured if self.config.featured in catalog.routines else ""
        home.set_catalog(catalog, ids or None)
        for card in home.cards:
            if card.routine.id == featured:
                card.name.setText(f"★ {card.routine.name}")
                card.setAccessibleName(f"Featured routine: {card.routine.name}")
        return featured

    def _on_page_changed(self, _index: int) -> None:
        home = self.window.home
        if self.active and self.window.stack.currentWidget() is home:
            wanted = [rid for rid in self.config.routines if rid in self.window.catalog.routines]
            shown = [card.routine.id for card in home.cards]
            featured = self.config.featured
            marked = any(card.name.text().startswith("★") for card in home.cards)
            if (wanted and shown != wanted) or (featured in shown and not marked):
                selected = home.selected_routine
                self._apply_routines()
                if selected:
                    home.select_id(selected)

    def prepare_home(self) -> None:
        """The kiosk home: the staff's routines in their order, the featured one chosen."""
        window = self.window
        home = window.home
        featured = self._apply_routines()
        if featured and any(card.routine.id == featured for card in home.cards):
            home.select_id(featured)
        elif home.cards:
            home.select_id(home.cards[0].routine.id)
        if home.level is not self.initial_level:
            home.set_level(self.initial_level)
        home.set_history_line("")

    def keep_fullscreen(self) -> None:
        """In kiosk mode the shown window stays full screen unless staff said otherwise."""
        if not self.active or self.fullscreen_released:
            return
        window = self.window
        if window.isVisible() and not window.isFullScreen():
            QTimer.singleShot(0, self._fullscreen)

    def _fullscreen(self) -> None:
        window = self.window
        if self.active and not self.fullscreen_released and not window.isFullScreen():
            window.showFullScreen()
            window.actions_by_name["fullscreen"].setChecked(True)
            QTimer.singleShot(200, self._cover_screen)

    def _cover_screen(self) -> None:
        """A kiosk session may run with no window manager to honour full screen: then the
        window is made to cover the screen itself (on the native window, so the widget
        keeps its full-screen state)."""
        window = self.window
        screen = window.screen()
        handle = window.windowHandle()
        if self.active and window.isFullScreen() and screen is not None and \
                handle is not None and window.geometry() != screen.geometry():
            handle.setGeometry(screen.geometry())

    # -- sessions, counts, volume ----------------------------------------------------
    def _on_session_started(self, driver) -> None:
        self._routine_id = driver.engine.timeline.routine_id
        if self.active:
            self._count(self.stats.record_started, self._routine_id)

    def _on_session_finished(self, summary, event) -> None:
        if self.active and event.completed and self._routine_id:
            self._count(self.stats.record_completed, self._routine_id)
        self._routine_id = None

    def _count(self, record: Callable[[str], None], routine_id: str) -> None:
        try:
            record(routine_id)
        except StorageError as exc:  # staff see it on the staff page; members need not
            log.warning("kiosk counts not saved: %s", exc)

    def _on_summary_home(self) -> None:
        if self.active:
            self.idle.reset()

    def _on_settings(self, settings: Settings) -> None:
        if self.active and settings.voice.volume > self.config.volume_cap + 1e-9 and \
                not self._cap_pending:
            # After the other listeners have heard of this change, not in the middle of it.
            self._cap_pending = True
            QTimer.singleShot(0, self._enforce_volume_cap)

    def _enforce_volume_cap(self) -> None:
        self._cap_pending = False
        store = self.window.settings_store
        voice = store.settings.voice
        if self.active and voice.volume > self.config.volume_cap + 1e-9:
            capped = dataclasses.replace(voice, volume=self.config.volume_cap)
            problem = store.replace(dataclasses.replace(store.settings, voice=capped))
            if problem:
                log.warning("volume cap not saved: %s", problem)


def set_recording(parts, on: bool) -> None:
    """Keep and show personal history (`on`) or not (kiosk mode): connects the recorder or
    drops it, and gives the history page its database or none."""
    from backcoach.recorder import HistoryRecorder

    window = parts.window
    if on and parts.recorder is None and parts.history is not None:
        parts.recorder = HistoryRecorder(parts.history, window)
    elif not on and parts.recorder is not None:
        window.session_started.disconnect(parts.recorder.on_started)
        window.session_finished.disconnect(parts.recorder.on_finished)
        parts.recorder = None
    pages = getattr(window, "settings_and_history", None)
    if pages is not None:
        pages.history = parts.history if on else None
        if pages.history_view is not None:  # made for the other database: make it afresh
            window.stack.removeWidget(pages.history_view)
            pages.history_view.deleteLater()
            pages.history_view = None
        if on:
            pages.refresh()


def install_kiosk(parts, paths: AppPaths, config: KioskConfig, *, active: bool,
                  clock: Callable[[], float], wall_clock: Callable[[], float],
                  today: Callable[[], date]) -> KioskMode:
    """Give the window its kiosk mode (and turn it on if `active`)."""
    mode = KioskMode(parts, paths, config, clock=clock, wall_clock=wall_clock, today=today)
    if active:
        mode.activate()
    else:
        mode.staff_action.setEnabled(False)
    return mode


def staff_file(config_dir: Path) -> Path:
    """Where the staff PIN hash lives (delete it to reset a forgotten PIN)."""
    return Path(config_dir) / STAFF_FILE
