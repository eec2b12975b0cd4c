"""The history screen: active days on a calendar, streaks, totals, minutes per week, the
recent sessions, and export and delete.

Everything shown is read from the History on `refresh()`; nothing is cached between
refreshes, so the screen cannot disagree with the database. "Today" is injected, so
streaks can be tested on any date. Failures (full disk, unreadable database) are shown
in plain words on the screen and never raise out of a button.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QMargins, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QFont,
    QIcon,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QShowEvent,
    QTextCharFormat,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QToolTip,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backcoach.store.atomic import StorageError
from backcoach.store.history import COMPLETED, INTERRUPTED, History, SessionRecord
from backcoach.store.settings import Settings
from backcoach.store.settings_store import SettingsStore
from backcoach.ui.history_words import (  # noqa: F401 (history_line is re-exported)
    DAY_NAMES,
    MONTH_NAMES,
    NO_SESSIONS_LINE,
    STATUS_WORDS,
    format_minutes,
    history_line,
    long_date,
    plural,
    relative_day,
    short_date,
)
from backcoach.ui.theme import Theme, resolve_theme

WEEKS_SHOWN = 12
RECENT_SHOWN = 100


def _session_minutes(s: SessionRecord) -> float:
    return s.active_seconds / 60


# ---------------------------------------------------------------- calendar

class ActivityCalendar(QCalendarWidget):
    """A month grid with each active day filled in; arrow keys move, Page Up/Down change
    month. Colour alone says nothing to a screen reader, so the view also describes the
    selected day in words. The selected day is shown inverted (text colour background).

    Days are marked with date text formats rather than by overriding `paintCell`: with
    PySide6 6.12 a Python `paintCell` that calls any void method corrupts the refcount
    of None and crashes the interpreter at exit.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activityCalendar")
        self.setAccessibleName("Calendar of active days")
        self.setFirstDayOfWeek(Qt.DayOfWeek.Monday)  # as the weekly goal counts weeks
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.setHorizontalHeaderFormat(QCalendarWidget.HorizontalHeaderFormat.ShortDayNames)
        self.setGridVisible(False)
        self.setSelectionMode(QCalendarWidget.SelectionMode.SingleSelection)
        self.active: set[date] = set()
        self.today = date.today()
        self.theme: Theme | None = None
        for name, text in (("qt_calendar_prevmonth", "‹"), ("qt_calendar_nextmonth", "›")):
            button = self.findChild(QToolButton, name)
            if button is not None:
                button.setIcon(QIcon())
                button.setText(text)
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
                button.setAccessibleName("Previous month" if "prev" in name else "Next month")
        self.setMinimumSize(QSize(340, 290))
        self.setMaximumWidth(460)
        self.currentPageChanged.connect(lambda _year, _month: self._format_days())

    def set_days(self, active: set[date], today: date) -> None:
        """The days to fill in, and which one is today."""
        self.active = set(active)
        if today != self.today or self.maximumDate() != _qdate(today):
            self.today = today
            self.setMaximumDate(_qdate(today))
            self.setSelectedDate(_qdate(today))
            self.setCurrentPage(today.year, today.month)
        self._format_days()

    def set_theme(self, theme: Theme) -> None:
        """Theme colours for the grid, the header and the month bar."""
        self.theme = theme
        for day in Qt.DayOfWeek:
            self.setWeekdayTextFormat(day, QTextCharFormat())  # no red weekends
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Text, QColor(theme.text))
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.surface))
        palette.setColor(QPalette.ColorRole.AlternateBase, QColor(theme.surface))
        palette.setColor(QPalette.ColorRole.Window, QColor(theme.surface))  # days after today
        self.setPalette(palette)
        self._apply_grid_palette()
        header = QTextCharFormat()
        header.setForeground(QColor(theme.muted))
        header.setBackground(QColor(theme.surface))
        header.setFontWeight(QFont.Weight.Bold)
        self.setHeaderTextFormat(header)
        border = 3 if theme.name == "high-contrast" else 1
        self.setStyleSheet(f"""
            QCalendarWidget QWidget#qt_calendar_navigationbar {{
                background: {theme.surface}; border-bottom: {border}px solid {theme.border}; }}
            QCalendarWidget QToolButton {{ color: {theme.text}; background: transparent;
                font-size: 13pt; font-weight: 700; padding: 4px 10px; border: none;
                border-radius: 6px; }}
            QCalendarWidget QToolButton:hover, QCalendarWidget QToolButton:focus {{
                background: {theme.window}; }}
            QCalendarWidget QToolButton::menu-indicator {{ image: none; width: 0; }}
            QCalendarWidget QToolButton#qt_calendar_prevmonth,
            QCalendarWidget QToolButton#qt_calendar_nextmonth {{ font-size: 18pt; }}
            QCalendarWidget QAbstractItemView {{ background: {theme.surface}; font-size: 12pt;
                outline: 0; selection-background-color: {theme.text};
                selection-color: {theme.window}; }}
            QCalendarWidget QSpinBox {{ color: {theme.text}; background: {theme.surface};
                font-size: 13pt; }}
            QCalendarWidget QMenu {{ color: {theme.text}; background: {theme.surface}; }}
        """)
        self._format_days()

    def _apply_grid_palette(self) -> None:
        """Days of the neighbouring months are drawn in the day grid's *disabled* text
        colour; a window style sheet resets that palette when it polishes the grid, so
        this runs again on show."""
        grid = self.findChild(QAbstractItemView, "qt_calendar_calendarview")
        if grid is None or self.theme is None:
            return
        palette = grid.palette()
        muted = QColor(self.theme.muted)
        if palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text) != muted:
            palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, muted)
            grid.setPalette(palette)

    def showEvent(self, event: QShowEvent) -> None:
        """Re-apply the muted colour the window's style sheet may have reset."""
        super().showEvent(event)
        self._apply_grid_palette()

    def visible_days(self) -> list[date]:
        """The 42 days of the grid now shown (Monday first), including the neighbours'."""
        first = date(self.yearShown(), self.monthShown(), 1)
        start = first - timedelta(days=first.weekday() or 7)  # Qt shows a week before a
        return [start + timedelta(days=i) for i in range(42)]  # month starting on Monday

    def day_format(self, day: date) -> QTextCharFormat:
        """How one day of the shown grid is drawn."""
        theme = self.theme
        fmt = QTextCharFormat()
        if theme is None:
            return fmt
        in_month = day.month == self.monthShown()
        muted = not in_month or day > self.today
        fmt.setForeground(QColor(theme.muted if muted else theme.text))
        if day in self.active:
            fill = QColor(theme.accent)
            if not in_month:
                fill.setAlpha(120)
            fmt.setBackground(fill)
            fmt.setForeground(QColor(theme.accent_text))
            fmt.setFontWeight(QFont.Weight.Bold)
        if day == self.today:
            if day not in self.active:
                fmt.setForeground(QColor(theme.accent))
            fmt.setFontWeight(QFont.Weight.Black)
            fmt.setFontUnderline(True)
        return fmt

    def _format_days(self) -> None:
        self.setDateTextFormat(QDate(), QTextCharFormat())  # clears every date's format
        if self.theme is None:
            return
        for day in self.visible_days():
            self.setDateTextFormat(_qdate(day), self.day_format(day))


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


# ---------------------------------------------------------------- minutes per week

def _week_label(monday: date) -> str:
    return f"{monday.day} {MONTH_NAMES[monday.month - 1][:3]}"


def axis_labels(mondays: list[date]) -> list[str]:
    """The month's short name under the first week of each month (a week belongs to the
    month of its Thursday, as ISO weeks do), else nothing: short enough never to be cut
    off, however narrow the bars get."""
    labels: list[str] = []
    previous: tuple[int, int] | None = None
    for monday in mondays:
        thursday = monday + timedelta(days=3)
        key = (thursday.year, thursday.month)
        labels.append("" if key == previous else MONTH_NAMES[thursday.month - 1][:3])
        previous = key
    return labels


def _nice_top(value: float) -> int:
    """A round axis maximum at or above `value`, divisible into four round steps."""
    steps = (5, 10, 15, 20, 25, 30, 40, 50, 60, 75)
    scale = 1
    while True:
        for step in steps:
            if 4 * step * scale >= value:
                return 4 * step * scale
        scale *= 10


class PaintedWeekChart(QWidget):
    """Bars of minutes per week, painted (used when QtCharts is not installed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weeks: list[tuple[date, float]] = []
        self.theme: Theme | None = None
        self.setMinimumSize(QSize(360, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_weeks(self, weeks: list[tuple[date, float]]) -> None:
        """(Monday, minutes) pairs, oldest first."""
        self.weeks = list(weeks)
        self.update()

    def set_theme(self, theme: Theme) -> None:
        """Theme colours."""
        self.theme = theme
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Axis, grid lines, bars and week labels."""
        theme = self.theme or resolve_theme("light")
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        top = _nice_top(max((m for _, m in self.weeks), default=0))
        area = QRectF(self.rect()).marginsRemoved(
            QMargins(metrics.horizontalAdvance(str(top)) + 14, 12, 8, metrics.height() + 10))
        for i in range(5):
            y = area.bottom() - area.height() * i / 4
            painter.setPen(QPen(QColor(theme.border), 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(QColor(theme.muted))
            painter.drawText(QRectF(0, y - metrics.height() / 2, area.left() - 6, metrics.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             str(round(top * i / 4)))
        if self.weeks:
            slot = area.width() / len(self.weeks)
            labels = axis_labels([m for m, _ in self.weeks])
            for i, (_monday, minutes) in enumerate(self.weeks):
                h = area.height() * min(1.0, minutes / top)
                bar = QRectF(area.left() + slot * (i + 0.18), area.bottom() - h, slot * 0.64, h)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(theme.accent))
                painter.drawRoundedRect(bar, 3, 3)
                painter.setPen(QColor(theme.muted))
                painter.drawText(QRectF(area.left() + slot * (i - 0.5), area.bottom() + 4,
                                        slot * 2, metrics.height() + 4),
                                 Qt.AlignmentFlag.AlignHCenter, labels[i])
        painter.end()


class WeekChart(QWidget):
    """Minutes per week for the last weeks: QtCharts when installed, else painted bars."""

    def __init__(self, parent: QWidget | None = None, *, use_qtcharts: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("weekChart")
        self.setAccessibleName(f"Minutes of exercise per week, last {WEEKS_SHOWN} weeks")
        self.weeks: list[tuple[date, float]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.charts = None
        if use_qtcharts:
            try:
                from PySide6 import QtCharts  # Addons; about 9 MB, so only when shown
            except ImportError:
                QtCharts = None
            self.charts = QtCharts
        if self.charts is not None:
            self._build_qtchart()
            layout.addWidget(self.view)
        else:
            self.view = PaintedWeekChart()
            layout.addWidget(self.view)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(QSize(380, 210))

    def _build_qtchart(self) -> None:
        c = self.charts
        self.chart = c.QChart()
        self.chart.legend().hide()
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart.setBackgroundRoundness(0)
        self.chart.setAnimationOptions(c.QChart.AnimationOption.NoAnimation)
        self.bars = c.QBarSet("Minutes")
        self.series = c.QBarSeries()
        self.series.setBarWidth(0.66)
        self.series.append(self.bars)
        self.chart.addSeries(self.series)
        self.axis_x = c.QBarCategoryAxis()
        self.axis_y = c.QValueAxis()
        self.axis_y.setLabelFormat("%d")
        self.axis_y.setTickCount(5)
        self.axis_y.setMinorTickCount(0)
        self.chart.addAxis(self.axis_x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.axis_y, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.axis_x)
        self.series.attachAxis(self.axis_y)
        self.bars.hovered.connect(self._hovered)
        self.view = c.QChartView(self.chart)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def _hovered(self, inside: bool, index: int) -> None:
        if inside and 0 <= index < len(self.weeks):
            monday, minutes = self.weeks[index]
            QToolTip.showText(QCursor.pos(), f"Week of {_week_label(monday)}: "
                                             f"{format_minutes(minutes)} minutes", self)
        else:
            QToolTip.hideText()

    def set_weeks(self, weeks: list[tuple[date, float]]) -> None:
        """(Monday, minutes) pairs, oldest first, the current week last."""
        self.weeks = list(weeks)
        described = ", ".join(f"week of {_week_label(m)}: {format_minutes(v)} minutes"
                              for m, v in self.weeks)
        self.setAccessibleDescription(described)
        if self.charts is None:
            self.view.set_weeks(self.weeks)
            return
        if self.bars.count():
            self.bars.remove(0, self.bars.count())
        self.bars.append([round(v, 1) for _, v in self.weeks])
        # Categories must be unique: blank ones are made of different numbers of
        # zero-width spaces.
        shown = [lab or "\u200b" * (i + 1)
                 for i, lab in enumerate(axis_labels([m for m, _ in self.weeks]))]
        self.axis_x.clear()
        self.axis_x.append(shown)
        self.axis_y.setRange(0, _nice_top(max((v for _, v in self.weeks), default=0)))

    def set_theme(self, theme: Theme) -> None:
        """Theme colours for the bars, the axes and the background."""
        if self.charts is None:
            self.view.set_theme(theme)
            return
        background = QColor(theme.surface)
        self.chart.setBackgroundBrush(background)
        self.chart.setPlotAreaBackgroundVisible(False)
        self.view.setBackgroundBrush(background)
        self.bars.setColor(QColor(theme.accent))
        self.bars.setBorderColor(QColor(theme.accent))
        font = QFont(self.font())
        font.setPointSizeF(10)
        for axis in (self.axis_x, self.axis_y):
            axis.setLabelsBrush(QColor(theme.muted))
            axis.setLabelsFont(font)
            axis.setLinePenColor(QColor(theme.border))
            axis.setGridLineColor(QColor(theme.border))
        self.axis_x.setGridLineVisible(False)


# ---------------------------------------------------------------- the view

class StatCard(QFrame):
    """A big number with a caption underneath."""

    def __init__(self, name: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.value = QLabel("0", objectName=f"{name}Value")
        self.value.setProperty("role", "stat")
        self.caption = QLabel(caption, objectName=f"{name}Caption")
        self.caption.setProperty("role", "muted")
        self.caption.setWordWrap(True)
        self.name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 10)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set(self, value: str, caption: str | None = None) -> None:
        """Show a new value (and caption); screen readers get both as one name."""
        self.value.setText(value)
        if caption is not None:
            self.caption.setText(caption)
        self.setAccessibleName(f"{value} {self.caption.text()}")


class HistoryView(QWidget):
    """The history screen. Call `refresh()` when it is shown or a session ends."""

    back_requested = Signal()

    def __init__(self, history: History, store: SettingsStore,
                 today: Callable[[], date] = date.today, parent: QWidget | None = None, *,
                 use_qtcharts: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.history = history
        self.store = store
        self.today = today
        self.theme = resolve_theme(store.settings.theme)
        self.export_folder = Path.home()
        self.delete_dialog: QMessageBox | None = None
        self.sessions_shown: list[SessionRecord] = []

        # header
        self.back_button = QPushButton("‹  Back", objectName="historyBack")
        self.back_button.setAccessibleName("Back to the routines")
        self.back_button.setToolTip("Back (Esc)")
        self.back_button.clicked.connect(self.back_requested)
        title = QLabel("History")
        title.setProperty("role", "title")
        self.export_button = QPushButton("Export to CSV…", objectName="historyExport")
        self.export_button.setAccessibleName("Export the history to a CSV file")
        self.export_button.clicked.connect(self.choose_export_file)
        self.delete_button = QPushButton("Delete history…", objectName="historyDelete")
        self.delete_button.setAccessibleName("Delete all history")
        self.delete_button.clicked.connect(self.confirm_delete)
        header = QHBoxLayout()
        header.setSpacing(12)
        header.addWidget(self.back_button)
        header.addSpacing(8)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.export_button)
        header.addWidget(self.delete_button)

        self.message = QLabel(objectName="historyMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.message_is_error = False

        # numbers
        self.streak_card = StatCard("streak", "days in a row")
        self.goal_card = StatCard("goal", "weeks in a row meeting your goal")
        lo, hi = _limits("weekly_goal_days")
        self.goal_spin = QSpinBox(objectName="historyGoal")
        self.goal_spin.setRange(lo, hi)
        self.goal_spin.setSuffix(" days a week")
        self.goal_spin.setAccessibleName("Weekly goal in active days")
        self.goal_spin.setValue(store.settings.weekly_goal_days)
        self.goal_spin.valueChanged.connect(self._goal_edited)
        goal_row = QHBoxLayout()
        goal_row.setSpacing(6)
        goal_label = QLabel("Goal:")
        goal_label.setProperty("role", "muted")
        goal_label.setBuddy(self.goal_spin)
        goal_row.addWidget(goal_label)
        goal_row.addWidget(self.goal_spin, 1)
        self.goal_card.layout().insertLayout(2, goal_row)
        self.sessions_card = StatCard("sessions", "sessions")
        self.completed_card = StatCard("completed", "completed")
        self.minutes_card = StatCard("minutes", "minutes exercised")
        stats = QGridLayout()
        stats.setSpacing(12)
        for i, card in enumerate((self.streak_card, self.goal_card, self.sessions_card,
                                  self.completed_card, self.minutes_card)):
            stats.addWidget(card, 0, i)
            stats.setColumnStretch(i, 2 if card is self.goal_card else 1)

        # calendar and chart
        self.calendar = ActivityCalendar()
        self.calendar.selectionChanged.connect(self._describe_selected_day)
        self.day_label = QLabel(objectName="historyDay")
        self.day_label.setWordWrap(True)
        self.day_label.setProperty("role", "muted")
        self.day_label.setMaximumWidth(420)
        self.day_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        legend = QLabel("Filled: a day with a session. Underlined: today. Arrow keys move "
                        "between days, Page Up and Page Down between months.")
        legend.setWordWrap(True)
        legend.setProperty("role", "muted")
        legend.setMaximumWidth(420)
        calendar_box = self._panel("Active days", self.calendar, self.day_label, legend)
        calendar_box.layout().addStretch(1)
        self.chart = WeekChart(use_qtcharts=use_qtcharts)
        chart_box = self._panel(f"Minutes per week, last {WEEKS_SHOWN} weeks", self.chart)

        # recent sessions
        self.table = QTreeWidget(objectName="historySessions")
        self.table.setAccessibleName("Recent sessions")
        self.table.setColumnCount(5)
        self.table.setHeaderLabels(["Date", "Routine", "Level", "Status", "Minutes"])
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(220)
        head = self.table.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(NO_SESSIONS_LINE + ".", objectName="historyEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.setMinimumHeight(80)
        sessions_box = self._panel("Recent sessions", self.table, self.empty_label)
        sessions_box.layout().setStretchFactor(self.empty_label, 1)

        body = QWidget(objectName="page")
        content = QVBoxLayout(body)
        content.setContentsMargins(0, 0, 0, 0)
        content.setSpacing(14)
        content.addLayout(stats)
        grid = QGridLayout()
        grid.setSpacing(12)
        grid.addWidget(calendar_box, 0, 0, 2, 1)
        grid.addWidget(chart_box, 0, 1)
        grid.addWidget(sessions_box, 1, 1)
        grid.setColumnStretch(0, 0)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 0)
        grid.setRowStretch(1, 1)
        content.addLayout(grid, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll = scroll

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 20)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)

        self.setTabOrder(self.back_button, self.export_button)
        self.setTabOrder(self.export_button, self.delete_button)
        self.setTabOrder(self.delete_button, self.goal_spin)
        self.setTabOrder(self.goal_spin, self.calendar)
        self.setTabOrder(self.calendar, self.table)

        store.subscribe(self._settings_changed)
        self.set_theme(self.theme)
        self.refresh()

    @staticmethod
    def _panel(title: str, *widgets: QWidget) -> QFrame:
        frame = QFrame(objectName="card")
        heading = QLabel(title)
        heading.setProperty("role", "heading")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(heading)
        for w in widgets:
            layout.addWidget(w, 1 if not isinstance(w, QLabel) else 0)
        return frame

    # -- content ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read everything from the history."""
        today = self.today()
        goal = self.store.settings.weekly_goal_days
        try:
            sessions = self.history.sessions(limit=RECENT_SHOWN)
            active = self.history.active_days()
            streak = self.history.streak_days(today)
            weeks = self.history.weeks_meeting_goal(goal, today)
            totals = self.history.totals()
            per_week = self.history.minutes_per_week(WEEKS_SHOWN, today)
        except StorageError as exc:
            self.show_message(f"Your history could not be read. {exc}", error=True)
            return
        self.sessions_shown = sessions
        self.streak_card.set(str(streak), "day in a row" if streak == 1 else "days in a row")
        self.goal_card.set(str(weeks), "week in a row meeting your goal" if weeks == 1
                           else "weeks in a row meeting your goal")
        self.sessions_card.set(str(totals.sessions),
                               "session" if totals.sessions == 1 else "sessions")
        self.completed_card.set(str(totals.completed), "completed")
        self.minutes_card.set(format_minutes(totals.minutes), "minutes exercised")
        self._set_goal_spin(goal)
        self.calendar.set_days(active, today)
        self.chart.set_weeks(per_week)
        self._fill_table(sessions, today)
        has_any = totals.sessions > 0
        self.export_button.setEnabled(has_any)
        self.delete_button.setEnabled(has_any)
        self.export_button.setToolTip("" if has_any else "Nothing to export yet")
        self.delete_button.setToolTip("" if has_any else "There is no history to delete")
        self._describe_selected_day()

    def _fill_table(self, sessions: list[SessionRecord], today: date) -> None:
        self.table.clear()
        for s in sessions:
            local = s.started_at.astimezone()
            when = f"{short_date(s.local_date, today)}, {local:%H:%M}"
            row = QTreeWidgetItem([when, s.routine_name, s.level.capitalize(),
                                   STATUS_WORDS.get(s.status, s.status.capitalize()),
                                   format_minutes(_session_minutes(s))])
            row.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if s.status == INTERRUPTED:
                row.setToolTip(3, "BackCoach closed or crashed during this session; the work "
                                  "done until then is counted.")
            row.setData(0, Qt.ItemDataRole.UserRole, s.id)
            self.table.addTopLevelItem(row)
        self.table.setVisible(bool(sessions))
        self.empty_label.setVisible(not sessions)

    def _describe_selected_day(self) -> None:
        qd = self.calendar.selectedDate()
        day = date(qd.year(), qd.month(), qd.day())
        on_day = [s for s in self.sessions_shown if s.local_date == day]
        when = long_date(day, self.today())
        if not on_day:
            text = f"{when}: no sessions."
        else:
            parts = [f"{s.routine_name} ({format_minutes(_session_minutes(s))} min"
                     + ("" if s.status == COMPLETED else f", {STATUS_WORDS[s.status].lower()}")
                     + ")" for s in on_day]
            text = f"{when}: " + "; ".join(parts) + "."
        self.day_label.setText(text)
        self.calendar.setAccessibleDescription(text)

    def show_message(self, text: str, *, error: bool = False) -> None:
        """A line under the header: an error in warning colours, or a confirmation."""
        self.message.setText(text)
        self.message_is_error = error
        self.message.setStyleSheet(self._message_css[error])
        self.message.setAccessibleName(("Problem: " if error else "") + text)
        self.message.show()

    # -- goal ------------------------------------------------------------------------
    def _set_goal_spin(self, goal: int) -> None:
        if self.goal_spin.value() != goal:
            self.goal_spin.blockSignals(True)
            self.goal_spin.setValue(goal)
            self.goal_spin.blockSignals(False)

    def _goal_edited(self, value: int) -> None:
        if value == self.store.settings.weekly_goal_days:
            return
        problem = self.store.update(weekly_goal_days=value)
        if problem:
            self.show_message(problem, error=True)
        self.refresh()

    def _settings_changed(self, settings: Settings) -> None:
        try:
            if settings.weekly_goal_days != self.goal_spin.value():
                self.refresh()
        except RuntimeError:  # this view was deleted; the store outlives it
            pass

    # -- export and delete -----------------------------------------------------------
    def choose_export_file(self) -> None:
        """Ask where to save the CSV, then export."""
        suggested = self.export_folder / f"backcoach-history-{self.today().isoformat()}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export history to CSV", str(suggested),
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> bool:
        """Write the history as CSV to `path` (".csv" added if it has no suffix)."""
        if not path.suffix:
            path = path.with_suffix(".csv")
        try:
            count = len(self.history.sessions())
            self.history.export_csv(path)
        except StorageError as exc:
            self.show_message(f"The history was not exported. {exc}", error=True)
            return False
        self.export_folder = path.parent
        self.show_message(f"Exported {plural(count, 'session')} to {path}.")
        return True

    def confirm_delete(self) -> None:
        """Say exactly what will be lost, and delete only on a clear yes."""
        try:
            totals = self.history.totals()
            sessions = self.history.sessions()
        except StorageError as exc:
            self.show_message(f"Your history could not be read. {exc}", error=True)
            return
        if not sessions:
            self.show_message("There is no history to delete.")
            return
        first = min(s.local_date for s in sessions)
        text = (f"This deletes all {plural(totals.sessions, 'session')} "
                f"({format_minutes(totals.minutes)} minutes of exercise) recorded since "
                f"{long_date(first)}, and with them your streak and weekly goal record.\n\n"
                f"It cannot be undone. To keep a copy, choose Keep it and use "
                f"Export to CSV first.")
        box = QMessageBox(QMessageBox.Icon.Warning, "Delete your history?", text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("deleteHistoryDialog")
        box.button(QMessageBox.StandardButton.Yes).setText("Delete history")
        box.button(QMessageBox.StandardButton.No).setText("Keep it")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        self.delete_dialog = box
        try:
            answer = box.exec()
        finally:
            self.delete_dialog = None
            box.deleteLater()
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.history.delete_all()
        except StorageError as exc:
            self.show_message(f"The history was not deleted. {exc}", error=True)
            return
        self.refresh()
        self.show_message("Your history was deleted.")

    # -- keys and theme --------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc goes back."""
        if event.key() == Qt.Key.Key_Escape:
            self.back_requested.emit()
            return
        super().keyPressEvent(event)

    def set_theme(self, theme: Theme) -> None:
        """Apply a theme's colours (the window's style sheet does the rest)."""
        self.theme = theme
        border = 3 if theme.name == "high-contrast" else 1
        edge = theme.text if theme.name == "high-contrast" else theme.muted
        self.setStyleSheet(f"""
            QLabel[role="stat"] {{ font-size: 22pt; font-weight: 700; color: {theme.text}; }}
            QLabel[role="heading"] {{ font-size: 14pt; font-weight: 700; color: {theme.text}; }}
            QFrame#card QLabel {{ border: none; background: transparent; }}
            QLabel[role="muted"] {{ color: {theme.muted}; font-size: 11pt; }}
            QSpinBox {{ font-size: 12pt; min-height: 26px; padding: 1px 6px; color: {theme.text};
                background: {theme.surface}; border: {max(1, border - 1)}px solid {edge};
                border-radius: 6px; }}
            QSpinBox:focus {{ border: 2px solid {theme.accent}; }}
            QSpinBox::up-button, QSpinBox::down-button {{ width: 22px; }}
            QTreeWidget {{ font-size: 12pt; background: {theme.surface};
                alternate-background-color: {theme.window}; color: {theme.text};
                border: none; }}
            QTreeWidget::item {{ padding: 5px 4px; }}
            QTreeWidget::item:selected {{ background: {theme.accent}; color: {theme.accent_text}; }}
            QHeaderView::section {{ background: {theme.surface}; color: {theme.muted};
                font-size: 11pt; font-weight: 700; border: none;
                border-bottom: {border}px solid {theme.border}; padding: 6px 4px; }}
            QPushButton:disabled {{ color: {theme.muted}; }}
        """)
        message = "border-radius: 8px; padding: 8px 12px; font-size: 12pt;"
        self._message_css = {
            False: f"QLabel {{ background: {theme.surface}; color: {theme.text}; "
                   f"border: {border}px solid {theme.border}; {message} }}",
            True: f"QLabel {{ background: {theme.warning_bg}; color: {theme.warning_text}; "
                  f"border: {border}px solid {theme.warning_text}; {message} }}",
        }
        self.message.setStyleSheet(self._message_css[self.message_is_error])
        palette = self.table.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.surface))
        palette.setColor(QPalette.ColorRole.AlternateBase, QColor(theme.window))
        self.table.setPalette(palette)
        self.calendar.set_theme(theme)
        self.chart.set_theme(theme)


def _limits(name: str) -> tuple[int, int]:
    for f in dataclasses.fields(Settings):
        if f.name == name:
            return int(f.metadata["lo"]), int(f.metadata["hi"])
    raise KeyError(name)
