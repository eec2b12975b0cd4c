"""The code of our dataclasses' generated methods, kept between starts.

When a dataclass is defined, Python writes its `__init__`, `__repr__`, `__eq__` (and, for
frozen ones, `__setattr__`, `__delattr__`, `__hash__`) as source text and compiles it: on
Python 3.11, one compile per method. The 27 dataclasses the home screen needs make about
150 of them, some 12 ms of every start, more than a tenth of what BackCoach spends beyond a
bare Qt window. Each text depends only on its class's fields and options, so the code
compiled from it can be kept, as Python keeps a module's bytecode in `__pycache__`.

While a `DataclassCode` is installed, the dataclasses module's calls to `exec` (a module
global put in front of the builtin) take the code compiled from the same text last time.
A text not in the file is compiled as Python would (the dataclasses module has no
`__future__` flags to inherit). `save` then writes exactly the texts this start used, so
the file never grows with old ones.

The file is a convenience, never a source of truth: it carries the interpreter's version
and optimisation level and is ignored when they differ; a missing, corrupt or unwritable
file is logged and ignored, and the methods are compiled as usual. It lives in the user's
own cache folder and holds only code Python compiled from its own text, like `__pycache__`.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import marshal
import sys
from pathlib import Path
from types import CodeType

log = logging.getLogger(__name__)

CACHE_FILE = "dataclass-code.marshal"
FORMAT = 1


def _header() -> tuple:
    """What must match for the kept code to be what this interpreter would compile."""
    return (FORMAT, sys.implementation.cache_tag, sys.hexversion, sys.flags.optimize)


class DataclassCode:
    """Compiled dataclass methods for one start: read from `file`, saved back to it."""

    def __init__(self, file: Path) -> None:
        self.file = Path(file)
        self.known: dict[str, CodeType] = self._read()
        self.used: dict[str, CodeType] = {}
        self.compiled = 0  # texts this start had to compile
        self.installed = False

    def _read(self) -> dict[str, CodeType]:
        try:
            data = self.file.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            log.info("could not read %s (compiling as usual): %s", self.file, exc)
            return {}
        try:
            header, table = marshal.loads(data)
            if header != _header() or type(table) is not dict:
                raise ValueError("made by another Python")
            if not all(type(k) is str and type(v) is CodeType for k, v in table.items()):
                raise ValueError("not a table of code")
        except (ValueError, TypeError, EOFError) as exc:
            log.info("ignoring %s (compiling as usual): %s", self.file, exc)
            return {}
        return table

    def exec(self, source: str | CodeType, globals: dict | None = None,
             locals: dict | None = None, /) -> None:
        """`exec` as the dataclasses module calls it, with the code kept for `source`."""
        if type(source) is str:
            code = self.known.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            self.used[source] = code
            source = code
        return builtins.exec(source, globals, locals)

    def install(self) -> DataclassCode:
        """Serve the dataclasses defined from now on (until `uninstall`)."""
        if getattr(dataclasses, "exec", None) is None:
            dataclasses.exec = self.exec
            self.installed = True
        return self

    def uninstall(self) -> None:
        """Let the dataclasses module compile for itself again."""
        if self.installed and getattr(dataclasses, "exec", None) == self.exec:
            del dataclasses.exec
        self.installed = False

    @property
    def changed(self) -> bool:
        """Whether the file would hold other texts than this start used."""
        return self.used.keys() != self.known.keys()

    def save(self) -> bool:
        """Write the texts this start used, if they differ from the file's; never raises.
        Returns whether the file was written."""
        if not self.used or not self.changed:
            return False
        from backcoach.store.atomic import atomic_write_bytes

        try:
            data = marshal.dumps((_header(), self.used))
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.file, data)
        except (OSError, ValueError) as exc:
            log.info("could not save %s (the next start compiles as usual): %s",
                     self.file, exc)
            return False
        self.known = dict(self.used)
        return True

    def save_and_forget(self) -> None:
        """`save`, then let go of the texts: the classes keep the code they use."""
        self.save()
        self.known, self.used = {}, {}
