"""Profiles on the home screen: several people on one laptop, each with their own level,
voice settings and history.

One person never sees any of this: the switcher on the home screen appears only once a
second profile exists, made with File → "Profiles…". Switching keeps the same
SettingsStore object (pointed at the other profile's file, so every listener hears the
new values) and swaps the history database under the recorder. Kiosk mode (a gym PC)
always uses the default profile and hides the switcher.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
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

from backcoach.catalog.model import Level
from backcoach.store.atomic import StorageError
from backcoach.store.history import History
from backcoach.store.profiles import DEFAULT_ID, MAX_NAME, Profile, ProfileStore, name_problem
from backcoach.store.settings import LEVELS, load_settings

log = logging.getLogger(__name__)


class ProfileSwitcher(QWidget):
    """"Profile: [name ▾]" on the home screen."""

    switch_requested = Signal(str)  # profile id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel("Profile")
        label.setProperty("role", "muted")
        self.combo = QComboBox(objectName="profileSwitcher")
        self.combo.setAccessibleName("Profile")
        self.combo.setMinimumWidth(180)
        self.combo.activated.connect(self._on_activated)
        label.setBuddy(self.combo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo)

    def set_profiles(self, profiles: list[Profile], active_id: str) -> None:
        """Fill the list and show the active profile (without asking to switch)."""
        self.combo.blockSignals(True)
        self.combo.clear()
        for profile in profiles:
            self.combo.addItem(profile.name, profile.id)
        self.combo.setCurrentIndex(max(0, self.combo.findData(active_id)))
        self.combo.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        self.switch_requested.emit(self.combo.itemData(index))


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


class ProfilesController(QObject):
    """The "Profiles…" action, the home-screen switcher and the switch itself."""

    profile_changed = Signal(object)  # Profile

    def __init__(self, parts, store: ProfileStore, kiosk=None) -> None:
        super().__init__(parts.window)
        self.parts = parts
        self.window = window = parts.window
        self.store = store
        self.kiosk = kiosk
        self.action = QAction("Profiles…", window)
        self.action.setObjectName("action-profiles")
        self.action.triggered.connect(self.open_dialog)
        window.addAction(self.action)
        window.actions_by_name["profiles"] = self.action
        file_menu = getattr(window, "file_menu", None)
        if file_menu is not None:
            file_menu.insertAction(file_menu.actions()[0] if file_menu.actions() else None,
                                   self.action)
        self.switcher = ProfileSwitcher()
        self.switcher.switch_requested.connect(self._on_switch_requested)
        slot = getattr(window.home, "profile_slot", None)
        if slot is not None:
            slot.addWidget(self.switcher)
        if kiosk is not None:
            kiosk.active_changed.connect(self._on_kiosk)
            self.action.setEnabled(not kiosk.active)
        self.refresh()

    @property
    def kiosk_active(self) -> bool:
        return self.kiosk is not None and self.kiosk.active

    def refresh(self) -> None:
        """Show the switcher only when there is a choice (and never in kiosk mode)."""
        self.switcher.set_profiles(self.store.profiles(), self.store.active().id)
        self.switcher.setVisible(self.store.several and not self.kiosk_active)

    def open_dialog(self) -> None:
        """File → Profiles…"""
        if self.kiosk_active:
            return
        ProfilesDialog(self).exec()
        self.refresh()

    def _on_switch_requested(self, profile_id: str) -> None:
        problem = self.switch_to(profile_id)
        if problem:
            self.window.banner.show_message(problem)
            self.refresh()
        self.window.home.setFocus()

    def _on_kiosk(self, active: bool) -> None:
        self.action.setEnabled(not active)
        if active and self.store.active().id != DEFAULT_ID:
            self._switch(DEFAULT_ID)
        self.refresh()

    def switch_to(self, profile_id: str) -> str | None:
        """Use another profile now; a message if that is not possible."""
        if self.kiosk_active:
            return "Profiles are not used in kiosk mode."
        if self.window.driver is not None:
            return "Finish or leave the session before switching profiles."
        if profile_id == self.store.active().id:
            return None
        return self._switch(profile_id)

    def _switch(self, profile_id: str) -> str | None:
        window = self.window
        try:
            profile = self.store.set_active(profile_id)
        except (KeyError, StorageError) as exc:
            return f"Could not switch profiles: {exc}"
        problems: list[str] = []
        # The same SettingsStore, pointed at the other file: every listener hears the change.
        result = load_settings(profile.settings_file)
        store = window.settings_store
        store.path = profile.settings_file
        store.load_problem = result.problem
        if result.problem:
            problems.append(result.problem)
        saved = store.replace(result.settings)
        if saved:
            problems.append(saved)
        self._swap_history(profile, problems)
        settings = store.settings
        window.last_summary = None
        window.last_done_segments = frozenset()
        window.home.set_level(Level(settings.default_level))
        window.home.set_plan_options(window.plan_options())
        window.actions_by_name["high_contrast"].setChecked(settings.theme == "high-contrast")
        window.apply_theme()
        if settings.last_routine:
            window.home.select_id(settings.last_routine)
        for problem in problems:
            window.banner.show_message(problem)
        log.info("switched to profile %s", profile.id)
        self.refresh()
        self.profile_changed.emit(profile)
        return None

    def _swap_history(self, profile: Profile, problems: list[str]) -> None:
        parts = self.parts
        try:
            history = History(profile.history_db)
        except OSError as exc:
            problems.append(f"This profile's history cannot be opened, so sessions will not be "
                            f"saved. {exc}")
            history = None
        if history is not None and history.problem:
            problems.append(history.problem)
        old = parts.history
        parts.history = history
        if parts.recorder is not None:
            if history is not None:
                parts.recorder.history = history
            else:
                window = self.window
                window.session_started.disconnect(parts.recorder.on_started)
                window.session_finished.disconnect(parts.recorder.on_finished)
                parts.recorder = None
        elif history is not None and not self.kiosk_active:
            from backcoach.recorder import HistoryRecorder

            parts.recorder = HistoryRecorder(history, self.window)
        if old is not None:
            old.close()
        self.window.home.set_history_line("")
        pages = getattr(self.window, "settings_and_history", None)
        if pages is not None:  # the history page and the home line follow the profile
            pages.history = history
            if pages.history_view is not None:
                self.window.stack.removeWidget(pages.history_view)
                pages.history_view.deleteLater()
                pages.history_view = None
            pages.history_action.setEnabled(history is not None)
            pages.refresh()


def install_profiles(parts, store: ProfileStore, kiosk=None) -> ProfilesController:
    """Give the window its profiles action and switcher."""
    return ProfilesController(parts, store, kiosk)
