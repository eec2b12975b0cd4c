"""What a plain start loads: the home screen must not pay for what only later screens use."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

# Run as a real `backcoach` start; once the window is shown and the event loop has turned,
# print the modules loaded and quit.
PROBE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from backcoach.ui import main_window
real_show = main_window.MainWindow.show
def show(self):
    real_show(self)
    import linecache
    QTimer.singleShot(100, lambda: (print(len(linecache.cache)), print(sorted(sys.modules)),
                                    QApplication.instance().quit()))
main_window.MainWindow.show = show
from backcoach.cli import main
sys.exit(main([]))
"""

# Each of these is loaded by a later screen or on demand, and costs the home screen time or
# memory if loaded at start-up (see the README's performance section).
NOT_AT_START = (
    "logging.handlers",  # pulls in socket and pickle; the log rotates without it
    "socket",
    "pickle",
    "PySide6.QtNetwork",  # the single-instance channel is a watched folder (2.7 MB)
    "PySide6.QtMultimedia",  # the voice's playback, loaded with the voice
    "PySide6.QtSvg",  # the session's illustrations
    "pyttsx3",  # the voice
    "hashlib",  # OpenSSL; only the staff PIN hashes
    "ssl",
    "csv",  # history export
    "backcoach.ui.session_view",
    "backcoach.ui.summary",  # the session's last page
    "backcoach.ui.driver",  # the session's engine and its events
    "backcoach.session.engine",
    "backcoach.session.events",
    "backcoach.trace",  # only with --trace
    "backcoach.store.kiosk_stats",  # only an active kiosk counts
    "backcoach.ui.profiles_dialogs",  # File → Profiles…
    "backcoach.ui.editor",
    "backcoach.ui.kiosk_pin",  # kiosk dialogs, shown only on a gym PC
    "backcoach.ui.kiosk_staff_page",
    "backcoach.commands.catalog_commands",
)


def _probe(home: Path) -> tuple[int, set[str]]:
    """(files in linecache, modules loaded) once a real start has shown its window."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BACKCOACH_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    *_, cached, modules = out.stdout.strip().splitlines()
    return int(cached), set(ast.literal_eval(modules))


def _started_modules(home: Path) -> set[str]:
    return _probe(home)[1]


def test_a_plain_start_leaves_later_screens_modules_unloaded(home: Path) -> None:
    """Starting to the home screen (voice on, a last routine) loads none of the later screens' modules."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"version": 2, "first_run_notice_seen": True, "voice": {"enabled": True},
         "last_routine": "core-strength"}))
    modules = _started_modules(home)
    assert "backcoach.ui.home" in modules  # the probe really ran the app
    assert sorted(set(NOT_AT_START) & modules) == []


def test_a_returning_users_start_does_not_parse_toml(home: Path) -> None:
    """From the second start on, the catalogue comes from the parse cache: tomllib is not even imported."""
    first = _started_modules(home)
    assert "tomllib" in first  # the first start parsed the files and filled the cache
    assert "tomllib" not in _started_modules(home)


def test_the_qt_free_start_modules_really_are_qt_free() -> None:
    """The modules imported ahead of PySide6 (so PySide does not read their sources) load no Qt."""
    code = ("import sys; from backcoach.app import import_qt_free_modules; import_qt_free_modules();"
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_start_keeps_no_module_sources_in_memory(home: Path) -> None:
    """The module sources PySide's import scan read (about 1.8 MB of text) are dropped once shown."""
    cached, modules = _probe(home)
    assert "backcoach.ui.main_window" in modules
    assert cached == 0
