"""Small pieces shared by the editor widgets: labelled fields with an error line, spin boxes
that can mean "as the exercise says", the editor's extra style sheet, field checks.

Field checks run the catalogue's own `Table` accessors on the one value, so a message
shown while typing is exactly what the loader would say about the saved file.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.fields import CatalogError, Table
from backcoach.ui.theme import Theme

ERROR_COLOURS = {"light": "#b42318", "dark": "#ff8f87", "high-contrast": "#ff6b6b"}
OK_COLOURS = {"light": "#15803d", "dark": "#4ade80", "high-contrast": "#7CFF4F"}


def field_problem(key: str, value: Any, check: str = "text", **options: Any) -> str | None:
    """What the validator's `Table.<check>` says about `value` as the field `key` (None: fine)."""
    table = Table({} if value is None else {key: value}, "")
    try:
        getattr(table, check)(key, **options)
    except CatalogError as exc:
        return exc.problem
    return None


def lines(text: str) -> list[str]:
    """Non-blank lines of a multi-line box, stripped (one step or caution per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def seconds_text(value: float) -> str:
    """'30 s', '1 min 30 s'."""
    whole = round(value)
    if whole < 60:
        return f"{value:g} s" if value != whole else f"{whole} s"
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def clock_text(seconds: float) -> str:
    """m:ss of a total length."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class ErrorLabel(QLabel):
    """The red line under a field; hidden while the field is fine."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"error-{name}")
        self.setProperty("role", "error")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.hide()

    def set_problem(self, text: str | None) -> None:
        """Show `text`, or hide when None."""
        self.setText(text or "")
        self.setAccessibleName(f"Problem: {text}" if text else "")
        self.setVisible(bool(text))


class Field(QWidget):
    """A caption, the editing widget, an optional hint, and the error line under it."""

    def __init__(self, caption: str, widget: QWidget, name: str, hint: str = "",
                 parent: QWidget | None = None, *, expand: bool = False) -> None:
        super().__init__(parent)
        self.widget = widget
        self.caption = QLabel(caption)
        self.caption.setProperty("role", "caption")
        self.caption.setBuddy(widget)
        self.error = ErrorLabel(name)
        if not widget.objectName():
            widget.setObjectName(name)
        if not widget.accessibleName():
            widget.setAccessibleName(caption.replace("&", ""))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.caption)
        layout.addWidget(widget, 1 if expand else 0)
        if hint:
            self.hint = QLabel(hint)
            self.hint.setProperty("role", "hint")
            self.hint.setWordWrap(True)
            layout.addWidget(self.hint)
        layout.addWidget(self.error)
        if not expand:
            layout.addStretch(1)  # side by side with a taller field, stay at the top

    def set_problem(self, text: str | None) -> None:
        """Show a problem under the field (and tell screen readers on the field itself)."""
        self.error.set_problem(text)
        self.widget.setAccessibleDescription(text or "")
        self.widget.setProperty("invalid", bool(text))
        self.widget.style().unpolish(self.widget)
        self.widget.style().polish(self.widget)


class DefaultSpin(QSpinBox):
    """A whole-number spin box whose lowest value means "as the exercise says (N)"."""

    def __init__(self, name: str, accessible: str, lowest: int, highest: int,
                 suffix: str = "") -> None:
        super().__init__(objectName=name)
        self.setRange(lowest - 1, highest)
        self.setSuffix(suffix)
        self.setAccessibleName(accessible)
        self.setSpecialValueText("default")
        self.setToolTip("\"default\" is the exercise's own value; choose a number to change "
                        "it in this routine only.")
        self.setMinimumWidth(100)

    @property
    def unset(self) -> int:
        """The value meaning "no override"."""
        return self.minimum()

    def set_default_text(self, text: str) -> None:
        """Say what "as the exercise says" currently means."""
        self.setSpecialValueText(f"default ({text})" if text else "default")

    def override(self) -> int | None:
        """The override, or None for the exercise's own value."""
        return None if self.value() == self.unset else self.value()

    def set_override(self, value: float | None) -> None:
        """Show an override (None: the exercise's own value)."""
        self.setValue(self.unset if value is None else round(value))


def spin(name: str, accessible: str, lowest: int, highest: int, suffix: str = "") -> QSpinBox:
    """A plain whole-number spin box."""
    box = QSpinBox(objectName=name)
    box.setRange(lowest, highest)
    box.setSuffix(suffix)
    box.setAccessibleName(accessible)
    return box


def dspin(name: str, accessible: str, lowest: float, highest: float,
          suffix: str = " s") -> QDoubleSpinBox:
    """A seconds spin box with one decimal (breathing can be 3.5 s)."""
    box = QDoubleSpinBox(objectName=name)
    box.setRange(lowest, highest)
    box.setDecimals(1)
    box.setSingleStep(0.5)
    box.setSuffix(suffix)
    box.setAccessibleName(accessible)
    return box


def combo(name: str, accessible: str, choices: list[tuple[str, Any]]) -> QComboBox:
    """A combo box of (text, data) pairs."""
    box = QComboBox(objectName=name)
    box.setAccessibleName(accessible)
    for text, data in choices:
        box.addItem(text, data)
    return box


def select_data(box: QComboBox, value: Any) -> None:
    """Select the entry whose data is `value` (if there is one)."""
    index = box.findData(value)
    if index >= 0:
        box.setCurrentIndex(index)


def editor_style(theme: Theme) -> str:
    """The editor's own rules on top of the window's style sheet."""
    error = ERROR_COLOURS.get(theme.name, ERROR_COLOURS["light"])
    border = 3 if theme.name == "high-contrast" else 1
    edge = theme.text if theme.name == "high-contrast" else theme.border
    return f"""
    QWidget#editorPage, QWidget#editorBody, QScrollArea > QWidget > QWidget#editorBody
        {{ background: {theme.window}; }}
    QLabel[role="heading"] {{ font-size: 15pt; font-weight: 700; }}
    QLabel[role="section"] {{ font-size: 12pt; font-weight: 700; color: {theme.text};
                              padding-top: 6px; }}
    QLabel[role="caption"] {{ font-size: 11pt; font-weight: 600; }}
    QLabel[role="hint"] {{ font-size: 10pt; color: {theme.muted}; }}
    QLabel[role="muted"] {{ color: {theme.muted}; }}
    QLabel[role="error"] {{ color: {error}; font-size: 10.5pt; font-weight: 600; }}
    QLabel[role="status"] {{ font-size: 11pt; }}
    QLabel[role="total"] {{ font-size: 15pt; font-weight: 600; }}
    QLabel[role="total"][current="true"] {{ color: {theme.accent}; font-weight: 800; }}
    QLabel[role="status"][error="true"] {{ color: {error}; font-weight: 600; }}
    QLabel[role="readonly"] {{ background: {theme.warning_bg}; color: {theme.warning_text};
                               border-radius: 8px; padding: 8px 12px; font-size: 11pt; }}
    QLabel {{ font-size: 11pt; }}
    QSpinBox, QDoubleSpinBox, QComboBox {{ font-size: 11pt; min-height: 26px; }}
    QLineEdit, QPlainTextEdit {{
        font-size: 11pt; padding: 4px 6px; color: {theme.text}; background: {theme.surface};
        border: {border}px solid {edge}; border-radius: 6px; }}
    QLineEdit:focus, QPlainTextEdit:focus {{ border: 2px solid {theme.accent}; }}
    QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 2px solid {error}; }}
    QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"] {{ color: {theme.muted}; }}
    QListWidget, QTreeWidget {{ font-size: 11pt; background: {theme.surface}; color: {theme.text};
        border: {border}px solid {edge}; border-radius: 8px; }}
    QListWidget::item {{ padding: 4px; }}
    QListWidget::item:selected, QTreeWidget::item:selected {{ background: {theme.accent};
        color: {theme.accent_text}; }}
    QPushButton {{ padding: 6px 12px; font-size: 11pt; }}
    QPushButton:disabled {{ color: {theme.muted}; border-style: dashed; }}
    QPushButton[primary="true"]:disabled {{ background: {theme.surface}; color: {theme.muted};
                                            border: 2px dashed {theme.border}; }}
    QTabWidget::pane {{ border: {border}px solid {edge}; border-radius: 8px; top: -1px; }}
    QTabBar::tab {{ padding: 6px 14px; font-size: 11pt; color: {theme.text};
                    background: {theme.window}; border: {border}px solid {edge};
                    border-bottom: none; border-top-left-radius: 6px;
                    border-top-right-radius: 6px; }}
    QTabBar::tab:selected {{ background: {theme.surface}; font-weight: 700; }}
    QCheckBox {{ font-size: 11pt; color: {theme.text}; }}
    """
