"""The profile dialogs: File → "Profiles…" (create, rename, delete, choose) and "New
profile". Kept apart from profiles.py so the home screen does not load them (and the Qt
widgets only they use) until the dialog is opened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.store.atomic import StorageError
from backcoach.store.profiles import DEFAULT_ID, MAX_NAME, name_problem
from backcoach.store.settings import LEVELS

if TYPE_CHECKING:
    from backcoach.ui.profiles import ProfilesController


class NewProfileDialog(QDialog):
    """A name and a level for a new profile."""

    def __init__(self, taken: list[str], level: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.taken = taken
        self.setObjectName("newProfileDialog")
        self.setWindowTitle("New profile")
        self.name = QLineEdit(objectName="profileName")
        self.name.setMaxLength(MAX_NAME)
        self.name.setAccessibleName("Name")
        self.level = QComboBox(objectName="profileLevel")
        self.level.setAccessibleName("Level")
        for value in LEVELS:
            self.level.addItem(value.capitalize(), value)
        self.level.setCurrentIndex(max(0, self.level.findData(level)))
        self.message = QLabel(objectName="profileMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Level", self.level)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        ok = QPushButton("Create", objectName="profileCreate")
        ok.setProperty("primary", True)
        ok.setDefault(True)
        ok.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        row.addWidget(ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(row)

    def submit(self) -> None:
        """Accept if the name is usable."""
        why = name_problem(self.name.text(), self.taken)
        if why:
            self.message.setText(why)
            return
        self.accept()


class ProfilesDialog(QDialog):
    """Create, rename, delete and choose profiles."""

    def __init__(self, controller: ProfilesController) -> None:
        super().__init__(controller.window)
        self.controller = controller
        self.setObjectName("profilesDialog")
        self.setWindowTitle("Profiles")
        self.setMinimumSize(520, 380)
        intro = QLabel("Each person on this computer can have a profile with their own level, "
                       "voice settings and history.")
        intro.setWordWrap(True)
        self.list = QListWidget(objectName="profileList")
        self.list.setAccessibleName("Profiles")
        self.list.itemActivated.connect(lambda _item: self.use_selected())
        self.message = QLabel(objectName="profilesMessage")
        self.message.setWordWrap(True)
        buttons = QVBoxLayout()
        for text, name, slot in (("New…", "profileNew", self.new_profile),
                                 ("Rename…", "profileRename", self.rename_selected),
                                 ("Delete…", "profileDelete", self.delete_selected),
                                 ("Use this profile", "profileUse", self.use_selected)):
            button = QPushButton(text, objectName=name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        layout.addWidget(self.message)
        for button in self.findChildren(QPushButton):  # Enter in the list uses the profile
            button.setAutoDefault(False)
        self.fill()

    def fill(self) -> None:
        """List the profiles, the active one marked."""
        store = self.controller.store
        active = store.active().id
        self.list.clear()
        for profile in store.profiles():
            text = profile.name + ("   (in use)" if profile.id == active else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, profile.id)
            self.list.addItem(item)
            if profile.id == active:
                self.list.setCurrentItem(item)

    def _selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def new_profile(self) -> None:
        """Ask for a name and level, then create the profile."""
        store = self.controller.store
        current = self.controller.window.settings_store.settings
        dialog = NewProfileDialog([p.name for p in store.profiles()], current.default_level, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            profile = store.create(dialog.name.text(), dialog.level.currentData(), base=current)
        except (StorageError, ValueError) as exc:
            self.message.setText(f"The profile could not be created: {exc}")
            return
        self.message.setText(f"Profile {profile.name} created.")
        self.fill()
        self.controller.refresh()

    def rename_selected(self) -> None:
        """A new name for the selected profile."""
        pid = self._selected()
        if pid is None:
            return
        store = self.controller.store
        name, ok = QInputDialog.getText(self, "Rename profile", "New name",
                                        text=store.get(pid).name)
        if not ok:
            return
        try:
            store.rename(pid, name)
        except (StorageError, ValueError) as exc:
            self.message.setText(str(exc))
            return
        self.fill()
        self.controller.refresh()

    def delete_selected(self) -> None:
        """Delete the selected profile and its history, after asking."""
        pid = self._selected()
        if pid is None:
            return
        store = self.controller.store
        if pid == DEFAULT_ID:
            self.message.setText("The main profile cannot be deleted.")
            return
        name = store.get(pid).name
        answer = QMessageBox.question(
            self, "Delete profile?", f"Delete the profile {name} with its settings and "
            "history? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if store.active().id == pid:
            problem = self.controller.switch_to(DEFAULT_ID)
            if problem:
                self.message.setText(problem)
                return
        try:
            store.delete(pid)
        except (StorageError, ValueError) as exc:
            self.message.setText(str(exc))
            return
        self.fill()
        self.controller.refresh()

    def use_selected(self) -> None:
        """Switch to the selected profile."""
        pid = self._selected()
        if pid is None:
            return
        problem = self.controller.switch_to(pid)
        self.message.setText(problem or f"Now using {self.controller.store.get(pid).name}.")
        self.fill()
