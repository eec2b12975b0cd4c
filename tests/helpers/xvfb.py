"""A real X server for end-to-end tests: Xvfb on a free display, plus xdotool helpers."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOOLS = ("Xvfb", "xdotool", "import")


def missing_tools() -> list[str]:
    """The programs an end-to-end run needs that are not installed."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _start(number: int, width: int, height: int, log) -> subprocess.Popen | None:
    """Start Xvfb on :number; the process once it is ready, or None if it could not start."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", f":{number}", "-displayfd", str(write_fd), "-screen", "0",
                             f"{width}x{height}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=log, pass_fds=(write_fd,))
    os.close(write_fd)
    ready = b""
    deadline = time.monotonic() + 15
    try:
        while not ready.endswith(b"\n") and time.monotonic() < deadline:
            if select.select([read_fd], [], [], 0.2)[0]:
                chunk = os.read(read_fd, 16)
                if not chunk:
                    break
                ready += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(read_fd)
    if ready.strip():
        return proc
    proc.kill()
    proc.wait()
    return None


@contextmanager
def xvfb(width: int = 1366, height: int = 768) -> Iterator[str]:
    """Start Xvfb on a free display from :57 up, and yield it (":N").

    A display counts as taken when its socket or lock file exists, or when Xvfb says so
    (a chroot shares the abstract socket namespace with the host, so a display can be
    taken with no file here). Xvfb reports readiness through -displayfd.
    """
    # Not a pipe (a full pipe would block a long-running Xvfb); closed in the finally below.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    proc, number = None, 57
    try:
        for number in range(57, 160):
            if Path(f"/tmp/.X11-unix/X{number}").exists() or \
                    Path(f"/tmp/.X{number}-lock").exists():
                continue
            proc = _start(number, width, height, log)
            if proc is not None:
                break
        if proc is None:
            log.seek(0)
            raise RuntimeError(f"Xvfb did not start: {log.read().decode(errors='replace')[-300:]}")
        yield f":{number}"
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        log.close()


def wait_for_window(display: str, name: str, timeout: float = 20.0) -> str:
    """Wait until a window whose title contains `name` is mapped; return its id."""
    env = {**os.environ, "DISPLAY": display}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             capture_output=True, text=True, env=env)
        ids = out.stdout.split()
        if ids:
            return ids[-1]
        time.sleep(0.1)
    raise TimeoutError(f"no window named {name!r} appeared on {display}")


def send_key(display: str, window: str, key: str) -> None:
    """Type a key into a window, as a user would."""
    env = {**os.environ, "DISPLAY": display}
    # Focus the window, then type through XTEST: Qt ignores events sent to a window id.
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=False,
                   capture_output=True, timeout=10)
    subprocess.run(["xdotool", "key", key], env=env, check=True, timeout=10)


def screenshot(display: str, path: Path) -> Path:
    """Grab the whole screen into a PNG."""
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True)
    return path
