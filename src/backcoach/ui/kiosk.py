"""Kiosk mode for a shared gym PC: the staff-PIN guard and the idle reset; the PIN dialogs
(kiosk_pin.py) and the staff page (kiosk_staff_page.py) are loaded when first shown, so a
PC that never uses kiosk mode does not pay for their widgets at start-up.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QToolButton,
    QWidget,
)

from backcoach.catalog.model import Level
from backcoach.store.atomic import StorageError
from backcoach.store.paths import AppPaths
from backcoach.store.settings import Settings
from backcoach.store.staff import (
    STAFF_FILE,
    KioskConfig,
    StaffStore,
    save_kiosk_config,
)
from backcoach.ui.qt_names import named_action

if TYPE_CHECKING:  # loaded when first used: see KioskMode
    from backcoach.store.kiosk_stats import KioskStats
    from backcoach.ui.kiosk_pin import PinDialog, PinSetupDialog
    from backcoach.ui.kiosk_staff_page import StaffPage


def _state():
    """The engine's State enum. Only needed once a session runs, so the session's modules
    are not loaded with the home screen (imported here, then taken from sys.modules)."""
    from backcoach.session.events import State

    return State


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
        if driver is not None and driver.engine.state is _state().RUNNING:
            self.expected_end = now + driver.engine.remaining()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Note input; swallow Esc on the home screen; keep the window full screen."""
        kind = event.type()
        if kind in _INPUT_EVENTS:
            self.touch()
            if kind == QEvent.Type.KeyPress and event.key() == QtCore.Qt.Key.Key_Escape and \
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
        State = _state()
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
            State = _state()
            state = driver.engine.state
            if state is State.PAUSED:
                since = max(self.last_input, self.paused_at or self.last_input)
                return "paused" if now - since >= config.paused_seconds else None
            if state is State.RUNNING and self.expected_end is not None:
                late = now - max(self.expected_end, self.last_input)
                return "running" if late >= config.running_margin_seconds else None
            return None
        if window.showing_summary():
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
        window.clear_summary()
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
        self._today = today
        self._stats: KioskStats | None = None
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
        window.summary_home_requested.connect(self._on_summary_home)
        window.stack.currentChanged.connect(self._on_page_changed)
        window.settings_store.subscribe(self._on_settings)


    @property
    def stats(self) -> KioskStats:
        """The anonymous daily counts (loaded when first used: only a kiosk counts)."""
        if self._stats is None:
            from backcoach.store.kiosk_stats import KioskStats

            self._stats = KioskStats(self.paths.data_dir, today=self._today)
        return self._stats
    def _add_action(self, name: str, text: str, keys: list[str],
                    slot: Callable[[], None]) -> QAction:
        action = named_action(self.window, name, text)
        action.setShortcuts([QKeySequence(k) for k in keys])
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
        from backcoach.ui.kiosk_pin import PinSetupDialog

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
        from backcoach.ui.kiosk_pin import PinDialog

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
            from backcoach.ui.kiosk_pin import PinDialog

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
        from backcoach.ui.kiosk_staff_page import StaffPage

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
