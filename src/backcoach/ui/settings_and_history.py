"""Plugs the settings dialog and the history page into the main window.

Kept apart from main_window.py so that the window stays about following a session; this
module owns the Ctrl+, and Ctrl+H actions, the history page and the home screen's
"last session" line, and makes every part follow a settings change.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtGui import QAction, QKeySequence

from backcoach.store.history import History
from backcoach.store.settings import Settings
from backcoach.ui.qt_names import named_action

# How long opening settings the first time waits for the speech engine to list its voices.
VOICE_LIST_WAIT = 2.0


class SettingsAndHistory:
    """The settings action, the history page and what must follow a settings change."""

    def __init__(self, window, history: History | None) -> None:
        self.window = window
        self.history = history
        self.history_view = None  # made on first use: the home screen does not need it
        store = window.settings_store
        self.settings_action = self._action("settings", "Settings…", "Ctrl+,", self.open_settings)
        window.file_menu.insertAction(window.actions_by_name["quit"], self.settings_action)
        window.file_menu.insertSeparator(window.actions_by_name["quit"])
        self.delete_action = self._action("delete_history", "Delete history…", "",
                                          self.delete_history)
        window.file_menu.insertAction(window.actions_by_name["quit"], self.delete_action)
        self.history_action = self._action("history", "History", "Ctrl+H", self.show_history)
        window.view_menu.insertAction(window.actions_by_name["fullscreen"], self.history_action)
        self.history_action.setEnabled(history is not None)
        window.home.add_button(self.history_action)
        window.session_finished.connect(lambda *_: self.refresh())
        store.subscribe(self._on_settings_changed)
        self.refresh()

    def _action(self, name: str, text: str, keys: str, slot) -> QAction:
        action = named_action(self.window, name, text)
        if keys:
            action.setShortcuts([QKeySequence(keys)])  # one overload: see ui/qt_names
        action.triggered.connect(slot)
        self.window.addAction(action)
        self.window.actions_by_name[name] = action
        return action

    # -- settings --------------------------------------------------------------------
    def open_settings(self) -> bool:
        """Ctrl+,: the settings dialog (staff only in kiosk mode); True if saved."""
        window = self.window
        if window.driver is not None or not window.gatekeeper("settings"):
            return False
        from backcoach.ui.settings_dialog import open_settings

        coach = window.load_voice() if window.load_voice is not None else None
        if coach is not None:
            coach.wait_ready(VOICE_LIST_WAIT)  # its voice list, read once the engine is up
        voices = [(v.id, v.name) for v in coach.available_voices()] if coach else None
        test_voice = coach.test_voice if coach else None
        return open_settings(window, window.settings_store, voices, test_voice)

    def _on_settings_changed(self, settings: Settings) -> None:
        window = self.window
        window.home.set_plan_options(window.plan_options())
        window.actions_by_name["high_contrast"].setChecked(settings.theme == "high-contrast")
        window.apply_theme()
        if self.history_view is not None:
            self.history_view.set_theme(window.theme)

    # -- history ---------------------------------------------------------------------
    def show_history(self) -> None:
        """Ctrl+H: the history page (between sessions only)."""
        window = self.window
        if self.history is None or window.driver is not None:
            return
        if self.history_view is None:
            from backcoach.ui.history_view import HistoryView

            self.history_view = HistoryView(self.history, window.settings_store)
            self.history_view.setObjectName("historyPage")
            self.history_view.back_requested.connect(self._back_home)
            window.stack.addWidget(self.history_view)
        self.history_view.set_theme(window.theme)
        self.history_view.refresh()
        window.stack.setCurrentWidget(self.history_view)
        self.history_view.setFocus()

    def delete_history(self) -> None:
        """File → Delete history…: staff only in kiosk mode; the page asks before deleting."""
        if self.window.driver is not None or not self.window.gatekeeper("delete-history"):
            return
        if self.history is None:
            self.window.banner.show_message("There is no personal history to delete: "
                                            "kiosk mode keeps none.")
            return
        self.show_history()
        self.history_view.confirm_delete()

    def _back_home(self) -> None:
        self.refresh()
        self.window.go_home()

    def refresh(self) -> None:
        """Bring the home line (and the history page, if made) up to date."""
        if self.history is None:
            return
        from backcoach.ui.history_words import history_line

        self.window.home.set_history_line(history_line(self.history, date.today()))
        if self.history_view is not None:
            self.history_view.refresh()
