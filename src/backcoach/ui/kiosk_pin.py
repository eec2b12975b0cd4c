"""The kiosk's staff-PIN dialogs: asking for the PIN, and setting it up.

Loaded when kiosk mode first needs one (see kiosk.py), not at every start: their widgets
and validators cost start-up time that a home PC never uses.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.store.atomic import StorageError
from backcoach.store.staff import (
    MAX_PIN_DIGITS,
    MAX_TRIES,
    MIN_PIN_DIGITS,
    StaffStore,
    pin_problem,
)
from backcoach.ui.theme import Theme, resolve_theme


def big(widget: QWidget, points: int, bold: bool = False) -> QWidget:
    """Large type: the kiosk is read from a mat, not from a chair."""
    widget.setStyleSheet(f"font-size: {points}pt;" + (" font-weight: 700;" if bold else ""))
    return widget


def theme_of(widget: QWidget | None) -> Theme:
    """The theme of the window a dialog belongs to (the system's if it has none)."""
    window = widget.window() if widget is not None else None
    theme = getattr(window, "theme", None)
    return theme if isinstance(theme, Theme) else resolve_theme("system")


def no_auto_default(dialog: QDialog) -> None:
    """Enter belongs to the fields (submit, next field): no button may take it over, or
    Enter after a wrong PIN would also press Cancel, the first "auto default" button."""
    for button in dialog.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)


def framed(dialog: QDialog, parent: QWidget | None) -> None:
    """A visible edge and its own surface, so a dialog stands out on a full-screen kiosk
    even with no window manager drawing a frame."""
    theme = theme_of(parent)
    dialog.setStyleSheet(f"QDialog#{dialog.objectName()} {{ background: {theme.surface}; "
                         f"border: 3px solid {theme.accent}; }}")



class PinDialog(QDialog):
    """Asks for the staff PIN; says how many tries are left and counts down a lock."""

    def __init__(self, staff: StaffStore, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.staff = staff
        self.setObjectName("pinDialog")
        self.setWindowTitle("Staff PIN")
        self.setModal(True)
        self.setMinimumWidth(560)
        framed(self, parent)
        title = QLabel("Staff only")
        title.setProperty("role", "title")
        self.purpose = big(QLabel(f"Enter the staff PIN to {purpose}."), 14)
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
        self.message = big(QLabel(objectName="pinMessage"), 13)
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
        no_auto_default(self)
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
        framed(self, parent)
        title = QLabel(self.windowTitle())
        title.setProperty("role", "title")
        intro = big(QLabel(
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
            label = big(QLabel(text), 13)
            label.setBuddy(edit)
            form.addWidget(label, row, 0, Qt.AlignmentFlag.AlignVCenter)
            form.addWidget(edit, row, 1)
        form.setColumnStretch(1, 1)
        self.message = big(QLabel(objectName="pinSetupMessage"), 13)
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
        no_auto_default(self)

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
