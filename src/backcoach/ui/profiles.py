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

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from backcoach.catalog.model import Level
from backcoach.store.atomic import StorageError
from backcoach.store.history import History
from backcoach.store.profiles import DEFAULT_ID, Profile, ProfileStore
from backcoach.store.settings import load_settings
from backcoach.ui.qt_names import named_action

log = logging.getLogger(__name__)


class ProfileSwitcher(QWidget):
    """"Profile: [name ▾]" on the home screen."""

    switch_requested = Signal(str)  # profile id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel("Profile")
        label.setProperty("role", "muted")
        from PySide6.QtWidgets import QComboBox  # made with a second profile only

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


class ProfilesController(QObject):
    """The "Profiles…" action, the home-screen switcher and the switch itself."""

    profile_changed = Signal(object)  # Profile

    def __init__(self, parts, store: ProfileStore, kiosk=None) -> None:
        super().__init__(parts.window)
        self.parts = parts
        self.window = window = parts.window
        self.store = store
        self.kiosk = kiosk
        self.action = named_action(window, "profiles", "Profiles…")
        self.action.triggered.connect(self.open_dialog)
        window.addAction(self.action)
        window.actions_by_name["profiles"] = self.action
        file_menu = getattr(window, "file_menu", None)
        if file_menu is not None:
            file_menu.insertAction(file_menu.actions()[0] if file_menu.actions() else None,
                                   self.action)
        self._switcher: ProfileSwitcher | None = None
        if kiosk is not None:
            kiosk.active_changed.connect(self._on_kiosk)
            self.action.setEnabled(not kiosk.active)
        self.refresh()

    @property
    def kiosk_active(self) -> bool:
        return self.kiosk is not None and self.kiosk.active

    @property
    def switcher(self) -> ProfileSwitcher:
        """The home screen's switcher, made when first needed: most people have one
        profile and never see it."""
        if self._switcher is None:
            self._switcher = ProfileSwitcher()
            self._switcher.setVisible(False)
            self._switcher.switch_requested.connect(self._on_switch_requested)
            slot = getattr(self.window.home, "profile_slot", None)
            if slot is not None:
                slot.addWidget(self._switcher)
        return self._switcher

    def refresh(self) -> None:
        """Show the switcher only when there is a choice (and never in kiosk mode)."""
        shown = self.store.several and not self.kiosk_active
        if shown or self._switcher is not None:
            self.switcher.set_profiles(self.store.profiles(), self.store.active().id)
            self.switcher.setVisible(shown)

    def open_dialog(self) -> None:
        """File → Profiles…"""
        if self.kiosk_active:
            return
        from backcoach.ui.profiles_dialogs import ProfilesDialog

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
