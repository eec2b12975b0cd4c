"""The history screen shows what the database holds, exports it and deletes it only on yes."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QMessageBox

from backcoach.store.history import History
from backcoach.store.settings import load_settings
from backcoach.store.settings_store import SettingsStore
from backcoach.ui.history_view import (
    NO_SESSIONS_LINE,
    HistoryView,
    axis_labels,
    format_minutes,
    history_line,
    relative_day,
)
from backcoach.ui.theme import DARK, LIGHT

TODAY = date(2025, 3, 19)  # a Wednesday


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0).astimezone()


def record(h: History, day: date, status: str = "completed", minutes: float = 10,
           name: str = "Lower back for runners", level: str = "beginner") -> int:
    """One session on `day`; status "interrupted" leaves it running for another History."""
    rid = name.lower().replace(" ", "-")
    sid = h.start_session(rid, name, level, 10, now=_at(day))
    if status != "interrupted":
        h.finish_session(sid, status, segments_done=10 if status == "completed" else 4,
                         active_seconds=minutes * 60, now=_at(day) + timedelta(minutes=minutes))
    else:
        h.update_progress(sid, 3, minutes * 60)
    return sid


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "config" / "settings.json")


@pytest.fixture
def filled(db: Path) -> Path:
    """A database with known sessions (seen from TODAY):

    this week (Mon 17 - Wed 19 Mar): 17, 18, 19 completed   -> 3 active days
    week of 10 Mar: 10, 12 completed, 14 stopped             -> 3 active days
    week of 3 Mar: 3 completed, 5 interrupted (crash)        -> 1 active day
    week of 24 Feb: 24, 25 completed                         -> 2 active days
    """
    db.parent.mkdir(parents=True)
    with History(db) as h:
        for day in (17, 18, 19):
            record(h, date(2025, 3, day), minutes=12)
        record(h, date(2025, 3, 10), minutes=15, name="Core strength", level="intermediate")
        record(h, date(2025, 3, 12), minutes=15)
        record(h, date(2025, 3, 14), "stopped", minutes=4)
        record(h, date(2025, 3, 3), minutes=10)
        record(h, date(2025, 3, 5), "interrupted", minutes=2)
        record(h, date(2025, 2, 24), minutes=20)
        record(h, date(2025, 2, 25), minutes=20)
    return db


@pytest.fixture
def history(filled: Path):
    with History(filled) as h:  # a new object: the running session shows as interrupted
        yield h


@pytest.fixture
def view(qtbot, history: History, store: SettingsStore) -> HistoryView:
    v = HistoryView(history, store, lambda: TODAY)
    qtbot.addWidget(v)
    v.resize(1200, 900)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_streak_goal_and_totals(view: HistoryView) -> None:
    """Streak, weeks meeting the goal and totals match the known sessions."""
    assert view.streak_card.value.text() == "3"
    assert view.streak_card.caption.text() == "days in a row"
    assert view.goal_card.value.text() == "2"  # this week and the week of 10 March
    assert view.sessions_card.value.text() == "10"
    assert view.completed_card.value.text() == "8"
    # 3*12 + 15 + 15 + 4 + 10 + 2 (the crashed session's work so far) + 20 + 20
    assert view.minutes_card.value.text() == "122"
    assert view.streak_card.accessibleName() == "3 days in a row"


def test_goal_edited_here_is_saved_and_recounted(qtbot, view: HistoryView, store) -> None:
    """Changing the weekly goal on this screen saves it and recounts the weeks."""
    view.goal_spin.setValue(1)
    assert load_settings(store.path).settings.weekly_goal_days == 1
    assert view.goal_card.value.text() == "4"  # every week back to 24 February
    view.goal_spin.setValue(4)
    assert load_settings(store.path).settings.weekly_goal_days == 4
    assert view.goal_card.value.text() == "0"
    assert view.goal_card.caption.text() == "weeks in a row meeting your goal"


def test_goal_changed_elsewhere_is_shown(view: HistoryView, store) -> None:
    """A goal changed in the settings dialog shows up here at once."""
    store.update(weekly_goal_days=1)
    assert view.goal_spin.value() == 1
    assert view.goal_card.value.text() == "4"


def test_recent_sessions_list(view: HistoryView) -> None:
    """Recent sessions are listed newest first with level, status (incl. interrupted), minutes."""
    table = view.table
    assert table.topLevelItemCount() == 10
    first = table.topLevelItem(0)
    assert first.text(0).startswith("Wed 19 Mar")
    assert [first.text(i) for i in range(1, 5)] == ["Lower back for runners", "Beginner",
                                                     "Completed", "12"]
    rows = {table.topLevelItem(i).text(0)[:10]: table.topLevelItem(i)
            for i in range(table.topLevelItemCount())}
    assert rows["Wed 5 Mar,"].text(3) == "Interrupted"
    assert rows["Fri 14 Mar"].text(3) == "Stopped early"
    assert rows["Mon 10 Mar"].text(1) == "Core strength"
    assert rows["Mon 10 Mar"].text(2) == "Intermediate"
    assert not view.empty_label.isVisible()


def test_calendar_marks_active_days_and_describes_the_selection(view: HistoryView) -> None:
    """Active days are filled in the accent colour; the selected day is described in words."""
    cal = view.calendar
    accent = QColor(view.theme.accent)
    assert cal.selectedDate() == QDate(2025, 3, 19)
    assert cal.monthShown() == 3 and cal.yearShown() == 2025
    assert cal.dateTextFormat(QDate(2025, 3, 17)).background().color() == accent
    assert cal.dateTextFormat(QDate(2025, 3, 16)).background().color() != accent
    # An interrupted session alone does not make a day active.
    assert cal.dateTextFormat(QDate(2025, 3, 5)).background().color() != accent
    assert view.day_label.text() == "Wednesday 19 March: Lower back for runners (12 min)."
    cal.setSelectedDate(QDate(2025, 3, 14))
    assert "stopped early" in view.day_label.text()
    cal.setSelectedDate(QDate(2025, 3, 16))
    assert view.day_label.text() == "Sunday 16 March: no sessions."


def test_calendar_is_keyboard_navigable(qtbot, view: HistoryView) -> None:
    """Arrow keys move the selected day; Page Up shows the month before, with its days."""
    cal = view.calendar
    cal.setFocus()
    qtbot.keyClick(cal.focusWidget() or cal, Qt.Key.Key_Left)
    assert cal.selectedDate() == QDate(2025, 3, 18)
    qtbot.keyClick(cal.focusWidget() or cal, Qt.Key.Key_PageUp)
    assert cal.monthShown() == 2
    assert cal.dateTextFormat(QDate(2025, 2, 24)).background().color() == \
        QColor(view.theme.accent)


def test_minutes_per_week_chart(view: HistoryView) -> None:
    """The chart holds the last 12 weeks, oldest first, with this week's minutes last."""
    weeks = view.chart.weeks
    assert len(weeks) == 12
    assert weeks[-1] == (date(2025, 3, 17), pytest.approx(36))
    assert weeks[-2] == (date(2025, 3, 10), pytest.approx(34))
    assert weeks[-3] == (date(2025, 3, 3), pytest.approx(12))
    if view.chart.charts is not None:
        assert [round(view.chart.bars.at(i)) for i in range(12)][-3:] == [12, 34, 36]
    assert "week of 17 Mar: 36 minutes" in view.chart.accessibleDescription()


def test_painted_chart_when_qtcharts_is_missing(qtbot, history, store) -> None:
    """Without QtCharts the view falls back to painted bars, and still renders."""
    v = HistoryView(history, store, lambda: TODAY, use_qtcharts=False)
    qtbot.addWidget(v)
    v.resize(1000, 800)
    assert v.chart.charts is None
    assert len(v.chart.view.weeks) == 12
    assert not v.grab().isNull()


def test_export_writes_a_csv_with_every_session(qtbot, view, history, tmp_path, monkeypatch) -> None:
    """Export to CSV writes every session (".csv" added) and says where it went."""
    target = tmp_path / "exports" / "my-history"
    target.parent.mkdir()
    asked: list[str] = []

    def fake_dialog(parent, caption, suggested, filters):
        asked.append(suggested)
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert asked and asked[0].endswith("backcoach-history-2025-03-19.csv")
    written = target.with_suffix(".csv")
    with written.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(int(r["id"]) for r in rows) == sorted(s.id for s in history.sessions())
    assert {r["status"] for r in rows} == {"completed", "stopped", "interrupted"}
    assert view.message.isVisible() and not view.message_is_error
    assert view.message.text() == f"Exported 10 sessions to {written}."


def test_export_failure_is_shown_in_plain_words(qtbot, view, tmp_path, monkeypatch) -> None:
    """An export into a missing folder says so on screen and raises nothing."""
    target = tmp_path / "no-such-folder" / "history.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(target), "")))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert view.message_is_error
    assert view.message.text().startswith("The history was not exported. Could not save")
    assert "does not exist" in view.message.text()
    assert not target.exists()


def test_export_cancelled_does_nothing(qtbot, view, monkeypatch) -> None:
    """Cancelling the file dialog writes nothing and shows nothing."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", "")))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert not view.message.isVisible()


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No,
                                    QMessageBox.StandardButton.Yes])
def test_delete_asks_first_and_deletes_only_on_yes(qtbot, view, history, monkeypatch,
                                                   answer) -> None:
    """Delete shows a confirmation naming what is lost; the history goes only on yes."""
    seen: dict[str, str] = {}

    def fake_exec(box: QMessageBox) -> int:
        seen.update(name=box.objectName(), text=box.text(),
                    default=box.defaultButton().text(), yes=box.button(
                        QMessageBox.StandardButton.Yes).text())
        assert view.delete_dialog is box
        return answer

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    assert seen["name"] == "deleteHistoryDialog"
    assert "all 10 sessions (122 minutes of exercise)" in seen["text"]
    assert "since Monday 24 February 2025" in seen["text"]
    assert "streak" in seen["text"] and "cannot be undone" in seen["text"]
    assert seen["default"] == "Keep it" and seen["yes"] == "Delete history"
    if answer == QMessageBox.StandardButton.Yes:
        assert history.sessions() == []
        assert view.sessions_card.value.text() == "0"
        assert view.empty_label.isVisibleTo(view) and not view.table.isVisibleTo(view)
        assert not view.delete_button.isEnabled()
        assert view.message.text() == "Your history was deleted."
    else:
        assert len(history.sessions()) == 10
        assert view.sessions_card.value.text() == "10"


def test_back_button_and_escape_ask_to_go_back(qtbot, view: HistoryView) -> None:
    """The Back button and the Esc key both emit back_requested."""
    with qtbot.wait_signal(view.back_requested):
        qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    with qtbot.wait_signal(view.back_requested):
        qtbot.keyClick(view, Qt.Key.Key_Escape)


def test_empty_history(qtbot, db, store) -> None:
    """With no sessions the view shows zeros, says how to begin, and offers no export."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        v = HistoryView(h, store, lambda: TODAY)
        qtbot.addWidget(v)
        v.show()
        assert v.streak_card.value.text() == "0"
        assert v.empty_label.isVisible() and not v.table.isVisible()
        assert not v.export_button.isEnabled() and not v.delete_button.isEnabled()
        assert [m for m, _ in v.chart.weeks][-1] == date(2025, 3, 17)


def test_refresh_after_a_new_session(qtbot, view: HistoryView, history: History) -> None:
    """refresh() picks up a session recorded after the view was built."""
    record(history, TODAY, minutes=30, name="Core strength")
    view.refresh()
    assert view.sessions_card.value.text() == "11"
    assert view.table.topLevelItem(0).text(1) in ("Core strength", "Lower back for runners")


def test_unreadable_history_is_reported(qtbot, view: HistoryView, history: History) -> None:
    """A history that cannot be read shows a message instead of raising."""
    history.close()
    view.refresh()
    assert view.message_is_error
    assert view.message.text() == "Your history could not be read. the history is closed"


@pytest.mark.parametrize("theme", [LIGHT, DARK])
def test_themes_render(view: HistoryView, theme) -> None:
    """The view takes each theme's colours and renders."""
    view.set_theme(theme)
    assert view.calendar.dateTextFormat(QDate(2025, 3, 18)).background().color() == \
        QColor(theme.accent)
    assert not view.grab().isNull()


# ---------------------------------------------------------------- the home screen's line

def test_history_line_without_sessions(db: Path) -> None:
    """No sessions: an invitation to start."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        assert history_line(h, TODAY) == NO_SESSIONS_LINE


def test_history_line_with_a_streak(history: History) -> None:
    """The last session, today, with the streak."""
    assert history_line(history, TODAY) == \
        "Last session: Lower back for runners, today · Streak: 3 days"
    assert history_line(history, TODAY + timedelta(days=1)) == \
        "Last session: Lower back for runners, yesterday · Streak: 3 days"


def test_history_line_words(db: Path) -> None:
    """Stopped sessions say so; a broken streak is left out; older dates are written out."""
    db.parent.mkdir(parents=True)
    with History(db) as h:
        record(h, date(2025, 3, 14), "stopped", name="Core strength")
        assert history_line(h, date(2025, 3, 15)) == \
            "Last session: Core strength, yesterday (stopped early) · Streak: 1 day"
        assert history_line(h, date(2025, 3, 18)) == \
            "Last session: Core strength, on Friday (stopped early)"
        assert history_line(h, date(2025, 4, 2)) == \
            "Last session: Core strength, 14 March (stopped early)"
        assert history_line(h, date(2026, 1, 2)) == \
            "Last session: Core strength, 14 March 2025 (stopped early)"


def test_small_formatters() -> None:
    """Minutes, relative days and chart labels read naturally."""
    assert [format_minutes(m) for m in (0, 0.5, 2.25, 9.96, 12.4, 122.0)] == \
        ["0", "0.5", "2.2", "10", "12", "122"]
    assert relative_day(TODAY, TODAY) == "today"
    assert relative_day(date(2025, 3, 13), TODAY) == "on Thursday"
    assert relative_day(date(2025, 3, 12), TODAY) == "12 March"
    mondays = [date(2024, 12, 30) + timedelta(weeks=i) for i in range(12)]
    assert axis_labels(mondays) == ["Jan", "", "", "", "", "Feb", "", "", "", "Mar", "", ""]
