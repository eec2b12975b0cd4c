"""Profiles for a laptop shared at home (no Qt): each person their own settings and history.

A single user never sees the idea. The default profile *is* the existing settings file
and history database, so nothing moves when profiles arrive. Extra profiles live in
`<data>/profiles/<id>/` with their own `settings.json` and `history.sqlite3`, so a
profile's level, voice and history are just that profile's settings and history files.
The list of profiles (ids, names) and which one is active are in `<config>/profiles.json`;
with no such file there is one profile, the default. The kiosk mode of a gym PC always uses
the default profile and keeps no history at all.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backcoach.store.atomic import StorageError, atomic_write_text, move_aside, storage_error
from backcoach.store.paths import HISTORY_DB, SETTINGS_FILE, AppPaths
from backcoach.store.settings import LEVELS, Settings, load_settings, save_settings

log = logging.getLogger(__name__)

INDEX_FILE = "profiles.json"
PROFILES_DIR = "profiles"
DEFAULT_ID = "default"
DEFAULT_NAME = "Main"
MAX_NAME = 40
VERSION = 1


@dataclass(frozen=True)
class Profile:
    """One person's settings file and history database."""

    id: str
    name: str
    settings_file: Path
    history_db: Path

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_ID


def name_problem(name: str, taken: list[str]) -> str | None:
    """Why `name` cannot name a new profile, or None."""
    clean = " ".join(name.split())
    if not clean:
        return "Give the profile a name."
    if len(clean) > MAX_NAME:
        return f"A profile name has at most {MAX_NAME} characters."
    if clean.casefold() in (t.casefold() for t in taken):
        return f"There is already a profile called {clean}."
    return None


class ProfileStore:
    """The profiles of this BackCoach home; every change is saved at once (atomically)."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        self.index_path = paths.config_dir / INDEX_FILE
        self.problem: str | None = None
        self._names: dict[str, str] = {DEFAULT_ID: DEFAULT_NAME}
        self._active = DEFAULT_ID
        self._load()

    # ------------------------------------------------------------ file

    def _load(self) -> None:
        try:
            raw = self.index_path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.problem = f"Could not read the profiles list {self.index_path} ({exc.strerror})."
            return
        try:
            data = json.loads(raw.decode("utf-8"))
            names = {DEFAULT_ID: DEFAULT_NAME}
            for entry in data["profiles"]:
                pid, name = str(entry["id"]), str(entry["name"])[:MAX_NAME]
                if pid == DEFAULT_ID or _safe_id(pid):
                    names[pid] = name or DEFAULT_NAME
            active = str(data.get("active", DEFAULT_ID))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            try:
                backup = move_aside(self.index_path)
                where = f"it was moved to {backup}"
            except StorageError as move_exc:
                where = f"it could not be moved aside ({move_exc})"
            self.problem = (f"The profiles list {self.index_path} was damaged ({exc}); {where}. "
                            f"Each profile's files are still in {self._root()}.")
            return
        self._names = names
        self._active = active if active in names else DEFAULT_ID

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": VERSION, "active": self._active,
            "profiles": [{"id": pid, "name": name} for pid, name in self._names.items()]}
        try:
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error("save", self.index_path, exc) from exc
        atomic_write_text(self.index_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def _root(self) -> Path:
        return self.paths.data_dir / PROFILES_DIR

    # ------------------------------------------------------------ reading

    def get(self, profile_id: str) -> Profile:
        """The profile with this id (KeyError if there is none)."""
        name = self._names[profile_id]
        if profile_id == DEFAULT_ID:
            return Profile(DEFAULT_ID, name, self.paths.settings_file, self.paths.history_db)
        folder = self._root() / profile_id
        return Profile(profile_id, name, folder / SETTINGS_FILE, folder / HISTORY_DB)

    @property
    def default(self) -> Profile:
        return self.get(DEFAULT_ID)

    def profiles(self) -> list[Profile]:
        """Every profile, the default first, then by name."""
        others = sorted((pid for pid in self._names if pid != DEFAULT_ID),
                        key=lambda pid: self._names[pid].casefold())
        return [self.get(pid) for pid in (DEFAULT_ID, *others)]

    @property
    def several(self) -> bool:
        """Whether there is more than one profile (only then is a switcher shown)."""
        return len(self._names) > 1

    def active(self) -> Profile:
        """The profile in use."""
        return self.get(self._active)

    # ------------------------------------------------------------ changing

    def set_active(self, profile_id: str) -> Profile:
        """Use this profile from now on (remembered); raises KeyError or StorageError."""
        profile = self.get(profile_id)
        if profile_id != self._active:
            self._active = profile_id
            self._save()
        return profile

    def create(self, name: str, level: str = "beginner", *,
               base: Settings | None = None) -> Profile:
        """A new profile with its own folder; `base` gives its first voice settings."""
        why = name_problem(name, list(self._names.values()))
        if why:
            raise ValueError(why)
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}")
        pid = "p-" + os.urandom(4).hex()
        self._names[pid] = " ".join(name.split())
        profile = self.get(pid)
        settings = Settings(default_level=level)
        if base is not None:
            settings = replace(settings, voice=base.voice, theme=base.theme)
        try:
            save_settings(profile.settings_file, settings)
            self._save()
        except StorageError:
            del self._names[pid]
            shutil.rmtree(profile.settings_file.parent, ignore_errors=True)
            raise
        log.info("profile %s created", pid)
        return profile

    def rename(self, profile_id: str, name: str) -> Profile:
        """Give a profile a new name."""
        taken = [n for pid, n in self._names.items() if pid != profile_id]
        why = name_problem(name, taken)
        if why:
            raise ValueError(why)
        old = self._names[profile_id]
        self._names[profile_id] = " ".join(name.split())
        try:
            self._save()
        except StorageError:
            self._names[profile_id] = old
            raise
        return self.get(profile_id)

    def delete(self, profile_id: str) -> None:
        """Remove a profile with its settings and history (never the default one)."""
        if profile_id == DEFAULT_ID:
            raise ValueError("The main profile cannot be deleted.")
        profile = self.get(profile_id)
        name = self._names.pop(profile_id)
        was_active = self._active == profile_id
        if was_active:
            self._active = DEFAULT_ID
        try:
            self._save()
        except StorageError:
            self._names[profile_id] = name
            if was_active:
                self._active = profile_id
            raise
        folder = profile.settings_file.parent
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("profile folder %s not removed: %s", folder, exc)

    def level_of(self, profile: Profile) -> str:
        """The profile's chosen level (from its settings file)."""
        return load_settings(profile.settings_file).settings.default_level


def _safe_id(pid: str) -> bool:
    return pid.startswith("p-") and len(pid) <= 40 and all(c.isalnum() or c == "-" for c in pid)
