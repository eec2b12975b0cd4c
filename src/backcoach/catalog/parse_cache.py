"""A cache of parsed catalogue TOML tables, so that start-up neither imports nor runs tomllib.

Parsing the ~21 catalogue files (and importing tomllib) sits on the start-up path before the
window can show; reading one small JSON file is cheaper. Only the parse is cached: the loader
still validates every table (and checks its pictures) on each start, so a bad file keeps giving
the same clear problem.

An entry is served only while its file's (mtime_ns, ctime_ns, size, inode) are unchanged. The
change time catches an mtime set back (`touch -d`, `cp -p`), the inode a file replaced by a
rename, as the routine editor does. A file changed again within the file system's timestamp
granularity could keep all four, so a file whose times are within RACY_NS of the moment the
cache was opened is not stored ("racy git"): it is parsed again next time, when it is old enough.

The cache is a convenience, never a source of truth: a missing, corrupt, foreign or unwritable
cache file is logged and ignored, and the catalogue files are then parsed as if it were not
there. It is written (atomically) only when what it should hold changed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_FILE = "catalog-tables.json"
# Bump when the layout below changes, or when what reaches the cache changes meaning.
FORMAT = 1
# More than the coarsest common mtime granularity (FAT's 2 s), so a later edit always moves it.
RACY_NS = 3_000_000_000
MAX_DEPTH = 32  # catalogue tables nest three or four levels; deeper is not worth caching

Key = list[int]


def stat_key(st: os.stat_result) -> Key:
    """What must be unchanged for a cached table to stand for the file's current content."""
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]


def plain(value: Any) -> bool:
    """Whether `value` survives a JSON round trip exactly: no datetimes, NaN or None.

    tomllib makes dicts with text keys, lists, text, bool, int, float and date/time values;
    only the last kind (and non-finite floats) would come back from JSON changed or not at
    all. The same check refuses a cache entry edited into something TOML cannot produce.
    Iterative, with leaves checked inline: it runs on every cache hit (about 0.1 ms for the
    catalogue; a recursive version took 0.2 ms).
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict:
            if any(type(key) is not str for key in item):
                return False
            children = item.values()
        elif type(item) is list:
            children = item
        else:
            return _plain_leaf(item)  # only the top value can get here
        if depth >= MAX_DEPTH:
            return False
        for child in children:
            kind = type(child)
            if kind is str or kind is int or kind is bool:
                continue
            if kind is float:
                if not math.isfinite(child):
                    return False
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))
            else:
                return False
    return True


def _plain_leaf(value: Any) -> bool:
    kind = type(value)
    return kind is str or kind is int or kind is bool or (kind is float and math.isfinite(value))


class ParseCache:
    """Parsed tables of one catalogue load, read from and saved to one JSON file.

    `salt` names the parse rules the tables passed (the loader's limits); a cache written
    under other rules, another cache format or another Python (its tomllib) is ignored.
    """

    def __init__(self, file: Path, salt: str = "") -> None:
        self.file = Path(file)
        self.header = {"format": FORMAT, "python": list(sys.version_info[:2]), "salt": salt}
        self.opened_ns = time.time_ns()  # before any file is looked at, see RACY_NS
        self._old: dict[str, Any] = {}
        self._new: dict[str, Any] = {}
        self._dirty = False
        self._read()

    @classmethod
    def in_folder(cls, folder: Path, salt: str = "") -> ParseCache:
        """The cache kept in the user's cache folder."""
        return cls(Path(folder) / CACHE_FILE, salt)

    def _read(self) -> None:
        try:
            raw = self.file.read_bytes()
        except FileNotFoundError:
            log.debug("no catalogue cache at %s yet", self.file)
            return
        except OSError as exc:
            log.info("catalogue cache %s cannot be read, parsing the files: %s", self.file, exc)
            return
        try:
            doc = json.loads(raw)
            ok = (type(doc) is dict and {k: doc.get(k) for k in self.header} == self.header
                  and type(doc.get("entries")) is dict)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            log.info("catalogue cache %s is damaged, parsing the files: %s", self.file, exc)
            self._dirty = True
            return
        if not ok:
            log.info("catalogue cache %s is from another version, parsing the files", self.file)
            self._dirty = True
            return
        self._old = doc["entries"]

    def get(self, path: Path, st: os.stat_result) -> dict[str, Any] | None:
        """The table parsed from `path` when it was exactly as `st` says, else None."""
        name = os.path.abspath(path)
        entry = self._old.get(name)
        if entry is None:
            return None
        if type(entry) is not dict or type(entry.get("table")) is not dict:
            log.debug("catalogue cache entry for %s is malformed", name)
            return None
        if entry.get("stat") != stat_key(st):
            return None  # the file changed since it was cached
        if not plain(entry["table"]):
            log.debug("catalogue cache entry for %s holds values TOML cannot make", name)
            return None
        self._new[name] = entry
        return entry["table"]

    def put(self, path: Path, st: os.stat_result, table: dict[str, Any]) -> None:
        """Remember the table just parsed from `path` (read when it was as `st` says).

        Not kept: tables JSON would change (TOML datetimes) and files too recently changed
        to be told apart from a later edit by their times (see RACY_NS).
        """
        if self.opened_ns - max(st.st_mtime_ns, st.st_ctime_ns) < RACY_NS:
            log.debug("not caching %s: changed in the last seconds", path)
            return
        if not plain(table):
            log.debug("not caching %s: it holds values JSON cannot carry", path)
            return
        self._new[os.path.abspath(path)] = {"stat": stat_key(st), "table": table}
        self._dirty = True

    @property
    def changed(self) -> bool:
        """Whether the file on disk differs from what this load would keep."""
        return self._dirty or self._new.keys() != self._old.keys()

    def save(self) -> bool:
        """Write the entries this load used, if anything changed; never raises.

        Entries of files that were not looked up (deleted, or failed to parse) are dropped.
        Returns whether the file was written.
        """
        if not self.changed:
            return False
        from backcoach.store.atomic import atomic_write_bytes

        try:
            data = json.dumps({**self.header, "entries": self._new}, ensure_ascii=False,
                              separators=(",", ":"), allow_nan=False).encode("utf-8")
            self.file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.file, data)
        except (OSError, ValueError, RecursionError) as exc:
            log.info("could not save the catalogue cache %s (start-up just parses the "
                     "files): %s", self.file, exc)
            return False
        self._old, self._dirty = dict(self._new), False
        return True
