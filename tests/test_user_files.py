"""User routines and exercises: TOML round trips, atomic saves, all-or-nothing import, export."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backcoach import cli
from backcoach.catalog.fields import CatalogError, Table
from backcoach.catalog.loader import Catalog, exercise_from_table, load_catalog
from backcoach.catalog.model import Level, Sides, TimingOverride
from backcoach.catalog.user_files import (
    BUNDLE_FORMAT,
    MAX_IMPORT_BYTES,
    UserFileError,
    delete_exercise,
    delete_routine,
    dump_bundle,
    dump_exercise,
    dump_routine,
    export_routine,
    import_file,
    is_user_exercise,
    load_exercise_text,
    load_routine_text,
    new_routine_id,
    same_exercise,
    same_routine,
    save_exercise,
    save_routine,
    slugify,
    to_toml,
    unique_id,
)
from backcoach.cli import main
from backcoach.resources import resources_dir
from backcoach.store.atomic import StorageError
from backcoach.store.paths import AppPaths, resolve_paths

BUILTIN = resources_dir()

CUSTOM: dict[str, Any] = {
    "id": "towel-stretch",
    "name": "Towel stretch",
    "summary": "A seated hamstring stretch with a towel around the foot.",
    "setup": "Sit tall, legs long, a towel around one foot.",
    "focus": "stretch",
    "posture": "sitting",
    "sides": "each",
    "alternate": True,
    "switch_gap": 7.5,
    "steps": ["Sit tall.", "Loop the towel round one foot.", "Lean forward gently."],
    "cautions": ["Ease off if the back of the knee pulls sharply."],
    "sources": ["My physiotherapist"],
    "licence": "CC0-1.0",
    "positions": [
        {"id": "flat", "name": "Lying on the back, knees bent, feet flat",
         "illustration": "illustrations/knee-to-chest-flat.svg"},
        {"id": "in", "name": "Lying on the back, one knee drawn in",
         "illustration": "illustrations/knee-to-chest-knee-in.svg"},
    ],
    "phases": [
        {"kind": "move", "position": "in", "cue": "Draw in", "seconds": 2.5},
        {"kind": "hold", "position": "in"},
        {"kind": "hold", "position": "flat", "seconds": 4},
    ],
    "breathing": {"inhale": 3.5, "exhale": 4, "hold_in": 1, "hold_out": 0.5},
    "cues": {"switch": "Other leg"},
    "timing": {
        "beginner": {"hold": 20, "reps": 2, "rep_rest": 5},
        "intermediate": {"hold": 30.5, "reps": 3, "sets": 2, "set_rest": 20},
        "advanced": {"hold": 45, "reps": 3, "sets": 3, "rep_rest": 5, "set_rest": 30},
    },
}


def _routine_table(exercise_ids: list[str], routine_id: str = "my-routine") -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"exercise": ex} for ex in exercise_ids]
    items[0]["advanced"] = {"hold": 50, "sides": "both", "rep_rest": 0}
    items[0]["beginner"] = {}
    return {"id": routine_id, "name": "My routine", "description": "Mine.",
            "default_level": "intermediate", "get_ready": 15,
            "rest_between": {"beginner": 20, "intermediate": 12.5, "advanced": 0},
            "items": items}


@pytest.fixture
def paths(home: Path) -> AppPaths:
    """The test's own BackCoach folders (BACKCOACH_HOME), created."""
    return resolve_paths().ensure()


def _catalog(paths: AppPaths) -> Catalog:
    catalog = load_catalog(BUILTIN, (paths.data_dir,))
    assert catalog.problems == [], [str(p) for p in catalog.problems]
    return catalog


def _snapshot(paths: AppPaths) -> dict[str, bytes]:
    """Every file under the user's exercise and routine folders, by relative path."""
    out = {}
    for folder in (paths.user_exercises_dir, paths.user_routines_dir):
        for path in sorted(folder.rglob("*")):
            out[str(path.relative_to(paths.data_dir))] = path.read_bytes() if path.is_file() else b"/"
    return out


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


# -- round trips -------------------------------------------------------------------------

def test_every_builtin_item_round_trips() -> None:
    """Dumping then loading each shipped exercise and routine gives back an equal object."""
    catalog = load_catalog(BUILTIN)
    for exercise in catalog.exercises.values():
        again = load_exercise_text(dump_exercise(exercise), "x.toml")
        assert same_exercise(again, exercise), exercise.id
    for routine in catalog.routines.values():
        again = load_routine_text(dump_routine(routine), "x.toml", catalog.exercises)
        assert same_routine(again, routine), routine.id


def test_every_optional_field_round_trips() -> None:
    """Phases, breathing holds, alternate, fractional seconds, cues and licence survive."""
    catalog = load_catalog(BUILTIN)
    exercise = exercise_from_table(Table(copy.deepcopy(CUSTOM), "custom"))
    text = dump_exercise(exercise)
    assert "[[positions]]" in text and "[timing.beginner]" in text  # the resources' layout
    assert same_exercise(load_exercise_text(text, "again"), exercise)
    exercises = {**catalog.exercises, exercise.id: exercise}
    routine = load_routine_text(to_toml(_routine_table([exercise.id, "cat-cow"])), "r", exercises)
    assert routine.items[0].overrides[Level.BEGINNER] == TimingOverride()
    assert routine.items[0].overrides[Level.ADVANCED].sides is Sides.BOTH
    again = load_routine_text(dump_routine(routine), "again", exercises)
    assert same_routine(again, routine)


def test_ids() -> None:
    """Names become ids; clashes get -2, -3 ... and stay within 60 characters."""
    assert slugify("Morning Back — Easy!") == "morning-back-easy"
    assert slugify("???") == "my-routine"
    assert unique_id("a", {"a", "a-2"}) == "a-3"
    long = "x" * 60
    assert len(unique_id(long, {long})) == 60 and unique_id(long, {long}).endswith("-2")


# -- save and delete -------------------------------------------------------------------

def test_save_load_and_delete_a_routine(paths: AppPaths) -> None:
    """A saved routine loads from the user folder; saving again replaces its own file."""
    catalog = _catalog(paths)
    routine = load_routine_text(to_toml(_routine_table(["cat-cow", "bird-dog"])), "r",
                                catalog.exercises)
    saved = save_routine(routine, catalog, paths)
    target = paths.user_routines_dir / "my-routine.toml"
    assert Path(saved.origin) == target and target.is_file()
    catalog = _catalog(paths)
    assert not catalog.routines["my-routine"].builtin
    assert same_routine(catalog.routines["my-routine"], routine)
    renamed = replace(catalog.routines["my-routine"], name="Renamed")
    save_routine(renamed, catalog, paths)
    assert [p.name for p in paths.user_routines_dir.iterdir()] == ["my-routine.toml"]
    catalog = _catalog(paths)
    assert catalog.routines["my-routine"].name == "Renamed"
    assert new_routine_id("My routine", catalog, paths) == "my-routine-2"
    delete_routine("my-routine", catalog, paths)
    assert list(paths.user_routines_dir.iterdir()) == []


def test_builtin_items_are_protected(paths: AppPaths) -> None:
    """Built-in routines and exercises can be neither overwritten nor deleted."""
    catalog = _catalog(paths)
    with pytest.raises(UserFileError, match="built-in"):
        save_routine(catalog.routines["core-strength"], catalog, paths)
    with pytest.raises(UserFileError, match="built-in"):
        delete_routine("core-strength", catalog, paths)
    with pytest.raises(UserFileError, match="built-in"):
        save_exercise(catalog.exercises["cat-cow"], catalog, paths)
    with pytest.raises(UserFileError, match="built-in"):
        delete_exercise("cat-cow", catalog, paths)
    assert _snapshot(paths) == {}


def test_exercise_in_use_is_not_deleted(paths: AppPaths) -> None:
    """Deleting a custom exercise that a routine uses is refused, naming the routine."""
    catalog = _catalog(paths)
    exercise = exercise_from_table(Table(copy.deepcopy(CUSTOM), "custom"))
    save_exercise(exercise, catalog, paths)
    catalog = _catalog(paths)
    assert is_user_exercise(catalog.exercises["towel-stretch"], paths)
    routine = load_routine_text(to_toml(_routine_table(["towel-stretch"])), "r", catalog.exercises)
    save_routine(routine, catalog, paths)
    catalog = _catalog(paths)
    with pytest.raises(UserFileError, match="'My routine'"):
        delete_exercise("towel-stretch", catalog, paths)
    delete_routine("my-routine", catalog, paths)
    delete_exercise("towel-stretch", _catalog(paths), paths)
    assert _snapshot(paths) == {}


# -- import ----------------------------------------------------------------------------

def _bundle_text(exercises: list[dict[str, Any]], routine: dict[str, Any] | None) -> str:
    table: dict[str, Any] = {"format": BUNDLE_FORMAT, "version": 1}
    if routine is not None:
        table["routine"] = routine
    if exercises:
        table["exercises"] = exercises
    return to_toml(table)


def test_import_renames_clashing_ids_and_says_so(paths: AppPaths, tmp_path: Path) -> None:
    """An exercise id of a built-in and a routine id in use are renamed -2; the user is told."""
    clash = copy.deepcopy(CUSTOM) | {"id": "cat-cow"}
    routine = _routine_table(["cat-cow", "bird-dog"], routine_id="core-strength")
    result = import_file(_write(tmp_path / "b.toml", _bundle_text([clash], routine)),
                         _catalog(paths), paths)
    assert set(result.renamed) == {("exercise", "cat-cow", "cat-cow-2"),
                                   ("routine", "core-strength", "core-strength-2")}
    text = " ".join(result.messages)
    assert "'cat-cow'" in text and "'cat-cow-2'" in text and "'core-strength-2'" in text
    catalog = _catalog(paths)
    imported = catalog.routines["core-strength-2"]
    assert [i.exercise for i in imported.items] == ["cat-cow-2", "bird-dog"]
    assert catalog.exercises["cat-cow-2"].name == "Towel stretch"
    assert catalog.exercises["cat-cow"].name == "Cat-cow"  # the built-in is untouched


def test_reimport_is_recognised(paths: AppPaths, tmp_path: Path) -> None:
    """Importing the same file twice adds nothing the second time."""
    path = _write(tmp_path / "b.toml", _bundle_text([copy.deepcopy(CUSTOM)],
                                                     _routine_table(["towel-stretch"])))
    first = import_file(path, _catalog(paths), paths)
    assert first.changed and first.renamed == ()
    before = _snapshot(paths)
    second = import_file(path, _catalog(paths), paths)
    assert not second.changed and second.routine is None
    assert "already" in " ".join(second.messages)
    assert _snapshot(paths) == before


def test_plain_exercise_and_routine_files_import(paths: AppPaths, tmp_path: Path) -> None:
    """Files in the resources format import as they are."""
    ex_path = _write(tmp_path / "ex.toml", to_toml(copy.deepcopy(CUSTOM)))
    assert [e.id for e in import_file(ex_path, _catalog(paths), paths).exercises] == ["towel-stretch"]
    r_path = _write(tmp_path / "r.toml", to_toml(_routine_table(["towel-stretch", "cat-cow"])))
    result = import_file(r_path, _catalog(paths), paths)
    assert result.routine is not None and result.routine.id == "my-routine"
    assert "my-routine" in _catalog(paths).routines


def test_a_bad_routine_keeps_the_good_exercises_out(paths: AppPaths, tmp_path: Path) -> None:
    """All or nothing: valid exercises are not added when the routine is invalid."""
    routine = _routine_table(["towel-stretch", "no-such-exercise"])
    path = _write(tmp_path / "b.toml", _bundle_text([copy.deepcopy(CUSTOM)], routine))
    with pytest.raises(CatalogError) as caught:
        import_file(path, _catalog(paths), paths)
    assert caught.value.file == str(path)
    assert caught.value.field == "routine.items[1].exercise"
    assert _snapshot(paths) == {}


def test_a_failed_write_is_rolled_back(paths: AppPaths, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """If the disk fails half way, the files already written are removed again."""
    import backcoach.catalog.user_files as uf

    real = uf.atomic_write_text
    calls = []

    def flaky(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise StorageError(f"Could not save {path}: the disk is full.", path=path)
        real(path, text)

    monkeypatch.setattr(uf, "atomic_write_text", flaky)
    path = _write(tmp_path / "b.toml", _bundle_text([copy.deepcopy(CUSTOM)],
                                                     _routine_table(["towel-stretch"])))
    with pytest.raises(StorageError, match="disk is full"):
        import_file(path, _catalog(paths), paths)
    assert len(calls) == 2
    assert _snapshot(paths) == {}


@pytest.mark.parametrize(("content", "field", "problem"), [
    (b"\xff\xfe not text", "", "UTF-8"),
    (b"id = [", "", "not valid TOML"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "", "nested too deeply"),
    (b"zz" + b".a" * 120_000 + b" = 1", "", "more than 64 dots"),  # minutes in tomllib
])
def test_unreadable_files_name_the_file(paths: AppPaths, tmp_path: Path, content: bytes,
                                        field: str, problem: str) -> None:
    """Non-UTF-8, broken and absurdly nested files are rejected, quickly, naming the file."""
    path = _write(tmp_path / "bad.toml", content)
    catalog = _catalog(paths)
    started = time.perf_counter()
    with pytest.raises(CatalogError, match=problem) as caught:
        import_file(path, catalog, paths)
    assert time.perf_counter() - started < 1.0
    assert caught.value.file == str(path) and caught.value.field == field
    assert _snapshot(paths) == {}


def test_size_limit_and_special_files(paths: AppPaths, tmp_path: Path) -> None:
    """Files over 256 KiB, folders and missing files are refused before being read."""
    big = _write(tmp_path / "big.toml", b"# " + b"x" * MAX_IMPORT_BYTES)
    with pytest.raises(CatalogError, match="too large"):
        import_file(big, _catalog(paths), paths)
    with pytest.raises(CatalogError, match="not a regular file"):
        import_file(tmp_path, _catalog(paths), paths)
    with pytest.raises(CatalogError, match="cannot be read"):
        import_file(tmp_path / "missing.toml", _catalog(paths), paths)


@pytest.mark.parametrize("illustration", [
    "illustrations/no-such-picture.svg", "../../../etc/passwd.svg", "/etc/x.svg",
    "illustrations/../../pyproject.svg", "illustrations\\..\\x.svg", "C:/x.svg",
])
def test_illustrations_stay_in_the_app(paths: AppPaths, tmp_path: Path, illustration: str) -> None:
    """A picture must be one the app has: no paths out of its illustrations folder."""
    bad = copy.deepcopy(CUSTOM)
    bad["positions"][1]["illustration"] = illustration
    path = _write(tmp_path / "b.toml", _bundle_text([bad], None))
    with pytest.raises(CatalogError) as caught:
        import_file(path, _catalog(paths), paths)
    assert caught.value.field == "exercises[0].positions[1].illustration"


# -- export ----------------------------------------------------------------------------

def test_export_then_import_gives_back_the_routine(paths: AppPaths, tmp_path: Path) -> None:
    """Export a routine with a custom exercise; importing it elsewhere gives equal objects."""
    catalog = _catalog(paths)
    exercise = exercise_from_table(Table(copy.deepcopy(CUSTOM), "custom"))
    save_exercise(exercise, catalog, paths)
    catalog = _catalog(paths)
    routine = load_routine_text(to_toml(_routine_table(["towel-stretch", "cat-cow", "towel-stretch"])),
                                "r", catalog.exercises)
    save_routine(routine, catalog, paths)
    catalog = _catalog(paths)
    out = export_routine("my-routine", catalog, tmp_path / "shared.toml")
    text = out.read_text(encoding="utf-8")
    assert text.count("[[exercises]]") == 1  # only the custom one, once
    assert 'id = "cat-cow"\n' not in text

    other = AppPaths.under(tmp_path / "elsewhere").ensure()
    fresh = load_catalog(BUILTIN, (other.data_dir,))
    result = import_file(out, fresh, other)
    assert result.renamed == ()
    again = load_catalog(BUILTIN, (other.data_dir,))
    assert same_routine(again.routines["my-routine"], catalog.routines["my-routine"])
    assert same_exercise(again.exercises["towel-stretch"], catalog.exercises["towel-stretch"])
    assert dump_bundle(again.routines["my-routine"], [again.exercises["towel-stretch"]]) == text


def test_export_of_an_unknown_routine(paths: AppPaths, tmp_path: Path) -> None:
    """Exporting a routine that does not exist names the known ones and writes nothing."""
    with pytest.raises(UserFileError, match=r"unknown routine 'nope'; known: .*core-strength"):
        export_routine("nope", _catalog(paths), tmp_path / "x.toml")
    assert not (tmp_path / "x.toml").exists()


# -- command line ----------------------------------------------------------------------

def test_cli_import_and_export(paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """`backcoach export` and `import` work; errors are one line with exit status 2."""
    if "routine_commands" not in cli.COMMAND_MODULES:  # until cli.py lists the module
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "routine_commands"))
    out = tmp_path / "core.toml"
    assert main(["export", "core-strength", str(out)]) == 0
    assert "Exported 'Core strength'" in capsys.readouterr().out
    assert main(["import", str(out)]) == 0
    assert "already in your catalogue" in capsys.readouterr().out

    bad = _write(tmp_path / "bad.toml", out.read_text(encoding="utf-8").replace(
        'exercise = "dead-bug"', 'exercise = "dead-bugg"'))
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(bad) in err and "routine.items[0].exercise" in err and "dead-bugg" in err
    assert main(["export", "nope", str(tmp_path / "n.toml")]) == 2
    assert "unknown routine 'nope'" in capsys.readouterr().err
    assert _snapshot(paths) == {}
