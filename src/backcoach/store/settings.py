"""User settings: a versioned JSON file, written atomically, that never stops the app.

Reading is forgiving: a missing file gives the defaults; a value of the wrong type or out
of range falls back to its default alone; unknown keys are ignored (a newer minor release
may have added them). A file we cannot make sense of at all (bad JSON, a section that is
not a table, no version or a version from the future) is moved aside as `.bak` and the
defaults are used. In every case `LoadResult.problem` tells the user, in plain words, what
happened and where their old file is.

Old files are upgraded by `MIGRATIONS` (version N -> N+1 each), after a backup copy of the
original is written. If a migration fails, the original file is left as it was and the
defaults are used for this run.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from backcoach.store.atomic import (
    StorageError,
    atomic_write_text,
    copy_aside,
    move_aside,
    storage_error,
)

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark", "high-contrast")
LEVELS = ("beginner", "intermediate", "advanced")
# One toggle per kind of voice cue; "breathe" covers both "breathe in" and "breathe out".
CUE_KINDS = ("announce", "caution", "get_ready", "countdown", "switch", "breathe", "halfway",
             "rest", "next", "well_done", "phase")
_CUE_ALIASES = {"breathe_in": "breathe", "breathe_out": "breathe"}


def _base64(value: str) -> str | None:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "is not base64 text"
    return None


def _opt(default: Any, *, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None, max_len: int | None = None,
         check: Callable[[Any], str | None] | None = None) -> Any:
    """A settings field with the limits `settings_from_dict` enforces."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "max_len": max_len, "check": check}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class CueToggles:
    """Which kinds of voice cue are spoken."""

    announce: bool = True
    caution: bool = True
    get_ready: bool = True
    countdown: bool = True
    switch: bool = True
    breathe: bool = True
    halfway: bool = True
    rest: bool = True
    next: bool = True
    well_done: bool = True
    phase: bool = True


@dataclass(frozen=True)
class VoiceSettings:
    """The voice coach. `voice_id` "" means the speech engine's default voice.

    `breathe_every`: breath cues are spoken on the first two breathing cycles of a hold,
    then on every Nth cycle only, so the coach does not chant for a whole minute.
    """

    enabled: bool = True
    cues: CueToggles = field(default_factory=CueToggles)
    voice_id: str = _opt("", max_len=500)
    rate: int = _opt(160, lo=80, hi=400)  # words per minute
    volume: float = _opt(1.0, lo=0.0, hi=1.0)
    breathe_every: int = _opt(3, lo=1, hi=20)

    def cue_enabled(self, kind: str) -> bool:
        """Whether a cue of this kind (a session CueKind value) should be spoken."""
        name = _CUE_ALIASES.get(kind, kind)
        if name not in CUE_KINDS:
            raise ValueError(f"unknown cue kind {kind!r}")
        return self.enabled and bool(getattr(self.cues, name))


@dataclass(frozen=True)
class WindowState:
    """Where the main window was: `geometry` is QWidget.saveGeometry() as base64 text."""

    geometry: str = _opt("", max_len=20_000, check=_base64)
    fullscreen: bool = False


@dataclass(frozen=True)
class Settings:
    """Every option the app has. Change one with `dataclasses.replace`."""

    voice: VoiceSettings = field(default_factory=VoiceSettings)
    default_level: str = _opt("beginner", choices=LEVELS)
    get_ready_seconds: int = _opt(10, lo=3, hi=120)
    switch_gap_seconds: int = _opt(5, lo=2, hi=60)
    theme: str = _opt("system", choices=THEMES)
    first_run_notice_seen: bool = False
    weekly_goal_days: int = _opt(3, lo=1, hi=7)
    window: WindowState = field(default_factory=WindowState)
    last_routine: str = _opt("", max_len=200)


# ---------------------------------------------------------------- dict round trip

class SettingsFormatError(ValueError):
    """The data is not shaped like settings at all (as opposed to one bad value)."""


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    """The JSON-ready form, with the current `version` first."""
    return {"version": CURRENT_VERSION, **_section_to_dict(settings)}


def _section_to_dict(section: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(section):
        value = getattr(section, f.name)
        out[f.name] = _section_to_dict(value) if is_dataclass(value) else value
    return out


def settings_from_dict(data: Mapping[str, Any], *,
                       problems: list[str] | None = None) -> Settings:
    """Build Settings from a (current-version) dict; the `version` key is not checked here.

    Missing keys get their default, unknown keys are ignored, and a bad value falls back
    to its default, with a line appended to `problems` if given. Raises
    SettingsFormatError if the data or one of its sections is not a table at all.
    """
    notes = problems if problems is not None else []
    return _parse_section(Settings, data, "", notes)


def _parse_section(cls: type, data: Any, where: str, notes: list[str]) -> Any:
    if not isinstance(data, Mapping):
        what = f'the "{where}" section' if where else "the file"
        raise SettingsFormatError(f"{what} should hold a table of settings, "
                                  f"not {_describe(data)}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        name = f"{where}.{f.name}" if where else f.name
        default = _default_of(f)
        raw = data[f.name]
        if is_dataclass(default):
            values[f.name] = _parse_section(type(default), raw, name, notes)
            continue
        why = _why_invalid(raw, default, f.metadata)
        if why is None:
            values[f.name] = float(raw) if isinstance(default, float) else raw
        else:
            notes.append(f"{name} {why}, so the default {_show(default)} is used")
    return cls(**values)


def _default_of(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


_KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _why_invalid(raw: Any, default: Any, meta: Mapping[str, Any]) -> str | None:
    kind = type(default)
    if kind is bool:
        ok = isinstance(raw, bool)
    elif kind is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool)
    elif kind is float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    else:
        ok = isinstance(raw, kind)
    if not ok:
        return f"was {_show(raw)}, which is not {_KIND_WORDS[kind]}"
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None and not lo <= raw <= hi:  # also rejects NaN
        return f"was {_show(raw)}, outside the allowed {_show(lo)} to {_show(hi)}"
    choices = meta.get("choices")
    if choices and raw not in choices:
        return f"was {_show(raw)}, not one of {', '.join(choices)}"
    max_len = meta.get("max_len")
    if max_len is not None and len(raw) > max_len:
        return f"was longer than {max_len} characters"
    check = meta.get("check")
    return check(raw) if check is not None else None


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, bool | int | float | str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(value: Any) -> str:
    return {list: "a list", str: "text", bool: "true or false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


# ---------------------------------------------------------------- migrations

def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept `voice_enabled` at the top level and called the system theme "auto"."""
    voice = data.setdefault("voice", {})
    if not isinstance(voice, dict):
        raise SettingsFormatError(f'"voice" was {_describe(voice)}, not a table')
    if "voice_enabled" in data:
        voice["enabled"] = data.pop("voice_enabled")
    if data.get("theme") == "auto":
        data["theme"] = "system"
    return data


# MIGRATIONS[i] turns a version i+1 dict into a version i+2 dict.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [_v1_to_v2]
CURRENT_VERSION = len(MIGRATIONS) + 1


# ---------------------------------------------------------------- load and save

@dataclass(frozen=True)
class LoadResult:
    """What `load_settings` found.

    `problem` is a message for the user (None if all was well); `backup` is where a copy
    of their old file now lives (moved aside if corrupt, copied before a migration);
    `migrated_from` is the version we upgraded from, if any.
    """

    settings: Settings
    problem: str | None = None
    backup: Path | None = None
    migrated_from: int | None = None


def load_settings(path: Path) -> LoadResult:
    """Read the settings file; never raises for a bad or unreadable file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadResult(Settings())
    except OSError as exc:
        # Not corrupt, just unreadable (permissions, I/O error): leave it where it is.
        return LoadResult(Settings(), f"Could not read the settings file {path} "
                                      f"({exc.strerror or exc}). The default settings are "
                                      f"used for now; the file was left as it is.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return _corrupt(path, f"is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _corrupt(path, f"should hold a table of settings, not {_describe(data)}")
    if "version" not in data:
        return _corrupt(path, "has no version number")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return _corrupt(path, f"has an invalid version number ({_show(version)})")
    if version > CURRENT_VERSION:
        return _corrupt(path, f"was written by a newer BackCoach (settings version {version}; "
                              f"this one understands up to {CURRENT_VERSION})")

    notes: list[str] = []
    backup: Path | None = None
    migrated_from: int | None = None
    if version < CURRENT_VERSION:
        try:
            backup = copy_aside(path, raw, tag=f"v{version}.bak")
        except StorageError as exc:
            notes.append(f"no backup of {path} could be made ({exc}), so the file was not "
                         f"upgraded on disk; your settings are used as they are")
        try:
            data = _migrate(copy.deepcopy(data), version)
        except Exception as exc:  # a bug or odd data in an old file must not stop the app
            log.exception("settings migration from version %s failed", version)
            kept = f"; a copy is at {backup}" if backup else ""
            return LoadResult(Settings(), f"Could not upgrade the settings in {path} from "
                                          f"version {version} ({exc}). The file was left as "
                                          f"it is{kept}. The default settings are used.",
                              backup)
        migrated_from = version

    fixes: list[str] = []
    try:
        settings = settings_from_dict(data, problems=fixes)
    except SettingsFormatError as exc:
        return _corrupt(path, f"is not usable: {exc}")
    if migrated_from is not None and backup is not None:
        try:
            save_settings(path, settings)
        except StorageError as exc:
            notes.append(f"the upgraded settings could not be saved ({exc})")
    if fixes:
        notes.insert(0, f"Some settings in {path} were not valid: " + "; ".join(fixes) + ".")
    problem = " ".join(_sentence(n) for n in notes) if notes else None
    return LoadResult(settings, problem, backup, migrated_from)


def _sentence(note: str) -> str:
    note = note[0].upper() + note[1:]
    return note if note.endswith(".") else note + "."


def _migrate(data: dict[str, Any], version: int) -> dict[str, Any]:
    for step in MIGRATIONS[version - 1:]:
        data = step(data)
        version += 1
        data["version"] = version
    return data


def _corrupt(path: Path, why: str) -> LoadResult:
    """Move an unusable file aside and fall back to the defaults, saying so."""
    try:
        backup = move_aside(path)
    except StorageError as exc:
        return LoadResult(Settings(), f"The settings file {path} {why}. It could not be moved "
                                      f"aside ({exc}). The default settings are used, and "
                                      f"saving your settings will replace that file.")
    return LoadResult(Settings(), f"The settings file {path} {why}. It was moved to {backup} "
                                  f"and the default settings are used.", backup)


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings atomically (creating the folder); raises StorageError."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error("save", path, exc) from exc
    text = json.dumps(settings_to_dict(settings), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)
