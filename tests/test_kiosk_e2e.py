"""`backcoach open --kiosk` as a real process on a real X display, driven with xdotool."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers.xvfb import missing_tools, screenshot, send_key, wait_for_window, xvfb

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(bool(missing_tools()) and not os.environ.get("CI"),
                       reason=f"needs {', '.join(missing_tools())}"),
]

PIN = "4826"


def _type(display: str, window: str, text: str) -> None:
    for char in text:
        send_key(display, window, char)


def test_first_kiosk_start_sets_the_pin_then_quits_only_with_it(tmp_path: Path) -> None:
    """A first --kiosk start sets the PIN (twice); Ctrl+Q then quits only with the PIN."""
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"version": 2, "theme": "light", "first_run_notice_seen": True,
         "voice": {"enabled": False}}))
    shots = Path(os.environ.get("BACKCOACH_SCREENSHOTS") or tmp_path)
    with xvfb() as display:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, BACKCOACH_HOME=str(home))
        proc = subprocess.Popen([sys.executable, "-m", "backcoach", "open", "--kiosk"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            setup = wait_for_window(display, "Set the staff PIN")
            _type(display, setup, PIN)
            send_key(display, setup, "Return")  # on to the second field
            _type(display, setup, PIN)
            send_key(display, setup, "Return")
            deadline = time.monotonic() + 10
            while not (home / "config" / "staff.json").exists():
                assert time.monotonic() < deadline, "the PIN was never saved"
                time.sleep(0.1)
            main = wait_for_window(display, "^BackCoach$")
            time.sleep(0.8)
            screenshot(display, shots / "kiosk-e2e-home.png")
            send_key(display, main, "ctrl+q")
            prompt = wait_for_window(display, "Staff PIN")
            _type(display, prompt, "9999")
            send_key(display, prompt, "Return")
            time.sleep(0.5)
            assert proc.poll() is None
            _type(display, prompt, PIN)
            send_key(display, prompt, "Return")
            proc.wait(timeout=15)
            assert proc.returncode == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
    assert PIN.encode() not in (home / "config" / "staff.json").read_bytes()
