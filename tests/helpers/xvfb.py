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


@contextmanager
def xvfb(width: int = 1366, height: int = 768) -> Iterator[str]:
    """Start Xvfb on a display number it picks itself (-displayfd), and yield it (":N").

    Letting Xvfb choose avoids clashing with another X server, including one whose
    socket is not visible here (a chroot shares the abstract socket namespace).
    """
    read_fd, write_fd = os.pipe()
    # Not a pipe (a full pipe would block a long-running Xvfb); closed in the finally below.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             f"{width}x{height}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=log, pass_fds=(write_fd,))
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 15
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], 0.2)
            if ready:
                chunk = os.read(read_fd, 16)
                if not chunk:
                    break
                number += chunk
            if proc.poll() is not None or time.monotonic() > deadline:
                break
        if not number.strip():
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"Xvfb did not start: {err.strip()[-300:]}")
        yield f":{int(number)}"
    finally:
        os.close(read_fd)
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
