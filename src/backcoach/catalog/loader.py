"""Load and validate exercise and routine TOML files into the catalogue.

Built-in files come from the resources folder; user files (the routine editor's) from the
user data folder. A bad user file is reported and skipped: it never stops the built-in
catalogue from loading. Given the user's cache folder, the parsed tables are kept there
(`parse_cache`), so that a start with unchanged files neither imports nor runs tomllib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from backcoach.catalog.fields import CatalogError, Table
from backcoach.catalog.model import (
    FOCUSES,
    POSTURES,
    Breathing,
    Exercise,
    Level,
    LevelTiming,
    Phase,
    PhaseKind,
    Position,
    Routine,
    RoutineItem,
    Sides,
    TimingOverride,
)
from backcoach.catalog.parse_cache import ParseCache

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
MAX_FILE_BYTES = 256 * 1024
MAX_LINE_DOTS = 64  # see check_toml_shape
LEVELS = tuple(level.value for level in Level)
# The checks a table passed before it was cached: a cache made under other limits is ignored.
_CACHE_SALT = f"line-dots<={MAX_LINE_DOTS}"


def _id(table: Table, key: str = "id") -> str:
    value = table.text(key, max_len=60)
    if not ID_PATTERN.match(value):
        raise table.error(key, f"must be lowercase letters, digits and dashes, not {value!r}")
    return value


def _illustration(table: Table, key: str) -> str:
    """A relative path under illustrations/ that cannot climb out of the resources folder."""
    value = table.text(key, max_len=200)
    path = PurePosixPath(value)
    if (path.is_absolute() or "\\" in value or ":" in value or ".." in path.parts
            or not path.parts or path.parts[0] != "illustrations"):
        raise table.error(key, f"must be a path inside the resources' illustrations/ folder, "
                               f"not {value!r}")
    if path.suffix != ".svg":
        raise table.error(key, f"must name an .svg file, not {value!r}")
    return str(path)


def _read_toml(path: Path, cache: ParseCache | None = None) -> Table:
    name = str(path)
    try:
        st = path.stat()
        if st.st_size > MAX_FILE_BYTES:
            raise CatalogError(name, "", f"file is too large ({st.st_size} bytes, "
                                         f"at most {MAX_FILE_BYTES})")
        cached = cache.get(path, st) if cache is not None else None
        if cached is not None:
            return Table(cached, name)
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(name, "", f"cannot be read: {exc.strerror or exc}") from exc
    table = parse_toml(raw, name)
    if cache is not None:
        cache.put(path, st, table.data)
    return table


def check_toml_shape(text: str, name: str) -> None:
    """Refuse TOML that would take the parser minutes: keys dotted hundreds of levels deep.

    tomllib sets a dotted key in time quadratic in its depth (`a.a.a...a = 1`, 40,000 deep,
    takes 15 s; a 256 KiB file could take minutes). A key never spans lines, so a line with
    more than MAX_LINE_DOTS dots is refused; no catalogue file comes anywhere near that.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if line.count(".") > MAX_LINE_DOTS:
            raise CatalogError(name, "", f"line {number} has more than {MAX_LINE_DOTS} dots: "
                                         "keys nested that deeply are not allowed")


def parse_toml(raw: bytes, name: str) -> Table:
    """Parse TOML bytes into a Table; every way a file can be hostile becomes CatalogError."""
    import tomllib  # here, not at the top: a start served by the parse cache never needs it

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(name, "", f"is not UTF-8 text ({exc.reason})") from exc
    check_toml_shape(text, name)
    try:
        return Table(tomllib.loads(text), name)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(name, "", f"is not valid TOML: {exc}") from exc
    except RecursionError:
        raise CatalogError(name, "", "is nested too deeply to be a catalogue file") from None


def _level_timing(table: Table) -> LevelTiming:
    timing = LevelTiming(
        hold=table.number("hold", maximum=600),
        reps=table.integer("reps", required=False, default=1, maximum=50),
        sets=table.integer("sets", required=False, default=1, maximum=10),
        rep_rest=table.number("rep_rest", required=False, default=0.0, allow_zero=True,
                              maximum=300),
        set_rest=table.number("set_rest", required=False, default=0.0, allow_zero=True,
                              maximum=600),
    )
    table.finish()
    return timing


def exercise_from_table(root: Table) -> Exercise:
    """Validate one exercise table and build the Exercise."""
    ex_id = _id(root)
    positions = []
    seen_positions: set[str] = set()
    for pt in root.tables("positions", max_items=12):
        pos = Position(id=_id(pt), name=pt.text("name", max_len=80),
                       illustration=_illustration(pt, "illustration"))
        if pos.id in seen_positions:
            raise pt.error("id", f"duplicate position id {pos.id!r}")
        seen_positions.add(pos.id)
        pt.finish()
        positions.append(pos)

    phases = []
    phase_tables = root.tables("phases", required=False, max_items=12)
    for ph in phase_tables:
        kind = PhaseKind(ph.choice("kind", tuple(k.value for k in PhaseKind)))
        position = ph.text("position", max_len=60)
        if position not in seen_positions:
            raise ph.error("position", f"names no position of this exercise: {position!r} "
                                       f"(known: {', '.join(sorted(seen_positions))})")
        seconds = ph.number("seconds", required=kind is PhaseKind.MOVE, maximum=120)
        phases.append(Phase(kind=kind, position=position,
                            cue=ph.text("cue", required=False, max_len=120),
                            seconds=seconds))
        ph.finish()
    if not phases:
        # The common case: one still hold in the last listed position.
        phases = [Phase(kind=PhaseKind.HOLD, position=positions[-1].id)]

    timing_table = root.table("timing")
    timing = {}
    for level in Level:
        level_table = timing_table.table(level.value)
        timing[level] = _level_timing(level_table)
    timing_table.finish()

    breathing = None
    bt = root.table("breathing", required=False)
    if bt is not None:
        breathing = Breathing(
            inhale=bt.number("inhale", maximum=20), exhale=bt.number("exhale", maximum=20),
            hold_in=bt.number("hold_in", required=False, default=0.0, allow_zero=True,
                              maximum=20),
            hold_out=bt.number("hold_out", required=False, default=0.0, allow_zero=True,
                               maximum=20))
        bt.finish()

    cues = root.table("cues", required=False)
    switch_cue = "Switch sides"
    if cues is not None:
        switch_cue = cues.text("switch", required=False, default=switch_cue, max_len=60)
        cues.finish()

    exercise = Exercise(
        id=ex_id,
        name=root.text("name", max_len=60),
        summary=root.text("summary", max_len=300),
        setup=root.text("setup", max_len=200),
        focus=root.choice("focus", FOCUSES),
        posture=root.choice("posture", POSTURES),
        steps=root.texts("steps", max_items=12),
        positions=tuple(positions),
        phases=tuple(phases),
        sides=Sides(root.choice("sides", tuple(s.value for s in Sides))),
        alternate=root.boolean("alternate"),
        timing=timing,
        breathing=breathing,
        switch_cue=switch_cue,
        switch_gap=root.number("switch_gap", required=False, default=5.0, minimum=2.0,
                               maximum=30),
        cautions=root.texts("cautions", max_items=8),
        sources=root.texts("sources", max_items=10),
        licence=root.text("licence", required=False, default="CC-BY-SA-4.0", max_len=60),
        origin=root.file,
    )
    if exercise.alternate and exercise.sides is not Sides.EACH:
        raise root.error("alternate", "only makes sense with sides = \"each\"")
    root.finish()
    return exercise


def _override(table: Table) -> TimingOverride:
    sides = table.choice("sides", tuple(s.value for s in Sides), required=False)
    override = TimingOverride(
        hold=table.number("hold", required=False, maximum=600),
        reps=table.integer("reps", required=False, maximum=50),
        sets=table.integer("sets", required=False, maximum=10),
        rep_rest=table.number("rep_rest", required=False, allow_zero=True, maximum=300),
        set_rest=table.number("set_rest", required=False, allow_zero=True, maximum=600),
        sides=Sides(sides) if sides else None,
    )
    table.finish()
    return override


def routine_from_table(root: Table, exercises: dict[str, Exercise], *,
                       builtin: bool) -> Routine:
    """Validate one routine table against the known exercises and build the Routine."""
    items = []
    for it in root.tables("items", max_items=40):
        ex_id = it.text("exercise", max_len=60)
        if ex_id not in exercises:
            raise it.error("exercise", f"unknown exercise id {ex_id!r}")
        overrides = {}
        for level in Level:
            sub = it.table(level.value, required=False)
            if sub is not None:
                overrides[level] = _override(sub)
        it.finish()
        items.append(RoutineItem(exercise=ex_id, overrides=overrides))
    rest_table = root.table("rest_between")
    rest_between = {level: rest_table.number(level.value, allow_zero=True, maximum=600)
                    for level in Level}
    rest_table.finish()
    routine = Routine(
        id=_id(root),
        name=root.text("name", max_len=60),
        description=root.text("description", max_len=400),
        items=tuple(items),
        rest_between=rest_between,
        get_ready=root.number("get_ready", required=False, default=10.0, minimum=3.0,
                              maximum=120),
        default_level=Level(root.choice("default_level", LEVELS, required=False,
                                        default=Level.BEGINNER.value)),
        builtin=builtin,
        origin=root.file,
    )
    root.finish()
    return routine


@dataclass
class Catalog:
    """All exercises and routines that loaded, and the problems with those that did not."""

    exercises: dict[str, Exercise] = field(default_factory=dict)
    routines: dict[str, Routine] = field(default_factory=dict)
    problems: list[CatalogError] = field(default_factory=list)

    def routine(self, routine_id: str) -> Routine:
        """The routine with this id; KeyError lists the known ones."""
        try:
            return self.routines[routine_id]
        except KeyError:
            raise KeyError(f"unknown routine {routine_id!r}; known: "
                           + ", ".join(sorted(self.routines))) from None


def _check_pictures(exercise: Exercise, pictures_root: Path) -> None:
    """Every position names an illustration that the app really has."""
    for i, pos in enumerate(exercise.positions):
        if not (pictures_root / pos.illustration).is_file():
            raise CatalogError(exercise.origin, f"positions[{i}].illustration",
                               f"names an illustration the app does not have: "
                               f"{pos.illustration!r}")


def _load_dir(folder: Path, catalog: Catalog, kind: str, builtin: bool,
              pictures_root: Path, cache: ParseCache | None) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.toml")):
        try:
            table = _read_toml(path, cache)
            if kind == "exercise":
                item = exercise_from_table(table)
                _check_pictures(item, pictures_root)
                known: dict = catalog.exercises
            else:
                item = routine_from_table(table, catalog.exercises, builtin=builtin)
                known = catalog.routines
            if item.id in known:
                raise CatalogError(str(path), "id", f"duplicate id {item.id!r}, already used "
                                                    f"by {known[item.id].origin}")
            known[item.id] = item
        except CatalogError as exc:
            catalog.problems.append(exc)


def load_catalog(builtin_root: Path, user_roots: tuple[Path, ...] = (),
                 cache_dir: Path | None = None) -> Catalog:
    """Load built-in exercises and routines, then the user's; collect every problem.

    With `cache_dir`, parsed tables are read from and saved to the cache there (see
    `parse_cache`); without it (tools, tests) every file is parsed.
    """
    cache = ParseCache.in_folder(cache_dir, _CACHE_SALT) if cache_dir is not None else None
    catalog = Catalog()
    roots = [(builtin_root, True), *((root, False) for root in user_roots)]
    for root, builtin in roots:
        _load_dir(root / "exercises", catalog, "exercise", builtin, builtin_root, cache)
    for root, builtin in roots:
        _load_dir(root / "routines", catalog, "routine", builtin, builtin_root, cache)
    if cache is not None:
        cache.save()
    return catalog


def load_builtin_catalog(user_roots: tuple[Path, ...] = (),
                         cache_dir: Path | None = None) -> Catalog:
    """The catalogue from the app's own resources (plus optional user folders)."""
    from backcoach.resources import resources_dir

    return load_catalog(resources_dir(), user_roots, cache_dir)
