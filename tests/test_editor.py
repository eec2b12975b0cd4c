"""The routine editor, driven as a user would: build, reorder, override, save, run, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from tests.helpers.app import build_test_app, step

from backcoach.app import AppParts
from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Level
from backcoach.catalog.user_files import to_toml
from backcoach.session.events import State
from backcoach.session.plan import SegmentKind
from backcoach.ui.editor import RoutineEditorPage
from backcoach.ui.editor.common import field_problem
from backcoach.ui.editor.routine_editor import RoutineEditor
from backcoach.ui.theme import DARK, HIGH_CONTRAST, LIGHT


def _build(home: Path, qtbot) -> AppParts:
    return build_test_app(qtbot, home)


@pytest.fixture
def app_parts(qtbot, home: Path):
    """A fully built app on the test's home folder, with a fake clock."""
    parts = _build(home, qtbot)
    yield parts
    parts.close()


_step = step


def _order(editor: RoutineEditor) -> list[str]:
    return [draft.exercise for draft in editor.items]


def test_build_save_run_and_restart(app_parts: AppParts, home: Path, qtbot) -> None:
    """A routine built in the editor is saved, shown at home, runs to the end, and survives a restart."""
    window = app_parts.window
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    page = window.routine_editor
    assert isinstance(page, RoutineEditorPage) and window.stack.currentWidget() is page

    page.new_routine()
    editor = page.routine_editor
    assert not editor.save_button.isEnabled()
    qtbot.keyClicks(editor.name_edit, "Desk break")
    qtbot.keyClicks(editor.description_edit, "Three moves between meetings.")

    # Add from the picker: a search with one match and Enter, then filters and Add, then Enter.
    picker = editor.picker
    qtbot.keyClicks(picker.search, "knee-to")
    assert picker.visible_ids() == ["knee-to-chest"]
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    picker.set_filters(focus="strength", posture="lying")
    assert "pelvic-lift" in picker.visible_ids() and "cat-cow" not in picker.visible_ids()
    picker.select_id("pelvic-lift")
    qtbot.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    picker.set_filters(text="cat")
    picker.select_id("cat-cow")
    qtbot.keyClick(picker.results, Qt.Key.Key_Return)
    assert _order(editor) == ["knee-to-chest", "pelvic-lift", "cat-cow"]

    # Reorder with the keyboard and by dragging (the list's own move, as a drop does).
    editor.item_list.setCurrentRow(2)
    qtbot.keyClick(editor.item_list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert _order(editor) == ["knee-to-chest", "cat-cow", "pelvic-lift"]
    assert editor.item_list.currentRow() == 1
    editor.item_list.model().moveRow(QModelIndex(), 0, QModelIndex(), 3)
    assert _order(editor) == ["cat-cow", "pelvic-lift", "knee-to-chest"]
    assert editor.item_list.item(0).text().startswith("1. Cat-cow")
    editor.item_list.setCurrentRow(2)
    qtbot.keyClick(editor.item_list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(editor.item_list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert _order(editor) == ["knee-to-chest", "cat-cow", "pelvic-lift"]

    # Override the knee-to-chest hold at the beginner level; the total follows at once.
    catalog = window.catalog
    base = catalog.exercises["knee-to-chest"].timing[Level.BEGINNER]
    editor.set_level(Level.BEGINNER)
    editor.item_list.setCurrentRow(0)
    before = editor.total_seconds(Level.BEGINNER)
    hold = editor.override_spins["hold"]
    assert hold.override() is None and "default" in hold.text()
    hold.setValue(round(base.hold) + 10)
    assert editor.items[0].overrides == {Level.BEGINNER: {"hold": round(base.hold) + 10}}
    assert editor.total_seconds(Level.BEGINNER) == before + 10 * base.reps * base.sets * 2
    assert editor.total_labels[Level.BEGINNER].text() != "–"
    assert editor.timeline_view.topLevelItemCount() == 3

    # A problem shows under its field as you type, and Save waits for it to be fixed.
    editor.name_edit.selectAll()
    qtbot.keyClick(editor.name_edit, Qt.Key.Key_Delete)
    assert editor.name_field.error.isVisibleTo(page)
    assert editor.name_field.error.text() == "The name must not be empty."
    assert not editor.save_button.isEnabled()
    qtbot.keyClicks(editor.name_edit, "Desk break")
    assert not editor.name_field.error.isVisibleTo(page)
    assert editor.save_button.isEnabled()

    with qtbot.waitSignal(page.catalog_changed):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    saved = home / "data" / "routines" / "desk-break.toml"
    assert saved.is_file()
    assert "desk-break" in window.catalog.routines
    assert not editor.read_only and editor.original is not None
    assert editor.original.id == "desk-break"
    assert any(card.routine.id == "desk-break" for card in window.home.cards)

    # Home, then run it to the end with the injected clock.
    qtbot.keyClick(page.routine_list, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.home
    window.home.select_id("desk-break")
    window.start_routine("desk-break", Level.BEGINNER)
    driver = window.driver
    timeline = driver.engine.timeline
    first_hold = next(s for s in timeline.segments
                      if s.kind is SegmentKind.HOLD and s.exercise_id == "knee-to-chest")
    assert first_hold.duration == base.hold + 10
    assert [e.id for e in timeline.exercises] == ["knee-to-chest", "cat-cow", "pelvic-lift"]
    _step(app_parts, timeline.total + 1)
    assert driver.engine.state is State.FINISHED
    assert window.stack.currentWidget() is window.summary_view
    assert app_parts.history.sessions()[0].status == "completed"

    # "Restart": a new app on the same home still has it, as saved.
    app_parts.close()
    again = _build(home, qtbot)
    try:
        assert any(card.routine.id == "desk-break" for card in again.window.home.cards)
        routine = again.window.catalog.routines["desk-break"]
        assert [i.exercise for i in routine.items] == ["knee-to-chest", "cat-cow", "pelvic-lift"]
        assert routine.items[0].overrides[Level.BEGINNER].hold == base.hold + 10
        assert not routine.builtin
    finally:
        again.close()


def test_builtin_routines_are_read_only(app_parts: AppParts, home: Path, qtbot) -> None:
    """A built-in routine opens read-only; "Duplicate to edit" gives an editable copy."""
    window = app_parts.window
    window.actions_by_name["edit_routines"].trigger()
    page = window.routine_editor
    page.open_routine("core-strength")
    editor = page.routine_editor
    assert editor.read_only and editor.readonly_box.isVisibleTo(page)
    assert not editor.save_button.isVisibleTo(page) and editor.name_edit.isReadOnly()
    assert page.duplicate_button.text() == "Duplicate to edit"
    assert not page.delete_button.isEnabled()
    before = list(editor.items)
    editor.add_exercise("cat-cow")
    assert editor.items == before  # read-only: nothing changes
    qtbot.mouseClick(editor.duplicate_button, Qt.MouseButton.LeftButton)
    assert not editor.read_only and editor.name_edit.text() == "Core strength (copy)"
    assert editor.save_button.isEnabled()
    page.save_routine()
    assert (home / "data" / "routines" / "core-strength-copy.toml").is_file()
    assert window.catalog.routines["core-strength-copy"].items == \
        window.catalog.routines["core-strength"].items


def test_delete_asks_first(app_parts: AppParts, home: Path, qtbot) -> None:
    """Deleting a routine of one's own asks; "Cancel" keeps it, "Delete" removes it."""
    window = app_parts.window
    window.open_routine_editor()
    page = window.routine_editor
    page.open_routine("lower-back-for-runners")
    page.duplicate_selected()
    saved = page.save_routine()
    assert saved is not None
    page.open_routine(saved.id)
    questions: list[str] = []
    page.confirm = lambda title, text, yes: questions.append(text) or False
    page.delete_selected()
    assert saved.id in window.catalog.routines and len(questions) == 1
    page.confirm = lambda title, text, yes: True
    with qtbot.waitSignal(page.catalog_changed):
        page.delete_selected()
    assert saved.id not in window.catalog.routines
    assert all(card.routine.id != saved.id for card in window.home.cards)
    assert list((home / "data" / "routines").iterdir()) == []


def test_unsaved_changes_are_not_lost_silently(app_parts: AppParts, qtbot) -> None:
    """Leaving with unsaved changes asks; saying no keeps the editor open."""
    window = app_parts.window
    window.open_routine_editor()
    page = window.routine_editor
    page.new_routine()
    qtbot.keyClicks(page.routine_editor.name_edit, "Half done")
    page.confirm = lambda *args: False
    page.request_back()
    assert window.stack.currentWidget() is page
    page.confirm = lambda *args: True
    page.request_back()
    assert window.stack.currentWidget() is window.home


def test_custom_exercise_then_use_it(app_parts: AppParts, home: Path, qtbot) -> None:
    """A custom exercise with a catalogue picture is saved, then picked into a routine."""
    window = app_parts.window
    window.open_routine_editor()
    page = window.routine_editor
    page.new_exercise()
    ex = page.exercise_editor
    assert not ex.save_button.isEnabled()
    assert "Still needed" in ex.general_error.text()
    qtbot.keyClicks(ex.name_field.widget, "Seated twist")
    qtbot.keyClicks(ex.summary_field.widget, "A gentle twist on a chair.")
    qtbot.keyClicks(ex.setup_field.widget, "Sit tall on a chair.")
    ex.steps_field.widget.setPlainText("Sit tall.\nTurn to one side.\nCome back slowly.")
    ex.sides.setCurrentIndex(ex.sides.findData("each"))
    qtbot.keyClicks(ex.switch_cue_field.widget, "Other way")
    ex.timing_spins[Level.BEGINNER]["hold"].setValue(25)
    ex.picture.setCurrentIndex(3)
    chosen = ex._choices[3]
    assert ex.save_button.isEnabled(), ex.problems
    ex.cautions_field.widget.setPlainText("")
    assert ex.cautions_field.error.text() == "Write at least one caution (one per line)."
    assert not ex.save_button.isEnabled()
    ex.cautions_field.widget.setPlainText("Turn only as far as is comfortable.")
    saved = page.save_exercise()
    assert saved is not None and saved.id == "seated-twist"
    assert (home / "data" / "exercises" / "seated-twist.toml").is_file()
    custom = window.catalog.exercises["seated-twist"]
    assert custom.first_position.illustration == chosen.illustration
    assert custom.switch_cue == "Other way" and custom.timing[Level.BEGINNER].hold == 25
    assert page.exercise_list.count() == 1

    page.close_exercise()
    page.new_routine()
    editor = page.routine_editor
    editor.picker.set_filters(text="twist")
    assert editor.picker.visible_ids() == ["seated-twist"]
    assert "yours" in editor.picker.results.currentItem().text()
    editor.add_exercise("seated-twist")
    qtbot.keyClicks(editor.name_edit, "Chair")
    qtbot.keyClicks(editor.description_edit, "At the desk.")
    routine = page.save_routine()
    assert routine is not None and routine.items[0].exercise == "seated-twist"
    # A custom exercise in use cannot be deleted.
    page.exercise_list.setCurrentRow(0)
    page.confirm = lambda *args: True
    page.delete_selected_exercise()
    assert "used by 'Chair'" in page.status.text() and page.status.property("error")
    assert "seated-twist" in window.catalog.exercises


def test_import_and_export_buttons(app_parts: AppParts, home: Path, tmp_path: Path, qtbot) -> None:
    """Export… writes a file; Import… reads it back (renamed on a clash) or says what is wrong."""
    window = app_parts.window
    window.open_routine_editor()
    page = window.routine_editor
    page.open_routine("pre-run-mobility")
    target = tmp_path / "shared.toml"
    page.choose_export_file = lambda suggested: str(target)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert target.is_file() and "Exported" in page.status.text()

    text = target.read_text(encoding="utf-8").replace('name = "Pre-run mobility"',
                                                      'name = "Shared mobility"')
    target.write_text(text, encoding="utf-8")
    page.choose_import_file = lambda: str(target)
    with qtbot.waitSignal(page.catalog_changed):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert "'pre-run-mobility-2'" in page.status.text()
    assert window.catalog.routines["pre-run-mobility-2"].name == "Shared mobility"
    assert page.routine_editor.original.id == "pre-run-mobility-2"

    bad = tmp_path / "bad.toml"
    bad.write_text(to_toml({"format": "backcoach-routine", "routine": {"id": "x"}}),
                   encoding="utf-8")
    page.choose_import_file = lambda: str(bad)
    before = sorted(p.name for p in (home / "data" / "routines").iterdir())
    page.import_from_file()
    assert page.status.property("error")
    assert "Nothing was imported" in page.status.text() and "routine.items" in page.status.text()
    assert sorted(p.name for p in (home / "data" / "routines").iterdir()) == before


def test_kiosk_gate_keeps_the_editor_closed(app_parts: AppParts, qtbot) -> None:
    """Without the staff PIN (the gatekeeper says no) Ctrl+E does nothing."""
    window = app_parts.window
    asked: list[str] = []
    window.gatekeeper = lambda action: asked.append(action) or False
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert asked == ["editor"]
    assert window.stack.currentWidget() is window.home


@pytest.mark.parametrize("theme", [LIGHT, DARK, HIGH_CONTRAST], ids=lambda t: t.name)
def test_editor_draws_in_every_theme(qtbot, home: Path, theme) -> None:
    """The page builds and paints standalone in each theme."""
    catalog = load_builtin_catalog((home / "data",))
    page = RoutineEditorPage(catalog, home / "data", theme)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.open_routine("core-strength")
    assert not page.grab().isNull()


def test_field_messages_are_the_validators() -> None:
    """Messages under fields are the catalogue validator's own words."""
    assert field_problem("name", "", max_len=60) == "must not be empty"
    assert field_problem("name", "x" * 61, max_len=60) == "is too long (61 characters, at most 60)"
    assert field_problem("steps", [], "texts", max_items=12) == "must have 1 to 12 entries, not 0"
    assert field_problem("name", "Fine", max_len=60) is None
