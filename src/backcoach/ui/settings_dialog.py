"""The settings dialog: every option a user sets, grouped, with large keyboard-friendly controls.

The dialog edits a copy: nothing changes until OK, which saves through the SettingsStore.
If saving fails (full disk, read-only folder) the dialog stays open with the message and
the user's choices, so they can free some space and press OK again. Ranges and choices
come from the Settings field metadata, so the dialog can never offer a value the settings
loader would reject.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProxyStyle,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from backcoach.store.settings import (
    CUE_KINDS,
    LEVELS,
    THEMES,
    CueToggles,
    Settings,
    VoiceSettings,
)
from backcoach.store.settings_store import SettingsStore
from backcoach.ui.theme import Theme, resolve_theme

# Human labels for the cue toggles, in the order a session meets them.
CUE_LABELS: dict[str, str] = {
    "announce": "Exercise name and set-up",
    "caution": "Cautions",
    "get_ready": "Get ready",
    "countdown": "Countdown 3, 2, 1",
    "phase": "Movement cues",
    "breathe": "Breathe in / out",
    "halfway": "Halfway",
    "switch": "Switch legs",
    "rest": "Rest",
    "next": "Next exercise",
    "well_done": "Well done",
}
assert set(CUE_LABELS) == set(CUE_KINDS), "every cue kind needs a label"

THEME_LABELS = {"system": "Same as the system", "light": "Light", "dark": "Dark",
                "high-contrast": "High contrast"}
assert set(THEME_LABELS) == set(THEMES)

DEFAULT_VOICE_LABEL = "System default voice"


def field_limits(cls: type, name: str) -> tuple[Any, Any]:
    """(lo, hi) of a settings field, from its metadata."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("lo"), f.metadata.get("hi")
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def field_choices(cls: type, name: str) -> tuple[str, ...]:
    """The allowed values of a choice field, from its metadata."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return tuple(f.metadata.get("choices") or ())
    raise KeyError(f"{cls.__name__} has no field {name!r}")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def breath_label(n: int) -> str:
    """How a breath-cue frequency reads in the dialog."""
    return "Every breath" if n == 1 else f"Every {ordinal(n)} breath"


class CheckStyle(QProxyStyle):
    """Large check boxes drawn in the theme's colours (Fusion's are small and faint)."""

    SIZE = 22

    def __init__(self, theme: Theme) -> None:
        super().__init__("fusion")
        self.theme = theme

    def pixelMetric(self, metric: QStyle.PixelMetric, option: QStyleOption | None = None,
                    widget: QWidget | None = None) -> int:
        """A bigger indicator."""
        if metric in (QStyle.PixelMetric.PM_IndicatorWidth, QStyle.PixelMetric.PM_IndicatorHeight):
            return self.SIZE
        return super().pixelMetric(metric, option, widget)

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption,
                      painter: QPainter, widget: QWidget | None = None) -> None:
        """A rounded box; checked: filled with the accent colour, with a tick."""
        if element != QStyle.PrimitiveElement.PE_IndicatorCheckBox:
            super().drawPrimitive(element, option, painter, widget)
            return
        t = self.theme
        enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
        checked = bool(option.state & QStyle.StateFlag.State_On)
        rect = QRectF(option.rect).adjusted(1, 1, -1, -1)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        edge = QColor(t.accent if checked else (t.text if t.name == "high-contrast" else t.muted))
        fill = QColor(t.accent if checked else t.surface)
        if not enabled:
            edge.setAlpha(110)
            fill.setAlpha(110 if checked else 255)
        painter.setPen(QPen(edge, 2))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 4, 4)
        if checked:
            tick = QColor(t.accent_text)
            painter.setPen(QPen(tick, 2.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            w, h, x, y = rect.width(), rect.height(), rect.left(), rect.top()
            painter.drawPolyline([QPointF(x + w * 0.24, y + h * 0.52),
                                  QPointF(x + w * 0.43, y + h * 0.72),
                                  QPointF(x + w * 0.77, y + h * 0.30)])
        painter.restore()


_CHECK_STYLES: dict[str, CheckStyle] = {}


def check_style(theme: Theme) -> CheckStyle:
    """One CheckStyle per theme, owned by the application so that it outlives every widget
    using it (a widget does not own its style, and a deleted one would crash it)."""
    style = _CHECK_STYLES.get(theme.name)
    if style is None:
        style = CheckStyle(theme)
        style.setParent(QApplication.instance())
        _CHECK_STYLES[theme.name] = style
    return style


def _spin(name: str, accessible: str, lo: int, hi: int, suffix: str) -> QSpinBox:
    box = QSpinBox(objectName=name)
    box.setRange(int(lo), int(hi))
    box.setSuffix(suffix)
    box.setAccessibleName(accessible)
    box.setMinimumWidth(200)
    box.lineEdit().setTextMargins(6, 0, 0, 0)
    return box


class ChoiceBox(QComboBox):
    """A combo box with a clear chevron (the style sheet's plain frame hides Fusion's)."""

    def paintEvent(self, event: QPaintEvent) -> None:
        """The usual box, then a chevron in the text colour at the right."""
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        group = QPalette.ColorGroup.Active if self.isEnabled() else QPalette.ColorGroup.Disabled
        painter.setPen(QPen(self.palette().color(group, QPalette.ColorRole.Text), 2,
                            Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        cx, cy = self.width() - 18, self.height() / 2
        painter.drawPolyline([QPointF(cx - 5, cy - 2.5), QPointF(cx, cy + 2.5),
                              QPointF(cx + 5, cy - 2.5)])
        painter.end()


def _combo(name: str, accessible: str) -> QComboBox:
    box = ChoiceBox(objectName=name)
    box.setAccessibleName(accessible)
    box.setMinimumWidth(260)
    return box


def _select_data(box: QComboBox, value: object) -> None:
    index = box.findData(value)
    if index >= 0:
        box.setCurrentIndex(index)


class SettingsDialog(QDialog):
    """Edit the settings; OK saves through the store, Cancel discards."""

    # The voice settings as currently chosen (unsaved), when "Test voice" is pressed.
    voice_test_requested = Signal(object)

    def __init__(self, store: SettingsStore, voices: list[tuple[str, str]] | None = None,
                 test_voice: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.voices = list(voices or [])
        self.test_voice = test_voice
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.setModal(True)

        columns = QHBoxLayout()
        columns.setSpacing(18)
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self._voice_group())
        left.addWidget(self._session_group())
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(14)
        right.addWidget(self._cues_group())
        right.addWidget(self._appearance_group())
        right.addWidget(self._goal_group())
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)

        body = QWidget(objectName="settingsBody")
        body.setLayout(columns)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll = scroll

        self.error_label = QLabel(objectName="settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setAccessibleName("Problem saving the settings")
        self.error_label.hide()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("settingsOk")
        self.ok_button.setText("Save")
        self.ok_button.setAccessibleName("Save the settings and close")
        self.ok_button.setProperty("primary", True)
        self.ok_button.setDefault(True)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("settingsCancel")
        self.cancel_button.setAccessibleName("Close without saving")
        self.defaults_button = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        self.defaults_button.setObjectName("settingsDefaults")
        self.defaults_button.setText("Restore defaults")
        self.defaults_button.setAccessibleName("Restore the default settings (saved on Save)")
        self.defaults_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(False)
        buttons.accepted.connect(self.save_and_close)
        buttons.rejected.connect(self.reject)
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.buttons = buttons

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

        theme = getattr(parent, "theme", None)  # the main window knows the theme in use
        self.set_theme(theme if isinstance(theme, Theme) else resolve_theme(store.settings.theme))
        self.load(store.settings)
        self._sized = False

    # -- building --------------------------------------------------------------------
    def _voice_group(self) -> QGroupBox:
        group = QGroupBox("Voice", objectName="voiceGroup")
        group.setAccessibleName("Voice")
        self.voice_enabled = QCheckBox("Speak cues aloud", objectName="voiceEnabled")
        self.voice_enabled.setAccessibleName("Speak cues aloud")
        self.voice_enabled.toggled.connect(self._update_enabled)

        self.voice_choice = _combo("voiceChoice", "Voice")
        self.voice_choice.addItem(DEFAULT_VOICE_LABEL, "")
        for voice_id, name in self.voices:
            if voice_id:
                self.voice_choice.addItem(name or voice_id, voice_id)
        lo, hi = field_limits(VoiceSettings, "rate")
        self.rate = _spin("voiceRate", "Speaking rate in words per minute", lo, hi,
                          " words a minute")
        self.rate.setSingleStep(10)
        lo, hi = field_limits(VoiceSettings, "volume")
        self.volume = _spin("voiceVolume", "Volume in percent", round(lo * 100), round(hi * 100),
                            " %")
        self.volume.setSingleStep(5)
        self.breathe_every = _combo("breatheEvery", "Breath cues after the first two breaths")
        lo, hi = field_limits(VoiceSettings, "breathe_every")
        for n in range(int(lo), int(hi) + 1):
            self.breathe_every.addItem(breath_label(n), n)

        self.test_button = QPushButton("Test voice", objectName="testVoice")
        self.test_button.setAccessibleName("Test the voice")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self._on_test_voice)
        if self.test_voice is None:
            self.test_button.setEnabled(False)
            self.test_button.setToolTip("No speech engine is available")

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        voice_row = QHBoxLayout()
        voice_row.addWidget(self.voice_choice, 1)
        voice_row.addWidget(self.test_button)
        labels = [self._form_row(form, "&Voice", voice_row, self.voice_choice),
                  self._form_row(form, "&Rate", self.rate),
                  self._form_row(form, "Vol&ume", self.volume),
                  self._form_row(form, "&Breath cues", self.breathe_every)]
        self.voice_controls: list[QWidget] = [self.voice_choice, self.rate, self.volume,
                                              self.breathe_every]
        self.voice_labels = labels
        note = QLabel("After the first two breaths of each hold")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        form.addRow("", note)

        layout = QVBoxLayout(group)
        layout.setSpacing(10)
        layout.addWidget(self.voice_enabled)
        layout.addLayout(form)
        return group

    def _cues_group(self) -> QGroupBox:
        group = QGroupBox("Voice cues", objectName="cuesGroup")
        group.setAccessibleName("Voice cues to speak")
        self.cue_boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(4)
        labels = list(CUE_LABELS.items())
        half = (len(labels) + 1) // 2
        for i, (kind, label) in enumerate(labels):
            box = QCheckBox(label, objectName=f"cue-{kind}")
            box.setAccessibleName(f"Speak cue: {label}")
            self.cue_boxes[kind] = box
            # Column-major, so Tab walks down the first column, then the second.
            grid.addWidget(box, i % half, i // half)
        self.voice_controls.extend(self.cue_boxes.values())
        return group

    def _session_group(self) -> QGroupBox:
        group = QGroupBox("Session", objectName="sessionGroup")
        group.setAccessibleName("Session")
        self.level = _combo("defaultLevel", "Default level")
        for value in field_choices(Settings, "default_level") or LEVELS:
            self.level.addItem(value.capitalize(), value)
        lo, hi = field_limits(Settings, "get_ready_seconds")
        self.get_ready = _spin("getReadySeconds", "Get-ready time in seconds", lo, hi, " seconds")
        lo, hi = field_limits(Settings, "switch_gap_seconds")
        self.switch_gap = _spin("switchGapSeconds", "Pause to switch sides in seconds", lo, hi,
                                " seconds")
        form = QFormLayout(group)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
        self._form_row(form, "&Level", self.level)
        self._form_row(form, "&Get ready", self.get_ready)
        self._form_row(form, "&Switch sides", self.switch_gap)
        return group

    def _appearance_group(self) -> QGroupBox:
        group = QGroupBox("Appearance", objectName="appearanceGroup")
        group.setAccessibleName("Appearance")
        self.theme_choice = _combo("themeChoice", "Colour theme")
        for value in field_choices(Settings, "theme") or THEMES:
            self.theme_choice.addItem(THEME_LABELS.get(value, value), value)
        form = QFormLayout(group)
        form.setHorizontalSpacing(14)
        self._form_row(form, "&Theme", self.theme_choice)
        return group

    def _goal_group(self) -> QGroupBox:
        group = QGroupBox("Goal", objectName="goalGroup")
        group.setAccessibleName("Goal")
        lo, hi = field_limits(Settings, "weekly_goal_days")
        self.weekly_goal = _spin("weeklyGoal", "Weekly goal in active days", lo, hi,
                                 " days a week")
        form = QFormLayout(group)
        form.setHorizontalSpacing(14)
        self._form_row(form, "Weekly &goal", self.weekly_goal)
        return group

    @staticmethod
    def _form_row(form: QFormLayout, text: str, field: QWidget | QHBoxLayout,
                  buddy: QWidget | None = None) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy if buddy is not None else field)  # Alt+letter jumps to it
        form.addRow(label, field)
        return label

    def showEvent(self, event: QShowEvent) -> None:
        """Size to the content the first time, once the style sheet has been applied."""
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            self.fit_to_content()

    def fit_to_content(self) -> None:
        """Grow the dialog so nothing needs scrolling, within the screen."""
        for widget in self.findChildren(QWidget):
            widget.ensurePolished()
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        layout = self.layout()
        layout.activate()
        needed = self.scroll.widget().sizeHint()
        margins = layout.contentsMargins()
        extra_h = layout.spacing() + self.buttons.sizeHint().height()
        if self.error_label.isVisible():
            extra_h += layout.spacing() + self.error_label.sizeHint().height()
        size = QSize(needed.width() + margins.left() + margins.right() + 2,
                     needed.height() + margins.top() + margins.bottom() + extra_h + 2)
        screen = self.screen()
        if screen is not None:
            room = screen.availableGeometry()
            if size.height() > room.height() - 60:  # it will scroll: leave room for the bar
                size.setWidth(size.width() + self.style().pixelMetric(
                    QStyle.PixelMetric.PM_ScrollBarExtent) + 4)
            size = size.boundedTo(QSize(room.width() - 40, room.height() - 60))
        self.resize(size.expandedTo(self.size()) if self.isVisible() else size)

    # -- theme -----------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        """Large, readable controls in the theme's colours."""
        self.theme = theme
        border = 3 if theme.name == "high-contrast" else 1
        field_edge = theme.text if theme.name == "high-contrast" else theme.muted
        self.check_style = check_style(theme)
        for box in (self.voice_enabled, *self.cue_boxes.values()):
            box.setStyle(self.check_style)
        self.setStyleSheet(f"""
            QDialog#settingsDialog, QWidget#settingsBody {{ background: {theme.window}; }}
            QGroupBox {{ font-size: 14pt; font-weight: 700; color: {theme.text};
                         background: {theme.surface}; border: {border}px solid {theme.border};
                         border-radius: 12px; margin-top: 18px; padding: 22px 14px 12px 14px; }}
            QGroupBox::title {{ subcontrol-origin: margin; subcontrol-position: top left;
                                left: 14px; padding: 0 6px; color: {theme.text}; }}
            QGroupBox QLabel, QGroupBox QCheckBox {{ font-size: 12pt; font-weight: 400; }}
            QLabel[role="muted"] {{ color: {theme.muted}; font-size: 10pt; }}
            QCheckBox {{ spacing: 10px; padding: 3px 0; color: {theme.text}; }}
            QCheckBox:disabled, QLabel:disabled {{ color: {theme.muted}; }}
            QSpinBox, QComboBox {{ font-size: 12pt; font-weight: 400; min-height: 28px;
                                   padding: 1px 8px; color: {theme.text};
                                   background: {theme.surface};
                                   border: {max(border, 2) if border > 1 else 1}px solid {field_edge};
                                   border-radius: 6px; }}
            QSpinBox::up-button, QSpinBox::down-button {{ width: 26px; }}
            QComboBox::drop-down {{ border: none; width: 30px; }}
            QSpinBox:focus, QComboBox:focus {{ border: 2px solid {theme.accent}; }}
            QSpinBox:disabled, QComboBox:disabled {{ color: {theme.muted}; }}
            QLabel#settingsError {{ background: {theme.warning_bg}; color: {theme.warning_text};
                                    border: {border}px solid {theme.warning_text};
                                    border-radius: 8px; padding: 10px; font-size: 12pt; }}
            QDialogButtonBox QPushButton {{ min-width: 120px; }}
            QPushButton:disabled {{ color: {theme.muted}; border-color: {theme.border}; }}
        """)
        self._update_enabled()

    # -- values ----------------------------------------------------------------------
    def load(self, settings: Settings) -> None:
        """Show `settings` in the controls."""
        voice = settings.voice
        self.voice_enabled.setChecked(voice.enabled)
        for kind, box in self.cue_boxes.items():
            box.setChecked(bool(getattr(voice.cues, kind)))
        if voice.voice_id and self.voice_choice.findData(voice.voice_id) < 0:
            # A voice chosen earlier that this computer lacks: keep it, say so.
            self.voice_choice.addItem(f"{voice.voice_id} (not found on this computer)",
                                      voice.voice_id)
        _select_data(self.voice_choice, voice.voice_id)
        self.rate.setValue(voice.rate)
        self.volume.setValue(round(voice.volume * 100))
        _select_data(self.breathe_every, voice.breathe_every)
        _select_data(self.level, settings.default_level)
        self.get_ready.setValue(settings.get_ready_seconds)
        self.switch_gap.setValue(settings.switch_gap_seconds)
        _select_data(self.theme_choice, settings.theme)
        self.weekly_goal.setValue(settings.weekly_goal_days)
        self._update_enabled()

    def voice_settings(self) -> VoiceSettings:
        """The voice settings as chosen in the dialog (not saved)."""
        cues = CueToggles(**{kind: box.isChecked() for kind, box in self.cue_boxes.items()})
        return VoiceSettings(enabled=self.voice_enabled.isChecked(), cues=cues,
                             voice_id=str(self.voice_choice.currentData() or ""),
                             rate=self.rate.value(), volume=self.volume.value() / 100,
                             breathe_every=int(self.breathe_every.currentData()))

    def chosen_settings(self, base: Settings | None = None) -> Settings:
        """`base` (default: the store's current settings) with the dialog's choices."""
        base = base if base is not None else self.store.settings
        return dataclasses.replace(
            base, voice=self.voice_settings(),
            default_level=str(self.level.currentData()),
            get_ready_seconds=self.get_ready.value(),
            switch_gap_seconds=self.switch_gap.value(),
            theme=str(self.theme_choice.currentData()),
            weekly_goal_days=self.weekly_goal.value())

    def restore_defaults(self) -> None:
        """Put the default values in the controls (saved only on Save)."""
        self.load(Settings())

    def save_and_close(self) -> None:
        """Save through the store; on failure show why and keep the dialog open."""
        problem = self.store.replace(self.chosen_settings())
        if problem:
            self.show_error(f"{problem} Your choices are in use until BackCoach closes; "
                            f"press Save to try again.")
            return
        self.error_label.hide()
        self.accept()

    def show_error(self, text: str) -> None:
        """Show a problem above the buttons."""
        self.error_label.setText(text)
        self.error_label.setAccessibleDescription(text)
        self.error_label.show()
        if self.isVisible():
            self.fit_to_content()

    def _update_enabled(self) -> None:
        on = self.voice_enabled.isChecked()
        for widget in self.voice_controls:
            widget.setEnabled(on)
        for label in self.voice_labels:  # the app palette draws disabled text in full colour
            label.setStyleSheet("" if on else f"color: {self.theme.muted};")
        self.test_button.setEnabled(on and self.test_voice is not None)

    def _on_test_voice(self) -> None:
        self.voice_test_requested.emit(self.voice_settings())
        if self.test_voice is not None:
            self.test_voice()


def open_settings(window: QWidget, store: SettingsStore,
                  voices: list[tuple[str, str]] | None = None,
                  test_voice: Callable[[], None] | None = None) -> bool:
    """Show the settings dialog over `window`; True if the user saved.

    After a save the window's theme is re-applied (if it has `apply_theme`); everything
    else should follow the store through `store.subscribe`.
    """
    dialog = SettingsDialog(store, voices, test_voice, window)
    try:
        saved = dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()
    if saved and hasattr(window, "apply_theme"):
        window.apply_theme()
    return saved
