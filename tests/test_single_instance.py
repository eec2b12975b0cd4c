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

from backcoach.ui.single_instance import request_for, server_name


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
        fresh = _launch(home, env, "open")
        time.sleep(2.0)
        assert fresh.poll() is None, fresh.communicate()
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


def test_server_name_is_per_user_and_home(tmp_path: Path) -> None:
    """Two homes never share a server; the same home always does."""
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "a")
    assert server_name(tmp_path / "a").startswith("backcoach-")


def test_request_for_the_command_line() -> None:
    """`open` asks to raise; `start ROUTINE --level L` asks to start it."""
    import argparse

    assert request_for(argparse.Namespace(routine=None, level=None)) == "raise"
    assert request_for(argparse.Namespace(routine="core", level="advanced")) == \
        "start core advanced"
