"""Profiles for a laptop shared at home: each person their own settings and history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from tests.helpers.clock import FakeClock

from backcoach.app import AppParts, build_app
from backcoach.catalog.model import Level
from backcoach.store.history import History
from backcoach.store.paths import AppPaths, resolve_paths
from backcoach.store.profiles import DEFAULT_ID, ProfileStore, name_problem
from backcoach.store.settings import Settings, load_settings, save_settings
from backcoach.store.staff import StaffStore
from backcoach.ui.profiles_dialogs import NewProfileDialog, ProfilesDialog

DEFAULT = "lower-back-for-runners"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home")


def test_one_user_has_one_default_profile_on_the_existing_files(paths: AppPaths) -> None:
    """With no profiles file there is one profile, using the usual settings and history."""
    store = ProfileStore(paths)
    assert [p.id for p in store.profiles()] == [DEFAULT_ID]
    assert not store.several
    active = store.active()
    assert active.settings_file == paths.settings_file and active.history_db == paths.history_db
    assert not store.index_path.exists()


def test_extra_profiles_have_their_own_folder(paths: AppPaths) -> None:
    """Extra profiles get their own folder and settings; listed, activated, renamed, deleted."""
    store = ProfileStore(paths)
    sam = store.create("  Sam  ", "advanced", base=Settings(theme="dark"))
    assert sam.name == "Sam" and sam.settings_file.parent == paths.data_dir / "profiles" / sam.id
    saved = load_settings(sam.settings_file).settings
    assert saved.default_level == "advanced" and saved.theme == "dark"
    assert store.several and [p.name for p in store.profiles()] == ["Main", "Sam"]
    store.set_active(sam.id)
    again = ProfileStore(paths)
    assert again.active().id == sam.id
    again.rename(sam.id, "Samira")
    assert ProfileStore(paths).get(sam.id).name == "Samira"
    again.delete(sam.id)
    assert not sam.settings_file.parent.exists()
    assert ProfileStore(paths).active().id == DEFAULT_ID
    with pytest.raises(ValueError):
        again.delete(DEFAULT_ID)


def test_profile_names_are_checked(paths: AppPaths) -> None:
    """Names are required, at most 40 characters and unique regardless of case."""
    assert name_problem("   ", []) and name_problem("x" * 41, [])
    assert name_problem("sam", ["Sam"]) and name_problem("Sam", []) is None
    store = ProfileStore(paths)
    store.create("Sam")
    with pytest.raises(ValueError):
        store.create("SAM")


def test_damaged_profiles_list_falls_back_to_the_default(paths: AppPaths) -> None:
    """A damaged profiles list is moved aside and reported; the default profile is used."""
    paths.config_dir.mkdir(parents=True)
    (paths.config_dir / "profiles.json").write_text("{")
    store = ProfileStore(paths)
    assert store.active().id == DEFAULT_ID and "damaged" in store.problem
    assert (paths.config_dir / "profiles.json.bak").exists()


# ---------------------------------------------------------------- in the window

def _build(qtbot, home: Path, **kwargs) -> AppParts:
    clock = FakeClock()
    parts = build_app(home, clock=clock, **kwargs)
    parts.clock = clock
    qtbot.addWidget(parts.window,
                    before_close_func=lambda _w: setattr(parts.kiosk, "active", False))
    parts.window.resize(1366, 768)
    parts.window.show()
    return parts


def _finish_session(parts: AppParts) -> None:
    window = parts.window
    window.start_routine(DEFAULT, window.home.level)
    seconds = window.driver.engine.timeline.total + 1
    while window.driver is not None and seconds > 0:  # ticks a second apart, as the timer does
        parts.clock.advance(1)
        seconds -= 1
        window.driver.tick()
    assert window.driver is None


def test_switcher_appears_only_with_a_second_profile(qtbot, home: Path) -> None:
    """The profile switcher shows on the home screen only once a second profile exists."""
    parts = _build(qtbot, home)
    controller = parts.profiles
    assert not controller.switcher.isVisible()
    assert parts.window.actions_by_name["profiles"] in parts.window.file_menu.actions()
    dialog = ProfilesDialog(controller)
    qtbot.addWidget(dialog)

    def fill() -> None:
        modal = QApplication.activeModalWidget()
        if not isinstance(modal, NewProfileDialog):
            QTimer.singleShot(10, fill)
            return
        modal.name.setText("Sam")
        modal.level.setCurrentIndex(modal.level.findData("advanced"))
        modal.submit()

    QTimer.singleShot(0, fill)
    dialog.new_profile()
    assert controller.store.several
    assert controller.switcher.isVisible()
    assert [controller.switcher.combo.itemText(i)
            for i in range(controller.switcher.combo.count())] == ["Main", "Sam"]
    parts.close()


def test_switching_profiles_switches_level_settings_and_history(qtbot, home: Path) -> None:
    """Each profile keeps its own level and history; the main profile's files stay put."""
    parts = _build(qtbot, home)
    window = parts.window
    controller = parts.profiles
    paths = resolve_paths(home)
    _finish_session(parts)  # one session for the main profile
    window.go_home()
    sam = controller.store.create("Sam", "advanced")
    controller.refresh()
    controller.switcher.combo.setCurrentIndex(controller.switcher.combo.findData(sam.id))
    controller.switcher.combo.activated.emit(controller.switcher.combo.currentIndex())
    assert window.settings_store.path == sam.settings_file
    assert window.home.level is Level.ADVANCED
    assert window.home.history_line.text() != "" and "Last session" not in \
        window.home.history_line.text()
    _finish_session(parts)
    window.go_home()
    controller.switch_to(DEFAULT_ID)
    assert window.settings_store.path == paths.settings_file
    assert window.home.level is Level.BEGINNER
    with History(paths.history_db) as main, History(sam.history_db) as sams:
        assert len(main.sessions()) == 1 and len(sams.sessions()) == 1
    parts.close()


def test_no_switching_during_a_session(qtbot, home: Path) -> None:
    """A profile cannot be switched in the middle of a session."""
    parts = _build(qtbot, home)
    sam = parts.profiles.store.create("Sam")
    parts.window.start_routine(DEFAULT, parts.window.home.level)
    assert "session" in parts.profiles.switch_to(sam.id)
    assert parts.profiles.store.active().id == DEFAULT_ID
    parts.close()


def test_kiosk_mode_uses_the_default_profile_and_hides_profiles(qtbot, home: Path) -> None:
    """On a gym PC profiles are not offered, and the main profile's files are used."""
    paths = resolve_paths(home)
    store = ProfileStore(paths)
    sam = store.create("Sam", "advanced")
    store.set_active(sam.id)
    save_settings(paths.settings_file, Settings(first_run_notice_seen=True))
    StaffStore(paths.config_dir).set_pin("90817263")
    parts = _build(qtbot, home, kiosk=True)
    assert parts.window.settings_store.path == paths.settings_file
    assert not parts.profiles.switcher.isVisible()
    assert not parts.window.actions_by_name["profiles"].isEnabled()
    assert json.loads(store.index_path.read_text())["active"] == sam.id  # untouched
    parts.close()
