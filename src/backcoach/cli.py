"""The `backcoach` command line: the app itself, plus commands to inspect and script it.

Each subcommand lives in its own module under `backcoach.commands` and registers itself,
so a feature brings its command without touching this file's logic.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

# Modules under backcoach.commands that each define `register(subparsers)`.
COMMAND_MODULES = (
    "catalog_commands",
    "app_commands",
    "art_commands",
    "voice_commands",
    "routine_commands",
)

EXIT_USAGE = 2


class _VersionAction(argparse.Action):
    """--version, reading the version only when asked (it costs start-up time otherwise)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import backcoach

        parser.exit(message=f"backcoach {backcoach.__version__}\n")


class UsageError(Exception):
    """A user mistake on the command line: printed in one line, exit status 2."""


APP_COMMANDS = ("open", "start")  # registered by app_commands: the windowed app


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    """The parser with the subcommands of `modules` (all of them unless told)."""
    parser = argparse.ArgumentParser(
        prog="backcoach",
        description="A coach for lower-back routines for runners. "
                    "Run without a command to open the app.")
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="show the version and exit")
    parser.add_argument("--kiosk", action="store_true",
                        help="shared gym PC: full screen, a staff PIN to quit or change "
                             "anything, no personal history")
    parser.add_argument("--home", metavar="DIR",
                        help="keep settings, history and logs in DIR "
                             "(default: $BACKCOACH_HOME or the system's user folders)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        module = importlib.import_module(f"backcoach.commands.{name}")
        module.register(subparsers)
    return parser


def modules_needed(argv: Sequence[str]) -> Sequence[str]:
    """Only the app's own commands when the window is what was asked for: importing every
    command module (catalogue, art, voice) costs the window tens of milliseconds."""
    if any(arg in ("-h", "--help") for arg in argv):
        return COMMAND_MODULES
    command = None
    args = iter(argv)
    for arg in args:
        if arg == "--home":
            next(args, None)  # its value, not a command
        elif not arg.startswith("-"):
            command = arg
            break
    return ("app_commands",) if command in (None, *APP_COMMANDS) else COMMAND_MODULES


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the command; returns the process exit status."""
    if os.environ.get("BACKCOACH_QT_PROBE") == "1":  # `doctor`'s child in a frozen bundle
        from backcoach.voice.diagnose import run_qt_probe

        return run_qt_probe()
    if os.environ.get("BACKCOACH_SPEECH_HELPER") == "1":  # the voice's helper process
        from backcoach.voice.speech_process import serve

        return serve()
    argv = list(sys.argv[1:] if argv is None else argv)
    modules = modules_needed(argv)
    if modules == ("app_commands",):
        # Start-up makes thousands of objects that live as long as the window; collecting
        # while they are made costs about 10 ms for nothing. app.run turns it back on.
        gc.disable()
    if not argv:  # a plain `backcoach`, as a desktop launcher starts it
        from backcoach.commands.app_commands import cmd_open

        return int(cmd_open(plain_start_args()) or 0)
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, "open"])
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"backcoach: {exc}", file=sys.stderr)
        return EXIT_USAGE


def plain_start_args() -> argparse.Namespace:
    """What the parser makes of no arguments at all (`open`, with every default), built
    directly: a desktop launcher's start need not pay for argparse's parser (about 3 ms).
    test_cli checks it matches the parser's."""
    return argparse.Namespace(version=None, kiosk=False, home=None, command="open",
                              trace=None, routine=None, level=None)

