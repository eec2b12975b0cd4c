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


def test_home_screen_does_not_load_the_voice(parts: AppParts, qtbot) -> None:
    """Until something needs it, no voice coach (speech engine, audio stack) exists."""
    parts.load_voice_when_needed()
    qtbot.waitExposed(parts.window)
    qtbot.wait(50)
    assert parts.voice is None and parts.window.voice_coach is None


@pytest.mark.speech
def test_voice_loads_when_a_session_starts(parts: AppParts, qtbot) -> None:
    """The first session start loads the real coach, which then renders the routine's phrases."""
    window = parts.window
    parts.load_voice_when_needed()
    assert "action-test_voice" in {a.objectName() for a in window.voice_menu.actions()}
    with qtbot.waitSignal(window.session_started):
        window.start_routine("lower-back-for-runners", Level.BEGINNER)
    coach = parts.voice
    assert coach is not None and window.voice_coach is coach
    with qtbot.waitSignal(coach.prepared, timeout=30_000) as prepared:
        pass
    assert prepared.args[0] > 10
    assert parts.start_voice() is coach  # loaded once
    with qtbot.waitSignal(window.mute_toggled):
        qtbot.keyClick(window, Qt.Key.Key_M)


@pytest.mark.speech
def test_settings_dialog_loads_the_voice_for_its_voice_list(parts: AppParts, qtbot) -> None:
    """Opening settings loads the voice and waits for the engine, so the voice list is filled."""
    window = parts.window
    parts.load_voice_when_needed()
    seen: list[int] = []

    def look() -> None:
        from PySide6.QtWidgets import QApplication

        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, look)
            return
        seen.append(len(dialog.voices))
        dialog.reject()

    QTimer.singleShot(0, look)
    window.settings_and_history.open_settings()
    assert parts.voice is not None
    assert seen and seen[0] > 0


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


def test_memory_is_released_after_a_session(parts: AppParts, qtbot, monkeypatch) -> None:
    """A finished session hands its freed heap back, and drops the module sources PySide read."""
    import linecache

    from backcoach import memory

    calls: list[int] = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr("backcoach.app.MEMORY_SETTLE_MS", 0)
    _finish_session(parts)
    linecache.getlines(memory.__file__)  # as PySide's scan of a module loaded by the session
    assert linecache.cache
    qtbot.waitUntil(lambda: calls == [1])
    assert not linecache.cache


def test_release_free_memory_asks_glibc() -> None:
    """On Linux with glibc the C library's malloc_trim is found and called."""
    import platform

    from backcoach.memory import release_free_memory

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert release_free_memory() is expected
