"""Typed reading of parsed TOML tables, with errors that name the file and the field.

Every accessor records which keys were read, so that `finish()` can reject unknown keys
(a typo such as `hodl = 30` must not silently fall back to a default).
"""

from __future__ import annotations

import math
from typing import Any


class CatalogError(ValueError):
    """A problem in an exercise or routine file: which file, which field, what is wrong."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        where = f"{file}: {field}: " if field else f"{file}: "
        super().__init__(where + problem)


_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list", dict: "a table"}


class Table:
    """A TOML table being read, remembering its location for messages."""

    def __init__(self, data: Any, file: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise CatalogError(file, path, f"must be a table, not {_describe(data)}")
        self.data: dict[str, Any] = data
        self.file = file
        self.path = path
        self._used: set[str] = set()

    def field(self, key: str) -> str:
        """The dotted name of `key` inside this table, as shown in messages."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str) -> CatalogError:
        """Build an error about `key` of this table."""
        return CatalogError(self.file, self.field(key), problem)

    def has(self, key: str) -> bool:
        """Whether the key is present (and mark it as known)."""
        self._used.add(key)
        return key in self.data

    def _get(self, key: str, required: bool) -> Any:
        self._used.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "is missing")
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = True, default: str = "",
             max_len: int = 2000) -> str:
        """A non-empty string."""
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(key, f"must be text, not {_describe(value)}")
        if not value.strip():
            raise self.error(key, "must not be empty")
        if len(value) > max_len:
            raise self.error(key, f"is too long ({len(value)} characters, at most {max_len})")
        return value.strip()

    def number(self, key: str, *, required: bool = True, default: float | None = None,
               minimum: float = 0.0, allow_zero: bool = False, maximum: float = 3600.0
               ) -> float | None:
        """A finite number of seconds, positive (or zero when allowed)."""
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, not {_describe(value)}")
        if not math.isfinite(value):
            raise self.error(key, "must be a finite number")
        if value < minimum or (value == 0 and not allow_zero):
            bound = "zero or more" if allow_zero else "more than zero"
            raise self.error(key, f"must be {bound}, not {value}")
        if value > maximum:
            raise self.error(key, f"must be at most {maximum:g}, not {value}")
        return float(value)

    def integer(self, key: str, *, required: bool = True, default: int | None = None,
                minimum: int = 1, maximum: int = 100) -> int | None:
        """A whole number within bounds."""
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_describe(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"must be between {minimum} and {maximum}, not {value}")
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        """true or false."""
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_describe(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...] | list[str], *,
               required: bool = True, default: str | None = None) -> str | None:
        """One of a fixed set of words."""
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def texts(self, key: str, *, required: bool = True, min_items: int = 1,
              max_items: int = 50) -> tuple[str, ...]:
        """A list of non-empty strings."""
        value = self._get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be a list of text, not {_describe(value)}")
        if not min_items <= len(value) <= max_items:
            raise self.error(key, f"must have {min_items} to {max_items} entries, "
                                  f"not {len(value)}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise CatalogError(self.file, f"{self.field(key)}[{i}]",
                                   f"must be non-empty text, not {_describe(item)}")
            out.append(item.strip())
        return tuple(out)

    def table(self, key: str, *, required: bool = True) -> Table | None:
        """A nested table."""
        value = self._get(key, required)
        if value is None:
            return None
        return Table(value, self.file, self.field(key))

    def tables(self, key: str, *, required: bool = True, min_items: int = 1,
               max_items: int = 100) -> list[Table]:
        """An array of tables."""
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list of tables, not {_describe(value)}")
        if not min_items <= len(value) <= max_items:
            raise self.error(key, f"must have {min_items} to {max_items} entries, "
                                  f"not {len(value)}")
        return [Table(item, self.file, f"{self.field(key)}[{i}]") for i, item in enumerate(value)]

    def finish(self) -> None:
        """Reject keys that no accessor asked for: they are typos or unsupported."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise self.error(unknown[0], "is not a known field"
                             + (f" (known here: {', '.join(sorted(self._used))})"
                                if self._used else ""))


def _describe(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return f"{name} ({value!r})" if kind in (str, int, float, bool) else name
    return type(value).__name__
