"""The user's own routines and exercises: write them back to TOML, import and export them.

Files are written in the resources format (see docs/catalogue-format.md), so the one
validator in `loader` reads built-in and user files alike, and every write is checked by
reading the text back through it first. Writes are atomic (`store.atomic`).

An import is all or nothing: the whole file is validated (and nothing in it is ever run)
before a single file is written, and a failed write removes what it had written. An
export bundle holds one routine and the custom exercises it uses:

    format = "backcoach-routine"
    version = 1

    [routine]
    id = "my-routine"
    ...
    [[routine.items]]
    exercise = "my-stretch"

    [[exercises]]
    id = "my-stretch"
    ...

Plain exercise and routine files (as in resources/) can be imported too. Ids that clash
with a built-in or an existing item are renamed (`-2`, `-3` ...) and the user is told.

No Qt here: the editor screen and the command line both sit on top of this module.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import tomli_w

from backcoach.catalog.fields import CatalogError, Table
from backcoach.catalog.loader import (
    ID_PATTERN,
    MAX_FILE_BYTES,
    Catalog,
    exercise_from_table,
    parse_toml,
    routine_from_table,
)
from backcoach.catalog.model import (
    Exercise,
    Level,
    Phase,
    PhaseKind,
    Routine,
    TimingOverride,
)
from backcoach.store.atomic import atomic_write_text, storage_error

BUNDLE_FORMAT = "backcoach-routine"
BUNDLE_VERSION = 1
MAX_IMPORT_BYTES = MAX_FILE_BYTES  # 256 KiB, as for any catalogue file
MAX_BUNDLE_EXERCISES = 40
MAX_PROBLEM_CHARS = 300  # a hostile value quoted in a message is cut to this length
DEFAULT_SWITCH_CUE = "Switch sides"
DEFAULT_SWITCH_GAP = 5.0
DEFAULT_LICENCE = "CC-BY-SA-4.0"
DEFAULT_GET_READY = 10.0
_NOT_FAITHFUL = "cannot be saved faithfully (please report this as a bug)"


class UserFileError(ValueError):
    """Something the user asked for that cannot be done (the message says why)."""


class UserFolders(Protocol):
    """Where the user's files go: `AppPaths` or `DataFolders` both fit."""

    @property
    def user_exercises_dir(self) -> Path: ...

    @property
    def user_routines_dir(self) -> Path: ...


@dataclass(frozen=True)
class DataFolders:
    """The user folders inside one data folder (for callers that know only `data_dir`)."""

    data_dir: Path

    @property
    def user_exercises_dir(self) -> Path:
        return self.data_dir / "exercises"

    @property
    def user_routines_dir(self) -> Path:
        return self.data_dir / "routines"


# -- TOML writing ------------------------------------------------------------------------

def _num(value: float) -> int | float:
    """Whole seconds are written as integers (`hold = 30`), as in the resources."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def exercise_to_dict(exercise: Exercise) -> dict[str, Any]:
    """The exercise as a TOML-ready table; defaults are left out, as a person would."""
    d: dict[str, Any] = {
        "id": exercise.id,
        "name": exercise.name,
        "summary": exercise.summary,
        "setup": exercise.setup,
        "focus": exercise.focus,
        "posture": exercise.posture,
        "sides": exercise.sides.value,
    }
    if exercise.alternate:
        d["alternate"] = True
    if exercise.switch_gap != DEFAULT_SWITCH_GAP:
        d["switch_gap"] = _num(exercise.switch_gap)
    d["steps"] = list(exercise.steps)
    d["cautions"] = list(exercise.cautions)
    d["sources"] = list(exercise.sources)
    if exercise.licence != DEFAULT_LICENCE:
        d["licence"] = exercise.licence
    d["positions"] = [{"id": p.id, "name": p.name, "illustration": p.illustration}
                      for p in exercise.positions]
    implicit = (Phase(kind=PhaseKind.HOLD, position=exercise.positions[-1].id),)
    if exercise.phases != implicit:
        phases = []
        for phase in exercise.phases:
            p: dict[str, Any] = {"kind": phase.kind.value, "position": phase.position}
            if phase.cue:
                p["cue"] = phase.cue
            if phase.seconds is not None:
                p["seconds"] = _num(phase.seconds)
            phases.append(p)
        d["phases"] = phases
    if exercise.breathing is not None:
        b = exercise.breathing
        breathing: dict[str, Any] = {"inhale": _num(b.inhale), "exhale": _num(b.exhale)}
        if b.hold_in:
            breathing["hold_in"] = _num(b.hold_in)
        if b.hold_out:
            breathing["hold_out"] = _num(b.hold_out)
        d["breathing"] = breathing
    if exercise.switch_cue != DEFAULT_SWITCH_CUE:
        d["cues"] = {"switch": exercise.switch_cue}
    timing: dict[str, Any] = {}
    for level in Level:
        t = exercise.timing[level]
        lt: dict[str, Any] = {"hold": _num(t.hold)}
        if t.reps != 1:
            lt["reps"] = t.reps
        if t.sets != 1:
            lt["sets"] = t.sets
        if t.rep_rest:
            lt["rep_rest"] = _num(t.rep_rest)
        if t.set_rest:
            lt["set_rest"] = _num(t.set_rest)
        timing[level.value] = lt
    d["timing"] = timing
    return d


def override_to_dict(override: TimingOverride) -> dict[str, Any]:
    """The fields an override sets (an empty dict for none)."""
    d: dict[str, Any] = {}
    for key in ("hold", "reps", "sets", "rep_rest", "set_rest"):
        value = getattr(override, key)
        if value is not None:
            d[key] = value if key in ("reps", "sets") else _num(value)
    if override.sides is not None:
        d["sides"] = override.sides.value
    return d


def routine_to_dict(routine: Routine) -> dict[str, Any]:
    """The routine as a TOML-ready table."""
    d: dict[str, Any] = {
        "id": routine.id,
        "name": routine.name,
        "description": routine.description,
        "default_level": routine.default_level.value,
    }
    if routine.get_ready != DEFAULT_GET_READY:
        d["get_ready"] = _num(routine.get_ready)
    d["rest_between"] = {level.value: _num(routine.rest_between[level]) for level in Level}
    items = []
    for item in routine.items:
        it: dict[str, Any] = {"exercise": item.exercise}
        for level in Level:
            if level in item.overrides:
                it[level.value] = override_to_dict(item.overrides[level])
        items.append(it)
    d["items"] = items
    return d


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _emit(table: dict[str, Any], prefix: str, out: list[str]) -> None:
    """Write `table` as the resources do: `[[positions]]`, `[timing.beginner]` ..."""
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and not _is_table_list(v)}
    if scalars:
        out.append(tomli_w.dumps(scalars))
    for key, value in table.items():
        if _is_table_list(value):
            for item in value:
                out.append(f"\n[[{prefix}{key}]]\n")
                _emit(item, f"{prefix}{key}.", out)
        elif isinstance(value, dict):
            has_own = not value or any(not isinstance(v, dict) and not _is_table_list(v)
                                       for v in value.values())
            if has_own:
                out.append(f"\n[{prefix}{key}]\n")
            _emit(value, f"{prefix}{key}.", out)


def to_toml(table: dict[str, Any]) -> str:
    """TOML text for a table built by the `*_to_dict` functions (bare keys only)."""
    out: list[str] = []
    _emit(table, "", out)
    return "".join(out).lstrip("\n")


def dump_exercise(exercise: Exercise) -> str:
    """An exercise file's text."""
    return to_toml(exercise_to_dict(exercise))


def dump_routine(routine: Routine) -> str:
    """A routine file's text."""
    return to_toml(routine_to_dict(routine))


def dump_bundle(routine: Routine, exercises: Iterable[Exercise]) -> str:
    """An export bundle: the routine and the custom exercises it uses."""
    table: dict[str, Any] = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
                             "routine": routine_to_dict(routine)}
    extra = [exercise_to_dict(ex) for ex in exercises]
    if extra:
        table["exercises"] = extra
    return "# A BackCoach routine with its custom exercises: import it with Routines > " \
           "Edit routines > Import.\n" + to_toml(table)


def load_exercise_text(text: str, name: str) -> Exercise:
    """Validate exercise TOML text (the loader's own rules)."""
    return exercise_from_table(parse_toml(text.encode("utf-8"), name))


def load_routine_text(text: str, name: str, exercises: dict[str, Exercise]) -> Routine:
    """Validate routine TOML text against the known exercises."""
    return routine_from_table(parse_toml(text.encode("utf-8"), name), exercises, builtin=False)


def same_exercise(a: Exercise, b: Exercise) -> bool:
    """Equal in everything but the file they came from."""
    return replace(a, origin="") == replace(b, origin="")


def same_routine(a: Routine, b: Routine) -> bool:
    """Equal in everything but the file they came from and whether they are built in."""
    return replace(a, origin="", builtin=False) == replace(b, origin="", builtin=False)


# -- ids ------------------------------------------------------------------------------

def slugify(name: str, fallback: str = "my-routine") -> str:
    """An id from a display name: lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-")
    return slug if slug and ID_PATTERN.match(slug) else fallback


def unique_id(base: str, taken: set[str] | frozenset[str]) -> str:
    """`base`, or `base-2`, `base-3` ... the first one not in `taken` (at most 60 chars)."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[:60 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def _file_stems(folder: Path) -> set[str]:
    """Ids already used as file names, including files that failed to load."""
    try:
        return {p.stem for p in folder.glob("*.toml")}
    except OSError:
        return set()


def taken_routine_ids(catalog: Catalog, paths: UserFolders) -> set[str]:
    """Routine ids a new routine may not use."""
    return set(catalog.routines) | _file_stems(paths.user_routines_dir)


def taken_exercise_ids(catalog: Catalog, paths: UserFolders) -> set[str]:
    """Exercise ids a new exercise may not use."""
    return set(catalog.exercises) | _file_stems(paths.user_exercises_dir)


def new_routine_id(name: str, catalog: Catalog, paths: UserFolders) -> str:
    """A fresh routine id made from its name."""
    return unique_id(slugify(name, "my-routine"), taken_routine_ids(catalog, paths))


def new_exercise_id(name: str, catalog: Catalog, paths: UserFolders) -> str:
    """A fresh exercise id made from its name."""
    return unique_id(slugify(name, "my-exercise"), taken_exercise_ids(catalog, paths))


# -- where things live -------------------------------------------------------------------

def _inside(path: str | Path, folder: Path) -> bool:
    if not path:
        return False
    try:
        return Path(path).resolve().parent == folder.resolve()
    except OSError:
        return False


def is_user_exercise(exercise: Exercise, paths: UserFolders) -> bool:
    """Whether the exercise was loaded from the user's exercises folder."""
    return _inside(exercise.origin, paths.user_exercises_dir)


def is_builtin_exercise(exercise: Exercise, builtin_root: Path | None = None) -> bool:
    """Whether the exercise ships with the app (loaded from resources/exercises)."""
    if builtin_root is None:
        from backcoach.resources import resources_dir

        builtin_root = resources_dir()
    return _inside(exercise.origin, builtin_root / "exercises")


def routines_using(exercise_id: str, catalog: Catalog) -> list[Routine]:
    """The routines that contain the exercise."""
    return [r for r in catalog.routines.values()
            if any(item.exercise == exercise_id for item in r.items)]


def _target(existing_origin: str, folder: Path, item_id: str) -> Path:
    """The file to write: the one the item came from if it is the user's, else `<id>.toml`."""
    if _inside(existing_origin, folder):
        return Path(existing_origin)
    return folder / f"{item_id}.toml"


# -- save and delete ---------------------------------------------------------------------

def save_routine(routine: Routine, catalog: Catalog, paths: UserFolders) -> Routine:
    """Write a user routine (new or changed) atomically; returns it as it now loads.

    A built-in routine cannot be overwritten (duplicate it first), nor can a new routine
    take an id that is already used.
    """
    folder = paths.user_routines_dir
    existing = catalog.routines.get(routine.id)
    if existing is not None and existing.builtin:
        raise UserFileError(f"{existing.name!r} is a built-in routine and cannot be changed; "
                            "duplicate it to edit a copy.")
    if existing is None and (folder / f"{routine.id}.toml").exists():
        raise UserFileError(f"the routine id {routine.id!r} is already used by the file "
                            f"{folder / (routine.id + '.toml')}")
    target = _target(existing.origin if existing else "", folder, routine.id)
    text = dump_routine(routine)
    saved = load_routine_text(text, str(target), catalog.exercises)
    _write(target, text)
    return saved


def save_exercise(exercise: Exercise, catalog: Catalog, paths: UserFolders) -> Exercise:
    """Write a custom exercise atomically; returns it as it now loads."""
    folder = paths.user_exercises_dir
    existing = catalog.exercises.get(exercise.id)
    if existing is not None and not is_user_exercise(existing, paths):
        raise UserFileError(f"{existing.name!r} is a built-in exercise and cannot be changed.")
    if existing is None and (folder / f"{exercise.id}.toml").exists():
        raise UserFileError(f"the exercise id {exercise.id!r} is already used by the file "
                            f"{folder / (exercise.id + '.toml')}")
    target = _target(existing.origin if existing else "", folder, exercise.id)
    text = dump_exercise(exercise)
    saved = load_exercise_text(text, str(target))
    _write(target, text)
    return saved


def delete_routine(routine_id: str, catalog: Catalog, paths: UserFolders) -> Path:
    """Delete a user routine's file; built-in routines cannot be deleted."""
    routine = catalog.routine(routine_id)
    if routine.builtin or not _inside(routine.origin, paths.user_routines_dir):
        raise UserFileError(f"{routine.name!r} is a built-in routine and cannot be deleted.")
    return _unlink(Path(routine.origin))


def delete_exercise(exercise_id: str, catalog: Catalog, paths: UserFolders) -> Path:
    """Delete a custom exercise's file, unless a routine still uses it."""
    exercise = catalog.exercises.get(exercise_id)
    if exercise is None:
        raise UserFileError(f"unknown exercise {exercise_id!r}")
    if not is_user_exercise(exercise, paths):
        raise UserFileError(f"{exercise.name!r} is a built-in exercise and cannot be deleted.")
    users = routines_using(exercise_id, catalog)
    if users:
        raise UserFileError(f"{exercise.name!r} is used by "
                            + ", ".join(repr(r.name) for r in users)
                            + "; remove it from those routines first.")
    return _unlink(Path(exercise.origin))


def _write(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error("create the folder for", target, exc, unchanged=False) from exc
    atomic_write_text(target, text)


def _unlink(path: Path) -> Path:
    try:
        path.unlink()
    except OSError as exc:
        raise storage_error("delete", path, exc, unchanged=False) from exc
    return path


# -- import ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    """What an import did: what was added, what was renamed, and what to tell the user."""

    file: str
    routine: Routine | None = None  # the routine as saved (None: none, or already there)
    exercises: tuple[Exercise, ...] = ()  # exercises saved
    renamed: tuple[tuple[str, str, str], ...] = ()  # (kind, id in the file, id saved as)
    messages: tuple[str, ...] = ()
    written: tuple[Path, ...] = field(default=())

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.written)


def read_limited(path: Path, limit: int = MAX_IMPORT_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (never reads more than that)."""
    name = str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise CatalogError(name, "", "is not a regular file")
        if info.st_size > limit:
            raise CatalogError(name, "", f"file is too large ({info.st_size} bytes, at most {limit})")
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise CatalogError(name, "", f"cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > limit:
        raise CatalogError(name, "", f"file is too large (more than {limit} bytes)")
    return raw


def _short(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _parse(raw: bytes, name: str) -> Table:
    return parse_toml(raw, name)  # checks the shape and the nesting too


def _check_illustrations(exercise: Exercise, table_path: str, name: str,
                         resources: Path) -> None:
    """Every position must show an illustration that the app already has."""
    folder = (resources / "illustrations").resolve()
    for i, pos in enumerate(exercise.positions):
        relative = PurePosixPath(pos.illustration)
        candidate = (resources / relative).resolve()
        if not candidate.is_relative_to(folder) or not candidate.is_file():
            prefix = f"{table_path}." if table_path else ""
            raise CatalogError(name, f"{prefix}positions[{i}].illustration",
                               f"names no illustration of the app: {pos.illustration!r} "
                               f"(choose one of the existing positions)")


def _kind(table: Table) -> str:
    data = table.data
    if any(key in data for key in ("format", "version", "routine", "exercises")):
        return "bundle"
    if any(key in data for key in ("items", "rest_between", "description")):
        return "routine"
    return "exercise"


def import_file(path: Path | str, catalog: Catalog, paths: UserFolders, *,
                resources: Path | None = None) -> ImportResult:
    """Validate a whole file, then add what it holds to the user's catalogue.

    Raises CatalogError (file, field, problem) and changes nothing if anything in the
    file is wrong; StorageError (and changes nothing) if a write fails.
    """
    try:
        return _import(Path(path), catalog, paths, resources)
    except CatalogError as exc:
        if len(exc.problem) > MAX_PROBLEM_CHARS or len(exc.field) > MAX_PROBLEM_CHARS:
            raise CatalogError(exc.file, _short(exc.field), _short(exc.problem)) from None
        raise


def _import(path: Path, catalog: Catalog, paths: UserFolders,
            resources: Path | None) -> ImportResult:
    if resources is None:
        from backcoach.resources import resources_dir

        resources = resources_dir()
    name = str(path)
    root = _parse(read_limited(path), name)
    kind = _kind(root)
    exercise_tables: list[Table] = []
    routine_table: Table | None = None
    if kind == "bundle":
        fmt = root.text("format", max_len=60)
        if fmt != BUNDLE_FORMAT:
            raise root.error("format", f"must be {BUNDLE_FORMAT!r}, not {_short(fmt, 60)!r}")
        root.integer("version", required=False, default=BUNDLE_VERSION, minimum=1,
                     maximum=BUNDLE_VERSION)
        routine_table = root.table("routine", required=False)
        exercise_tables = root.tables("exercises", required=False, min_items=0,
                                      max_items=MAX_BUNDLE_EXERCISES)
        root.finish()
        if routine_table is None and not exercise_tables:
            raise root.error("routine", "is missing: a bundle holds a routine and the "
                                        "custom exercises it uses")
    elif kind == "routine":
        routine_table = root
    else:
        exercise_tables = [root]

    # 1. Validate everything in the file, writing nothing.
    incoming: list[Exercise] = []
    seen: dict[str, str] = {}
    for table in exercise_tables:
        exercise = exercise_from_table(table)
        if exercise.id in seen:
            raise table.error("id", f"duplicate id {exercise.id!r} (also in {seen[exercise.id]})")
        seen[exercise.id] = table.path or "this file"
        _check_illustrations(exercise, table.path, name, resources)
        incoming.append(exercise)
    routine: Routine | None = None
    if routine_table is not None:
        known = {**catalog.exercises, **{ex.id: ex for ex in incoming}}
        routine = routine_from_table(routine_table, known, builtin=False)

    # 2. Decide ids: keep, reuse an identical existing exercise, or rename on a clash.
    messages: list[str] = []
    renamed: list[tuple[str, str, str]] = []
    mapping: dict[str, str] = {}
    to_write: list[Exercise] = []
    taken = taken_exercise_ids(catalog, paths) | {ex.id for ex in incoming}
    for exercise in incoming:
        existing = catalog.exercises.get(exercise.id)
        if existing is not None and same_exercise(existing, exercise):
            mapping[exercise.id] = exercise.id
            messages.append(f"The exercise {exercise.name!r} is already in your catalogue; "
                            f"the routine uses that one.")
            continue
        new_id = exercise.id
        if existing is not None or exercise.id in _file_stems(paths.user_exercises_dir):
            new_id = unique_id(exercise.id, taken)
            taken.add(new_id)
            whose = "a built-in exercise" if existing is not None and not is_user_exercise(
                existing, paths) else "one of your exercises"
            messages.append(f"The exercise id {exercise.id!r} is already used by {whose}, "
                            f"so {exercise.name!r} was imported as {new_id!r}.")
            renamed.append(("exercise", exercise.id, new_id))
        mapping[exercise.id] = new_id
        to_write.append(replace(exercise, id=new_id))

    routine_to_write: Routine | None = None
    if routine is not None:
        items = tuple(replace(item, exercise=mapping.get(item.exercise, item.exercise))
                      for item in routine.items)
        routine = replace(routine, items=items)
        existing_routine = catalog.routines.get(routine.id)
        if existing_routine is not None and same_routine(existing_routine, routine):
            messages.append(f"The routine {routine.name!r} is already in your catalogue, "
                            "unchanged; nothing was added for it.")
        else:
            new_id = routine.id
            if existing_routine is not None or routine.id in _file_stems(paths.user_routines_dir):
                new_id = unique_id(routine.id, taken_routine_ids(catalog, paths))
                whose = "a built-in routine" if existing_routine is not None and \
                    existing_routine.builtin else "one of your routines"
                messages.append(f"The routine id {routine.id!r} is already used by {whose}, "
                                f"so {routine.name!r} was imported as {new_id!r}.")
                renamed.append(("routine", routine.id, new_id))
            routine_to_write = replace(routine, id=new_id)

    # 3. Check that what will be written loads back as it is (the same validator).
    files: list[tuple[Path, str]] = []
    after = dict(catalog.exercises)
    saved_exercises: list[Exercise] = []
    for exercise in to_write:
        target = paths.user_exercises_dir / f"{exercise.id}.toml"
        text = dump_exercise(exercise)
        loaded = load_exercise_text(text, str(target))
        if not same_exercise(loaded, exercise):
            raise CatalogError(name, f"exercise {exercise.id}", _NOT_FAITHFUL)
        after[loaded.id] = loaded
        saved_exercises.append(loaded)
        files.append((target, text))
    saved_routine: Routine | None = None
    if routine_to_write is not None:
        target = paths.user_routines_dir / f"{routine_to_write.id}.toml"
        text = dump_routine(routine_to_write)
        saved_routine = load_routine_text(text, str(target), after)
        if not same_routine(saved_routine, routine_to_write):
            raise CatalogError(name, "routine", _NOT_FAITHFUL)
        files.append((target, text))

    # 4. Write, all or nothing.
    written: list[Path] = []
    try:
        for target, text in files:
            if target.exists():  # appeared since we looked: never overwrite
                raise UserFileError(f"{target} appeared while importing; nothing was imported")
            _write(target, text)
            written.append(target)
    except BaseException:
        for done in written:
            with contextlib.suppress(OSError):
                done.unlink()
        raise

    summary = []
    if saved_routine is not None:
        summary.append(f"the routine {saved_routine.name!r}")
    if saved_exercises:
        count = len(saved_exercises)
        summary.append(f"{count} exercise{'s' if count != 1 else ''}")
    head = ("Imported " + " and ".join(summary) + f" from {path.name}.") if summary else \
        f"Nothing new in {path.name}."
    return ImportResult(file=name, routine=saved_routine, exercises=tuple(saved_exercises),
                        renamed=tuple(renamed), messages=(head, *messages),
                        written=tuple(written))


# -- export ----------------------------------------------------------------------------

def custom_exercises_of(routine: Routine, catalog: Catalog,
                        builtin_root: Path | None = None) -> list[Exercise]:
    """The exercises of a routine that do not ship with the app, in order of first use."""
    out: dict[str, Exercise] = {}
    for item in routine.items:
        exercise = catalog.exercises[item.exercise]
        if item.exercise not in out and not is_builtin_exercise(exercise, builtin_root):
            out[item.exercise] = exercise
    return list(out.values())


def export_routine(routine_id: str, catalog: Catalog, path: Path | str, *,
                   builtin_root: Path | None = None) -> Path:
    """Write a bundle with the routine and the custom exercises it uses (atomically)."""
    if routine_id not in catalog.routines:
        raise UserFileError(f"unknown routine {routine_id!r}; known: "
                            + ", ".join(sorted(catalog.routines)))
    routine = catalog.routines[routine_id]
    text = dump_bundle(routine, custom_exercises_of(routine, catalog, builtin_root))
    target = Path(path)
    atomic_write_text(target, text)
    return target
