"""One BackCoach per user and home: real processes launched at the same moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers.xvfb import missing_tools, xvfb

from backcoach.ui.single_instance import request_for, requests_dir


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"version": 2, "theme": "light", "first_run_notice_seen": True,
         "voice": {"enabled": False}}))
    return home


def _launch(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backcoach", *args],
                            env={**env, "BACKCOACH_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _first_to_exit(procs: list[subprocess.Popen], timeout: float = 30.0) -> subprocess.Popen:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                return proc
        time.sleep(0.05)
    raise AssertionError("neither launch exited")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _wait_for_trace(trace: Path, predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if trace.exists():
            for line in trace.read_text().splitlines():
                if line.strip() and predicate(json.loads(line)):
                    return
        time.sleep(0.05)
    raise AssertionError("the running app never started the routine")


def _events(trace: Path, name: str) -> list[dict]:
    if not trace.exists():
        return []
    return [e for e in (json.loads(line) for line in trace.read_text().splitlines()
                        if line.strip()) if e.get("event") == name]


def _wait_answering(home: Path, env: dict[str, str], app: subprocess.Popen) -> None:
    """Until `app` holds the lock and answers a later launch (its handler is set)."""
    lock = home / "config" / "backcoach.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if lock.read_text().split("\n", 1)[0] == str(app.pid):
                break
        except OSError:
            pass
        assert app.poll() is None, app.communicate()
        time.sleep(0.05)
    probe = _launch(home, env, "open")
    try:
        out, err = probe.communicate(timeout=30)
    finally:
        _stop(probe)  # never left running if it did not get an answer
    assert probe.returncode == 0 and "already running" in out, (err, app.poll())


def _offscreen_env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def test_two_launches_at_once_leave_one_app_and_a_message(tmp_path: Path) -> None:
    """Two launches at once: one app runs, the other exits 0 with a message (and more)."""
    home = _home(tmp_path)
    env = _offscreen_env()
    traces = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    procs = [_launch(home, env, "open", "--trace", str(t)) for t in traces]
    try:
        loser = _first_to_exit(procs)
        out, err = loser.communicate(timeout=10)
        assert loser.returncode == 0, err
        assert "already running" in out and "front" in out
        winner = procs[1 - procs.index(loser)]
        time.sleep(0.5)
        assert winner.poll() is None
        trace = traces[procs.index(winner)]

        third = _launch(home, env, "start", "lower-back-for-runners")
        out, err = third.communicate(timeout=30)
        assert third.returncode == 0 and "start lower-back-for-runners" in out, err
        _wait_for_trace(trace, lambda e: e.get("event") == "segment_started")

        bad = _launch(home, env, "start", "no-such-routine")
        out, err = bad.communicate(timeout=30)
        assert bad.returncode == 2 and "unknown routine 'no-such-routine'" in err
        assert winner.poll() is None

        winner.send_signal(signal.SIGKILL)  # a crash leaves the lock file behind
        winner.wait(timeout=10)
        assert (home / "config" / "backcoach.lock").exists()
        # ... and, say, a request nobody answered and the parts of an answer.
        folder = requests_dir(home / "config")
        stale = [folder / "1-dead.request", folder / "1-dead.answer",
                 folder / "2-dead.request.0bad.tmp"]
        stale[0].write_text("start lower-back-for-runners\n")
        stale[1].write_text("ok\n")
        stale[2].write_text("start lower-")
        fresh_trace = tmp_path / "fresh.jsonl"
        fresh = _launch(home, env, "open", "--trace", str(fresh_trace))
        try:
            time.sleep(2.0)
            assert fresh.poll() is None, fresh.communicate()
            assert not any(path.exists() for path in stale)  # swept when the lock was taken
            again = _launch(home, env, "open")
            out, err = again.communicate(timeout=30)
            assert again.returncode == 0 and "already running" in out, err
            time.sleep(0.5)
            assert not _events(fresh_trace, "segment_started")  # the stale start never ran
            assert list(folder.iterdir()) == []  # the launch took its request and answer
        finally:
            _stop(fresh)
    finally:
        for proc in procs:
            _stop(proc)


@pytest.mark.xvfb
@pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())}")
def test_two_launches_on_a_real_display_map_one_window(tmp_path: Path) -> None:
    """On a real X display, two launches at once map exactly one BackCoach window."""
    home = _home(tmp_path)
    with xvfb() as display:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env["DISPLAY"] = display
        procs = [_launch(home, env, "open") for _ in range(2)]
        try:
            loser = _first_to_exit(procs)
            out, _err = loser.communicate(timeout=10)
            assert loser.returncode == 0 and "already running" in out
            deadline = time.monotonic() + 20
            ids: list[str] = []
            while time.monotonic() < deadline and not ids:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                        "^BackCoach$"], capture_output=True, text=True,
                                       env=env)
                ids = found.stdout.split()
                time.sleep(0.2)
            time.sleep(0.5)
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "BackCoach"],
                                   capture_output=True, text=True, env=env)
            assert len(found.stdout.split()) == 1
        finally:
            for proc in procs:
                _stop(proc)


def test_requests_dir_is_per_user_and_home(tmp_path: Path) -> None:
    """Two homes never share a requests folder; the same home always does; it is per user."""
    assert requests_dir(tmp_path / "a") != requests_dir(tmp_path / "b")
    assert requests_dir(tmp_path / "a") == requests_dir(tmp_path / "a")
    assert requests_dir(tmp_path / "a").parent == (tmp_path / "a").absolute()
    if hasattr(os, "getuid"):
        assert requests_dir(tmp_path / "a").name == f"backcoach-requests-{os.getuid()}"


def test_request_for_the_command_line() -> None:
    """`open` asks to raise; `start ROUTINE --level L` asks to start it."""
    import argparse

    assert request_for(argparse.Namespace(routine=None, level=None)) == "raise"
    assert request_for(argparse.Namespace(routine="core", level="advanced")) == \
        "start core advanced"


def test_a_hung_instance_makes_a_later_launch_give_up(tmp_path: Path) -> None:
    """A stopped app: a later launch exits 3 after a bounded wait and takes its request back."""
    # Taken back, so the app does not start the routine late when it comes back.
    home = _home(tmp_path)
    env = _offscreen_env()
    trace = tmp_path / "app.jsonl"
    app = _launch(home, env, "open", "--trace", str(trace))
    try:
        _wait_answering(home, env, app)
        app.send_signal(signal.SIGSTOP)
        start = time.monotonic()
        later = _launch(home, env, "start", "lower-back-for-runners")
        out, err = later.communicate(timeout=60)
        waited = time.monotonic() - start
        assert later.returncode == 3, (out, err)
        assert "does not answer" in err and "backcoach.lock" in err and "Traceback" not in err
        assert 5 < waited < 30
        assert list(requests_dir(home / "config").iterdir()) == []
        app.send_signal(signal.SIGCONT)
        time.sleep(1.0)
        assert app.poll() is None
        assert not _events(trace, "segment_started")
        _wait_answering(home, env, app)  # and it answers again
    finally:
        app.send_signal(signal.SIGCONT)
        _stop(app)


def test_a_waiting_launch_takes_over_when_the_holder_dies(tmp_path: Path) -> None:
    """The app crashes while a later launch waits: that launch takes the lock, becomes the app."""
    home = _home(tmp_path)
    env = _offscreen_env()
    app = _launch(home, env, "open")
    later = None
    try:
        _wait_answering(home, env, app)
        app.send_signal(signal.SIGSTOP)
        later = _launch(home, env, "open")
        time.sleep(1.0)
        assert later.poll() is None  # waiting for the stopped app
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=10)
        time.sleep(2.0)
        assert later.poll() is None, later.communicate()  # running as the app now
        _wait_answering(home, env, later)
    finally:
        for proc in (app, later):
            if proc is not None:
                _stop(proc)


def test_a_blocked_requests_folder_is_reported_without_a_traceback(tmp_path: Path) -> None:
    """A file where the requests folder goes: the app runs and says so; a later launch exits 3."""
    # The later launch says at once why it cannot reach the app, without a traceback.
    home = _home(tmp_path)
    env = _offscreen_env()
    requests_dir(home / "config").write_text("not a folder")
    app = _launch(home, env, "open")
    try:
        time.sleep(2.0)
        assert app.poll() is None, app.communicate()
        start = time.monotonic()
        later = _launch(home, env, "open")
        out, err = later.communicate(timeout=30)
        assert later.returncode == 3, (out, err)
        assert time.monotonic() - start < 5  # no point in waiting for an answer
        assert str(requests_dir(home / "config")) in err and "Traceback" not in err
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
        _out, app_err = app.communicate(timeout=10)
    assert "cannot use" in app_err and "Traceback" not in app_err
