"""The history in words, for the home screen's line and the history page (no Qt).

Kept apart from history_view.py so the home screen can say "Last session: ..." without
loading the history page's widgets at start-up.
"""

from __future__ import annotations

from datetime import date

from backcoach.store.atomic import StorageError
from backcoach.store.history import COMPLETED, INTERRUPTED, RUNNING, STOPPED, History

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
STATUS_WORDS = {COMPLETED: "Completed", STOPPED: "Stopped early", INTERRUPTED: "Interrupted",
                RUNNING: "In progress"}
NO_SESSIONS_LINE = "No sessions yet: press Start when you are ready"


def plural(n: int, word: str) -> str:
    """'1 day', '3 days'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def long_date(day: date, today: date | None = None) -> str:
    """'Monday 3 March', with the year when it is not this year's."""
    text = f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"
    return text if today is not None and day.year == today.year else f"{text} {day.year}"


def short_date(day: date, today: date | None = None) -> str:
    """'Mon 3 Mar', with the year when it is not this year's."""
    text = f"{DAY_NAMES[day.weekday()][:3]} {day.day} {MONTH_NAMES[day.month - 1][:3]}"
    return text if today is not None and day.year == today.year else f"{text} {day.year}"


def relative_day(day: date, today: date) -> str:
    """'today', 'yesterday', 'on Monday' (within the week), else '3 March' ('3 March 2024')."""
    delta = (today - day).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if 1 < delta < 7:
        return f"on {DAY_NAMES[day.weekday()]}"
    text = f"{day.day} {MONTH_NAMES[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


def format_minutes(minutes: float) -> str:
    """Minutes as a person would say them: '12', '2.5', '0.5'."""
    if minutes >= 10 or minutes == 0:
        return str(round(minutes))
    return f"{minutes:.1f}".rstrip("0").rstrip(".")


def history_line(history: History, today: date) -> str:
    """The home screen's one line: last session and streak, or how to begin."""
    try:
        last = history.sessions(limit=1)
        streak = history.streak_days(today) if last else 0
    except StorageError as exc:
        return f"Your history could not be read: {exc}"
    if not last:
        return NO_SESSIONS_LINE
    session = last[0]
    text = f"Last session: {session.routine_name}, {relative_day(session.local_date, today)}"
    if session.status in (STOPPED, INTERRUPTED):
        text += f" ({STATUS_WORDS[session.status].lower()})"
    if streak:
        text += f" · Streak: {plural(streak, 'day')}"
    return text
