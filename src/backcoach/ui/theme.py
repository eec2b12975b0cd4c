"""Colours and the style sheet for light, dark and high-contrast, following the system.

Colours are chosen for reading from across a room: strong contrast for text, and one
distinct colour per working side (left blue, right orange, both green) that stays
distinguishable for the common colour-vision deficiencies because the side is also
written out in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore
from PySide6.QtGui import QColor, QGuiApplication, QPalette

THEMES = ("system", "light", "dark", "high-contrast")


@dataclass(frozen=True)
class Theme:
    """Named colours of one theme (hex strings, for style sheets and painting)."""

    name: str
    window: str
    surface: str
    text: str
    muted: str
    accent: str
    accent_text: str
    left: str
    right: str
    both: str
    rest: str
    warning_bg: str
    warning_text: str
    border: str

    def color(self, field: str) -> QColor:
        """A QColor for one of the named fields."""
        return QColor(getattr(self, field))

    def side_color(self, side: str) -> QColor:
        """The colour for a working side: 'left', 'right' or 'both'."""
        return QColor({"left": self.left, "right": self.right}.get(side, self.both))

    @property
    def illustration_theme(self) -> str:
        """The illustration palette matching this theme."""
        return self.name


LIGHT = Theme("light", window="#f6f7f9", surface="#ffffff", text="#14181f", muted="#5b6472",
              accent="#1f6feb", accent_text="#ffffff", left="#1f5fd1", right="#c2410c",
              both="#15803d", rest="#6d28d9", warning_bg="#fff4d6", warning_text="#5c3d00",
              border="#d5dae1")
DARK = Theme("dark", window="#11151b", surface="#1b2129", text="#eef1f5", muted="#9aa4b2",
             accent="#4c9aff", accent_text="#0b1017", left="#6ea8ff", right="#ff9a57",
             both="#4ade80", rest="#c4a5ff", warning_bg="#3a2e12", warning_text="#ffe2a3",
             border="#2e3742")
HIGH_CONTRAST = Theme("high-contrast", window="#000000", surface="#000000", text="#ffffff",
                      muted="#ffffff", accent="#ffff00", accent_text="#000000",
                      left="#00e5ff", right="#ffb000", both="#7CFF4F", rest="#ff7dff",
                      warning_bg="#000000", warning_text="#ffff00", border="#ffffff")

_BY_NAME = {t.name: t for t in (LIGHT, DARK, HIGH_CONTRAST)}


def system_prefers_dark() -> bool:
    """Whether the desktop asks for a dark colour scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == QtCore.Qt.ColorScheme.Dark


def palette_prefers_dark() -> bool:
    """Whether the platform's palette is a dark one (lighter text than window).

    Platform themes derive their palette from the same desktop setting as the colour
    scheme, so at start-up this stands in for system_prefers_dark, whose answer would make
    PySide build the `Qt` namespace (15 ms, see ui/qt_names) before the first paint; the
    window checks the exact answer once it is up. Meaningful only before BackCoach sets its
    own palette."""
    palette = QGuiApplication.palette()
    return (palette.color(QPalette.ColorRole.Window).lightness()
            < palette.color(QPalette.ColorRole.WindowText).lightness())


def resolve_theme(name: str, system_dark: bool | None = None) -> Theme:
    """The theme for a setting value; 'system' follows the desktop's colour scheme
    (`system_dark` if given, else asked of the desktop)."""
    if name == "system" or name not in _BY_NAME:
        dark = system_prefers_dark() if system_dark is None else system_dark
        return DARK if dark else LIGHT
    return _BY_NAME[name]


def palette_for(theme: Theme) -> QPalette:
    """A QPalette so that dialogs and standard widgets match the theme."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window, QPalette.ColorRole.Base: theme.surface,
        QPalette.ColorRole.AlternateBase: theme.window, QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.WindowText: theme.text, QPalette.ColorRole.Button: theme.surface,
        QPalette.ColorRole.ButtonText: theme.text, QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.ToolTipBase: theme.surface, QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted, QPalette.ColorRole.Link: theme.accent,
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    return pal


def style_sheet(theme: Theme) -> str:
    """The app-wide style sheet: large, flat controls readable from a distance."""
    border_width = 3 if theme.name == "high-contrast" else 1
    return f"""
    QMainWindow, QWidget#page {{ background: {theme.window}; color: {theme.text}; }}
    QLabel {{ color: {theme.text}; }}
    QLabel[role="muted"] {{ color: {theme.muted}; }}
    QLabel[role="title"] {{ font-size: 28pt; font-weight: 700; }}
    QLabel[role="subtitle"] {{ font-size: 15pt; color: {theme.muted}; }}
    QFrame#card {{ background: {theme.surface}; border: {border_width}px solid {theme.border};
                   border-radius: 14px; }}
    QFrame#card[selected="true"] {{ border: 3px solid {theme.accent}; }}
    QFrame#card QLabel {{ border: none; }}
    QLabel#cardName {{ font-size: 18pt; font-weight: 700; }}
    QLabel#cardMinutes, QLabel#historyLine {{ font-size: 13pt; }}
    QLabel#cardDescription {{ font-size: 12pt; }}
    QLabel#cardExercises {{ font-size: 11pt; }}
    QLabel#kioskHint {{ font-size: 22pt; font-weight: 600; }}
    QPushButton#startButton {{ font-size: 20pt; }}
    QFrame#banner {{ background: {theme.warning_bg}; border: {border_width}px solid
                     {theme.warning_text}; border-radius: 8px; }}
    QFrame#banner QLabel {{ color: {theme.warning_text}; }}
    QFrame#cautions {{ background: {theme.warning_bg}; border-radius: 10px; }}
    QFrame#cautions QLabel {{ color: {theme.warning_text}; }}
    QPushButton {{ background: {theme.surface}; color: {theme.text};
                   border: {max(border_width, 2)}px solid {theme.border};
                   border-radius: 10px; padding: 10px 18px; font-size: 13pt; }}
    QPushButton:hover {{ border-color: {theme.accent}; }}
    QPushButton:focus {{ border: 3px solid {theme.accent}; }}
    QPushButton[primary="true"] {{ background: {theme.accent}; color: {theme.accent_text};
                                   border-color: {theme.accent}; font-weight: 700; }}
    QPushButton:checked {{ background: {theme.accent}; color: {theme.accent_text}; }}
    QComboBox {{ font-size: 13pt; padding: 6px 10px; }}
    QMenuBar, QMenu {{ font-size: 11pt; }}
    """
