"""Qt enum values set by name, so that start-up need not build the `Qt` namespace.

PySide6 makes the Python enums of a Qt class the first time the class is touched, all of
them at once. For the `Qt` namespace that is 93 enums with about 1,200 members: some
15 ms under Python 3.11's enum machinery, the largest single cost BackCoach's start has
over a bare window, which never touches `Qt`. The home screen needs only a few of its
values. Qt's property system takes an enum property's value by key name (QObject's
setProperty, as .ui files and QML do), all in C++, so the widgets built before the first
paint set those values that way, and `Qt` is first touched when it is needed: a key
press, the pointer over a card, a session.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction


def set_by_name(obj: QObject, prop: str, keys: str) -> None:
    """Set the enum (or flags: "AlignRight|AlignVCenter") property `prop` of `obj` by its
    key names; raises ValueError if `obj` has no such property or no such keys."""
    if not obj.setProperty(prop, keys):
        raise ValueError(f"{type(obj).__name__} has no enum property {prop!r} with {keys!r}")


def named_action(parent: QObject, name: str, text: str) -> QAction:
    """A QAction called "action-`name`" that shows `text`.

    Made as QAction(parent) and then given its text: to choose among QAction(text, parent)'s
    overloads PySide tries QIcon's, which builds QIcon's enums (ThemeIcon alone has 151
    members; 1.3 ms of start-up)."""
    action = QAction(parent)
    action.setText(text)
    action.setObjectName(f"action-{name}")
    return action
