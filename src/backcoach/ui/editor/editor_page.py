"""The routine editor page: the routines and custom exercises on the left, the open one on
the right, Import… and Export… below.

Built-in routines open read-only with "Duplicate to edit"; the user's own can be created,
duplicated, edited and deleted (after a confirmation). Every save, delete and import goes
through `catalog.user_files`, then the page reloads the catalogue and emits
`catalog_changed` so that the home screen can follow. Esc or the Back button emits
`back_requested` (after asking about unsaved changes).

Dialogs are reached through replaceable callables (`confirm`, `choose_import_file`,
`choose_export_file`) so tests can answer them without a modal loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.fields import CatalogError
from backcoach.catalog.loader import Catalog, load_builtin_catalog
from backcoach.catalog.model import Exercise, Routine
from backcoach.catalog.user_files import (
    DataFolders,
    UserFileError,
    delete_exercise,
    delete_routine,
    export_routine,
    import_file,
    is_user_exercise,
    new_exercise_id,
    new_routine_id,
    save_exercise,
    save_routine,
)
from backcoach.session.plan import PlanOptions
from backcoach.store.atomic import StorageError
from backcoach.ui.editor.common import editor_style
from backcoach.ui.editor.exercise_editor import ExerciseEditor
from backcoach.ui.editor.routine_editor import PLACEHOLDER_ID, RoutineEditor
from backcoach.ui.theme import LIGHT, Theme

FILE_FILTER = "BackCoach files (*.toml);;All files (*)"


def _copy_name(name: str) -> str:
    suffix = " (copy)"
    return name[:60 - len(suffix)].rstrip() + suffix


class RoutineEditorPage(QWidget):
    """Lists of routines and custom exercises, and the editor of the one open."""

    catalog_changed = Signal()
    back_requested = Signal()

    def __init__(self, catalog: Catalog, data_dir: Path, theme: Theme = LIGHT,
                 options: PlanOptions | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editorPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.catalog = catalog
        self.data_dir = Path(data_dir)
        self.folders = DataFolders(self.data_dir)
        self.theme = theme
        self.confirm: Callable[[str, str, str], bool] = self._ask
        self.choose_import_file: Callable[[], str | None] = self._ask_import_file
        self.choose_export_file: Callable[[str], str | None] = self._ask_export_file
        self._return_to: QWidget | None = None

        back = QPushButton("‹  Home", objectName="editorBack")
        back.setToolTip("Back to the home screen (Esc)")
        back.clicked.connect(self.request_back)
        heading = QLabel("Routines")
        heading.setProperty("role", "heading")
        self.routine_list = QListWidget(objectName="routineList")
        self.routine_list.setAccessibleName("Routines")
        self.new_button = QPushButton("New", objectName="newRoutine")
        self.new_button.setToolTip("Start a new routine")
        self.duplicate_button = QPushButton("Duplicate", objectName="duplicateRoutine")
        self.delete_button = QPushButton("Delete", objectName="deleteRoutine")
        routine_buttons = QGridLayout()
        routine_buttons.addWidget(self.new_button, 0, 0)
        routine_buttons.addWidget(self.delete_button, 0, 1)
        routine_buttons.addWidget(self.duplicate_button, 1, 0, 1, 2)

        ex_heading = QLabel("Your exercises")
        ex_heading.setProperty("role", "heading")
        self.exercise_list = QListWidget(objectName="exerciseList")
        self.exercise_list.setAccessibleName("Your exercises")
        self.exercise_list.setMaximumHeight(150)
        self.no_exercises = QLabel("None yet. Make one with New; it can then be added to "
                                   "any routine.", objectName="noExercises")
        self.no_exercises.setProperty("role", "hint")
        self.no_exercises.setWordWrap(True)
        self.new_exercise_button = QPushButton("New", objectName="newExercise")
        self.new_exercise_button.setToolTip("Create an exercise of your own")
        self.edit_exercise_button = QPushButton("Edit", objectName="editExercise")
        self.delete_exercise_button = QPushButton("Delete", objectName="deleteExercise")
        exercise_buttons = QHBoxLayout()
        for b in (self.new_exercise_button, self.edit_exercise_button,
                  self.delete_exercise_button):
            exercise_buttons.addWidget(b)

        self.import_button = QPushButton("Import…", objectName="importButton")
        self.import_button.setToolTip("Add a routine or exercise from a file")
        self.export_button = QPushButton("Export…", objectName="exportButton")
        self.export_button.setToolTip("Save the selected routine, with your exercises it uses, "
                                      "to a file")
        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.import_button)
        file_buttons.addWidget(self.export_button)

        sidebar = QWidget(objectName="editorBody")
        sidebar.setFixedWidth(250)
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(8)
        side.addWidget(back, 0, Qt.AlignmentFlag.AlignLeft)
        side.addWidget(heading)
        side.addWidget(self.routine_list, 1)
        side.addLayout(routine_buttons)
        side.addSpacing(8)
        side.addWidget(ex_heading)
        side.addWidget(self.exercise_list)
        side.addWidget(self.no_exercises)
        side.addLayout(exercise_buttons)
        side.addSpacing(8)
        side.addLayout(file_buttons)

        self.routine_editor = RoutineEditor(catalog, theme.illustration_theme, options)
        self.exercise_editor = ExerciseEditor(catalog, theme.illustration_theme)
        self.placeholder = QLabel("Choose a routine on the left, or start a new one.",
                                  objectName="editorPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "muted")
        self.stack = QStackedWidget()
        for w in (self.placeholder, self.routine_editor, self.exercise_editor):
            self.stack.addWidget(w)

        self.status = QLabel(objectName="editorStatus")
        self.status.setProperty("role", "status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        body = QWidget(objectName="editorBody")
        columns = QHBoxLayout(body)
        columns.setContentsMargins(20, 14, 20, 14)
        columns.setSpacing(20)
        columns.addWidget(sidebar)
        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        right.addWidget(self.status)
        columns.addLayout(right, 1)
        # In a small window the page scrolls rather than squeezing the form unreadably.
        scroll = QScrollArea(objectName="editorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.routine_list.currentItemChanged.connect(self._routine_selected)
        self.new_button.clicked.connect(self.new_routine)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.exercise_list.itemActivated.connect(lambda _i: self.edit_selected_exercise())
        self.exercise_list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.new_exercise_button.clicked.connect(self.new_exercise)
        self.edit_exercise_button.clicked.connect(self.edit_selected_exercise)
        self.delete_exercise_button.clicked.connect(self.delete_selected_exercise)
        self.import_button.clicked.connect(self.import_from_file)
        self.export_button.clicked.connect(self.export_selected)
        self.routine_editor.save_requested.connect(self.save_routine)
        self.routine_editor.close_requested.connect(self.close_routine)
        self.routine_editor.duplicate_requested.connect(self.duplicate_selected)
        self.exercise_editor.save_requested.connect(self.save_exercise)
        for editor in (self.routine_editor, self.exercise_editor):  # an old message goes stale
            editor.changed.connect(lambda: self.show_status("") if self.status.text() else None)
        self.exercise_editor.close_requested.connect(self.close_exercise)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.request_back)

        self.set_theme(theme)
        self.set_catalog(catalog)

    # -- outside world ---------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        """Colours and thumbnails for a theme."""
        self.theme = theme
        self.setStyleSheet(editor_style(theme))
        self.routine_editor.set_theme(theme.illustration_theme)
        self.exercise_editor.set_theme(theme.illustration_theme)

    def set_plan_options(self, options: PlanOptions) -> None:
        """Get-ready and switch lengths from the settings, for the totals."""
        self.routine_editor.set_plan_options(options)

    def own_exercise_ids(self) -> frozenset[str]:
        """Ids of the user's custom exercises."""
        return frozenset(ex.id for ex in self.catalog.exercises.values()
                         if is_user_exercise(ex, self.folders))

    def set_catalog(self, catalog: Catalog) -> None:
        """Show a (re)loaded catalogue; keeps the selection and the open editors."""
        self.catalog = catalog
        own = self.own_exercise_ids()
        selected = self.selected_routine_id()
        self.routine_list.blockSignals(True)
        self.routine_list.clear()
        ordered = sorted(catalog.routines.values(), key=lambda r: (r.builtin, r.name.lower()))
        for routine in ordered:
            kind = "Built-in, read-only" if routine.builtin else "Yours"
            item = QListWidgetItem(f"{routine.name}\n{kind} · {len(routine.items)} exercises")
            item.setData(Qt.ItemDataRole.UserRole, routine.id)
            item.setToolTip(routine.description)
            self.routine_list.addItem(item)
        self.routine_list.blockSignals(False)
        self._select_routine_row(selected)
        self.exercise_list.clear()
        for ex in sorted((catalog.exercises[i] for i in own), key=lambda e: e.name.lower()):
            item = QListWidgetItem(ex.name)
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            item.setToolTip(ex.summary)
            self.exercise_list.addItem(item)
        self.exercise_list.setVisible(bool(own))
        self.no_exercises.setVisible(not own)
        self.routine_editor.set_catalog(catalog, own)
        self.exercise_editor.set_catalog(catalog)
        mine = [p for p in catalog.problems
                if Path(p.file).resolve().is_relative_to(self.data_dir.resolve())]
        if mine:
            self.show_status(f"{len(mine)} of your files could not be loaded: {mine[0]}",
                             error=True)
        self._update_buttons()

    def reload(self) -> None:
        """Load the catalogue again from disk and tell the window."""
        self.set_catalog(load_builtin_catalog((self.data_dir,)))
        self.catalog_changed.emit()

    def show_status(self, text: str, *, error: bool = False) -> None:
        """A message under the editor (red for a problem)."""
        self.status.setText(text)
        self.status.setProperty("error", error)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setAccessibleName(("Problem: " if error else "") + text)

    # -- selection -------------------------------------------------------------------
    def selected_routine_id(self) -> str | None:
        """The routine highlighted in the list."""
        item = self.routine_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def selected_exercise_id(self) -> str | None:
        """The custom exercise highlighted in the list."""
        item = self.exercise_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _select_routine_row(self, routine_id: str | None) -> None:
        self.routine_list.blockSignals(True)
        for row in range(self.routine_list.count()):
            if self.routine_list.item(row).data(Qt.ItemDataRole.UserRole) == routine_id:
                self.routine_list.setCurrentRow(row)
                break
        else:
            self.routine_list.setCurrentRow(-1)
        self.routine_list.blockSignals(False)

    def _update_buttons(self) -> None:
        rid = self.selected_routine_id()
        routine = self.catalog.routines.get(rid) if rid else None
        self.duplicate_button.setEnabled(routine is not None)
        self.duplicate_button.setText("Duplicate to edit" if routine is not None and routine.builtin
                                      else "Duplicate")
        self.delete_button.setEnabled(routine is not None and not routine.builtin)
        self.export_button.setEnabled(routine is not None)
        has_exercise = self.selected_exercise_id() is not None
        self.edit_exercise_button.setEnabled(has_exercise)
        self.delete_exercise_button.setEnabled(has_exercise)

    def _routine_selected(self, current: QListWidgetItem | None,
                          previous: QListWidgetItem | None) -> None:
        routine_id = None if current is None else current.data(Qt.ItemDataRole.UserRole)
        if routine_id is None:
            self._update_buttons()
            return
        if not self._may_discard_routine():
            self._select_routine_row(None if previous is None
                                     else previous.data(Qt.ItemDataRole.UserRole))
            return
        self.open_routine(routine_id)

    def _may_discard_routine(self) -> bool:
        editor = self.routine_editor
        if not editor.dirty or editor.read_only or self.stack.currentWidget() is self.placeholder:
            return True
        name = editor.name_edit.text().strip() or "the new routine"
        return self.confirm("Discard changes?", f"Discard your changes to {name!r}?", "Discard")

    def _may_discard_exercise(self) -> bool:
        editor = self.exercise_editor
        if not editor.dirty or self.stack.currentWidget() is not editor:
            return True
        name = editor.name_field.widget.text().strip() or "the new exercise"
        return self.confirm("Discard changes?", f"Discard your changes to {name!r}?", "Discard")

    # -- routines --------------------------------------------------------------------
    def open_routine(self, routine_id: str) -> None:
        """Show a routine: editable if it is the user's, read-only if built in."""
        routine = self.catalog.routine(routine_id)
        self._select_routine_row(routine_id)
        self.routine_editor.load(routine, read_only=routine.builtin)
        self.stack.setCurrentWidget(self.routine_editor)
        self._update_buttons()
        self.show_status("" if not routine.builtin else
                         f"{routine.name!r} comes with BackCoach: duplicate it to edit a copy.")

    def new_routine(self) -> None:
        """Start an empty routine."""
        if not (self._may_discard_exercise() and self._may_discard_routine()):
            return
        self._select_routine_row(None)
        self.routine_editor.load(None)
        self.stack.setCurrentWidget(self.routine_editor)
        self.routine_editor.name_edit.setFocus()
        self._update_buttons()
        self.show_status("New routine: give it a name, then add exercises from the catalogue.")

    def duplicate_selected(self) -> None:
        """Open an editable copy of the highlighted (or open) routine."""
        routine_id = self.selected_routine_id() or (
            self.routine_editor.original.id if self.routine_editor.original else None)
        if routine_id is None or routine_id not in self.catalog.routines:
            return
        if not self._may_discard_routine():
            return
        source = self.catalog.routines[routine_id]
        copy = replace(source, name=_copy_name(source.name), builtin=False, origin="")
        self._select_routine_row(None)
        self.routine_editor.load(copy, new_id=PLACEHOLDER_ID)
        self.stack.setCurrentWidget(self.routine_editor)
        self.routine_editor.name_edit.setFocus()
        self.routine_editor.name_edit.selectAll()
        self._update_buttons()
        self.show_status(f"A copy of {source.name!r}: change it, then save.")

    def save_routine(self) -> Routine | None:
        """Save the routine being edited (a new one gets an id made from its name)."""
        editor = self.routine_editor
        routine = editor.build()
        if routine is None or editor.read_only:
            return None
        is_new = editor.routine_id == PLACEHOLDER_ID
        if is_new:
            routine = replace(routine, id=new_routine_id(routine.name, self.catalog, self.folders))
        else:
            routine = replace(routine, origin=editor.original.origin if editor.original else "")
        try:
            saved = save_routine(routine, self.catalog, self.folders)
        except (UserFileError, CatalogError, StorageError) as exc:
            self.show_status(f"Not saved: {exc}", error=True)
            return None
        self.reload()
        self.open_routine(saved.id)
        self.show_status(f"Saved {saved.name!r}. It is on the home screen.")
        return saved

    def close_routine(self) -> None:
        """Close the editor (asking about unsaved changes)."""
        if not self._may_discard_routine():
            return
        self.routine_editor.dirty = False
        self._select_routine_row(None)
        self.stack.setCurrentWidget(self.placeholder)
        self._update_buttons()

    def delete_selected(self) -> None:
        """Delete the highlighted user routine, after a confirmation."""
        routine_id = self.selected_routine_id()
        routine = self.catalog.routines.get(routine_id) if routine_id else None
        if routine is None or routine.builtin:
            return
        if not self.confirm("Delete routine?", f"Delete the routine {routine.name!r}? "
                            "This cannot be undone.", "Delete"):
            return
        try:
            delete_routine(routine.id, self.catalog, self.folders)
        except (UserFileError, StorageError) as exc:
            self.show_status(f"Not deleted: {exc}", error=True)
            return
        self.routine_editor.dirty = False
        self.stack.setCurrentWidget(self.placeholder)
        self._select_routine_row(None)
        self.reload()
        self.show_status(f"Deleted {routine.name!r}.")

    # -- exercises -------------------------------------------------------------------
    def new_exercise(self) -> None:
        """Start a custom exercise."""
        if not self._may_discard_exercise():
            return
        self._remember_return()
        self.exercise_editor.load(None)
        self.stack.setCurrentWidget(self.exercise_editor)
        self.exercise_editor.name_field.widget.setFocus()
        self.show_status("New exercise: name it, describe the steps and pick a picture.")

    def edit_selected_exercise(self) -> None:
        """Open the highlighted custom exercise."""
        exercise_id = self.selected_exercise_id()
        if exercise_id is None or not self._may_discard_exercise():
            return
        self._remember_return()
        self.exercise_editor.load(self.catalog.exercises[exercise_id])
        self.stack.setCurrentWidget(self.exercise_editor)
        self.show_status("")

    def _remember_return(self) -> None:
        current = self.stack.currentWidget()
        if current is not self.exercise_editor:
            self._return_to = current

    def save_exercise(self) -> Exercise | None:
        """Save the exercise being edited."""
        editor = self.exercise_editor
        exercise = editor.build()
        if exercise is None:
            return None
        if editor.is_new:
            exercise = replace(exercise, id=new_exercise_id(exercise.name, self.catalog,
                                                            self.folders))
        try:
            saved = save_exercise(exercise, self.catalog, self.folders)
        except (UserFileError, CatalogError, StorageError) as exc:
            self.show_status(f"Not saved: {exc}", error=True)
            return None
        self.reload()
        editor.load(self.catalog.exercises[saved.id])
        self.show_status(f"Saved the exercise {saved.name!r}; add it to a routine from the "
                         "catalogue.")
        return saved

    def close_exercise(self) -> None:
        """Leave the exercise editor, back to the routine that was open."""
        if not self._may_discard_exercise():
            return
        self.exercise_editor.dirty = False
        target = self._return_to if self._return_to is not None else self.placeholder
        self.stack.setCurrentWidget(target)
        self._return_to = None

    def delete_selected_exercise(self) -> None:
        """Delete the highlighted custom exercise (refused while a routine uses it)."""
        exercise_id = self.selected_exercise_id()
        if exercise_id is None:
            return
        exercise = self.catalog.exercises[exercise_id]
        if not self.confirm("Delete exercise?", f"Delete the exercise {exercise.name!r}? "
                            "This cannot be undone.", "Delete"):
            return
        try:
            delete_exercise(exercise_id, self.catalog, self.folders)
        except (UserFileError, StorageError) as exc:
            self.show_status(f"Not deleted: {exc}", error=True)
            return
        if self.stack.currentWidget() is self.exercise_editor:
            self.exercise_editor.dirty = False
            self.stack.setCurrentWidget(self._return_to or self.placeholder)
        self.reload()
        self.show_status(f"Deleted the exercise {exercise.name!r}.")

    # -- files -----------------------------------------------------------------------
    def import_from_file(self, path: str | Path | None = None) -> None:
        """Import a routine bundle, routine or exercise file (all or nothing)."""
        chosen = path or self.choose_import_file()
        if not chosen:
            return
        try:
            result = import_file(Path(chosen), self.catalog, self.folders)
        except (CatalogError, UserFileError, StorageError) as exc:
            self.show_status(f"Nothing was imported. {exc}", error=True)
            return
        self.reload()
        if result.routine is not None:
            self.open_routine(result.routine.id)
        self.show_status(" ".join(result.messages))

    def export_selected(self, path: str | Path | None = None) -> None:
        """Export the highlighted routine with the custom exercises it uses."""
        routine_id = self.selected_routine_id()
        if routine_id is None:
            return
        chosen = path or self.choose_export_file(f"{routine_id}.toml")
        if not chosen:
            return
        try:
            written = export_routine(routine_id, self.catalog, Path(chosen))
        except (UserFileError, StorageError) as exc:
            self.show_status(f"Not exported: {exc}", error=True)
            return
        unsaved = " (your unsaved changes are not in it)" if self.routine_editor.dirty else ""
        self.show_status(f"Exported {self.catalog.routines[routine_id].name!r} to "
                         f"{written}{unsaved}.")

    # -- navigation and dialogs ------------------------------------------------------
    def request_back(self) -> None:
        """Back to the home screen, unless the user keeps unsaved changes."""
        if self._may_discard_exercise() and self._may_discard_routine():
            self.routine_editor.dirty = False
            self.exercise_editor.dirty = False
            self.back_requested.emit()

    def _ask(self, title: str, text: str, yes: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("editorConfirm")
        box.button(QMessageBox.StandardButton.Yes).setText(yes)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and \
            box.standardButton(clicked) == QMessageBox.StandardButton.Yes

    def _ask_import_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a routine or exercise",
                                              str(Path.home()), FILE_FILTER)
        return path or None

    def _ask_export_file(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the routine",
                                              str(Path.home() / suggested), FILE_FILTER)
        return path or None
