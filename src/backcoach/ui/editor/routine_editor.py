"""Edit one routine: name, description, rests, the exercises in order and their overrides.

The form is turned into the same table a routine file holds and run through the
catalogue's validator on every change, so what is shown as valid is what will load.
Problems appear in red under the field as you type, and Save stays disabled while there
are any. The total length at each level and the timeline come from `build_plan`.

Reorder by drag and drop, with the Up/Down buttons, or with Alt+Up / Alt+Down in the
list; Delete removes the highlighted exercise.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.fields import CatalogError, Table
from backcoach.catalog.loader import Catalog, routine_from_table
from backcoach.catalog.model import Exercise, Level, Routine, Sides, TimingOverride
from backcoach.catalog.user_files import override_to_dict
from backcoach.session.plan import PlanOptions, SegmentKind, Timeline, build_plan
from backcoach.ui.editor.catalogue_picker import CataloguePicker, exercise_icon
from backcoach.ui.editor.common import (
    DefaultSpin,
    ErrorLabel,
    Field,
    clock_text,
    combo,
    field_problem,
    seconds_text,
    select_data,
    spin,
)

PLACEHOLDER_ID = "new-routine"
OVERRIDE_FIELDS = ("hold", "reps", "sets", "rep_rest", "set_rest")
ITEM_THUMB = QSize(72, 48)


@dataclass
class ItemDraft:
    """One exercise of the routine being edited, with the overrides set at each level."""

    exercise: str
    overrides: dict[Level, dict[str, Any]] = field(default_factory=dict)
    key: int = 0


def timing_words(exercise: Exercise, override: TimingOverride, level: Level) -> str:
    """'30 s hold × 2 reps · each side' for an item at a level, overrides applied."""
    timing = override.apply(exercise.timing[level])
    sides = override.sides or exercise.sides
    parts = [f"{seconds_text(timing.hold)} hold"]
    if timing.reps > 1:
        parts[0] += f" × {timing.reps} reps"
    if timing.sets > 1:
        parts.append(f"{timing.sets} sets")
    parts.append("each side" if sides is Sides.EACH else "both sides")
    return " · ".join(parts)


class ItemList(QListWidget):
    """The routine's exercises: drag to reorder, Alt+Up/Alt+Down to move, Delete to remove."""

    move_requested = Signal(int)
    remove_requested = Signal()

    def __init__(self) -> None:
        super().__init__(objectName="routineItems")
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(ITEM_THUMB)
        self.setSpacing(2)
        self.setAccessibleName("Exercises in this routine")
        self.setAccessibleDescription("Alt+Up and Alt+Down move the highlighted exercise; "
                                      "Delete removes it.")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Alt+Up / Alt+Down move the current exercise; Delete removes it."""
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if alt and event.key() == Qt.Key.Key_Up:
            self.move_requested.emit(-1)
        elif alt and event.key() == Qt.Key.Key_Down:
            self.move_requested.emit(1)
        elif event.key() == Qt.Key.Key_Delete:
            self.remove_requested.emit()
        else:
            super().keyPressEvent(event)


class RoutineEditor(QWidget):
    """The form for one routine; `build()` gives the validated Routine (or None)."""

    changed = Signal()
    save_requested = Signal()
    close_requested = Signal()
    duplicate_requested = Signal()

    def __init__(self, catalog: Catalog, theme: str = "light",
                 options: PlanOptions | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("routineEditor")
        self.catalog = catalog
        self.options = options or PlanOptions()
        self.theme = theme
        self.routine_id = PLACEHOLDER_ID
        self.original: Routine | None = None
        self.read_only = False
        self.dirty = False
        self.level = Level.BEGINNER
        self.items: list[ItemDraft] = []
        self.routine: Routine | None = None  # the last valid build
        self.timeline: Timeline | None = None
        self.problems: dict[str, str] = {}
        self.touched: set[str] = set()  # fields changed since loading: their problems show
        self.show_all = False  # an existing routine: show every problem at once
        self._keys = itertools.count(1)
        self._loading = False
        self._icons: dict[tuple[str, str], Any] = {}
        self._planned: tuple[Any, ...] | None = None  # what the totals and timeline show
        self._build_ui()
        self.load(None)

    # -- layout ----------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.title = QLabel("New routine", objectName="editorTitle")
        self.title.setProperty("role", "heading")
        self.readonly_note = QLabel("This routine comes with BackCoach and cannot be changed. "
                                    "Duplicate it to make your own version.")
        self.readonly_note.setProperty("role", "readonly")
        self.readonly_note.setWordWrap(True)
        self.duplicate_button = QPushButton("Duplicate to edit", objectName="duplicateToEdit")
        self.duplicate_button.setProperty("primary", True)
        self.duplicate_button.clicked.connect(self.duplicate_requested)
        readonly_row = QHBoxLayout()
        readonly_row.addWidget(self.readonly_note, 1)
        readonly_row.addWidget(self.duplicate_button)
        self.readonly_box = QWidget()
        self.readonly_box.setLayout(readonly_row)
        readonly_row.setContentsMargins(0, 0, 0, 0)

        # Column 1: what the routine is.
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Morning back routine")
        self.name_field = Field("&Name", self.name_edit, "routineName")
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText("What the routine is for, in a sentence or two")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(96)
        self.description_field = Field("&Description", self.description_edit,
                                       "routineDescription")
        self.default_level = combo("routineDefaultLevel", "Default level",
                                   [(lv.value.capitalize(), lv.value) for lv in Level])
        self.default_level_field = Field("Default &level", self.default_level,
                                         "routineDefaultLevelField")
        self.get_ready = spin("routineGetReady", "Get ready before the first exercise", 3, 120,
                              " s")
        self.get_ready_field = Field("&Get ready", self.get_ready, "routineGetReadyField",
                                     hint="Before the first exercise.")
        self.rest_spins: dict[Level, Any] = {}
        rest_host = QWidget()
        rest_grid = QGridLayout(rest_host)
        rest_grid.setContentsMargins(0, 0, 0, 0)
        rest_grid.setHorizontalSpacing(8)
        for col, lv in enumerate(Level):
            box = spin(f"rest-{lv.value}", f"Rest between exercises, {lv.value}", 0, 600, " s")
            box.setMinimumWidth(70)
            caption = QLabel(lv.value.capitalize())
            caption.setProperty("role", "hint")
            caption.setBuddy(box)
            rest_grid.addWidget(caption, 0, col)
            rest_grid.addWidget(box, 1, col)
            self.rest_spins[lv] = box
        self.rest_field = Field("&Rest between exercises", rest_host, "routineRest",
                                hint="At least 5 s is always given to change position.")
        self.totals = QLabel(objectName="routineTotalsNote")
        self.totals.setWordWrap(True)
        self.totals.setProperty("role", "hint")
        self.total_labels: dict[Level, QLabel] = {}
        totals_host = QWidget(objectName="routineTotals")
        totals_grid = QGridLayout(totals_host)
        totals_grid.setContentsMargins(0, 0, 0, 0)
        totals_grid.setHorizontalSpacing(8)
        for col, lv in enumerate(Level):
            caption = QLabel(lv.value.capitalize())
            caption.setProperty("role", "hint")
            value = QLabel("–", objectName=f"total-{lv.value}")
            value.setProperty("role", "total")
            value.setAccessibleName(f"Total time, {lv.value}")
            totals_grid.addWidget(caption, 0, col)
            totals_grid.addWidget(value, 1, col)
            self.total_labels[lv] = value
        totals_caption = QLabel("Total time")
        totals_caption.setProperty("role", "section")

        form = QWidget(objectName="editorBody")
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 12, 0)
        form_layout.setSpacing(10)
        for widget in (self.name_field, self.description_field):
            form_layout.addWidget(widget)
        pair = QHBoxLayout()
        pair.addWidget(self.default_level_field, 1)
        pair.addWidget(self.get_ready_field, 1)
        form_layout.addLayout(pair)
        form_layout.addWidget(self.rest_field)
        form_layout.addWidget(totals_caption)
        form_layout.addWidget(totals_host)
        form_layout.addWidget(self.totals)
        form_layout.addStretch(1)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setWidget(form)
        form_scroll.setMinimumWidth(250)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        # Column 2: the exercises, in order, and the changes to the highlighted one.
        self.item_list = ItemList()
        self.item_list.setMinimumHeight(180)
        self.items_field = Field("&Exercises, in order", self.item_list, "routineItems",
                                 hint="Drag to reorder, or Alt+Up / Alt+Down. Delete removes.",
                                 expand=True)
        self.items_field.error.setObjectName("error-routineItems")
        self.up_button = QPushButton("Move up", objectName="itemUp")
        self.up_button.setToolTip("Move the highlighted exercise up (Alt+Up)")
        self.down_button = QPushButton("Move down", objectName="itemDown")
        self.down_button.setToolTip("Move the highlighted exercise down (Alt+Down)")
        self.remove_button = QPushButton("Remove", objectName="itemRemove")
        self.remove_button.setToolTip("Remove the highlighted exercise (Delete)")
        buttons = QHBoxLayout()
        for b in (self.up_button, self.down_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.level_buttons: dict[Level, QPushButton] = {}
        level_group = QButtonGroup(self)
        level_row = QHBoxLayout()
        level_caption = QLabel("Level shown")
        level_caption.setProperty("role", "caption")
        level_row.addWidget(level_caption)
        for lv in Level:
            b = QPushButton(lv.value.capitalize(), objectName=f"editorLevel-{lv.value}")
            b.setCheckable(True)
            b.setAccessibleName(f"Show and change the {lv.value} level")
            b.clicked.connect(lambda _=False, chosen=lv: self.set_level(chosen))
            level_group.addButton(b)
            level_row.addWidget(b)
            self.level_buttons[lv] = b
        level_row.addStretch(1)

        self.override_title = QLabel(objectName="overrideTitle")
        self.override_title.setProperty("role", "section")
        self.override_title.setWordWrap(True)
        self.override_spins: dict[str, DefaultSpin] = {
            "hold": DefaultSpin("override-hold", "Hold", 1, 600, " s"),
            "reps": DefaultSpin("override-reps", "Repetitions", 1, 50),
            "sets": DefaultSpin("override-sets", "Sets", 1, 10),
            "rep_rest": DefaultSpin("override-rep_rest", "Rest between repetitions", 0, 300, " s"),
            "set_rest": DefaultSpin("override-set_rest", "Rest between sets", 0, 600, " s"),
        }
        self.override_sides = combo("override-sides", "Sides", [("default", ""),
                                                                ("Both sides together", "both"),
                                                                ("Each side in turn", "each")])
        self.reset_override = QPushButton("Use the exercise's own timing",
                                          objectName="overrideReset")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        captions = {"hold": "Hold", "reps": "Reps", "sets": "Sets",
                    "rep_rest": "Rest between reps", "set_rest": "Rest between sets",
                    "sides": "Sides"}
        boxes: list[tuple[str, QWidget]] = [*self.override_spins.items(),
                                            ("sides", self.override_sides)]
        for n, (key, box) in enumerate(boxes):
            label = QLabel(captions[key])
            label.setProperty("role", "hint")
            label.setBuddy(box)
            box.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            box.setMinimumWidth(100)
            row, col = divmod(n, 3)
            grid.addWidget(label, row * 2, col)
            grid.addWidget(box, row * 2 + 1, col)
            grid.setColumnStretch(col, 1)
        self.override_box = QFrame(objectName="overrideBox")
        override_layout = QVBoxLayout(self.override_box)
        override_layout.setContentsMargins(0, 0, 0, 0)
        override_layout.addWidget(self.override_title)
        override_layout.addLayout(grid)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        reset_row.addWidget(self.reset_override)
        override_layout.addLayout(reset_row)

        middle = QWidget(objectName="editorBody")
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(12, 0, 12, 0)
        middle_layout.setSpacing(8)
        middle_layout.addWidget(self.items_field, 1)
        middle_layout.addLayout(buttons)
        middle_layout.addLayout(level_row)
        middle_layout.addWidget(self.override_box)

        # Column 3: the catalogue to add from, and the timeline preview.
        self.picker = CataloguePicker(self.catalog, self.theme)
        self.timeline_caption = QLabel(objectName="timelineCaption")
        self.timeline_caption.setProperty("role", "muted")
        self.timeline_caption.setWordWrap(True)
        self.timeline_view = QTreeWidget(objectName="timelinePreview")
        self.timeline_view.setHeaderLabels(["Start", "Length", "Step", "Side"])
        self.timeline_view.setUniformRowHeights(True)
        self.timeline_view.setIndentation(14)
        header = self.timeline_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.timeline_view.setAccessibleName("Timeline preview")
        timeline_page = QWidget()
        tl = QVBoxLayout(timeline_page)
        tl.setContentsMargins(8, 8, 8, 8)
        tl.addWidget(self.timeline_caption)
        tl.addWidget(self.timeline_view, 1)
        self.tabs = QTabWidget(objectName="editorTabs")
        self.tabs.addTab(self.picker, "Add exercises")
        self.tabs.addTab(timeline_page, "Timeline")
        self.tabs.setMinimumWidth(280)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(form_scroll)
        splitter.addWidget(middle)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 5)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([330, 420, 300])

        # Bottom: a general problem, Save and Close.
        self.general_error = ErrorLabel("routineGeneral")
        self.save_button = QPushButton("Save routine", objectName="saveRoutine")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.close_button = QPushButton("Close", objectName="closeRoutine")
        bottom = QHBoxLayout()
        bottom.addWidget(self.general_error, 1)
        bottom.addStretch(0)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(self.readonly_box)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        # Wiring.
        self.name_edit.textChanged.connect(lambda _t: self._edited("name"))
        self.description_edit.textChanged.connect(lambda: self._edited("description"))
        self.default_level.currentIndexChanged.connect(self._edited)
        self.get_ready.valueChanged.connect(self._edited)
        for box in self.rest_spins.values():
            box.valueChanged.connect(self._edited)
        self.item_list.currentRowChanged.connect(lambda _row: self._show_override())
        self.item_list.move_requested.connect(self.move_current)
        self.item_list.remove_requested.connect(self.remove_current)
        self.item_list.model().rowsMoved.connect(lambda *_: self._sync_order_from_list())
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.remove_button.clicked.connect(self.remove_current)
        for key, box in self.override_spins.items():
            box.valueChanged.connect(lambda _v, k=key: self._override_edited(k))
        self.override_sides.currentIndexChanged.connect(lambda _i: self._override_edited("sides"))
        self.reset_override.clicked.connect(self.clear_override)
        self.picker.exercise_chosen.connect(self.add_exercise)
        self.save_button.clicked.connect(self._save_clicked)
        self.close_button.clicked.connect(self.close_requested)
        save = QShortcut(QKeySequence.StandardKey.Save, self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self._save_clicked)

    # -- loading ---------------------------------------------------------------------
    def set_catalog(self, catalog: Catalog, own_ids: frozenset[str] = frozenset()) -> None:
        """New catalogue (after a save or an import): refresh the picker and the checks."""
        self.catalog = catalog
        self.picker.set_catalog(catalog, own_ids)
        self._fill_items()
        self._refresh()

    def set_theme(self, theme: str) -> None:
        """Thumbnails in the theme's colours."""
        self.theme = theme
        self.picker.set_theme(theme)
        self._fill_items()

    def set_plan_options(self, options: PlanOptions) -> None:
        """Get-ready and switch lengths from the settings (they change the totals)."""
        self.options = options
        self._refresh()

    def load(self, routine: Routine | None, *, read_only: bool = False,
             new_id: str | None = None) -> None:
        """Show a routine (None: a new, empty one); read-only for built-in routines."""
        self._loading = True
        try:
            self.original = routine
            self.routine_id = new_id or (routine.id if routine else PLACEHOLDER_ID)
            self.read_only = read_only
            self.touched = set()
            self.show_all = routine is not None
            self.name_edit.setText(routine.name if routine else "")
            self.description_edit.setPlainText(routine.description if routine else "")
            select_data(self.default_level,
                        (routine.default_level if routine else Level.BEGINNER).value)
            self.get_ready.setValue(round(routine.get_ready) if routine else 10)
            for lv, box in self.rest_spins.items():
                box.setValue(round(routine.rest_between[lv]) if routine else 15)
            self.items = [ItemDraft(item.exercise,
                                    {lv: override_to_dict(ov) for lv, ov in item.overrides.items()
                                     if override_to_dict(ov)},
                                    next(self._keys))
                          for item in (routine.items if routine else ())]
            level = routine.default_level if routine else Level.BEGINNER
            self.level = level
            self.level_buttons[level].setChecked(True)
            self._fill_items()
            if self.items:
                self.item_list.setCurrentRow(0)
            self._apply_read_only()
            self.dirty = new_id is not None or routine is None
        finally:
            self._loading = False
        self._refresh()
        self._show_override()

    def _apply_read_only(self) -> None:
        ro = self.read_only
        self.readonly_box.setVisible(ro)
        self.name_edit.setReadOnly(ro)
        self.description_edit.setReadOnly(ro)
        for widget in (self.default_level, self.get_ready, *self.rest_spins.values(),
                       self.up_button, self.down_button, self.remove_button, self.picker,
                       self.reset_override, self.override_sides, *self.override_spins.values()):
            widget.setEnabled(not ro)
        self.item_list.setDragEnabled(not ro)
        self.item_list.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop if ro else
                                       QAbstractItemView.DragDropMode.InternalMove)
        self.save_button.setVisible(not ro)
        self.tabs.setCurrentIndex(1 if ro else 0)

    # -- items -----------------------------------------------------------------------
    def _icon(self, exercise: Exercise) -> Any:
        key = (exercise.id + exercise.first_position.illustration, self.theme)
        if key not in self._icons:
            self._icons[key] = exercise_icon(exercise, self.theme, ITEM_THUMB.width())
        return self._icons[key]

    def _item_text(self, number: int, draft: ItemDraft) -> str:
        exercise = self.catalog.exercises.get(draft.exercise)
        if exercise is None:
            return f"{number}. {draft.exercise} (missing from the catalogue)"
        override = self._override_of(draft, self.level)
        changed = "  · changed" if draft.overrides.get(self.level) else ""
        return f"{number}. {exercise.name}\n{timing_words(exercise, override, self.level)}{changed}"

    def _fill_items(self) -> None:
        """Rebuild the list from `self.items`, keeping the highlighted row."""
        row = self.item_list.currentRow()
        self.item_list.blockSignals(True)
        self.item_list.clear()
        for n, draft in enumerate(self.items, start=1):
            item = QListWidgetItem(self._item_text(n, draft))
            item.setData(Qt.ItemDataRole.UserRole, draft.key)
            exercise = self.catalog.exercises.get(draft.exercise)
            if exercise is not None:
                item.setIcon(self._icon(exercise))
                item.setToolTip(exercise.summary)
            self.item_list.addItem(item)
        self.item_list.blockSignals(False)
        if self.items:
            self.item_list.setCurrentRow(max(0, min(row, len(self.items) - 1)))
        self._update_item_buttons()

    def _relabel(self) -> None:
        for row in range(self.item_list.count()):
            self.item_list.item(row).setText(self._item_text(row + 1, self.items[row]))

    def _update_item_buttons(self) -> None:
        row = self.item_list.currentRow()
        editable = not self.read_only
        self.up_button.setEnabled(editable and row > 0)
        self.down_button.setEnabled(editable and 0 <= row < len(self.items) - 1)
        self.remove_button.setEnabled(editable and row >= 0)

    def add_exercise(self, exercise_id: str) -> None:
        """Add an exercise at the end and highlight it."""
        if self.read_only:
            return
        self.items.append(ItemDraft(exercise_id, {}, next(self._keys)))
        self._fill_items()
        self.item_list.setCurrentRow(len(self.items) - 1)
        self._edited("items")

    def move_current(self, step: int) -> None:
        """Move the highlighted exercise up (-1) or down (+1)."""
        row = self.item_list.currentRow()
        target = row + step
        if self.read_only or row < 0 or not 0 <= target < len(self.items):
            return
        self.items.insert(target, self.items.pop(row))
        self._fill_items()
        self.item_list.setCurrentRow(target)
        self._edited()

    def remove_current(self) -> None:
        """Remove the highlighted exercise."""
        row = self.item_list.currentRow()
        if self.read_only or row < 0:
            return
        del self.items[row]
        self._fill_items()
        self._edited("items")

    def _sync_order_from_list(self) -> None:
        """After a drag and drop: take the order the list now shows."""
        by_key = {draft.key: draft for draft in self.items}
        keys = [self.item_list.item(r).data(Qt.ItemDataRole.UserRole)
                for r in range(self.item_list.count())]
        if sorted(keys) != sorted(by_key) or keys == [d.key for d in self.items]:
            return
        self.items = [by_key[k] for k in keys]
        self._relabel()
        self._edited()

    # -- overrides -------------------------------------------------------------------
    @staticmethod
    def _override_of(draft: ItemDraft, level: Level) -> TimingOverride:
        values = dict(draft.overrides.get(level, {}))
        sides = values.pop("sides", None)
        return TimingOverride(**values, sides=Sides(sides) if sides else None)

    def current_draft(self) -> ItemDraft | None:
        """The highlighted item."""
        row = self.item_list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def set_level(self, level: Level) -> None:
        """Show (and change) the overrides and timeline of one level."""
        self.level = level
        self.level_buttons[level].setChecked(True)
        self._relabel()
        self._show_override()
        self._refresh()

    def _show_override(self) -> None:
        self._update_item_buttons()
        draft = self.current_draft()
        exercise = self.catalog.exercises.get(draft.exercise) if draft else None
        self.override_box.setEnabled(exercise is not None and not self.read_only)
        self._loading, was_loading = True, self._loading
        try:
            if exercise is None or draft is None:
                self.override_title.setText("Highlight an exercise to change its timing "
                                            "in this routine.")
                for box in self.override_spins.values():
                    box.set_default_text("")
                    box.set_override(None)
                self.override_sides.setCurrentIndex(0)
                return
            self.override_title.setText(f"{exercise.name} at {self.level.value} level, "
                                        "in this routine only (default: the exercise's own)")
            base = exercise.timing[self.level]
            values = draft.overrides.get(self.level, {})
            for key, box in self.override_spins.items():
                default = getattr(base, key)
                box.set_default_text(seconds_text(default) if key not in ("reps", "sets")
                                     else str(default))
                box.set_override(values.get(key))
            self.override_sides.setItemText(0, f"default ({exercise.sides.value})")
            select_data(self.override_sides, values.get("sides", ""))
        finally:
            self._loading = was_loading

    def _override_edited(self, key: str) -> None:
        if self._loading:
            return
        draft = self.current_draft()
        if draft is None:
            return
        values = draft.overrides.setdefault(self.level, {})
        if key == "sides":
            value: Any = self.override_sides.currentData() or None
        else:
            value = self.override_spins[key].override()
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        if not values:
            draft.overrides.pop(self.level, None)
        self._relabel()
        self._edited()

    def set_override(self, key: str, value: float | str | None) -> None:
        """Change one override of the highlighted item at the shown level (as the form does)."""
        if key == "sides":
            select_data(self.override_sides, str(value) if value else "")
        else:
            self.override_spins[key].set_override(value)

    def clear_override(self) -> None:
        """Drop the highlighted item's changes at the shown level."""
        draft = self.current_draft()
        if draft is None:
            return
        draft.overrides.pop(self.level, None)
        self._show_override()
        self._relabel()
        self._edited()

    # -- validation and preview ------------------------------------------------------
    def to_table(self) -> dict[str, Any]:
        """The form as the table a routine file holds."""
        items = []
        for draft in self.items:
            it: dict[str, Any] = {"exercise": draft.exercise}
            for lv in Level:
                if draft.overrides.get(lv):
                    it[lv.value] = dict(draft.overrides[lv])
            items.append(it)
        return {
            "id": self.routine_id,
            "name": self.name_edit.text(),
            "description": self.description_edit.toPlainText(),
            "default_level": self.default_level.currentData(),
            "get_ready": self.get_ready.value(),
            "rest_between": {lv.value: box.value() for lv, box in self.rest_spins.items()},
            "items": items,
        }

    def build(self) -> Routine | None:
        """The routine as the validator sees it, or None while anything is wrong."""
        self._refresh()
        return self.routine

    def _edited(self, key: str | None = None) -> None:
        if self._loading:
            return
        if isinstance(key, str):
            self.touched.add(key)
        self.dirty = True
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        if self._loading:
            return
        table = self.to_table()
        problems: dict[str, str] = {}
        name_problem = field_problem("name", table["name"], max_len=60)
        if name_problem:
            problems["name"] = f"The name {name_problem}."
        description_problem = field_problem("description", table["description"], max_len=400)
        if description_problem:
            problems["description"] = f"The description {description_problem}."
        if not self.items:
            problems["items"] = "Add at least one exercise from the catalogue."
        routine = None
        try:
            routine = routine_from_table(Table(table, "routine"), self.catalog.exercises,
                                         builtin=False)
        except CatalogError as exc:
            top = exc.field.split(".")[0].split("[")[0]
            if top not in problems:
                problems[top] = f"{exc.field}: {exc.problem}."
        self.problems = problems
        self.routine = None if problems else routine
        fields = {"name": self.name_field, "description": self.description_field,
                  "items": self.items_field, "rest_between": self.rest_field,
                  "get_ready": self.get_ready_field}
        waiting = []
        for key, fld in fields.items():
            # A new routine does not start out red: a field's problem shows once it is
            # touched; until then the line by Save says what is still needed.
            visible = self.show_all or key in self.touched or key not in (
                "name", "description", "items")
            fld.set_problem(problems.get(key) if visible else None)
            if key in problems and not visible:
                waiting.append({"name": "a name", "description": "a description",
                                "items": "at least one exercise"}[key])
        other = [text for key, text in problems.items() if key not in fields]
        if waiting:
            other.append("Still needed before you can save: " + ", ".join(waiting) + ".")
        self.general_error.set_problem(" ".join(other) if other else None)
        self.save_button.setEnabled(self.routine is not None and not self.read_only)
        saved_name = self.original.name if self.original and self.routine_id != PLACEHOLDER_ID \
            else "New routine"
        self.title.setText(table["name"].strip() or saved_name)
        # Typing a name or description does not change the plan: skip re-planning then.
        planned = (repr({k: v for k, v in table.items() if k not in ("name", "description")}),
                   self.level, self.options, id(self.catalog), self.routine is None)
        if planned != self._planned:
            self._planned = planned
            self._update_totals()
            self._update_timeline()

    def _preview_routine(self) -> Routine | None:
        """A routine good enough to plan, even while the name or description is missing."""
        if self.routine is not None:
            return self.routine
        usable = [d for d in self.items if d.exercise in self.catalog.exercises]
        if not usable:
            return None
        table = self.to_table()
        table["name"] = table["name"].strip() or "Untitled"
        table["description"] = table["description"].strip() or "-"
        table["items"] = [it for it in table["items"] if it["exercise"] in self.catalog.exercises]
        try:
            return routine_from_table(Table(table, "preview"), self.catalog.exercises,
                                      builtin=False)
        except CatalogError:
            return None

    def _update_totals(self) -> None:
        routine = self._preview_routine()
        self.timeline = None
        if routine is None:
            for label in self.total_labels.values():
                label.setText("–")
            self.totals.setText("Add exercises to see how long the routine takes.")
            return
        for lv, label in self.total_labels.items():
            timeline = build_plan(routine, self.catalog.exercises, lv, self.options)
            label.setText(clock_text(timeline.total))
            label.setProperty("current", lv is self.level)
            label.style().unpolish(label)
            label.style().polish(label)
            if lv is self.level:
                self.timeline = timeline
        self.totals.setText("" if self.routine is not None else
                            "Fix the problems shown to save; the times are a preview.")
        self.totals.setVisible(bool(self.totals.text()))

    def total_seconds(self, level: Level) -> float | None:
        """The routine's length at a level (None while it cannot be planned)."""
        routine = self._preview_routine()
        if routine is None:
            return None
        return build_plan(routine, self.catalog.exercises, level, self.options).total

    def _update_timeline(self) -> None:
        """The segments grouped under each exercise (with the rest that leads into it)."""
        self.timeline_view.clear()
        timeline = self.timeline
        if timeline is None:
            self.timeline_caption.setText("The timeline appears once the routine has exercises.")
            return
        self.timeline_caption.setText(
            f"{self.level.value.capitalize()} level: {len(timeline.segments)} steps, "
            f"{clock_text(timeline.total)} in all.")
        groups: list[QTreeWidgetItem] = []
        current: QTreeWidgetItem | None = None
        index = -1
        total = 0.0
        for seg in timeline.segments:
            if seg.exercise_index != index:
                if current is not None:
                    current.setText(1, clock_text(total))
                index, total = seg.exercise_index, 0.0
                exercise = timeline.exercise(seg)
                current = QTreeWidgetItem([clock_text(seg.start), "",
                                           f"{index + 1}. {exercise.name}", ""])
                font = current.font(2)
                font.setBold(True)
                current.setFont(2, font)
                groups.append(current)
            assert current is not None
            total += seg.duration
            side = seg.side.value if seg.is_work and seg.side.value != "both" else ""
            step = seg.label if seg.kind is not SegmentKind.GET_READY else "Get ready"
            row = QTreeWidgetItem(current, [clock_text(seg.start), seconds_text(seg.duration),
                                            step, side])
            row.setToolTip(2, step)
        if current is not None:
            current.setText(1, clock_text(total))
        self.timeline_view.addTopLevelItems(groups)
        self.timeline_view.expandAll()
        for col in (0, 1):
            self.timeline_view.resizeColumnToContents(col)

    def _save_clicked(self) -> None:
        if self.save_button.isEnabled() and self.save_button.isVisible():
            self.save_requested.emit()

    def sizeHint(self) -> QSize:
        """Wide: three columns."""
        return QSize(1100, 640)

