"""The settings dialog saves what the user chose through the store, and only on Save."""

from __future__ import annotations

import dataclasses
import errno
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QSpinBox,
    QWidget,
)

import backcoach.store.settings as settings_module
from backcoach.store.atomic import storage_error
from backcoach.store.settings import (
    CUE_KINDS,
    LEVELS,
    THEMES,
    Settings,
    VoiceSettings,
    WindowState,
    load_settings,
)
from backcoach.store.settings_store import SettingsStore
from backcoach.ui.settings_dialog import (
    CUE_LABELS,
    SettingsDialog,
    breath_label,
    open_settings,
    ordinal,
)

VOICES = [("en-gb", "English (Great Britain)"), ("en-us", "English (America)")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


@pytest.fixture
def store(path: Path) -> SettingsStore:
    return SettingsStore(path)


@pytest.fixture
def dialog(qtbot, store: SettingsStore) -> SettingsDialog:
    dlg = SettingsDialog(store, VOICES, None)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _choose(box: QComboBox, data: object) -> None:
    index = box.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    box.setCurrentIndex(index)


def _change_some_options(dlg: SettingsDialog) -> None:
    dlg.cue_boxes["countdown"].setChecked(False)
    dlg.cue_boxes["breathe"].setChecked(False)
    _choose(dlg.voice_choice, "en-us")
    dlg.rate.setValue(200)
    dlg.volume.setValue(55)
    _choose(dlg.breathe_every, 5)
    _choose(dlg.level, "advanced")
    dlg.get_ready.setValue(20)
    dlg.switch_gap.setValue(8)
    _choose(dlg.theme_choice, "dark")
    dlg.weekly_goal.setValue(5)


def _assert_changed(s: Settings) -> None:
    assert s.voice.cues.countdown is False and s.voice.cues.breathe is False
    assert s.voice.cues.switch is True and s.voice.enabled is True
    assert (s.voice.voice_id, s.voice.rate, s.voice.volume, s.voice.breathe_every) == \
        ("en-us", 200, 0.55, 5)
    assert (s.default_level, s.get_ready_seconds, s.switch_gap_seconds, s.theme,
            s.weekly_goal_days) == ("advanced", 20, 8, "dark", 5)


def test_ok_writes_the_chosen_options_to_the_file(qtbot, dialog, store, path) -> None:
    """Changing options and pressing Save writes exactly them to the settings file."""
    store.update(window=WindowState(geometry="AAAA", fullscreen=True), last_routine="core")
    _change_some_options(dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = load_settings(path)
    assert saved.problem is None
    _assert_changed(saved.settings)
    # What the dialog does not show is kept as it was.
    assert saved.settings.window == WindowState(geometry="AAAA", fullscreen=True)
    assert saved.settings.last_routine == "core"
    assert store.settings == saved.settings


def test_cancel_leaves_the_file_unchanged(qtbot, dialog, store, path) -> None:
    """Cancel after changing options leaves the file and the live settings as they were."""
    store.update(weekly_goal_days=4)
    before = path.read_bytes()
    live = store.settings
    _change_some_options(dialog)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert path.read_bytes() == before
    assert store.settings == live


def _disk_full(path, text, encoding="utf-8"):
    raise storage_error("save", Path(path), OSError(errno.ENOSPC, "No space left on device"))


@pytest.mark.parametrize("how", ["disk full", "folder is a file"])
def test_failed_save_shows_why_and_keeps_the_choices(qtbot, tmp_path, monkeypatch, how) -> None:
    """A save that fails shows the reason in the dialog, which stays open with the choices."""
    if how == "disk full":
        path = tmp_path / "config" / "settings.json"
        monkeypatch.setattr(settings_module, "atomic_write_text", _disk_full)
    else:
        (tmp_path / "config").write_text("I am a file, not a folder")
        path = tmp_path / "config" / "settings.json"
    store = SettingsStore(path)
    dlg = SettingsDialog(store, VOICES)
    qtbot.addWidget(dlg)
    dlg.show()
    _change_some_options(dlg)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and dlg.result() != QDialog.DialogCode.Accepted
    assert dlg.error_label.isVisible()
    message = dlg.error_label.text()
    assert message.startswith("Your settings could not be saved.")
    assert str(path) in message
    if how == "disk full":
        assert "is full" in message
    _assert_changed(dlg.chosen_settings())  # nothing the user chose was lost
    assert not path.is_file()
    if how == "disk full":  # space freed: Save again works
        monkeypatch.undo()
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
        assert dlg.result() == QDialog.DialogCode.Accepted
        _assert_changed(load_settings(path).settings)


def test_restore_defaults_then_save(qtbot, store, path) -> None:
    """Restore defaults puts the defaults in every control; Save writes them."""
    store.update(voice=VoiceSettings(enabled=False, rate=300), theme="dark", weekly_goal_days=6,
                 window=WindowState(geometry="AAAA"))
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    assert dlg.voice_enabled.isChecked() is False and dlg.rate.value() == 300
    qtbot.mouseClick(dlg.defaults_button, Qt.MouseButton.LeftButton)
    assert store.settings.theme == "dark"  # nothing saved yet
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    saved = load_settings(path).settings
    assert saved == dataclasses.replace(Settings(), window=WindowState(geometry="AAAA"))


def test_ranges_and_choices_come_from_the_settings_metadata(dialog) -> None:
    """Every limit and choice offered is the one the settings loader accepts."""
    meta = {f.name: f.metadata for f in dataclasses.fields(Settings)}
    vmeta = {f.name: f.metadata for f in dataclasses.fields(VoiceSettings)}
    assert (dialog.rate.minimum(), dialog.rate.maximum()) == (vmeta["rate"]["lo"], vmeta["rate"]["hi"])
    assert (dialog.volume.minimum(), dialog.volume.maximum()) == (0, 100)
    for box, name in ((dialog.get_ready, "get_ready_seconds"),
                      (dialog.switch_gap, "switch_gap_seconds"),
                      (dialog.weekly_goal, "weekly_goal_days")):
        assert (box.minimum(), box.maximum()) == (meta[name]["lo"], meta[name]["hi"])
    breath = [dialog.breathe_every.itemData(i) for i in range(dialog.breathe_every.count())]
    assert breath == list(range(vmeta["breathe_every"]["lo"], vmeta["breathe_every"]["hi"] + 1))
    assert [dialog.level.itemData(i) for i in range(dialog.level.count())] == list(LEVELS)
    assert [dialog.theme_choice.itemData(i) for i in range(dialog.theme_choice.count())] == \
        list(THEMES)
    assert set(dialog.cue_boxes) == set(CUE_KINDS)
    assert dialog.cue_boxes["countdown"].text() == "Countdown 3, 2, 1"
    assert dialog.cue_boxes["breathe"].text() == "Breathe in / out"


def test_every_control_has_an_accessible_name_and_takes_the_keyboard(dialog) -> None:
    """Screen readers get a name for every control, and Tab reaches each one."""
    controls = [w for cls in (QCheckBox, QComboBox, QSpinBox, QAbstractButton)
                for w in dialog.findChildren(cls) if w.isVisibleTo(dialog)]
    assert len(controls) >= len(CUE_LABELS) + 12
    for w in controls:
        assert w.accessibleName(), w.objectName()
        assert w.focusPolicy() & Qt.FocusPolicy.TabFocus, w.objectName()
    chain, w = set(), dialog.voice_enabled
    for _ in range(200):
        chain.add(w)
        w = w.nextInFocusChain()
    for control in (dialog.voice_enabled, dialog.rate, dialog.cue_boxes["well_done"],
                    dialog.theme_choice, dialog.weekly_goal, dialog.ok_button):
        assert control in chain


def test_keyboard_changes_and_enter_saves(qtbot, dialog, path) -> None:
    """Arrow keys change a focused spin box and Enter saves (Save is the default button)."""
    dialog.weekly_goal.setFocus()
    qtbot.keyClick(dialog.weekly_goal, Qt.Key.Key_Up)
    qtbot.keyClick(dialog.weekly_goal, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert load_settings(path).settings.weekly_goal_days == Settings().weekly_goal_days + 1


def test_voice_off_disables_the_voice_options_but_keeps_them(qtbot, dialog, path) -> None:
    """Turning the voice off greys out its options; their values are still saved."""
    dialog.cue_boxes["halfway"].setChecked(False)
    dialog.voice_enabled.setChecked(False)
    assert not dialog.rate.isEnabled() and not dialog.cue_boxes["rest"].isEnabled()
    assert dialog.weekly_goal.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    voice = load_settings(path).settings.voice
    assert voice.enabled is False and voice.cues.halfway is False and voice.cues.rest is True


def test_test_voice_calls_back_with_the_unsaved_choices(qtbot, store) -> None:
    """Test voice calls the given function and reports the voice settings being edited."""
    calls: list[str] = []
    dlg = SettingsDialog(store, VOICES, lambda: calls.append("spoken"))
    qtbot.addWidget(dlg)
    dlg.rate.setValue(250)
    with qtbot.wait_signal(dlg.voice_test_requested) as blocker:
        qtbot.mouseClick(dlg.test_button, Qt.MouseButton.LeftButton)
    assert calls == ["spoken"]
    assert blocker.args[0].rate == 250
    assert store.settings.voice.rate == VoiceSettings().rate


def test_without_an_engine_test_voice_is_off_and_default_voice_offered(qtbot, store) -> None:
    """With no voices the only choice is the engine default, and Test voice is disabled."""
    dlg = SettingsDialog(store, None, None)
    qtbot.addWidget(dlg)
    assert dlg.voice_choice.count() == 1 and dlg.voice_choice.currentData() == ""
    assert not dlg.test_button.isEnabled()


def test_a_saved_voice_missing_here_is_kept(qtbot, store, path) -> None:
    """A voice chosen on another computer stays chosen (and labelled) rather than lost."""
    store.update(voice=VoiceSettings(voice_id="mb-de1"))
    dlg = SettingsDialog(store, VOICES)
    qtbot.addWidget(dlg)
    assert dlg.voice_choice.currentData() == "mb-de1"
    assert "not found" in dlg.voice_choice.currentText()
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert load_settings(path).settings.voice.voice_id == "mb-de1"


class _Window(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.themed = 0

    def apply_theme(self) -> None:
        self.themed += 1


@pytest.mark.parametrize("save", [True, False])
def test_open_settings_reports_whether_saved(qtbot, store, path, monkeypatch, save) -> None:
    """open_settings returns True and re-themes the window only when the user saved."""
    window = _Window()
    qtbot.addWidget(window)

    def fake_exec(self) -> int:
        _choose(self.theme_choice, "high-contrast")
        if save:
            self.save_and_close()
        else:
            self.reject()
        return self.result()

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    assert open_settings(window, store) is save
    assert window.themed == (1 if save else 0)
    assert (store.settings.theme == "high-contrast") is save
    assert path.is_file() is save


def test_breath_labels() -> None:
    """Breath cue choices read as English ordinals."""
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
    assert breath_label(1) == "Every breath" and breath_label(3) == "Every 3rd breath"
