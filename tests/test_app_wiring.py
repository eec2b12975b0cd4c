"""The composition root wires history, settings and the voice into the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from tests.helpers.app import build_test_app, step

from backcoach.app import AppParts
from backcoach.catalog.model import Level


@pytest.fixture
def parts(qtbot, home: Path):
    """A fully built app with a fake clock."""
    built = build_test_app(qtbot, home)
    yield built
    built.close()


def _finish_session(parts: AppParts) -> None:
    window = parts.window
    window.start_routine("lower-back-for-runners", Level.BEGINNER)
    while window.driver is not None:
        step(parts, 1)


def test_history_page_and_home_line_follow_sessions(parts: AppParts, qtbot) -> None:
    """After a session the home line names it, and Ctrl+H lists it on the history page."""
    window = parts.window
    assert "No sessions yet" in window.home.history_line.text()
    _finish_session(parts)
    assert "Lower back for runners" in window.home.history_line.text()
    window.go_home()
    window.actions_by_name["history"].trigger()
    page = window.settings_and_history.history_view
    assert window.stack.currentWidget() == page
    page.back_requested.emit()
    assert window.stack.currentWidget() == window.home


def test_settings_changes_reach_the_window(parts: AppParts) -> None:
    """A saved settings change re-themes the window and re-times the routine cards."""
    window = parts.window
    store = window.settings_store
    before = window.home.cards[0].minutes.text()
    store.update(theme="dark", get_ready_seconds=120)
    assert window.theme.name == "dark"
    assert window.home.cards[0].minutes.text() != before
    store.update(theme="high-contrast")
    assert window.actions_by_name["high_contrast"].isChecked()


def test_settings_and_history_wait_while_a_session_runs(parts: AppParts) -> None:
    """Settings and history do not open over a running session."""
    window = parts.window
    window.start_routine("lower-back-for-runners", Level.BEGINNER)
    assert window.settings_and_history.open_settings() is False
    window.actions_by_name["history"].trigger()
    assert window.stack.currentWidget() == window.session_view


@pytest.mark.speech
def test_voice_is_wired_after_start(parts: AppParts, qtbot) -> None:
    """start_voice builds the real coach; a session start makes it render the routine's phrases."""
    window = parts.window
    parts.start_voice()
    assert window.voice_coach is parts.voice
    assert "action-test_voice" in {a.objectName() for a in window.voice_menu.actions()}
    with qtbot.waitSignal(parts.voice.prepared, timeout=30_000) as prepared:
        window.start_routine("lower-back-for-runners", Level.BEGINNER)
    assert prepared.args[0] > 10
    with qtbot.waitSignal(window.mute_toggled):
        qtbot.keyClick(window, Qt.Key.Key_M)


def test_delete_history_action_asks_then_deletes(parts: AppParts, qtbot) -> None:
    """File → Delete history… opens the history page's confirmation; "Delete history" empties it."""
    _finish_session(parts)
    window = parts.window
    window.go_home()

    def answer() -> None:
        box = window.settings_and_history.history_view.delete_dialog \
            if window.settings_and_history.history_view else None
        if box is None or not box.isVisible():
            QTimer.singleShot(10, answer)
            return
        box.button(QMessageBox.StandardButton.Yes).click()

    QTimer.singleShot(0, answer)
    window.actions_by_name["delete_history"].trigger()
    assert parts.history.sessions() == []


def test_slow_set_up_waits_for_the_first_paint(qtbot) -> None:
    """after_first_paint runs its callback only once the window has painted, and only once."""
    from PySide6.QtWidgets import QWidget

    from backcoach.app import after_first_paint

    widget = QWidget()
    qtbot.addWidget(widget)
    calls: list[int] = []
    after_first_paint(widget, lambda: calls.append(1))
    qtbot.wait(20)
    assert calls == []
    widget.show()
    qtbot.waitUntil(lambda: calls == [1])
    widget.repaint()
    qtbot.wait(20)
    assert calls == [1]
