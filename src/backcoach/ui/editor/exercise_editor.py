"""Edit one custom exercise: name, steps, timing per level, breathing, cues, cautions and
a picture chosen among the positions the catalogue already has.

As in the routine editor, the form becomes the table an exercise file holds and the
catalogue's validator checks it on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.fields import CatalogError, Table
from backcoach.catalog.loader import Catalog, exercise_from_table
from backcoach.catalog.model import FOCUSES, POSTURES, Exercise, Level, Sides
from backcoach.catalog.user_files import (
    DEFAULT_LICENCE,
    DEFAULT_SWITCH_CUE,
    is_builtin_exercise,
)
from backcoach.ui.editor.common import (
    ErrorLabel,
    Field,
    combo,
    dspin,
    field_problem,
    lines,
    select_data,
    spin,
)
from backcoach.ui.illustration import thumbnail

PLACEHOLDER_ID = "new-exercise"
KEEP_OWN = "keep-own"
CHOICE_THUMB = QSize(96, 64)
PREVIEW_WIDTH = 240
DEFAULT_TIMING = {Level.BEGINNER: 20, Level.INTERMEDIATE: 30, Level.ADVANCED: 45}


@dataclass(frozen=True)
class PictureChoice:
    """A position of some catalogue exercise whose picture a custom exercise can reuse."""

    exercise: Exercise
    position_id: str
    name: str
    illustration: str

    @property
    def label(self) -> str:
        return f"{self.exercise.name}: {self.name}"


def picture_choices(catalog: Catalog) -> list[PictureChoice]:
    """Every distinct picture of the built-in exercises, by exercise name."""
    seen: set[str] = set()
    out = []
    for exercise in sorted(catalog.exercises.values(), key=lambda e: e.name.lower()):
        if not is_builtin_exercise(exercise):
            continue
        for pos in exercise.positions:
            if pos.illustration not in seen:
                seen.add(pos.illustration)
                out.append(PictureChoice(exercise, pos.id, pos.name, pos.illustration))
    return out


class ExerciseEditor(QWidget):
    """The form for one custom exercise; `build()` gives the validated Exercise (or None)."""

    changed = Signal()
    save_requested = Signal()
    close_requested = Signal()

    def __init__(self, catalog: Catalog, theme: str = "light",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exerciseEditor")
        self.catalog = catalog
        self.theme = theme
        self.exercise_id = PLACEHOLDER_ID
        self.original: Exercise | None = None
        self.is_new = True
        self.dirty = False
        self.exercise: Exercise | None = None
        self.problems: dict[str, str] = {}
        self.touched: set[str] = set()
        self.show_all = False
        self._loading = False
        self._choices: list[PictureChoice] = []
        self._build_ui()
        self.load(None)

    # -- layout ----------------------------------------------------------------------
    def _text(self, name: str, caption: str, placeholder: str, hint: str = "") -> Field:
        edit = QLineEdit(objectName=f"exercise-{name}")
        edit.setPlaceholderText(placeholder)
        field = Field(caption, edit, f"exercise-{name}", hint=hint)
        edit.textChanged.connect(lambda _t, key=name: self._edited(key))
        return field

    def _lines(self, name: str, caption: str, placeholder: str, hint: str,
               height: int = 110) -> Field:
        edit = QPlainTextEdit(objectName=f"exercise-{name}")
        edit.setPlaceholderText(placeholder)
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(height)
        field = Field(caption, edit, f"exercise-{name}", hint=hint)
        edit.textChanged.connect(lambda key=name: self._edited(key))
        return field

    def _build_ui(self) -> None:
        self.title = QLabel("New exercise", objectName="exerciseTitle")
        self.title.setProperty("role", "heading")

        self.name_field = self._text("name", "&Name", "e.g. Seated twist")
        self.summary_field = self._text("summary", "&Summary", "What it is and what it is for")
        self.setup_field = self._text("setup", "Set-&up line",
                                      "One short line, spoken while you get into position")
        self.focus = combo("exerciseFocus", "Focus", [(f.capitalize(), f) for f in FOCUSES])
        self.posture = combo("exercisePosture", "Posture", [(p.capitalize(), p) for p in POSTURES])
        self.sides = combo("exerciseSides", "Sides", [("Both sides together", "both"),
                                                      ("Each side in turn", "each")])
        self.alternate = QCheckBox("Alternate left and right rep by rep", objectName="exerciseAlternate")
        for box in (self.focus, self.posture, self.sides):
            box.currentIndexChanged.connect(lambda _i: self._edited())
        self.alternate.toggled.connect(lambda _c: self._edited())
        kind_row = QHBoxLayout()
        kind_row.addWidget(Field("&Focus", self.focus, "exerciseFocus"), 1)
        kind_row.addWidget(Field("&Posture", self.posture, "exercisePosture"), 1)
        kind_row.addWidget(Field("Si&des", self.sides, "exerciseSides"), 1)

        self.steps_field = self._lines("steps", "S&teps", "One step per line",
                                       "3 to 7 short steps, one per line.")
        self.cautions_field = self._lines("cautions", "&Cautions", "One caution per line",
                                          "1 to 3 short safety notes; the first is spoken "
                                          "before the exercise.", height=80)

        # Picture.
        self.picture = QComboBox(objectName="exercisePicture")
        self.picture.setIconSize(CHOICE_THUMB)
        self.picture.setAccessibleName("Picture")
        self.picture.setMaxVisibleItems(8)
        self.picture.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picture.setMinimumContentsLength(24)
        self.picture.currentIndexChanged.connect(lambda _i: self._picture_changed())
        self.picture_preview = QLabel(objectName="picturePreview")
        self.picture_preview.setMinimumSize(PREVIEW_WIDTH, round(PREVIEW_WIDTH * 2 / 3))
        self.picture_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture_field = Field("P&icture", self.picture, "exercisePictureField",
                                   hint="Choose the catalogue position that looks most like "
                                        "yours; it is shown during the exercise.")

        # Timing per level.
        timing_host = QWidget()
        grid = QGridLayout(timing_host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        heads = ["", "Hold", "Reps", "Sets", "Rest / rep", "Rest / set"]
        for col, text in enumerate(heads):
            head = QLabel(text)
            head.setProperty("role", "hint")
            head.setWordWrap(True)
            grid.addWidget(head, 0, col)
        self.timing_spins: dict[Level, dict[str, Any]] = {}
        for row, lv in enumerate(Level, start=1):
            label = QLabel(lv.value.capitalize())
            grid.addWidget(label, row, 0)
            spins = {
                "hold": spin(f"{lv.value}-hold", f"{lv.value} hold", 1, 600, " s"),
                "reps": spin(f"{lv.value}-reps", f"{lv.value} repetitions", 1, 50),
                "sets": spin(f"{lv.value}-sets", f"{lv.value} sets", 1, 10),
                "rep_rest": spin(f"{lv.value}-rep_rest", f"{lv.value} rest between reps", 0, 300,
                                 " s"),
                "set_rest": spin(f"{lv.value}-set_rest", f"{lv.value} rest between sets", 0, 600,
                                 " s"),
            }
            for col, box in enumerate(spins.values(), start=1):
                box.valueChanged.connect(lambda _v: self._edited())
                grid.addWidget(box, row, col)
            self.timing_spins[lv] = spins
        self.timing_field = Field("Timing at each &level", timing_host, "exerciseTiming",
                                  hint="Reps are per side. Rest / rep and rest / set: the "
                                       "pause between repetitions and between sets.")

        # Breathing and cues.
        self.breathing_on = QCheckBox("Show the breathing pacer and say \"breathe in / out\"",
                                      objectName="breathingOn")
        self.breath_spins = {
            "inhale": dspin("breath-inhale", "Breathe in", 0.5, 20),
            "hold_in": dspin("breath-hold_in", "Hold after breathing in", 0, 20),
            "exhale": dspin("breath-exhale", "Breathe out", 0.5, 20),
            "hold_out": dspin("breath-hold_out", "Hold after breathing out", 0, 20),
        }
        breath_row = QHBoxLayout()
        for key, caption in (("inhale", "In"), ("hold_in", "Hold"), ("exhale", "Out"),
                             ("hold_out", "Hold")):
            label = QLabel(caption)
            label.setBuddy(self.breath_spins[key])
            breath_row.addWidget(label)
            breath_row.addWidget(self.breath_spins[key], 1)
            self.breath_spins[key].valueChanged.connect(lambda _v: self._edited())
        self.breathing_on.toggled.connect(lambda _c: self._edited())
        self.switch_cue_field = self._text("switch_cue", "S&witch cue", DEFAULT_SWITCH_CUE,
                                           hint="Said when changing side, e.g. \"Switch legs\".")
        self.switch_gap = spin("exerciseSwitchGap", "Seconds to change side", 2, 30, " s")
        self.switch_gap.valueChanged.connect(lambda _v: self._edited())
        self.switch_gap_field = Field("Time to change side", self.switch_gap,
                                      "exerciseSwitchGapField")
        self.sources_field = self._lines("sources", "S&ource", "Where the exercise comes from",
                                         "For example: \"My physiotherapist\".", height=56)

        body = QWidget(objectName="editorBody")
        columns = QHBoxLayout(body)
        columns.setSpacing(24)
        left = QVBoxLayout()
        left.setSpacing(10)
        for w in (self.name_field, self.summary_field, self.setup_field):
            left.addWidget(w)
        left.addLayout(kind_row)
        left.addWidget(self.alternate)
        left.addWidget(self.steps_field)
        left.addWidget(self.cautions_field)
        left.addWidget(self.sources_field)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(10)
        right.addWidget(self.picture_field)
        right.addWidget(self.picture_preview)
        right.addWidget(self.timing_field)
        breath_caption = QLabel("Breathing")
        breath_caption.setProperty("role", "caption")
        right.addWidget(breath_caption)
        right.addWidget(self.breathing_on)
        right.addLayout(breath_row)
        cue_row = QHBoxLayout()
        cue_row.addWidget(self.switch_cue_field, 2)
        cue_row.addWidget(self.switch_gap_field, 1)
        right.addLayout(cue_row)
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)

        self.general_error = ErrorLabel("exerciseGeneral")
        self.save_button = QPushButton("Save exercise", objectName="saveExercise")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.close_button = QPushButton("Close", objectName="closeExercise")
        bottom = QHBoxLayout()
        bottom.addWidget(self.general_error, 1)
        bottom.addStretch(0)
        bottom.addWidget(self.close_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        self.save_button.clicked.connect(self._save_clicked)
        self.close_button.clicked.connect(self.close_requested)
        save = QShortcut(QKeySequence.StandardKey.Save, self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self._save_clicked)

    # -- loading ---------------------------------------------------------------------
    def set_catalog(self, catalog: Catalog) -> None:
        """A new catalogue: new picture choices, checks against it."""
        self.catalog = catalog
        self._fill_pictures()
        self._refresh()

    def set_theme(self, theme: str) -> None:
        """Thumbnails in the theme's colours."""
        self.theme = theme
        self._fill_pictures()

    def _fill_pictures(self) -> None:
        current = self.picture.currentData()
        self._loading, was = True, self._loading
        try:
            self.picture.clear()
            self._choices = picture_choices(self.catalog)
            original = self.original
            if original is not None and len(original.positions) > 1:
                self.picture.addItem(self._icon_for(original, original.first_position.id),
                                     f"Keep its own {len(original.positions)} positions",
                                     KEEP_OWN)
            for n, choice in enumerate(self._choices):
                self.picture.addItem(self._icon_for(choice.exercise, choice.position_id),
                                     choice.label, n)
                self.picture.setItemData(self.picture.count() - 1, choice.label,
                                         Qt.ItemDataRole.ToolTipRole)
            if current is not None:
                select_data(self.picture, current)
        finally:
            self._loading = was
        self._show_preview()

    def _icon_for(self, exercise: Exercise, position_id: str) -> QIcon:
        try:
            return QIcon(thumbnail(exercise, position_id, CHOICE_THUMB.width(), self.theme))
        except (OSError, ValueError, KeyError):
            return QIcon()

    def load(self, exercise: Exercise | None, *, new: bool = False) -> None:
        """Show an exercise (None: a new one); `new` saves it under a fresh id."""
        self._loading = True
        try:
            self.original = exercise
            self.is_new = exercise is None or new
            self.exercise_id = exercise.id if exercise and not new else PLACEHOLDER_ID
            self.touched = set()
            self.show_all = exercise is not None
            self._fill_pictures()
            self.name_field.widget.setText(exercise.name if exercise else "")
            self.summary_field.widget.setText(exercise.summary if exercise else "")
            self.setup_field.widget.setText(exercise.setup if exercise else "")
            select_data(self.focus, exercise.focus if exercise else "stretch")
            select_data(self.posture, exercise.posture if exercise else "lying")
            select_data(self.sides, exercise.sides.value if exercise else "both")
            self.alternate.setChecked(bool(exercise and exercise.alternate))
            self.steps_field.widget.setPlainText("\n".join(exercise.steps) if exercise else "")
            self.cautions_field.widget.setPlainText(
                "\n".join(exercise.cautions) if exercise else "Move gently; stop if it hurts.")
            self.sources_field.widget.setPlainText(
                "\n".join(exercise.sources) if exercise else "My own exercise")
            for lv, spins in self.timing_spins.items():
                t = exercise.timing[lv] if exercise else None
                spins["hold"].setValue(round(t.hold) if t else DEFAULT_TIMING[lv])
                spins["reps"].setValue(t.reps if t else 1)
                spins["sets"].setValue(t.sets if t else 1)
                spins["rep_rest"].setValue(round(t.rep_rest) if t else 0)
                spins["set_rest"].setValue(round(t.set_rest) if t else 0)
            breathing = exercise.breathing if exercise else None
            self.breathing_on.setChecked(breathing is not None or exercise is None)
            self.breath_spins["inhale"].setValue(breathing.inhale if breathing else 4)
            self.breath_spins["exhale"].setValue(breathing.exhale if breathing else 4)
            self.breath_spins["hold_in"].setValue(breathing.hold_in if breathing else 0)
            self.breath_spins["hold_out"].setValue(breathing.hold_out if breathing else 0)
            cue = exercise.switch_cue if exercise else DEFAULT_SWITCH_CUE
            self.switch_cue_field.widget.setText("" if cue == DEFAULT_SWITCH_CUE else cue)
            self.switch_gap.setValue(round(exercise.switch_gap) if exercise else 5)
            if exercise is not None and len(exercise.positions) > 1:
                select_data(self.picture, KEEP_OWN)
            elif exercise is not None:
                index = next((n for n, c in enumerate(self._choices)
                              if c.illustration == exercise.first_position.illustration), 0)
                select_data(self.picture, index)
            else:
                self.picture.setCurrentIndex(0)
            self.dirty = exercise is None or new
        finally:
            self._loading = False
        self._show_preview()
        self._refresh()

    # -- form to table ---------------------------------------------------------------
    def _positions_and_phases(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
        data = self.picture.currentData()
        original = self.original
        if data == KEEP_OWN and original is not None:
            positions = [{"id": p.id, "name": p.name, "illustration": p.illustration}
                         for p in original.positions]
            phases = [{k: v for k, v in (("kind", ph.kind.value), ("position", ph.position),
                                         ("cue", ph.cue), ("seconds", ph.seconds))
                       if v not in ("", None)} for ph in original.phases]
            return positions, phases
        if data is None or not 0 <= data < len(self._choices):
            return [], None
        choice = self._choices[data]
        return [{"id": choice.position_id, "name": choice.name,
                 "illustration": choice.illustration}], None

    def to_table(self) -> dict[str, Any]:
        """The form as the table an exercise file holds."""
        sides = Sides(self.sides.currentData())
        positions, phases = self._positions_and_phases()
        table: dict[str, Any] = {
            "id": self.exercise_id,
            "name": self.name_field.widget.text(),
            "summary": self.summary_field.widget.text(),
            "setup": self.setup_field.widget.text(),
            "focus": self.focus.currentData(),
            "posture": self.posture.currentData(),
            "sides": sides.value,
            "switch_gap": self.switch_gap.value(),
            "steps": lines(self.steps_field.widget.toPlainText()),
            "cautions": lines(self.cautions_field.widget.toPlainText()),
            "sources": lines(self.sources_field.widget.toPlainText()),
            "positions": positions,
            "timing": {lv.value: {key: box.value() for key, box in spins.items()}
                       for lv, spins in self.timing_spins.items()},
        }
        if sides is Sides.EACH and self.alternate.isChecked():
            table["alternate"] = True
        if phases:
            table["phases"] = phases
        if self.breathing_on.isChecked():
            table["breathing"] = {key: box.value() for key, box in self.breath_spins.items()}
        cue = self.switch_cue_field.widget.text()
        if cue.strip():
            table["cues"] = {"switch": cue}
        if self.original is not None and self.original.licence != DEFAULT_LICENCE:
            table["licence"] = self.original.licence
        return table

    def build(self) -> Exercise | None:
        """The exercise as the validator sees it, or None while anything is wrong."""
        self._refresh()
        return self.exercise

    # -- checks ----------------------------------------------------------------------
    def _edited(self, key: str | None = None) -> None:
        if self._loading:
            return
        if key:
            self.touched.add(key)
        self.dirty = True
        self._refresh()
        self.changed.emit()

    def _picture_changed(self) -> None:
        self._show_preview()
        self._edited()

    def _show_preview(self) -> None:
        data = self.picture.currentData()
        pixmap = None
        try:
            if data == KEEP_OWN and self.original is not None:
                pixmap = thumbnail(self.original, self.original.first_position.id, PREVIEW_WIDTH,
                                   self.theme)
            elif data is not None and 0 <= data < len(self._choices):
                c = self._choices[data]
                pixmap = thumbnail(c.exercise, c.position_id, PREVIEW_WIDTH, self.theme)
        except (OSError, ValueError, KeyError):
            pixmap = None
        if pixmap is None:
            self.picture_preview.clear()
        else:
            self.picture_preview.setPixmap(pixmap)
        self.picture_preview.setAccessibleName(self.picture.currentText())

    def _refresh(self) -> None:
        if self._loading:
            return
        table = self.to_table()
        self.alternate.setEnabled(self.sides.currentData() == Sides.EACH.value)
        checks = {
            "name": ("The name", field_problem("name", table["name"], max_len=60)),
            "summary": ("The summary", field_problem("summary", table["summary"], max_len=300)),
            "setup": ("The set-up line", field_problem("setup", table["setup"], max_len=200)),
            "steps": ("Steps", field_problem("steps", table["steps"], "texts", max_items=12)),
            "cautions": ("Cautions", field_problem("cautions", table["cautions"], "texts",
                                                   max_items=8)),
            "sources": ("The source", field_problem("sources", table["sources"], "texts",
                                                    max_items=10)),
            "switch_cue": ("The switch cue", field_problem(
                "switch", table.get("cues", {}).get("switch"), required=False, max_len=60)),
        }
        problems = {key: f"{what} {problem}." for key, (what, problem) in checks.items()
                    if problem}
        if table["steps"] == [] and "steps" in problems:
            problems["steps"] = "Write at least one step (one per line)."
        if table["cautions"] == [] and "cautions" in problems:
            problems["cautions"] = "Write at least one caution (one per line)."
        exercise = None
        try:
            exercise = exercise_from_table(Table(table, "exercise"))
        except CatalogError as exc:
            top = exc.field.split(".")[0].split("[")[0]
            top = {"cues": "switch_cue", "positions": "picture"}.get(top, top)
            problems.setdefault(top, f"{exc.field}: {exc.problem}.")
        self.problems = problems
        self.exercise = None if problems else exercise
        fields = {"name": self.name_field, "summary": self.summary_field,
                  "setup": self.setup_field, "steps": self.steps_field,
                  "cautions": self.cautions_field, "sources": self.sources_field,
                  "switch_cue": self.switch_cue_field, "picture": self.picture_field,
                  "timing": self.timing_field}
        waiting = []
        for key, field in fields.items():
            visible = self.show_all or key in self.touched or key not in (
                "name", "summary", "setup", "steps")
            field.set_problem(problems.get(key) if visible else None)
            if key in problems and not visible:
                waiting.append({"setup": "set-up line"}.get(key, key))
        other = [text for key, text in problems.items() if key not in fields]
        if waiting:
            other.append("Still needed before you can save: " + ", ".join(waiting) + ".")
        self.general_error.set_problem(" ".join(other) if other else None)
        self.save_button.setEnabled(self.exercise is not None)
        self.title.setText(table["name"].strip() or "New exercise")

    def _save_clicked(self) -> None:
        if self.save_button.isEnabled():
            self.save_requested.emit()
