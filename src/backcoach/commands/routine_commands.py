"""`backcoach import FILE` and `backcoach export ROUTINE FILE`: share routines as files.

An import is checked whole before anything is written (see `catalog.user_files`); a
problem is reported in one line naming the file, the field and what is wrong, with exit
status 2, and nothing changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from backcoach.catalog.fields import CatalogError
from backcoach.catalog.user_files import UserFileError, export_routine, import_file
from backcoach.commands.catalog_commands import load_catalog_for
from backcoach.store.atomic import StorageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the import and export commands."""
    p = subparsers.add_parser(
        "import", help="add a routine (with its exercises) or an exercise from a file",
        description="Add the routine and custom exercises of an exported file, or a plain "
                    "routine or exercise file, to your catalogue. Nothing changes unless the "
                    "whole file is valid; ids already in use are renamed (-2, -3 ...).")
    p.add_argument("file", type=Path, help="the .toml file to import")
    p.set_defaults(func=cmd_import)
    p = subparsers.add_parser(
        "export", help="write a routine and the custom exercises it uses to a file",
        description="Write a routine, with the custom exercises it uses, to a file that "
                    "`backcoach import` (or Routines > Edit routines > Import) reads.")
    p.add_argument("routine", help="routine id (see `backcoach routines`)")
    p.add_argument("file", type=Path, help="the .toml file to write (replaced if it exists)")
    p.set_defaults(func=cmd_export)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file; print what was added and what was renamed."""
    from backcoach.cli import UsageError
    from backcoach.store.paths import resolve_paths

    paths = resolve_paths(args.home)
    catalog = load_catalog_for(args)
    try:
        result = import_file(args.file, catalog, paths)
    except (CatalogError, UserFileError, StorageError) as exc:
        raise UsageError(f"nothing imported: {_one_line(exc)}") from None
    for message in result.messages:
        print(message)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export a routine with its custom exercises."""
    from backcoach.cli import UsageError

    catalog = load_catalog_for(args)
    try:
        written = export_routine(args.routine, catalog, args.file)
    except (UserFileError, StorageError) as exc:
        raise UsageError(f"not exported: {_one_line(exc)}") from None
    print(f"Exported {catalog.routines[args.routine].name!r} to {written}")
    return 0
