"""Malformed exercise and routine files give errors naming the file and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from backcoach.catalog.loader import load_catalog
from backcoach.resources import resources_dir

BUILTIN = resources_dir()
EXAMPLE = (BUILTIN / "exercises" / "knee-to-chest.toml").read_text(encoding="utf-8")
ROUTINE = (BUILTIN / "routines" / "lower-back-for-runners.toml").read_text(encoding="utf-8")


def _user_dir(tmp_path: Path, exercise: str | None = None, routine: str | None = None,
              name: str = "mine") -> Path:
    root = tmp_path / "user"
    (root / "exercises").mkdir(parents=True, exist_ok=True)
    (root / "routines").mkdir(parents=True, exist_ok=True)
    if exercise is not None:
        (root / "exercises" / f"{name}.toml").write_text(exercise, encoding="utf-8")
    if routine is not None:
        (root / "routines" / f"{name}.toml").write_text(routine, encoding="utf-8")
    return root


def _mine(text: str) -> str:
    """The example exercise under a new id, so that only the injected fault is wrong."""
    return text.replace('id = "knee-to-chest"', 'id = "my-exercise"', 1)


def _only_problem(root: Path, file_name: str) -> str:
    catalog = load_catalog(BUILTIN, (root,))
    assert len(catalog.problems) == 1, [str(p) for p in catalog.problems]
    problem = catalog.problems[0]
    assert problem.file.endswith(file_name)
    return str(problem)


def test_builtin_catalog_has_no_problems() -> None:
    """Every shipped exercise and routine file validates cleanly."""
    catalog = load_catalog(BUILTIN)
    assert catalog.problems == []
    assert "lower-back-for-runners" in catalog.routines


def test_unknown_exercise_id_in_routine(tmp_path: Path) -> None:
    """A routine naming an exercise that does not exist is rejected with the item field."""
    text = ROUTINE.replace('id = "lower-back-for-runners"', 'id = "mine"').replace(
        'exercise = "hip-rolling"', 'exercise = "hip-rollin"')
    message = _only_problem(_user_dir(tmp_path, routine=text), "routines/mine.toml")
    assert "items[1].exercise" in message and "hip-rollin" in message


@pytest.mark.parametrize("bad", ["0", "-5"])
def test_zero_or_negative_duration(tmp_path: Path, bad: str) -> None:
    """A hold of zero or fewer seconds is rejected naming timing.<level>.hold."""
    text = _mine(EXAMPLE).replace("[timing.beginner]\nhold = 30", f"[timing.beginner]\nhold = {bad}")
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "timing.beginner.hold" in message and "more than zero" in message


def test_missing_field(tmp_path: Path) -> None:
    """A missing required field is named."""
    text = re.sub(r"^setup = .*\n", "", _mine(EXAMPLE), flags=re.M)
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "setup: is missing" in message


def test_wrong_type(tmp_path: Path) -> None:
    """A field of the wrong type says what it must be."""
    text = _mine(EXAMPLE).replace("reps = 2", 'reps = "two"')
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "timing.intermediate.reps" in message and "whole number" in message


def test_unknown_key(tmp_path: Path) -> None:
    """A typo in a key is an error, not a silent default."""
    text = _mine(EXAMPLE).replace("[timing.advanced]\nhold = 30", "[timing.advanced]\nhold = 30\nrepz = 3")
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "timing.advanced.repz" in message and "not a known field" in message


def test_duplicate_id(tmp_path: Path) -> None:
    """A user exercise reusing a built-in id is rejected and the built-in one kept."""
    root = _user_dir(tmp_path, exercise=EXAMPLE.replace('name = "Knee to chest"', 'name = "X"'))
    message = _only_problem(root, "exercises/mine.toml")
    assert ": id: duplicate id 'knee-to-chest'" in message
    assert load_catalog(BUILTIN, (root,)).exercises["knee-to-chest"].name == "Knee to chest"


@pytest.mark.parametrize("path", ["../../etc/passwd.svg", "/tmp/x.svg",
                                  "illustrations/../../x.svg", "sounds/x.svg",
                                  "illustrations\\..\\x.svg"])
def test_illustration_path_cannot_leave_resources(tmp_path: Path, path: str) -> None:
    """An illustration path outside resources/illustrations is refused."""
    text = _mine(EXAMPLE).replace('"illustrations/knee-to-chest-flat.svg"',
                                  '"' + path.replace("\\", "\\\\") + '"')
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "positions[0].illustration" in message


def test_syntax_error_names_file(tmp_path: Path) -> None:
    """Broken TOML syntax is reported with the file and the parser's location."""
    message = _only_problem(_user_dir(tmp_path, exercise="id = \n"), "exercises/mine.toml")
    assert "not valid TOML" in message


def test_phase_must_name_a_position(tmp_path: Path) -> None:
    """A phase pointing at an undefined position is rejected."""
    text = _mine(EXAMPLE).replace('position = "knee-in"', 'position = "knee-out"')
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "phases[0].position" in message


def test_bad_user_files_never_block_builtins(tmp_path: Path) -> None:
    """Garbage in the user folder leaves every built-in exercise and routine loaded."""
    root = _user_dir(tmp_path, exercise="\x00\x01 not toml", routine="[[items]]\nx=1")
    (root / "exercises" / "latin1.toml").write_bytes(b"name = \"caf\xe9\"")
    catalog = load_catalog(BUILTIN, (root,))
    builtin = load_catalog(BUILTIN)
    assert set(catalog.exercises) == set(builtin.exercises)
    assert set(catalog.routines) == set(builtin.routines)
    assert len(catalog.problems) == 3


def test_user_routine_may_use_user_exercise(tmp_path: Path) -> None:
    """A user's routine can use a user's exercise and loads beside the built-ins."""
    routine = ROUTINE.replace('id = "lower-back-for-runners"', 'id = "mine"').replace(
        'exercise = "hip-rolling"', 'exercise = "my-exercise"')
    root = _user_dir(tmp_path, exercise=_mine(EXAMPLE), routine=routine)
    catalog = load_catalog(BUILTIN, (root,))
    assert catalog.problems == []
    assert not catalog.routines["mine"].builtin


def test_copy_of_resources_loads_identically(tmp_path: Path) -> None:
    """The loader depends only on the folder given, not on where the package lives."""
    shutil.copytree(BUILTIN / "exercises", tmp_path / "exercises")
    shutil.copytree(BUILTIN / "routines", tmp_path / "routines")
    shutil.copytree(BUILTIN / "illustrations", tmp_path / "illustrations")
    assert set(load_catalog(tmp_path).exercises) == set(load_catalog(BUILTIN).exercises)


def test_hostile_shapes_in_the_user_folder_are_refused_quickly(tmp_path: Path) -> None:
    """Deeply dotted keys and deep nesting in a user file are refused, not parsed for minutes."""
    root = _user_dir(tmp_path)
    (root / "exercises" / "dots.toml").write_text("a" + ".a" * 20_000 + " = 1\n")
    (root / "routines" / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    catalog = load_catalog(BUILTIN, (root,))
    messages = sorted(str(p) for p in catalog.problems)
    assert len(messages) == 2
    assert any("dots" in m for m in messages)
    assert any("nested too deeply" in m or "not valid TOML" in m for m in messages)
    assert set(catalog.exercises) == set(load_catalog(BUILTIN).exercises)


def test_a_missing_picture_is_a_load_error(tmp_path: Path) -> None:
    """A position naming an illustration the app does not have is refused at load time."""
    text = _mine(EXAMPLE).replace('"illustrations/knee-to-chest-flat.svg"',
                                  '"illustrations/no-such-picture.svg"')
    message = _only_problem(_user_dir(tmp_path, exercise=text), "exercises/mine.toml")
    assert "positions[0].illustration" in message and "no-such-picture" in message
