"""Over 1,000 generated malformed or hostile files are each rejected by import, naming the
field (or the file), and never change a byte of the user's folders."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backcoach.catalog.fields import CatalogError
from backcoach.catalog.loader import ID_PATTERN, Catalog, load_catalog
from backcoach.catalog.user_files import (
    BUNDLE_FORMAT,
    MAX_IMPORT_BYTES,
    MAX_PROBLEM_CHARS,
    import_file,
    load_exercise_text,
    load_routine_text,
    save_exercise,
    save_routine,
    to_toml,
)
from backcoach.resources import resources_dir
from backcoach.store.paths import AppPaths

BUILTIN = resources_dir()
PWNED = "/tmp/backcoach-fuzz-was-executed"
PAYLOAD = f"__import__('os').system('touch {PWNED}')"

EXERCISE: dict[str, Any] = {
    "id": "fuzz-ex",
    "name": "Fuzz stretch",
    "summary": "A stretch used to test imports.",
    "setup": "Lie on your back.",
    "focus": "stretch",
    "posture": "lying",
    "sides": "each",
    "switch_gap": 6,
    "steps": ["Lie down.", "Draw one knee in.", "Hold, then lower."],
    "cautions": ["Stop if it hurts."],
    "sources": ["Test data"],
    "positions": [
        {"id": "flat", "name": "On the back, knees bent",
         "illustration": "illustrations/knee-to-chest-flat.svg"},
        {"id": "in", "name": "On the back, one knee in",
         "illustration": "illustrations/knee-to-chest-knee-in.svg"},
    ],
    "phases": [
        {"kind": "move", "position": "in", "cue": "Knee in", "seconds": 3},
        {"kind": "hold", "position": "in"},
        {"kind": "move", "position": "flat", "seconds": 3},
    ],
    "breathing": {"inhale": 4, "exhale": 4, "hold_in": 1},
    "cues": {"switch": "Other leg"},
    "timing": {"beginner": {"hold": 20, "reps": 2, "rep_rest": 5},
               "intermediate": {"hold": 30, "reps": 2, "sets": 2, "set_rest": 10},
               "advanced": {"hold": 40, "reps": 3}},
}
SECOND: dict[str, Any] = {
    "id": "fuzz-two", "name": "Fuzz hold", "summary": "A hold.", "setup": "Kneel.",
    "focus": "strength", "posture": "kneeling", "sides": "both",
    "steps": ["Kneel.", "Hold.", "Rest."], "cautions": ["Ease off if it hurts."],
    "sources": ["Test data"],
    "positions": [{"id": "kneel", "name": "Kneeling", "illustration":
                   "illustrations/cat-cow-all-fours.svg"}],
    "timing": {lv: {"hold": 10} for lv in ("beginner", "intermediate", "advanced")},
}
ROUTINE: dict[str, Any] = {
    "id": "fuzz-routine", "name": "Fuzz routine", "description": "For tests.",
    "default_level": "beginner", "get_ready": 10,
    "rest_between": {"beginner": 15, "intermediate": 10, "advanced": 10},
    "items": [
        {"exercise": "fuzz-ex", "advanced": {"hold": 45, "sides": "both"}},
        {"exercise": "cat-cow"},
        {"exercise": "fuzz-two", "beginner": {"reps": 2, "rep_rest": 0}},
    ],
}
BUNDLE: dict[str, Any] = {"format": BUNDLE_FORMAT, "version": 1, "routine": ROUTINE,
                          "exercises": [EXERCISE, SECOND]}
PLAIN_ROUTINE: dict[str, Any] = copy.deepcopy(ROUTINE) | {
    "items": [{"exercise": "cat-cow"}, {"exercise": "bird-dog", "beginner": {"hold": 5}}]}


def _clashing(table: dict[str, Any]) -> dict[str, Any]:
    """The same file with ids that clash with built-ins (valid on its own: it would be renamed)."""
    text = tomli_w.dumps(table).replace('"fuzz-ex"', '"cat-cow"').replace(
        '"fuzz-routine"', '"core-strength"').replace('"fuzz-two"', '"bird-dog"')
    return tomllib.loads(text)


BASES = [BUNDLE, EXERCISE, PLAIN_ROUTINE, _clashing(BUNDLE)]


@dataclass
class World:
    """A user folder with a routine and an exercise of its own, and the catalogue over it."""

    paths: AppPaths
    catalog: Catalog
    inbox: Path
    before: dict[str, bytes]


def _snapshot(paths: AppPaths) -> dict[str, bytes]:
    out = {}
    for folder in (paths.user_exercises_dir, paths.user_routines_dir):
        for path in sorted(folder.rglob("*")):
            out[str(path.relative_to(paths.data_dir))] = path.read_bytes() if path.is_file() else b"/"
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Real files in a temporary folder; the user already has one exercise and one routine."""
    root = tmp_path_factory.mktemp("fuzz")
    paths = AppPaths.under(root / "home").ensure()
    catalog = load_catalog(BUILTIN, (paths.data_dir,))
    mine = load_exercise_text(to_toml(EXERCISE | {"id": "my-own"}), "mine")
    save_exercise(mine, catalog, paths)
    catalog = load_catalog(BUILTIN, (paths.data_dir,))
    routine = load_routine_text(to_toml(PLAIN_ROUTINE | {"id": "my-routine",
                                                         "items": [{"exercise": "my-own"}]}),
                                "mine", catalog.exercises)
    save_routine(routine, catalog, paths)
    catalog = load_catalog(BUILTIN, (paths.data_dir,))
    assert catalog.problems == []
    inbox = root / "inbox"
    inbox.mkdir()
    # The base files are valid: every failure below is the mutation's doing.
    for n, base in enumerate(BASES):
        path = inbox / f"base{n}.toml"
        path.write_text(tomli_w.dumps(base), encoding="utf-8")
        other = AppPaths.under(root / f"check{n}").ensure()
        assert import_file(path, load_catalog(BUILTIN, (other.data_dir,)), other).changed
    return World(paths, catalog, inbox, _snapshot(paths))


# -- generating hostile files ----------------------------------------------------------

Path_ = tuple[str | int, ...]


def _field(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _leaves(value: Any, path: Path_ = ()) -> list[tuple[Path_, Any]]:
    """Every value in the table with its path (tables and lists included)."""
    out: list[tuple[Path_, Any]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            out.append(((*path, key), sub))
            out.extend(_leaves(sub, (*path, key)))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, sub in enumerate(value):
            out.extend(_leaves(sub, (*path, i)))
    return out


def _tables(value: Any, path: Path_ = ()) -> list[Path_]:
    """Paths of every table (where an unknown key can be slipped in)."""
    out = [path] if isinstance(value, dict) else []
    for sub_path, sub in _leaves(value, path):
        if isinstance(sub, dict):
            out.append(sub_path)
    return out


def _set(table: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    table = copy.deepcopy(table)
    node: Any = table
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return table


def _get(table: dict[str, Any], path: Path_) -> Any:
    node: Any = table
    for part in path:
        node = node[part]
    return node


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
scalars_not_text = st.one_of(st.integers(-10**6, 10**6), st.booleans(),
                             st.floats(allow_nan=True), st.datetimes(),
                             st.dates(), st.times())
not_text = st.one_of(scalars_not_text, st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2))
not_number = st.one_of(texts, st.booleans(), st.datetimes(), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.sampled_from("abc"), st.integers(), max_size=2))
not_bool = st.one_of(texts, st.integers(), st.floats(allow_nan=False))
not_table = st.one_of(texts, st.integers(), st.booleans(), st.lists(st.integers(), max_size=3))
not_text_list = st.one_of(texts, st.integers(), st.dictionaries(st.sampled_from("ab"), texts,
                                                                max_size=2),
                          st.lists(scalars_not_text, min_size=1, max_size=3))
not_table_list = st.one_of(texts, st.integers(), st.dictionaries(st.sampled_from("ab"),
                                                                 st.integers(), max_size=2),
                           st.lists(st.integers(), min_size=1, max_size=3))


def _wrong_for(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, bool):
        return not_bool
    if isinstance(value, str):
        return not_text
    if isinstance(value, int | float):
        return not_number
    if isinstance(value, dict):
        return not_table
    if value and all(isinstance(v, dict) for v in value):
        return not_table_list
    return not_text_list


@dataclass(frozen=True)
class Case:
    """A hostile file and what the rejection must name."""

    content: bytes
    field: str | None  # the field the error must name (prefix); "" for the file; None: any
    kind: str


def _encode(table: dict[str, Any]) -> bytes:
    return tomli_w.dumps(table).encode("utf-8")


@st.composite
def wrong_type(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from(BASES))
    path, value = draw(st.sampled_from(_leaves(base)))
    bad = draw(_wrong_for(value))
    return Case(_encode(_set(base, path, bad)), _field(path), "wrong type")


@st.composite
def unknown_key(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from(BASES))
    path = draw(st.sampled_from(_tables(base)))
    key = "zz_" + draw(st.from_regex(r"[a-z_]{0,9}", fullmatch=True))
    value = draw(st.one_of(texts, st.integers(), st.booleans()))
    table = _get(base, path) if path else base
    mutated = _set(base, path, table | {key: value}) if path else base | {key: value}
    return Case(_encode(mutated), _field((*path, key)), "unknown key")


NUMERIC = [(p, v) for base in BASES for p, v in _leaves(base)
           if isinstance(v, int | float) and not isinstance(v, bool)]


@st.composite
def out_of_range(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from(BASES))
    path, _ = draw(st.sampled_from([(p, v) for p, v in _leaves(base)
                                    if isinstance(v, int | float) and not isinstance(v, bool)]))
    bad = draw(st.one_of(st.integers(-10**9, -1), st.integers(10**5, 2**62),
                         st.floats(max_value=-1e-9), st.floats(min_value=1e5),
                         st.sampled_from([float("nan"), float("inf"), float("-inf")])))
    return Case(_encode(_set(base, path, bad)), _field(path), "out of range")


HOSTILE_PATHS = ["../../../../etc/passwd", "/etc/shadow.svg", "illustrations/../../../x.svg",
                 "illustrations/../routines/core-strength.toml", "C:\\Windows\\x.svg",
                 "illustrations\\..\\..\\x.svg", "\\\\server\\share\\x.svg", "file:///etc/x.svg",
                 "illustrations/", "illustrations", "illustrations/x.svg\x00.png",
                 "~/x.svg", "illustrations/knee-to-chest-flat.SVG", "exercises/cat-cow.toml",
                 "illustrations/knee-to-chest-flat.svg/..", PAYLOAD]


@st.composite
def bad_illustration(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from([b for b in BASES if b is not PLAIN_ROUTINE]))
    paths = [p for p, _ in _leaves(base) if p[-1] == "illustration"]
    path = draw(st.sampled_from(paths))
    name = draw(st.from_regex(r"[a-z0-9./-]{1,20}", fullmatch=True))
    bad = draw(st.one_of(st.sampled_from(HOSTILE_PATHS),
                         st.builds(lambda n, k: "../" * k + n, st.just(name), st.integers(1, 6)),
                         st.just(f"illustrations/zz-{name}.svg"),
                         st.just(f"/{name}"), st.just(f"illustrations/../{name}")))
    return Case(_encode(_set(base, path, bad)), _field(path), "illustration")


@st.composite
def bad_id(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from(BASES))
    paths = [p for p, _ in _leaves(base) if p[-1] == "id"]
    path = draw(st.sampled_from(paths))
    bad = draw(st.one_of(texts, st.sampled_from(["../evil", "a/b", "A", "", " ", "x" * 61,
                                                 "-dash", "évite", "a b", "con\x00", PAYLOAD]))
               .filter(lambda s: not ID_PATTERN.match(s.strip()) or len(s.strip()) > 60))
    return Case(_encode(_set(base, path, bad)), _field(path), "bad id")


@st.composite
def wrong_reference(draw: st.DrawFn) -> Case:
    base = draw(st.sampled_from([BUNDLE, PLAIN_ROUTINE, _clashing(BUNDLE)]))
    routine_path: Path_ = ("routine",) if "routine" in base else ()
    items = _get(base, (*routine_path, "items"))
    i = draw(st.integers(0, len(items) - 1))
    name = "zz-" + draw(st.from_regex(r"[a-z0-9-]{0,20}", fullmatch=True))
    path = (*routine_path, "items", i, "exercise")
    return Case(_encode(_set(base, path, name)), _field(path), "unknown exercise")


@st.composite
def too_many(draw: st.DrawFn) -> Case:
    choice = draw(st.sampled_from(["items", "steps", "exercises", "positions"]))
    n = draw(st.integers(41, 400))
    if choice == "items":
        path: Path_ = ("routine", "items")
        table = _set(BUNDLE, path, [{"exercise": "cat-cow"}] * n)
    elif choice == "steps":
        path = ("exercises", 0, "steps")
        table = _set(BUNDLE, path, ["Step."] * (n // 3))
    elif choice == "exercises":
        path = ("exercises",)
        table = _set(BUNDLE, path, [EXERCISE] * min(n, 150))
    else:
        path = ("exercises", 1, "positions")
        table = _set(BUNDLE, path, [SECOND["positions"][0]] * (n // 3))
    return Case(_encode(table), _field(path), "too many")


@st.composite
def duplicate_ids(draw: st.DrawFn) -> Case:
    which = draw(st.sampled_from(["exercise", "position"]))
    if which == "exercise":
        table = _set(BUNDLE, ("exercises",), [EXERCISE, SECOND, SECOND])
        return Case(_encode(table), "exercises[2].id", "duplicate id")
    table = _set(BUNDLE, ("exercises", 0, "positions", 1, "id"), "flat")
    return Case(_encode(table), "exercises[0].positions[1].id", "duplicate id")


@st.composite
def not_utf8(draw: st.DrawFn) -> Case:
    raw = _encode(draw(st.sampled_from(BASES)))
    at = draw(st.integers(0, len(raw)))
    junk = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80",
                                 b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]))
    return Case(raw[:at] + junk + raw[at:], "", "not UTF-8")


@st.composite
def broken_syntax(draw: st.DrawFn) -> Case:
    raw = _encode(draw(st.sampled_from(BASES)))
    at = draw(st.integers(0, len(raw)))
    junk = draw(st.sampled_from([b"\n[[", b"\n= 3\n", b'\nname = "unclosed', b"\n[a]\n[a]\n",
                                 b"\nid = 1\nid = 2\n", b"\n\x00\n", b"\nx = [1,,2]\n",
                                 b"\nx = {a = 1,}\n", b"\n'''"]))
    return Case(raw[:at] + junk + raw[at:], None, "broken syntax")


@st.composite
def nesting_bomb(draw: st.DrawFn) -> Case:
    depth = draw(st.integers(1, 60_000))
    shape = draw(st.sampled_from(["array", "inline", "dotted", "header", "inline-dotted"]))
    if shape == "array":
        body = "zz = " + "[" * depth + "]" * depth
    elif shape == "inline":
        body = "zz = " + "{a = " * depth + "1" + "}" * depth
    elif shape == "dotted":
        body = "zz." + ".".join(["a"] * min(depth, 40_000)) + " = 1"
    elif shape == "header":
        body = "[zz." + ".".join(["a"] * min(depth, 40_000)) + "]"
    else:
        body = "zz = {" + ".".join(["a"] * min(depth, 40_000)) + " = 1}"
    raw = (_encode(BUNDLE).decode() + "\n" + body + "\n").encode()
    if len(raw) > MAX_IMPORT_BYTES:
        return Case(raw, "", "size")
    # Parsed: "zz" is an unknown key of the bundle; too deep: the file is refused.
    return Case(raw, None, "nesting")


@st.composite
def huge(draw: st.DrawFn) -> Case:
    raw = _encode(draw(st.sampled_from(BASES)))
    extra = MAX_IMPORT_BYTES - len(raw) + draw(st.integers(1, 4096))
    filler = draw(st.sampled_from([b"#", b" ", b"\n"]))
    return Case(raw + b"\n#" + filler * extra, "", "too large")


@st.composite
def long_values(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from([("exercises", 0, "name"), ("routine", "name"),
                                 ("exercises", 1, "focus"), ("routine", "description"),
                                 ("exercises", 0, "positions", 0, "name")]))
    n = draw(st.integers(401, 80_000))
    return Case(_encode(_set(BUNDLE, path, draw(st.sampled_from("xé€")) * n)),
                _field(path), "long value")


hostile = st.one_of(wrong_type(), unknown_key(), out_of_range(), bad_illustration(), bad_id(),
                    wrong_reference(), too_many(), duplicate_ids(), not_utf8(), broken_syntax(),
                    nesting_bomb(), huge(), long_values())

FUZZ = settings(max_examples=1000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])


def _reject(world: World, content: bytes, name: str = "incoming.toml") -> CatalogError:
    path = world.inbox / name
    path.write_bytes(content)
    with pytest.raises(CatalogError) as caught:
        import_file(path, world.catalog, world.paths)
    exc = caught.value
    assert exc.file == str(path)
    message = str(exc)
    assert message.startswith(str(path))
    assert len(exc.problem) <= MAX_PROBLEM_CHARS and len(exc.field) <= MAX_PROBLEM_CHARS
    if exc.field:
        assert f": {exc.field}: " in message
    assert _snapshot(world.paths) == world.before
    return exc


@FUZZ
@given(case=hostile)
def test_hostile_files_are_rejected_and_change_nothing(world: World, case: Case) -> None:
    """Every mutation of a valid file is refused, naming the field it broke."""
    exc = _reject(world, case.content)
    if case.field is not None:
        assert exc.field.startswith(case.field), (case.kind, exc.field, case.field, exc.problem)
    assert not Path(PWNED).exists()


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=600),
                         st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_random_bytes_are_rejected_and_change_nothing(world: World, content: bytes) -> None:
    """Random bytes and text never crash the import, never write anything."""
    _reject(world, content)


def test_folders_unchanged_at_the_end(world: World) -> None:
    """After all of the above, the user's folders are exactly as they were."""
    assert _snapshot(world.paths) == world.before
    assert sorted(world.catalog.routines) == sorted(
        load_catalog(BUILTIN, (world.paths.data_dir,)).routines)
