"""Settings load forgivingly, save atomically, survive corruption and migrate from v1."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backcoach.session.plan import CueKind
from backcoach.store import atomic, settings
from backcoach.store.atomic import StorageError
from backcoach.store.settings import (
    CUE_KINDS,
    CURRENT_VERSION,
    LEVELS,
    THEMES,
    CueToggles,
    Settings,
    SettingsFormatError,
    VoiceSettings,
    WindowState,
    load_settings,
    save_settings,
    settings_from_dict,
    settings_to_dict,
)

CUSTOM = Settings(
    voice=VoiceSettings(enabled=False, cues=CueToggles(breathe=False, caution=False),
                        voice_id="en-gb", rate=190, volume=0.5, breathe_every=4),
    default_level="advanced", get_ready_seconds=15, switch_gap_seconds=8, theme="dark",
    first_run_notice_seen=True, weekly_goal_days=5,
    window=WindowState(geometry="AdnQywADAAA=", fullscreen=True), last_routine="morning-back")

V1_FILE = {
    "version": 1,
    "voice_enabled": False,
    "voice": {"rate": 180, "volume": 0.8, "cues": {"breathe": False}},
    "theme": "auto",
    "default_level": "intermediate",
    "weekly_goal_days": 4,
    "last_routine": "desk-reset",
}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


def _write(path: Path, content: str | bytes | dict[str, Any]) -> bytes:
    data = (json.dumps(content) if isinstance(content, dict) else content)
    raw = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return raw


def _current(**values: Any) -> dict[str, Any]:
    return {"version": CURRENT_VERSION, **values}


def test_missing_file_gives_defaults_quietly(path: Path) -> None:
    """No settings file yet: defaults, no problem, no backup, nothing created."""
    result = load_settings(path)
    assert result.settings == Settings()
    assert (result.problem, result.backup, result.migrated_from) == (None, None, None)
    assert not path.exists()


def test_defaults_match_the_design(path: Path) -> None:
    """The defaults are the documented ones (10 s get ready, 5 s switch, 160 wpm ...)."""
    s = Settings()
    assert (s.get_ready_seconds, s.switch_gap_seconds, s.default_level, s.theme) == (
        10, 5, "beginner", "system")
    assert (s.voice.rate, s.voice.volume, s.voice.breathe_every, s.voice.voice_id) == (
        160, 1.0, 3, "")
    assert (s.weekly_goal_days, s.first_run_notice_seen, s.last_routine) == (3, False, "")
    assert s.window == WindowState("", False)
    assert all(getattr(s.voice.cues, kind) for kind in CUE_KINDS)


def test_save_then_load_round_trips(path: Path) -> None:
    """What is saved is what is loaded, with the current version in the file."""
    save_settings(path, CUSTOM)
    assert json.loads(path.read_text())["version"] == CURRENT_VERSION
    result = load_settings(path)
    assert result.settings == CUSTOM
    assert result.problem is None
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]


def test_failed_save_keeps_the_previous_file(path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk during save raises StorageError and leaves the old settings readable."""
    save_settings(path, CUSTOM)
    before = path.read_bytes()
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    with pytest.raises(StorageError, match="Free some space"):
        save_settings(path, Settings())
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_settings(path).settings == CUSTOM


_settings_strategy = st.builds(
    Settings,
    voice=st.builds(
        VoiceSettings, enabled=st.booleans(),
        cues=st.builds(CueToggles, **{k: st.booleans() for k in CUE_KINDS}),
        voice_id=st.text(max_size=50), rate=st.integers(80, 400),
        volume=st.floats(0.0, 1.0), breathe_every=st.integers(1, 20)),
    default_level=st.sampled_from(LEVELS), get_ready_seconds=st.integers(3, 120),
    switch_gap_seconds=st.integers(2, 60), theme=st.sampled_from(THEMES),
    first_run_notice_seen=st.booleans(), weekly_goal_days=st.integers(1, 7),
    window=st.builds(WindowState, geometry=st.binary(max_size=60).map(
        lambda b: __import__("base64").b64encode(b).decode()), fullscreen=st.booleans()),
    last_routine=st.text(max_size=60))


@given(_settings_strategy)
def test_dict_round_trip_is_lossless(value: Settings) -> None:
    """settings_from_dict(settings_to_dict(s)) == s for any valid settings, via JSON too."""
    problems: list[str] = []
    data = json.loads(json.dumps(settings_to_dict(value)))
    assert settings_from_dict(data, problems=problems) == value
    assert problems == []


@pytest.mark.parametrize(("content", "words"), [
    (b"{not json", "is not valid JSON"),
    (b"\xff\xfe\x00garbage", "is not valid JSON"),
    (b"", "is not valid JSON"),
    ('["a", "list"]', "not a list"),
    ({"theme": "dark"}, "has no version number"),
    ({"version": "2"}, "invalid version number"),
    ({"version": True}, "invalid version number"),
    ({"version": 0}, "invalid version number"),
    ({"version": 99, "theme": "dark"}, "newer BackCoach"),
    (_current(voice="loud"), 'the "voice" section should hold a table'),
    (_current(voice={"cues": [1, 2]}), 'the "voice.cues" section'),
])
def test_corrupt_file_is_moved_aside_and_defaults_used(path: Path, content: Any,
                                                       words: str) -> None:
    """An unusable file is renamed to .bak, defaults are used, and the message says where."""
    raw = _write(path, content)
    result = load_settings(path)
    assert result.settings == Settings()
    assert result.backup == path.with_name("settings.json.bak")
    assert result.backup.read_bytes() == raw
    assert not path.exists()
    assert result.problem is not None
    assert words in result.problem
    assert str(path) in result.problem and str(result.backup) in result.problem
    assert "default settings are used" in result.problem


def test_second_corrupt_file_does_not_overwrite_the_first_backup(path: Path) -> None:
    """Each corrupt file gets its own backup name."""
    _write(path, "first")
    _write(path.with_name("settings.json.bak"), "older")
    assert load_settings(path).backup == path.with_name("settings.json.bak.1")
    assert path.with_name("settings.json.bak").read_text() == "older"


def test_out_of_range_values_fall_back_one_by_one(path: Path) -> None:
    """Bad values reset only themselves; the rest is kept and the problem lists each."""
    _write(path, _current(
        voice={"rate": 5000, "volume": 0.25, "breathe_every": 0, "voice_id": "en"},
        theme="purple", weekly_goal_days=9, get_ready_seconds=20, default_level="expert",
        window={"geometry": "@@not base64@@", "fullscreen": True}))
    result = load_settings(path)
    s = result.settings
    assert (s.voice.rate, s.voice.breathe_every, s.theme) == (160, 3, "system")
    assert (s.weekly_goal_days, s.default_level, s.window.geometry) == (3, "beginner", "")
    assert (s.voice.volume, s.voice.voice_id, s.get_ready_seconds) == (0.25, "en", 20)
    assert s.window.fullscreen is True
    assert result.backup is None and path.exists()
    problem = result.problem or ""
    for key in ("voice.rate", "voice.breathe_every", "theme", "weekly_goal_days",
                "default_level", "window.geometry"):
        assert key in problem
    assert "voice.volume" not in problem
    assert "5000" in problem and "80 to 400" in problem


@pytest.mark.parametrize(("key", "value"), [
    ("weekly_goal_days", True),        # a bool is not a number, although Python says so
    ("first_run_notice_seen", 1),      # and a number is not a bool
    ("weekly_goal_days", 3.5),
    ("last_routine", 7),
    ("theme", None),
])
def test_a_value_of_the_wrong_type_falls_back_alone(path: Path, key: str, value: Any) -> None:
    """A leaf of the wrong type resets that key only (the file is not thrown away)."""
    _write(path, _current(**{key: value}, switch_gap_seconds=9))
    result = load_settings(path)
    assert getattr(result.settings, key) == getattr(Settings(), key)
    assert result.settings.switch_gap_seconds == 9
    assert result.problem is not None and key in result.problem
    assert result.backup is None


def test_not_a_number_volume_falls_back(path: Path) -> None:
    """NaN (which Python's JSON accepts) is out of range, not a volume."""
    _write(path, '{"version": 2, "voice": {"volume": NaN}}')
    result = load_settings(path)
    assert result.settings.voice.volume == 1.0
    assert "voice.volume" in (result.problem or "")


def test_integer_volume_is_accepted_as_a_float(path: Path) -> None:
    """A volume written as 0 or 1 is a valid number and comes back as a float."""
    _write(path, _current(voice={"volume": 0}))
    result = load_settings(path)
    assert result.settings.voice.volume == 0.0
    assert isinstance(result.settings.voice.volume, float)
    assert result.problem is None


def test_unknown_keys_are_ignored(path: Path) -> None:
    """Keys we do not know (from a newer minor release, or typos) are ignored quietly."""
    _write(path, _current(theme="light", shiny_new_option=1, voice={"accent": "scots"}))
    result = load_settings(path)
    assert result.settings.theme == "light"
    assert result.problem is None


def test_unreadable_file_is_left_alone(path: Path) -> None:
    """A settings path we cannot read (here a folder) is reported but not moved aside."""
    path.mkdir(parents=True)
    result = load_settings(path)
    assert result.settings == Settings()
    assert result.backup is None and path.is_dir()
    assert "Could not read" in (result.problem or "")


def test_migration_from_version_1(path: Path) -> None:
    """A v1 file is backed up, upgraded to v2 on disk, and every value is kept."""
    raw = _write(path, V1_FILE)
    result = load_settings(path)
    s = result.settings
    assert result.problem is None
    assert result.migrated_from == 1
    assert s.voice.enabled is False                      # was top-level voice_enabled
    assert s.theme == "system"                           # was "auto"
    assert (s.voice.rate, s.voice.volume, s.voice.cues.breathe) == (180, 0.8, False)
    assert (s.default_level, s.weekly_goal_days, s.last_routine) == (
        "intermediate", 4, "desk-reset")
    assert result.backup == path.with_name("settings.json.v1.bak")
    assert result.backup.read_bytes() == raw
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == 2 and "voice_enabled" not in on_disk
    again = load_settings(path)
    assert (again.settings, again.migrated_from, again.backup) == (s, None, None)


def test_migration_keeps_a_named_theme(path: Path) -> None:
    """Only "auto" is renamed; a v1 "dark" theme stays dark and voice stays on by default."""
    _write(path, {"version": 1, "theme": "dark"})
    result = load_settings(path)
    assert (result.settings.theme, result.settings.voice.enabled) == ("dark", True)


def test_failing_migration_keeps_the_original(path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration that raises leaves the file untouched, keeps a copy and uses defaults."""
    raw = _write(path, V1_FILE)

    def broken(data: dict[str, Any]) -> dict[str, Any]:
        data["theme"] = "half-migrated"
        raise KeyError("something the migration did not expect")

    monkeypatch.setattr(settings, "MIGRATIONS", [broken])
    result = load_settings(path)
    assert result.settings == Settings()
    assert path.read_bytes() == raw
    assert result.backup is not None and result.backup.read_bytes() == raw
    problem = result.problem or ""
    assert "Could not upgrade" in problem and "from version 1" in problem
    assert "left as it is" in problem and str(result.backup) in problem


def test_v1_file_the_real_migration_cannot_handle_is_kept(path: Path) -> None:
    """The real v1->v2 step refuses a v1 file whose voice is not a table; file kept."""
    raw = _write(path, {"version": 1, "voice_enabled": True, "voice": "loud"})
    result = load_settings(path)
    assert result.settings == Settings()
    assert path.read_bytes() == raw
    assert "Could not upgrade" in (result.problem or "")


def test_migration_without_a_backup_does_not_rewrite_the_file(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the backup copy cannot be written, the old file is not replaced (but is used)."""
    raw = _write(path, V1_FILE)

    def no_backup(*args: object, **kwargs: object) -> Path:
        raise StorageError("Could not save the backup: the disk is full.")

    monkeypatch.setattr(settings, "copy_aside", no_backup)
    result = load_settings(path)
    assert result.settings.theme == "system" and result.settings.voice.enabled is False
    assert path.read_bytes() == raw
    assert f"No backup of {path}" in (result.problem or "")


def test_settings_from_dict_rejects_a_non_table() -> None:
    """settings_from_dict raises SettingsFormatError for data that is not a table."""
    with pytest.raises(SettingsFormatError):
        settings_from_dict([])  # type: ignore[arg-type]


def test_every_session_cue_kind_has_a_toggle() -> None:
    """Each CueKind the planner emits maps to a voice toggle (breathe in/out share one)."""
    voice = VoiceSettings(cues=CueToggles(breathe=False, halfway=False))
    spoken = {kind.value: voice.cue_enabled(kind.value) for kind in CueKind}
    assert spoken["breathe_in"] is spoken["breathe_out"] is spoken["halfway"] is False
    assert spoken["countdown"] is True
    muted = dataclasses.replace(voice, enabled=False)
    assert not any(muted.cue_enabled(kind.value) for kind in CueKind)
    with pytest.raises(ValueError, match="unknown cue kind"):
        voice.cue_enabled("sing")
