"""The home screen: routines as cards, a level choice and one big Start.

Made to be used from the floor: arrow keys pick a routine, Enter or Space starts it,
1, 2 and 3 choose the level.
"""

from __future__ import annotations

from PySide6 import QtCore
from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QAction, QEnterEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.loader import Catalog
from backcoach.catalog.model import Level, Routine
from backcoach.session.plan import PlanOptions, planned_length
from backcoach.ui.qt_names import set_by_name

COLUMNS = 2


class RoutineCard(QFrame):
    """One routine: name, length at the chosen level, and its exercises."""

    clicked = Signal(str)
    activated = Signal(str)
    _polished = False  # see event()
    _pointer_set = False  # see enterEvent()

    def __init__(self, routine: Routine, exercise_names: list[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.routine = routine
        self.setObjectName("card")
        self.setProperty("selected", False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Sizes come from the window's style sheet (theme.style_sheet), by object name: a
        # style sheet per label made Qt parse and keep one for each of them.
        self.name = QLabel(routine.name, objectName="cardName")
        self.minutes = QLabel(objectName="cardMinutes")
        self.minutes.setProperty("role", "muted")
        self.description = QLabel(routine.description, objectName="cardDescription")
        self.description.setWordWrap(True)
        self.exercises = QLabel(" · ".join(exercise_names), objectName="cardExercises")
        self.exercises.setWordWrap(True)
        self.exercises.setProperty("role", "muted")
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.minutes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addWidget(self.exercises)
        self.setAccessibleName(f"Routine: {routine.name}")

    def set_minutes(self, seconds: float, level: Level) -> None:
        """Show the routine's length at the chosen level."""
        minutes = max(1, round(seconds / 60))
        self.minutes.setText(f"{minutes} min · {level.value}")
        self.setAccessibleDescription(f"{minutes} minutes at {level.value} level. "
                                      f"{self.exercises.text()}")

    def set_selected(self, selected: bool) -> None:
        """Highlight the card (re-polishes so the style sheet picks up the property).

        A card not yet polished (before the window is first shown) picks the property up when
        it is; skipping the re-polish then also spares start-up PySide's building of the
        QStyle wrapper and its enums (about 8 ms)."""
        self.setProperty("selected", selected)
        if self._polished:
            style = self.style()
            style.unpolish(self)
            style.polish(self)

    def event(self, event: QEvent) -> bool:
        """Note the polish (Qt's WA_WState_Polished, without the `Qt` namespace: see
        ui/qt_names)."""
        if not self._polished and event.type() == QEvent.Type.Polish:
            self._polished = True
        return super().event(event)

    def enterEvent(self, event: QEnterEvent) -> None:
        """A pointing hand over a card, set when the pointer first comes (see ui/qt_names)."""
        if not self._pointer_set:
            self._pointer_set = True
            self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        super().enterEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click selects."""
        self.clicked.emit(self.routine.id)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """A double click starts."""
        self.activated.emit(self.routine.id)


class HomeView(QWidget):
    """Routine cards, a level choice, the last session line and the Start button."""

    start_requested = Signal(str, object)  # routine id, Level
    level_changed = Signal(object)  # Level

    def __init__(self, catalog: Catalog, level: Level, plan_options: PlanOptions | None = None,
                 parent: QWidget | None = None, *, selected_id: str | None = None) -> None:
        """`selected_id`: the routine to highlight first (the last one used). Given here
        rather than by select_id afterwards, the cards are highlighted before they are first
        polished, which spares start-up a re-polish (about 9 ms, see RoutineCard)."""
        super().__init__(parent)
        self.setObjectName("page")
        set_by_name(self, "focusPolicy", "StrongFocus")  # (see ui/qt_names)
        self.catalog = catalog
        self.level = level
        self.plan_options = plan_options or PlanOptions()
        self.cards: list[RoutineCard] = []
        self.selected = 0
        self._initial_id = selected_id

        title = QLabel("BackCoach")
        title.setProperty("role", "title")
        subtitle = QLabel("Lower-back strength and mobility for runners")
        subtitle.setProperty("role", "subtitle")
        self.history_line = QLabel(objectName="historyLine")
        self.history_line.setProperty("role", "muted")
        set_by_name(self.history_line, "alignment", "AlignRight|AlignVCenter")
        self.history_line.setWordWrap(True)
        header = QGridLayout()
        header.addWidget(title, 0, 0)
        header.addWidget(subtitle, 1, 0)
        header.addWidget(self.history_line, 0, 1, 2, 1)
        header.setColumnStretch(0, 1)

        self.level_buttons: dict[Level, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        levels = QHBoxLayout()
        level_label = QLabel("Level")
        level_label.setProperty("role", "muted")
        levels.addWidget(level_label)
        for n, lv in enumerate(Level, start=1):
            button = QPushButton(f"{lv.value.capitalize()}  ({n})", objectName=f"level-{lv.value}")
            button.setCheckable(True)
            button.setChecked(lv is level)
            button.setAccessibleName(f"{lv.value} level")
            button.clicked.connect(lambda _=False, chosen=lv: self.set_level(chosen))
            group.addButton(button)
            self.level_buttons[lv] = button
            levels.addWidget(button)
        levels.addStretch(1)
        self.profile_slot = QHBoxLayout()  # ui/profiles.py puts the profile switcher here
        levels.addLayout(self.profile_slot)

        grid_host = QWidget(objectName="page")
        self.grid = QGridLayout(grid_host)
        self.grid.setSpacing(14)
        self.grid.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)
        set_by_name(scroll, "focusPolicy", "NoFocus")
        self.scroll = scroll

        self.hint = QLabel("Arrow keys choose · Enter or Space starts · 1 2 3 set the level")
        self.hint.setProperty("role", "muted")
        self.start_button = QPushButton("Start", objectName="startButton")
        self.start_button.setProperty("primary", True)
        self.start_button.setMinimumHeight(64)
        self.start_button.setMinimumWidth(320)
        self.start_button.clicked.connect(self.start_selected)
        bottom = self.bottom_row = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.start_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(16)
        layout.addLayout(header)
        self.kiosk_hint = QLabel(objectName="kioskHint")  # one large line on how to start
        self.kiosk_hint.setWordWrap(True)
        self.kiosk_hint.hide()
        layout.addWidget(self.kiosk_hint)
        layout.addLayout(levels)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self.set_catalog(catalog)

    # -- content ---------------------------------------------------------------------
    def set_catalog(self, catalog: Catalog, routine_ids: list[str] | None = None) -> None:
        """(Re)build the cards, in `routine_ids` order if given (the default routine first)."""
        self.catalog = catalog
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        ids = routine_ids or sorted(
            catalog.routines, key=lambda rid: (rid != "lower-back-for-runners",
                                               not catalog.routines[rid].builtin,
                                               catalog.routines[rid].name))
        for i, rid in enumerate(ids):
            routine = catalog.routines[rid]
            names = [catalog.exercises[item.exercise].name for item in routine.items]
            card = RoutineCard(routine, names)
            card.clicked.connect(self.select_id)
            card.activated.connect(lambda rid, self=self: (self.select_id(rid),
                                                          self.start_selected()))
            self.grid.addWidget(card, i // COLUMNS, i % COLUMNS)
            self.cards.append(card)
        self.selected = min(self.selected, max(0, len(self.cards) - 1))
        if self._initial_id is not None:
            self.selected = next((i for i, rid in enumerate(ids) if rid == self._initial_id),
                                 self.selected)
            self._initial_id = None
        self._update_minutes()
        self._show_selection()

    def set_plan_options(self, options: PlanOptions) -> None:
        """Get-ready and switch lengths from the settings (they change the minutes)."""
        self.plan_options = options
        self._update_minutes()

    def add_button(self, action: QAction) -> QToolButton:
        """A secondary button (e.g. History) beside Start, driven by a window action."""
        button = QToolButton(objectName=f"{action.objectName()}-button")
        button.setDefaultAction(action)
        set_by_name(button, "toolButtonStyle", "ToolButtonTextOnly")
        button.setMinimumHeight(64)
        button.setStyleSheet("font-size: 14pt; padding: 0 18px;")
        self.bottom_row.insertWidget(self.bottom_row.indexOf(self.start_button), button)
        return button

    def set_history_line(self, text: str) -> None:
        """The last session and streak, filled in by the history recorder."""
        self.history_line.setText(text)

    def _update_minutes(self) -> None:
        for card in self.cards:
            card.set_minutes(planned_length(card.routine, self.catalog.exercises, self.level,
                                            self.plan_options), self.level)

    # -- selection -------------------------------------------------------------------
    @property
    def selected_routine(self) -> str | None:
        """Id of the highlighted routine."""
        return self.cards[self.selected].routine.id if self.cards else None

    def select_id(self, routine_id: str) -> None:
        """Highlight the routine with this id."""
        for i, card in enumerate(self.cards):
            if card.routine.id == routine_id:
                self.selected = i
        self._show_selection()

    def move_selection(self, step: int) -> None:
        """Move the highlight by `step` cards, staying in range."""
        if self.cards:
            self.selected = max(0, min(len(self.cards) - 1, self.selected + step))
            self._show_selection()

    def _show_selection(self) -> None:
        for i, card in enumerate(self.cards):
            card.set_selected(i == self.selected)
        if self.cards:
            card = self.cards[self.selected]
            self.scroll.ensureWidgetVisible(card)
            self.start_button.setText(f"Start  ·  {card.routine.name}")
            self.start_button.setAccessibleName(f"Start {card.routine.name}")

    def set_level(self, level: Level) -> None:
        """Choose the level for every card."""
        self.level = level
        self.level_buttons[level].setChecked(True)
        self._update_minutes()
        self.level_changed.emit(level)

    def start_selected(self) -> None:
        """Ask the window to start the highlighted routine."""
        if self.selected_routine is not None:
            self.start_requested.emit(self.selected_routine, self.level)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrows pick, Enter/Space start, 1-3 choose the level."""
        key = event.key()
        Qt = QtCore.Qt  # built at the first key press (see ui/qt_names)
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1,
                 Qt.Key.Key_Up: -COLUMNS, Qt.Key.Key_Down: COLUMNS}
        levels = {Qt.Key.Key_1: Level.BEGINNER, Qt.Key.Key_2: Level.INTERMEDIATE,
                  Qt.Key.Key_3: Level.ADVANCED}
        if key in moves:
            self.move_selection(moves[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.start_selected()
        elif key in levels:
            self.set_level(levels[key])
        else:
            super().keyPressEvent(event)
