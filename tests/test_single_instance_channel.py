"""The one-instance channel in one process: the running side here, later launches in threads.

A later launch only sleeps and touches files, so a thread stands in for it; the running
side answers only while this (the GUI) thread processes events, as the real app does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile, QTimer

from backcoach.ui import single_instance
from backcoach.ui.single_instance import (
    Claim,
    SingleInstance,
    claim_instance,
    message_for,
    requests_dir,
)


class Later(threading.Thread):
    """A later launch asking `request` of the instance in `config`."""

    def __init__(self, config: Path, request: str, wait: float = 10.0) -> None:
        super().__init__(daemon=True)
        self.config, self.request, self.wait = config, request, wait
        self.instance: SingleInstance | None = None
        self.claim: Claim | None = None

    def run(self) -> None:
        self.instance = SingleInstance(self.config)  # its QObject lives in this thread
        self.claim = self.instance.claim(self.request, wait=self.wait)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def running(qapp, config: Path):
    """The running instance (the lock taken, the folder watched), released afterwards."""
    instance = SingleInstance(config)
    assert instance.claim() is Claim.PRIMARY and not instance.problem
    yield instance
    instance.release()


def _requests(config: Path) -> list[str]:
    return sorted(n for n in os.listdir(requests_dir(config)) if n.endswith(".request"))


def _process_events_for(qtbot, ms: int) -> None:
    qtbot.wait(ms)


def test_requests_before_the_handler_wait_for_it(qtbot, running: SingleInstance,
                                                 config: Path) -> None:
    """A request that comes while the window is being built is answered once by set_handler."""
    # Once, although the later launch renames it over itself every second meanwhile.
    later = Later(config, "start core-strength")
    later.start()
    qtbot.waitUntil(lambda: bool(_requests(config)), timeout=5000)
    _process_events_for(qtbot, 1500)  # change notifications, and one rename-over-itself
    assert later.is_alive() and later.claim is None
    seen: list[str] = []
    running.set_handler(lambda line: seen.append(line))
    later.join(5)
    assert later.claim is Claim.FORWARDED
    _process_events_for(qtbot, 300)
    assert seen == ["start core-strength"]
    assert os.listdir(requests_dir(config)) == []


def test_answers_and_refusals(qtbot, running: SingleInstance, config: Path) -> None:
    """ok -> FORWARDED; an error -> REFUSED with its text; a handler that raises -> REFUSED."""
    def handler(line: str) -> str | None:
        if line == "boom":
            raise RuntimeError("it broke")
        return None if line == "raise" else f"unknown request {line!r}"

    running.set_handler(handler)
    for request, claim, reply in (("raise", Claim.FORWARDED, ""),
                                  ("dance", Claim.REFUSED, "unknown request 'dance'"),
                                  ("boom", Claim.REFUSED, "it broke")):
        later = Later(config, request)
        later.start()
        qtbot.waitUntil(lambda later=later: not later.is_alive(), timeout=5000)
        assert later.claim is claim and later.instance.reply == reply
    assert os.listdir(requests_dir(config)) == []


def test_several_launches_at_once_are_each_answered_once(qtbot, running: SingleInstance,
                                                         config: Path) -> None:
    """Five launches at once: each gets its answer, and each request is handled once."""
    seen: list[str] = []
    running.set_handler(lambda line: seen.append(line))
    launches = [Later(config, f"start r{i}") for i in range(5)]
    for later in launches:
        later.start()
    qtbot.waitUntil(lambda: not any(later.is_alive() for later in launches), timeout=8000)
    _process_events_for(qtbot, 1200)
    assert [later.claim for later in launches] == [Claim.FORWARDED] * 5
    assert sorted(seen) == [f"start r{i}" for i in range(5)]


def test_a_hung_instance_is_given_up_on_and_its_request_taken_back(
        qtbot, running: SingleInstance, config: Path) -> None:
    """No events processed (hung): NOT_ANSWERING after the wait, and the request deleted."""
    # Deleted, so the app does nothing when it comes back.
    seen: list[str] = []
    running.set_handler(lambda line: seen.append(line))
    later = Later(config, "start core-strength", wait=0.5)
    later.run()  # in this thread: nothing answers meanwhile
    assert later.claim is Claim.NOT_ANSWERING
    assert os.listdir(requests_dir(config)) == []
    _process_events_for(qtbot, 300)
    assert seen == []
    text = message_for(later.claim, later.request, later.instance.reply,
                       later.instance.lock_path)
    assert "does not answer" in text and str(later.instance.lock_path) in text


def test_stale_files_are_swept_when_the_lock_is_taken(qapp, qtbot, config: Path) -> None:
    """What a crash left is deleted at claim and never answered; other files stay."""
    # Other files: those that are not the channel's, or that belong to another user.
    folder = requests_dir(config)
    folder.mkdir(parents=True)
    (folder / "7-old.request").write_text("start core-strength\n")
    (folder / "7-old.answer").write_text("ok\n")
    (folder / "8-old.request.1234.tmp").write_text("start co")
    (folder / "notes.txt").write_text("not ours")
    foreign = folder / "9-other.request"
    foreign.write_text("raise\n")
    can_chown = hasattr(os, "geteuid") and os.geteuid() == 0
    if can_chown:
        os.chown(foreign, 12345, 12345)
    else:
        foreign.unlink()
    instance = SingleInstance(config)
    try:
        assert instance.claim() is Claim.PRIMARY
        left = sorted(os.listdir(folder))
        assert left == (["9-other.request", "notes.txt"] if can_chown else ["notes.txt"])
        seen: list[str] = []
        instance.set_handler(lambda line: seen.append(line))
        _process_events_for(qtbot, 200)
        assert seen == []  # a stale start never runs; another user's request is not ours
        assert sorted(os.listdir(folder)) == left
    finally:
        instance.release()


def test_a_request_swept_at_claim_is_sent_again(qapp, qtbot, config: Path) -> None:
    """A request written just before the winner swept the folder is written again, answered."""
    config.mkdir(parents=True)
    holder = QLockFile(str(config / single_instance.LOCK_FILE))  # someone else holds it
    assert holder.tryLock(0)
    later = Later(config, "raise")
    later.start()
    qtbot.waitUntil(lambda: requests_dir(config).is_dir() and bool(_requests(config)),
                    timeout=5000)
    holder.unlock()
    # The winner takes the lock (the later launch may take it first: then it is the app).
    winner = SingleInstance(config)
    if winner.claim() is not Claim.PRIMARY:
        later.join(5)
        assert later.claim is Claim.PRIMARY
        later.instance.release()
        return
    try:
        winner.set_handler(lambda line: None)
        qtbot.waitUntil(lambda: not later.is_alive(), timeout=5000)
        assert later.claim is Claim.FORWARDED
    finally:
        winner.release()


def test_the_folder_deleted_while_running_is_made_again(qtbot, running: SingleInstance,
                                                        config: Path) -> None:
    """The requests folder deleted under the running app: made and watched again."""
    running.set_handler(lambda line: None)
    shutil.rmtree(requests_dir(config))
    _process_events_for(qtbot, 200)
    assert requests_dir(config).is_dir()
    later = Later(config, "raise")
    later.start()
    qtbot.waitUntil(lambda: not later.is_alive(), timeout=5000)
    assert later.claim is Claim.FORWARDED


def test_the_running_instance_has_no_timer(running: SingleInstance) -> None:
    """It wakes only when the folder changes: no polling on the idle home screen."""
    running.set_handler(lambda line: None)
    assert running.watcher is not None
    assert running.findChildren(QTimer) == []


def test_a_folder_that_cannot_be_watched_is_checked_every_second(
        qtbot, qapp, config: Path, monkeypatch) -> None:
    """Only when the system refuses a watch (a limit reached): a one-second check instead."""
    monkeypatch.setattr(single_instance.QFileSystemWatcher, "addPath", lambda self, path: False)
    instance = SingleInstance(config)
    try:
        assert instance.claim() is Claim.PRIMARY
        instance.set_handler(lambda line: None)
        assert instance._fallback is not None and instance._fallback.isActive()
        later = Later(config, "raise")
        later.start()
        qtbot.waitUntil(lambda: not later.is_alive(), timeout=5000)
        assert later.claim is Claim.FORWARDED
    finally:
        instance.release()


class _UnwritableLock:
    """QLockFile in a folder that cannot be written (root can write anywhere)."""

    LockError = QLockFile.LockError

    def __init__(self, path: str) -> None:
        pass

    def setStaleLockTime(self, ms: int) -> None:
        pass

    def tryLock(self, timeout: int = 0) -> bool:
        return False

    def error(self):
        return QLockFile.LockError.PermissionError

    def isLocked(self) -> bool:
        return False


def test_an_unwritable_config_folder_starts_without_the_check(qapp, config: Path, capsys,
                                                              monkeypatch) -> None:
    """The lock cannot be made: the app runs (nobody else can hold it either) and says so."""
    monkeypatch.setattr(single_instance, "QLockFile", _UnwritableLock)
    config.mkdir(parents=True)
    instance = claim_instance(config, None)
    assert isinstance(instance, SingleInstance)
    err = capsys.readouterr().err
    assert "not writable" in err and str(config) in err and "without the one-instance" in err
    instance.set_handler(lambda line: None)
    instance.release()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_config_folder_for_real(qapp, config: Path, capsys) -> None:
    """A config folder without write permission: the app starts, with the message."""
    config.mkdir(parents=True)
    config.chmod(0o555)
    try:
        instance = claim_instance(config, None)
        assert isinstance(instance, SingleInstance)
        assert "not writable" in capsys.readouterr().err
        instance.release()
    finally:
        config.chmod(0o755)


def test_a_config_folder_that_cannot_be_made(qapp, tmp_path: Path, capsys) -> None:
    """A config folder that cannot be created: the app starts, with a message, no traceback."""
    (tmp_path / "file").write_text("")
    instance = claim_instance(tmp_path / "file" / "config", None)
    assert isinstance(instance, SingleInstance)
    err = capsys.readouterr().err
    assert "cannot create the folder" in err and "Traceback" not in err
    instance.release()


def test_a_later_launch_that_cannot_write_its_request_says_why(running: SingleInstance,
                                                               config: Path, capsys,
                                                               monkeypatch) -> None:
    """The lock is held but the request cannot be left: exit 3 at once, with the reason."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(single_instance, "_write_atomically", refuse)
    status = claim_instance(config, None)
    assert status == single_instance.EXIT_NOT_ANSWERING
    err = capsys.readouterr().err
    assert "does not answer" in err and "Permission denied" in err
    assert str(requests_dir(config)) in err


def test_no_qtnetwork_and_no_socket() -> None:
    """The channel loads neither QtNetwork nor socket (nor getpass, hashlib): only QtCore."""
    code = ("import sys; import backcoach.ui.single_instance; "
            "print(sorted(m for m in ('PySide6.QtNetwork', 'socket', 'getpass', 'hashlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
