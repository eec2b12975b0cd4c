"""Kiosk mode on a shared gym PC, driven through the real window with injected clocks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from tests.helpers.app import build_test_app, step
from tests.helpers.clock import FakeClock

from backcoach.app import AppParts
from backcoach.session.events import State
from backcoach.store.history import History
from backcoach.store.logs import close_logging
from backcoach.store.paths import resolve_paths
from backcoach.store.staff import LOCK_SECONDS, MAX_TRIES, KioskConfig, StaffStore, save_kiosk_config
from backcoach.ui.kiosk import KIOSK_HINT
from backcoach.ui.kiosk_pin import PinDialog, PinSetupDialog
from backcoach.ui.kiosk_staff_page import StaffPage

PIN = "90817263"
WRONG = "11223344"
TODAY = date(2025, 3, 10)
DEFAULT = "lower-back-for-runners"


# ---------------------------------------------------------------- helpers

class Answer:
    """Answers the next PIN prompt (or set-PIN dialog) of `mode` once it is open.

    Each entry of `pins` is typed and submitted in turn (a pair for the set-PIN dialog);
    None cancels. If the dialog is still open after the last entry, it is cancelled.
    """

    def __init__(self, mode, *pins, setup: bool = False) -> None:
        self.mode, self.pins, self.setup = mode, list(pins), setup
        self.messages: list[str] = []
        self.opened = False
        self._polls = 0
        QTimer.singleShot(0, self._poll)

    def _poll(self) -> None:
        dialog = self.mode.setup_dialog if self.setup else self.mode.pin_dialog
        if dialog is None or not dialog.isVisible():
            self._polls += 1
            if self._polls < 400:
                QTimer.singleShot(10, self._poll)
            return
        self.opened = True
        for pin in self.pins:
            if pin is None:
                break
            if self.setup:
                dialog.first_edit.setText(pin[0])
                dialog.second_edit.setText(pin[1])
            else:
                dialog.pin_edit.setText(pin)
            dialog.submit()
            self.messages.append(dialog.message.text())
            if not dialog.isVisible():
                return
        dialog.reject()


def close_next_modal(skip: type = PinDialog) -> list[str]:
    """Close the next modal window that is not a `skip` (e.g. a settings dialog)."""
    closed: list[str] = []
    polls = [0]

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or isinstance(modal, skip):
            polls[0] += 1
            if polls[0] < 400:
                QTimer.singleShot(10, poll)
            return
        closed.append(modal.objectName() or type(modal).__name__)
        modal.close()

    QTimer.singleShot(0, poll)
    return closed


def _activate(window: QWidget, qtbot) -> None:
    """Give the window the keyboard again (offscreen does not after a modal dialog)."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the closed PIN prompt
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def _step(parts: AppParts, seconds: float) -> None:
    """Let `seconds` pass, ticking the engine and the idle check as the real timers do."""
    step(parts, seconds, after_tick=parts.kiosk.idle.check)


def _build(qtbot, home: Path, **kwargs) -> AppParts:
    wall = FakeClock(1_700_000_000.0)
    holder: list[AppParts] = []
    # pytest-qt closes the window before fixtures end: let it close without a PIN.
    parts = build_test_app(qtbot, home, wall_clock=wall, today=lambda: TODAY,
                           before_close=lambda _w: setattr(holder[0].kiosk, "active", False),
                           **kwargs)
    holder.append(parts)
    parts.wall = wall
    _activate(parts.window, qtbot)
    return parts


@pytest.fixture
def kiosk(qtbot, home: Path):
    """The app started with --kiosk, the staff PIN already set."""
    StaffStore(resolve_paths(home).config_dir).set_pin(PIN)
    parts = _build(qtbot, home, kiosk=True)
    qtbot.waitUntil(parts.window.isFullScreen)
    _activate(parts.window, qtbot)
    yield parts
    parts.kiosk.active = False  # let the test teardown close the window without a PIN
    parts.close()


# ---------------------------------------------------------------- the guard

def test_kiosk_home_is_full_screen_without_menus_and_shows_how_to_start(kiosk: AppParts) -> None:
    """Kiosk mode: full screen, no menus, one line on how to start, no last-session line."""
    window = kiosk.window
    assert window.isFullScreen()
    assert not window.menuBar().isVisible()
    assert window.home.kiosk_hint.isVisible() and window.home.kiosk_hint.text() == KIOSK_HINT
    assert not window.home.history_line.isVisible()
    assert kiosk.recorder is None


def test_ctrl_q_is_refused_without_the_pin_and_allowed_with_it(kiosk: AppParts, qtbot) -> None:
    """Ctrl+Q asks for the PIN: cancel or a wrong PIN keep the app open, the PIN quits."""
    window = kiosk.window
    answer = Answer(kiosk.kiosk, None)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answer.opened and window.isVisible()
    _activate(window, qtbot)
    answer = Answer(kiosk.kiosk, WRONG)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answer.messages and "Wrong PIN" in answer.messages[0]
    assert window.isVisible()
    _activate(window, qtbot)
    answer = Answer(kiosk.kiosk, PIN)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answer.opened and not window.isVisible()


def test_close_button_and_alt_f4_need_the_pin(kiosk: AppParts) -> None:
    """A close event (the title-bar button, Alt+F4) is refused without the PIN."""
    window = kiosk.window
    Answer(kiosk.kiosk, None)
    assert window.close() is False and window.isVisible()
    Answer(kiosk.kiosk, WRONG, WRONG)
    assert window.close() is False and window.isVisible()
    Answer(kiosk.kiosk, PIN)
    assert window.close() is True and not window.isVisible()


def test_quit_menu_action_needs_the_pin(kiosk: AppParts) -> None:
    """File → Quit (the action behind the hidden menu) needs the PIN too."""
    window = kiosk.window
    Answer(kiosk.kiosk, None)
    window.actions_by_name["quit"].trigger()
    assert window.isVisible()
    Answer(kiosk.kiosk, PIN)
    window.actions_by_name["quit"].trigger()
    assert not window.isVisible()


@pytest.mark.parametrize("key", [Qt.Key.Key_F11, Qt.Key.Key_F])
def test_leaving_full_screen_needs_the_pin(kiosk: AppParts, qtbot, key) -> None:
    """F11 and F leave full screen only with the PIN."""
    window = kiosk.window
    answer = Answer(kiosk.kiosk, None)
    qtbot.keyClick(window, key)
    assert answer.opened and window.isFullScreen()
    assert window.actions_by_name["fullscreen"].isChecked()
    _activate(window, qtbot)
    Answer(kiosk.kiosk, PIN)
    qtbot.keyClick(window, key)
    assert not window.isFullScreen()


def test_window_manager_cannot_take_the_kiosk_out_of_full_screen(kiosk: AppParts, qtbot) -> None:
    """If something un-fullscreens the window (a window manager key), it goes back."""
    kiosk.window.showNormal()
    qtbot.waitUntil(kiosk.window.isFullScreen)


@pytest.mark.parametrize("action", ["settings", "editor", "delete-history", "kiosk-off",
                                    "something-new"])
def test_settings_editor_and_history_deletion_need_the_pin(kiosk: AppParts, action: str) -> None:
    """Settings, editor, history deletion (and unknown actions) need the PIN at the gate."""
    gate = kiosk.window.gatekeeper
    Answer(kiosk.kiosk, None)
    assert gate(action) is False
    Answer(kiosk.kiosk, WRONG)
    assert gate(action) is False
    answer = Answer(kiosk.kiosk, PIN)
    assert gate(action) is True and answer.opened


@pytest.mark.parametrize(("gate_name", "action_name"), [("settings", "settings"),
                                                      ("editor", "edit_routines"),
                                                      ("delete-history", "delete_history")])
def test_settings_editor_and_history_actions_ask_for_the_pin(kiosk: AppParts, qtbot,
                                                             gate_name: str,
                                                             action_name: str) -> None:
    """Settings, editor and history deletion ask for the PIN: refused, nothing happens."""
    window = kiosk.window
    action = window.actions_by_name.get(action_name)
    assert action is not None
    asked: list[str] = []
    gate = window.gatekeeper
    window.gatekeeper = lambda what: (asked.append(what), gate(what))[1]
    Answer(kiosk.kiosk, None)
    opened = close_next_modal()
    action.trigger()
    assert asked == [gate_name] and not opened
    assert window.stack.currentWidget() is window.home
    Answer(kiosk.kiosk, PIN)
    action.trigger()
    assert asked == [gate_name, gate_name]
    # Settings and the editor open; history deletion says a kiosk keeps no personal history.
    qtbot.waitUntil(lambda: bool(opened) or window.stack.currentWidget() is not window.home
                    or window.banner.isVisibleTo(window))
    window.go_home()


def test_escape_at_home_does_nothing(kiosk: AppParts, qtbot) -> None:
    """Esc on the kiosk home neither quits, nor leaves full screen, nor asks anything."""
    window = kiosk.window
    qtbot.keyClick(window.home, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.isVisible() and window.isFullScreen()
    assert kiosk.kiosk.pin_dialog is None and QApplication.activeModalWidget() is None


def test_staff_shortcut_opens_the_staff_page_only_with_the_pin(kiosk: AppParts, qtbot) -> None:
    """Ctrl+Alt+S asks for the PIN; only the right PIN opens the staff page."""
    window = kiosk.window
    mode = kiosk.kiosk
    pages: list[StaffPage] = []

    def look() -> None:
        if mode.staff_page is not None:
            pages.append(mode.staff_page)
            mode.staff_page.reject()
        else:
            QTimer.singleShot(10, look)

    Answer(mode, WRONG)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier |
                   Qt.KeyboardModifier.AltModifier)
    assert mode.staff_page is None and not pages
    _activate(window, qtbot)
    Answer(mode, PIN)
    QTimer.singleShot(0, look)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier |
                   Qt.KeyboardModifier.AltModifier)
    assert len(pages) == 1


def test_five_wrong_pins_lock_entry(kiosk: AppParts, qtbot) -> None:
    """Five wrong PINs lock entry for 60 s, across restarts; then the right PIN works."""
    mode = kiosk.kiosk
    dialog = PinDialog(mode.staff, "quit BackCoach", kiosk.window)
    qtbot.addWidget(dialog)
    for n in range(MAX_TRIES):
        assert dialog.pin_edit.isEnabled()
        dialog.pin_edit.setText(WRONG)
        dialog.submit()
        assert dialog.result() != dialog.DialogCode.Accepted, n
    assert not dialog.pin_edit.isEnabled() and not dialog.ok_button.isEnabled()
    assert "Try again in 60 s" in dialog.message.text()
    restarted = StaffStore(mode.staff.path.parent, clock=kiosk.wall)
    assert not restarted.verify(PIN).ok
    kiosk.wall.advance(LOCK_SECONDS / 2)
    dialog.refresh_lock()
    assert "Try again in 30 s" in dialog.message.text()
    kiosk.wall.advance(LOCK_SECONDS / 2)
    dialog.refresh_lock()
    assert dialog.pin_edit.isEnabled()
    dialog.pin_edit.setText(PIN)
    dialog.submit()
    assert dialog.result() == dialog.DialogCode.Accepted


def test_enter_submits_the_pin_and_never_cancels(kiosk: AppParts, qtbot) -> None:
    """Enter checks the PIN (a wrong one keeps the prompt open); it never presses Cancel."""
    dialog = PinDialog(kiosk.kiosk.staff, "quit BackCoach", kiosk.window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.pin_edit, WRONG)
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and "Wrong PIN" in dialog.message.text()
    qtbot.keyClicks(dialog.pin_edit, PIN)
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert dialog.result() == dialog.DialogCode.Accepted
    setup = PinSetupDialog(kiosk.kiosk.staff, kiosk.window)
    qtbot.addWidget(setup)
    closed: list[int] = []
    setup.finished.connect(closed.append)
    setup.show()
    qtbot.keyClicks(setup.first_edit, "5555")
    qtbot.keyClick(setup.first_edit, Qt.Key.Key_Return)
    assert setup.isVisible() and closed == []


def test_the_pin_is_nowhere_in_the_data_config_or_log_folders(qtbot, home: Path) -> None:
    """After setting, using and quitting with the PIN, no file in any app folder holds it."""
    parts = _build(qtbot, home, kiosk=True)
    mode = parts.kiosk
    answer = Answer(mode, (PIN, PIN[::-1]), (PIN, PIN), setup=True)
    assert mode.ensure_pin() is True
    assert "differ" in answer.messages[0]
    Answer(mode, WRONG, PIN)
    assert parts.window.gatekeeper("settings")
    parts.window.start_routine(DEFAULT, parts.window.home.level)
    _step(parts, 30)
    Answer(mode, PIN)
    assert parts.window.close()
    parts.close()
    close_logging()
    paths = resolve_paths(home)
    files = [p for folder in (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir)
             for p in folder.rglob("*") if p.is_file()]
    assert any(p.name == "staff.json" for p in files) and any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        assert PIN.encode("ascii") not in data, path
        assert PIN.encode("utf-16-le") not in data, path


# ---------------------------------------------------------------- clean slate

def test_abandoned_paused_session_returns_home_and_leaves_no_trace(kiosk: AppParts, qtbot) -> None:
    """A paused, left session goes home after the idle time and leaves nothing to see."""
    window = kiosk.window
    window.home.select_id("lower-back-for-runners")
    qtbot.keyClick(window.home, Qt.Key.Key_Return)
    driver = window.driver
    _step(kiosk, 20)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert driver.engine.state is State.PAUSED
    idle = kiosk.kiosk.config.paused_seconds
    _step(kiosk, idle - 2)
    assert window.driver is driver and window.stack.currentWidget() is window.session_view
    _step(kiosk, 2)
    assert window.driver is None
    assert driver.engine.state is State.FINISHED
    assert window.stack.currentWidget() is window.home
    assert window.last_summary is None and window.last_done_segments == frozenset()
    assert window.summary_view.details.text() == "" and window.summary_view.headline.text() == ""
    assert window.session_view._driver is None
    assert window.home.history_line.text() == "" and not window.home.history_line.isVisible()
    assert window.home.kiosk_hint.isVisible()
    assert window.isFullScreen()


def test_input_while_paused_restarts_the_idle_time(kiosk: AppParts, qtbot) -> None:
    """A member still at the mat (a key press) keeps their paused session."""
    window = kiosk.window
    window.start_routine(DEFAULT, window.home.level)
    _step(kiosk, 15)
    window.driver.pause()
    _step(kiosk, kiosk.kiosk.config.paused_seconds - 10)
    qtbot.keyClick(window.session_view, Qt.Key.Key_Shift)
    _step(kiosk, 20)
    assert window.driver is not None


def test_a_stalled_running_session_is_ended_after_its_time_plus_a_margin(kiosk: AppParts) -> None:
    """A running session that never ends is stopped after its time plus the margin."""
    window = kiosk.window
    window.start_routine(DEFAULT, window.home.level)
    total = window.driver.engine.timeline.total
    margin = kiosk.kiosk.config.running_margin_seconds
    elapsed = 0
    while elapsed < total + margin - 1:
        kiosk.clock.advance(1)
        elapsed += 1
        kiosk.kiosk.idle.check()  # the engine is never ticked: its timer is stuck
    assert window.driver is not None
    kiosk.clock.advance(2)
    kiosk.kiosk.idle.check()
    assert window.driver is None and window.stack.currentWidget() is window.home


def test_summary_goes_home_after_two_minutes(kiosk: AppParts, qtbot) -> None:
    """The summary is cleared after two minutes; counts are kept, personal history is not."""
    window = kiosk.window
    window.start_routine(DEFAULT, window.home.level)
    total = window.driver.engine.timeline.total
    _step(kiosk, total + 0.5)  # a running session with no input simply finishes
    assert window.stack.currentWidget() is window.summary_view
    assert window.last_summary is not None
    _step(kiosk, kiosk.kiosk.config.after_summary_seconds - 1)
    assert window.stack.currentWidget() is window.summary_view
    _step(kiosk, 1)
    assert window.stack.currentWidget() is window.home and window.last_summary is None
    day = kiosk.kiosk.stats.recent_days(1)[0]
    assert (day.day, day.started, day.completed) == (TODAY, 1, 1)
    history = History(resolve_paths().history_db)
    assert history.sessions() == []
    history.close()


def test_back_to_home_from_the_summary_clears_it(kiosk: AppParts, qtbot) -> None:
    """Pressing Enter on the summary goes home and forgets the summary at once."""
    window = kiosk.window
    window.start_routine(DEFAULT, window.home.level)
    window.actions_by_name["next"].trigger()
    window.driver.stop()
    assert window.stack.currentWidget() is window.summary_view
    qtbot.keyClick(window.summary_view, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.home and window.last_summary is None
    assert window.summary_view.details.text() == ""


def test_idle_reset_closes_dialogs_and_unmutes(kiosk: AppParts, qtbot) -> None:
    """A PIN prompt left open, a mute left on and a level left changed are all reset."""
    window = kiosk.window
    level = window.home.level
    qtbot.keyClick(window.home, Qt.Key.Key_3)
    window.start_routine(DEFAULT, window.home.level)
    window.actions_by_name["mute"].trigger()
    window.driver.pause()
    results: list[bool] = []

    def walk_away() -> None:
        if kiosk.kiosk.pin_dialog is None:
            QTimer.singleShot(10, walk_away)
            return
        _step(kiosk, kiosk.kiosk.config.paused_seconds)

    QTimer.singleShot(0, walk_away)
    results.append(window.gatekeeper("quit"))
    assert results == [False]
    assert window.driver is None and window.stack.currentWidget() is window.home
    assert not window.actions_by_name["mute"].isChecked()
    assert window.home.level is level


# ---------------------------------------------------------------- staff page

def test_staff_page_sets_routines_featured_volume_and_idle(kiosk: AppParts, qtbot) -> None:
    """The staff page sets the routines, order, featured one, volume cap and idle times."""
    window = kiosk.window
    mode = kiosk.kiosk
    page = StaffPage(mode)
    qtbot.addWidget(page)
    listing = page.routine_list
    ids = [listing.item(i).data(Qt.ItemDataRole.UserRole) for i in range(listing.count())]
    assert len(ids) >= 3
    listing.item(0).setCheckState(Qt.CheckState.Unchecked)
    listing.setCurrentRow(2)
    page._move(-1)
    wanted = [ids[2], ids[1], *ids[3:]]
    page.featured.setCurrentIndex(page.featured.findData(ids[1]))
    page.volume_cap.setValue(50)
    page.paused.setValue(5)
    page.save()
    assert page.result() == page.DialogCode.Accepted
    assert [card.routine.id for card in window.home.cards] == wanted
    assert window.home.selected_routine == ids[1]
    saved = json.loads((resolve_paths().config_dir / "kiosk.json").read_text())
    assert saved["routines"] == wanted and saved["featured"] == ids[1]
    assert saved["volume_cap"] == 0.5 and saved["paused_seconds"] == 300
    assert window.settings_store.settings.voice.volume <= 0.5


def test_volume_cap_holds_when_settings_change(kiosk: AppParts, qtbot) -> None:
    """Turning the voice up beyond the cap (say in the settings) is brought back down."""
    store = kiosk.window.settings_store
    voice = store.settings.voice
    import dataclasses

    store.update(voice=dataclasses.replace(voice, volume=1.0))
    qtbot.waitUntil(lambda: store.settings.voice.volume == kiosk.kiosk.config.volume_cap)


def test_turning_kiosk_off_from_the_staff_page(kiosk: AppParts, qtbot) -> None:
    """Turning kiosk mode off brings back menus, history and a free quit, remembered."""
    mode = kiosk.kiosk
    window = kiosk.window

    def press_off() -> None:
        if mode.staff_page is None:
            QTimer.singleShot(10, press_off)
            return
        mode.staff_page.findChild(QWidget, "staffKioskOff").click()

    Answer(mode, PIN)
    QTimer.singleShot(0, press_off)
    window.actions_by_name["staff"].trigger()
    assert not mode.active
    assert window.menuBar().isVisibleTo(window) and kiosk.recorder is not None
    assert window.gatekeeper("quit") is True
    assert json.loads((resolve_paths().config_dir / "kiosk.json").read_text())["enabled"] is False


# ---------------------------------------------------------------- turning it on

def test_first_turn_on_asks_for_the_pin_twice_and_is_remembered(qtbot, home: Path) -> None:
    """"Kiosk mode…" asks for a new PIN twice, turns kiosk on, and the next start keeps it."""
    parts = _build(qtbot, home)
    mode = parts.kiosk
    assert not mode.active and parts.recorder is not None
    Answer(mode, ("1234", "1243"), ("5678", "5678"), setup=True)
    parts.window.actions_by_name["kiosk"].trigger()
    assert mode.active and mode.staff.verify("5678").ok
    assert parts.recorder is None
    mode.active = False
    parts.close()
    again = _build(qtbot, home)
    assert again.kiosk.active and not again.window.menuBar().isVisible()
    again.kiosk.active = False
    again.close()


def test_stored_routine_list_shapes_the_kiosk_home(qtbot, home: Path) -> None:
    """The staff's routine list and featured routine shape the kiosk home, and stay."""
    config_dir = resolve_paths(home).config_dir
    StaffStore(config_dir).set_pin(PIN)
    save_kiosk_config(config_dir, KioskConfig(enabled=True, routines=(DEFAULT,),
                                              featured=DEFAULT))
    parts = _build(qtbot, home)
    window = parts.window
    assert [c.routine.id for c in window.home.cards] == [DEFAULT]
    assert window.home.cards[0].name.text().startswith("★")
    window.stack.setCurrentWidget(window.summary_view)
    window.home.set_catalog(window.catalog)  # as the routine editor does after a save
    window.go_home()
    assert [c.routine.id for c in window.home.cards] == [DEFAULT]
    parts.kiosk.active = False
    parts.close()
