"""Start-up never builds PySide's `Qt` namespace before the first paint, and the home screen is the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QEnterEvent, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea, QToolButton
from tests.helpers.app import build_test_app

from backcoach.ui.qt_names import set_by_name
from backcoach.ui.theme import palette_prefers_dark

# A real `backcoach` start. It notes when PySide makes the Qt namespace's first enum
# (GlobalColor) and how long after the show, which enums it makes before the window is
# first painted, and when that is, then quits 1 s after the show.
PROBE = """
import enum, json, sys, time
made = {}
real_new = enum.EnumType.__new__
before_paint = made.setdefault("enums before the first paint", [])
def new(mcls, name, *args, **kwargs):
    if name == "GlobalColor" and "qt" not in made:
        made["qt"] = "after the first paint" if "paint" in made else "before the first paint"
        if "shown" in made:
            made["qt_after_show"] = time.monotonic() - made["shown"]
    if "paint" not in made:
        before_paint.append(name)
    return real_new(mcls, name, *args, **kwargs)
enum.EnumType.__new__ = new
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
from backcoach.ui import main_window
real_show = main_window.MainWindow.show
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in made:
            made["paint"] = True
        return False
def show(self):
    self._watch = Watch(self)
    self.installEventFilter(self._watch)
    made["shown"] = time.monotonic()
    real_show(self)
    QTimer.singleShot(1000, lambda: (print(json.dumps({**made, "theme": self.theme.name})),
                                    QApplication.instance().quit()))
main_window.MainWindow.show = show
from backcoach.cli import main
sys.exit(main([]))
"""


def _start(home: Path, settings: dict) -> dict:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"version": 2, "first_run_notice_seen": True, **settings}))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BACKCOACH_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_system_theme_is_confirmed_after_the_first_paint(home: Path) -> None:
    """On the "system" theme the exact colour scheme (and with it `Qt`) is asked only once painted."""
    from backcoach.app import SCHEME_CHECK_MS

    got = _start(home, {"theme": "system"})
    assert got["paint"] is True
    # made by the confirmation, not by building or showing the window (on a machine slow
    # enough to paint later than the check, "after the first paint" would not hold)
    assert got["qt_after_show"] >= SCHEME_CHECK_MS / 1000 * 0.9
    assert got["theme"] == "light"  # offscreen has no dark desktop


@pytest.mark.parametrize("theme", ["light", "dark", "high-contrast"])
def test_a_fixed_theme_start_never_builds_the_qt_namespace(home: Path, theme: str) -> None:
    """With a fixed theme nothing on the home screen touches `Qt` until the user does something."""
    got = _start(home, {"theme": theme})
    assert got["paint"] is True and "qt" not in got
    assert got["theme"] == theme
    # nor QIcon's (an action made as QAction(text, parent) builds them), nor QComboBox's
    made = got["enums before the first paint"]
    assert "StandardKey" in made  # the probe sees PySide's enums being made
    assert not {"ThemeIcon", "InsertPolicy", "Base64Option"} & set(made)


def test_values_set_by_name_are_the_enum_values(qtbot, home: Path) -> None:
    """Focus policies, alignment, button style and text flags equal what the enums would set."""
    parts = build_test_app(qtbot, home)
    window = parts.window
    home_view = window.home
    assert home_view.focusPolicy() == Qt.FocusPolicy.StrongFocus
    assert home_view.findChild(QScrollArea).focusPolicy() == Qt.FocusPolicy.NoFocus
    assert home_view.history_line.alignment() == (Qt.AlignmentFlag.AlignRight
                                                  | Qt.AlignmentFlag.AlignVCenter)
    history = home_view.findChild(QToolButton, "action-history-button")
    assert history.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextOnly
    assert window.banner.label.textInteractionFlags() == \
        Qt.TextInteractionFlag.TextSelectableByMouse
    assert window.actions_by_name["pause"].shortcutContext() == Qt.ShortcutContext.WindowShortcut
    parts.close()


def test_set_by_name_refuses_unknown_properties_and_keys(qtbot) -> None:
    """A typo in a property or key name is an error, not a silently ignored setting."""
    label = QLabel()
    qtbot.addWidget(label)
    with pytest.raises(ValueError, match="alignment"):
        set_by_name(label, "alignment", "AlignSideways")
    with pytest.raises(ValueError, match="alignmnet"):
        set_by_name(label, "alignmnet", "AlignRight")


def test_a_card_shows_a_pointing_hand_once_the_pointer_comes(qtbot, home: Path) -> None:
    """The cursor is set at the first enter event, not at start-up."""
    parts = build_test_app(qtbot, home)
    card = parts.window.home.cards[0]
    assert card.cursor().shape() == Qt.CursorShape.ArrowCursor
    point = QPointF(5, 5)
    QApplication.sendEvent(card, QEnterEvent(point, point, card.mapToGlobal(point)))
    assert card.cursor().shape() == Qt.CursorShape.PointingHandCursor
    parts.close()


def test_the_palette_guess_reads_light_and_dark_palettes(qtbot) -> None:
    """A platform palette with light text on a dark window reads as dark, and the reverse."""
    app = QApplication.instance()
    saved = app.palette()
    try:
        dark = QPalette(saved)
        dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
        dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
        app.setPalette(dark)
        assert palette_prefers_dark() is True
        light = QPalette(saved)
        light.setColor(QPalette.ColorRole.Window, QColor("#f6f7f9"))
        light.setColor(QPalette.ColorRole.WindowText, QColor("#1b1f24"))
        app.setPalette(light)
        assert palette_prefers_dark() is False
    finally:
        app.setPalette(saved)


def test_a_wrong_start_up_guess_is_corrected(qtbot, home: Path) -> None:
    """A window started on a dark guess switches to the desktop's light scheme when it confirms."""
    from backcoach.ui.main_window import MainWindow

    parts = build_test_app(qtbot, home)
    window = MainWindow(parts.window.catalog, parts.window.settings_store, system_dark=True)
    qtbot.addWidget(window)
    assert window.theme.name == "dark"
    window.confirm_system_theme()
    qtbot.waitUntil(lambda: window.theme.name == "light")
    parts.close()
