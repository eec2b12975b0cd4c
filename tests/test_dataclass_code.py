"""Kept dataclass code: the second start compiles nothing, behaves the same, and bad files cost nothing."""

from __future__ import annotations

import dataclasses
import json
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

from backcoach.dataclass_code import DataclassCode

# A fresh process defines dataclasses of every kind under DataclassCode (as app.run does)
# and reports how many texts it compiled and how the classes behave.
PROBE = """
import dataclasses, json, sys
from pathlib import Path
from backcoach.dataclass_code import DataclassCode
code = DataclassCode(Path(sys.argv[1])).install()

@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int = 2
    tags: tuple = dataclasses.field(default_factory=tuple)

@dataclasses.dataclass(order=True)
class Mutable:
    a: float
    b: list = dataclasses.field(default_factory=list, compare=False, repr=False)

@dataclasses.dataclass(slots=True, kw_only=True)
class Slotted:
    name: str
    count: int = 0

import backcoach.catalog.model, backcoach.session.plan, backcoach.store.settings
code.uninstall()
p = Point(1)
try:
    p.x = 5
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
behaviour = [repr(p), p == Point(1, 2), hash(p) == hash(Point(1)), frozen,
             repr(Mutable(1.5, [1])), Mutable(1.0) < Mutable(2.0), Mutable(1.0, [1]) == Mutable(1.0),
             repr(Slotted(name="a")), Slotted.__slots__, p.__init__.__code__.co_filename]
saved = code.save()
print(json.dumps({"compiled": code.compiled, "used": len(code.used), "saved": saved,
                  "behaviour": behaviour, "hook_left": hasattr(dataclasses, "exec")}))
"""


def _start(file: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(file)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_start_compiles_nothing_and_classes_behave_the_same(tmp_path: Path) -> None:
    """The first start compiles and saves every method; the second compiles none, same behaviour."""
    file = tmp_path / "cache" / "dataclass-code.marshal"
    first = _start(file)
    assert first["compiled"] == first["used"] > 40 and first["saved"] is True
    second = _start(file)
    assert second["compiled"] == 0 and second["used"] == first["used"]
    assert second["saved"] is False  # nothing changed: no write
    assert second["behaviour"] == first["behaviour"]
    assert second["behaviour"][:8] == ["Point(x=1, y=2, tags=())", True, True, True,
                                       "Mutable(a=1.5)", True, True,
                                       "Slotted(name='a', count=0)"]
    assert not second["hook_left"]


def test_the_file_keeps_only_the_texts_this_start_used(tmp_path: Path) -> None:
    """Texts from an older version of a class are dropped at the next save."""
    file = tmp_path / "code.marshal"
    _start(file)
    header, table = marshal.loads(file.read_bytes())
    table["def __create_fn__():\n def stale(): pass\n return stale"] = compile("1", "<s>", "exec")
    file.write_bytes(marshal.dumps((header, table)))
    again = _start(file)
    assert again["compiled"] == 0 and again["saved"] is True
    assert len(marshal.loads(file.read_bytes())[1]) == again["used"]


@pytest.mark.parametrize("content", [b"", b"not marshal at all", marshal.dumps((1, 2)),
                                     marshal.dumps(((0, "other-python", 0, 0), {})),
                                     marshal.dumps(("bad header", {"text": "not code"}))])
def test_a_corrupt_or_foreign_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    """Garbage, another Python's file or a table of non-code: compiled as usual, then rewritten."""
    file = tmp_path / "code.marshal"
    file.write_bytes(content)
    got = _start(file)
    assert got["compiled"] == got["used"] > 0 and got["saved"] is True
    assert _start(file)["compiled"] == 0


def test_a_table_of_non_code_with_the_right_header_is_refused(tmp_path: Path) -> None:
    """Right header but a value that is not code: the whole file is ignored, nothing is run."""
    from backcoach.dataclass_code import _header

    file = tmp_path / "code.marshal"
    file.write_bytes(marshal.dumps((_header(), {"x = 1": "print('never')"})))
    assert DataclassCode(file).known == {}


def _define_probe(code: DataclassCode) -> type:
    """A one-field dataclass defined while `code` is installed."""
    code.install()
    try:
        @dataclasses.dataclass
        class Probe:
            a: int

    finally:
        code.uninstall()
    return Probe


def test_an_unwritable_cache_folder_only_costs_the_compile(tmp_path: Path) -> None:
    """Saving where a file stands in for the folder fails quietly; the classes still work."""
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder")
    code = DataclassCode(blocker / "code.marshal")
    probe = _define_probe(code)
    assert probe(3) == probe(3) and code.compiled > 0
    assert code.save() is False
    assert not hasattr(dataclasses, "exec")


def test_uninstall_leaves_another_hook_alone(tmp_path: Path) -> None:
    """A second DataclassCode does not take over, and does not remove the first one's hook."""
    first = DataclassCode(tmp_path / "a").install()
    second = DataclassCode(tmp_path / "b").install()
    try:
        assert dataclasses.exec == first.exec and not second.installed
        second.uninstall()
        assert dataclasses.exec == first.exec
    finally:
        first.uninstall()
    assert not hasattr(dataclasses, "exec")


def test_save_and_forget_writes_then_lets_go_of_the_texts(tmp_path: Path) -> None:
    """After the save the object holds no texts (run()'s frame keeps it for the app's life)."""
    code = DataclassCode(tmp_path / "code.marshal")
    probe = _define_probe(code)
    code.save_and_forget()
    assert code.known == {} and code.used == {}
    assert len(marshal.loads((tmp_path / "code.marshal").read_bytes())[1]) > 0
    assert probe(1) == probe(1)
