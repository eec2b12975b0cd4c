"""Where BackCoach keeps its files: one place to ask, so nothing else guesses paths.

Order of precedence: an explicit home (the CLI's `--home DIR`), then the `BACKCOACH_HOME`
environment variable (tests always set it), then the system's user folders from
platformdirs. A home folder gets `config/`, `data/`, `cache/` and `logs/` inside it.
Resolving never creates anything (so `backcoach --help` touches no disk); `ensure()` does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from backcoach.store.atomic import storage_error

ENV_HOME = "BACKCOACH_HOME"
# Windows and macOS show folder names to users, so they get the proper name; XDG folders
# on Linux and BSD are conventionally lowercase.
APP_NAME = "BackCoach" if sys.platform in ("win32", "darwin") else "backcoach"

SETTINGS_FILE = "settings.json"
HISTORY_DB = "history.sqlite3"


@dataclass(frozen=True)
class AppPaths:
    """The four base folders; everything else is derived from them."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def under(cls, home: Path) -> AppPaths:
        """The layout used for an explicit home folder."""
        return cls(config_dir=home / "config", data_dir=home / "data",
                   cache_dir=home / "cache", log_dir=home / "logs")

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    @property
    def history_db(self) -> Path:
        return self.data_dir / HISTORY_DB

    @property
    def user_exercises_dir(self) -> Path:
        return self.data_dir / "exercises"

    @property
    def user_routines_dir(self) -> Path:
        return self.data_dir / "routines"

    def ensure(self) -> AppPaths:
        """Create every folder that is missing; a StorageError says which one failed."""
        for folder in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir,
                       self.user_exercises_dir, self.user_routines_dir):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise storage_error("create the folder", folder, exc,
                                    folder=_nearest_existing(folder), unchanged=False) from exc
        return self


def resolve_paths(home: Path | str | None = None, *,
                  environ: Mapping[str, str] | None = None) -> AppPaths:
    """The folders to use, from `home`, else $BACKCOACH_HOME, else the system defaults."""
    environ = os.environ if environ is None else environ
    if home is None or str(home) == "":
        home = environ.get(ENV_HOME) or None
    if home is not None:
        return AppPaths.under(Path(home).expanduser().absolute())
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def _nearest_existing(folder: Path) -> Path:
    """The deepest existing ancestor: the folder the user must make writable."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return folder
