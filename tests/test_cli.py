"""The command line loads only what the asked-for command needs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backcoach.cli import COMMAND_MODULES, main, modules_needed


@pytest.mark.parametrize("argv", [[], ["--kiosk"], ["--home", "routines"], ["start", "x"],
                                  ["--home=/tmp/h", "open"]])
def test_opening_the_window_registers_only_the_app_commands(argv):
    """No command (or open/start) needs only app_commands, even when --home's value looks like a command."""
    assert modules_needed(argv) == ("app_commands",)


@pytest.mark.parametrize("argv", [["routines"], ["--home", "h", "exercises"], ["-h"], ["start", "--help"],
                                  ["no-such-command"]])
def test_other_commands_and_help_register_everything(argv):
    """Other commands, help and mistakes get the full parser (so errors list every choice)."""
    assert modules_needed(argv) == COMMAND_MODULES


def test_unknown_command_still_lists_the_choices(capsys):
    """A mistyped command exits 2 and names the real commands."""
    with pytest.raises(SystemExit) as exit_info:
        main(["routinez"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "routines" in err and "start" in err


def test_opening_the_window_imports_no_catalogue_command_modules():
    """Parsing for the window leaves the other command modules unloaded."""
    code = ("import sys; from backcoach import cli; cli.build_parser(cli.modules_needed([]));"
            "print(sorted(m for m in sys.modules if m.startswith('backcoach.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['backcoach.commands.app_commands']"


def test_start_up_pauses_the_collector_and_the_shown_window_resumes_it() -> None:
    """Start-up runs with the collector paused; once the window is shown it runs again, start-up frozen."""
    script = (
        "import gc, sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from backcoach import app, cli\n"
        "qt = QApplication([])\n"
        "seen = []\n"
        "real_build = app.build_app\n"
        "def build(*a, **k):\n"
        "    seen.append(gc.isenabled())\n"
        "    return real_build(*a, **k)\n"
        "app.build_app = build\n"
        "QTimer.singleShot(0, lambda: (seen.append(gc.isenabled()), seen.append(gc.get_freeze_count() > 0),"
        " qt.quit()))\n"
        "cli.main([])\n"
        "print(seen)\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[False, True, True]", out.stderr[-2000:]


def test_a_plain_start_gets_exactly_what_the_parser_would_give() -> None:
    """`backcoach` with no arguments skips the parser; its arguments equal the parser's for `open`."""
    from backcoach.cli import build_parser, plain_start_args

    parsed = vars(build_parser(modules_needed([])).parse_args(["open"]))
    assert parsed.pop("func").__name__ == "cmd_open"
    assert vars(plain_start_args()) == parsed
