"""`backcoach` (open) and `backcoach start ROUTINE`: the windowed app."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the commands that open the window."""
    p = subparsers.add_parser("open", help="open the app (the default)")
    _common(p)
    p.set_defaults(func=cmd_open, routine=None, level=None)
    p = subparsers.add_parser("start", help="open the app straight into a routine")
    p.add_argument("routine", help="routine id (see `backcoach routines`)")
    p.add_argument("--level", default=None, help="beginner, intermediate or advanced")
    _common(p)
    p.set_defaults(func=cmd_open)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trace", metavar="FILE",
                   help="write every engine event and cue as JSON lines to FILE")
    p.add_argument("--kiosk", action="store_true", default=argparse.SUPPRESS,
                   help="shared gym PC: full screen, staff PIN to quit or change anything, "
                        "no personal history")


def cmd_open(args: argparse.Namespace) -> int:
    """Start the Qt app (imported here so that the other commands never load Qt)."""
    from backcoach.app import run

    return run(args)
