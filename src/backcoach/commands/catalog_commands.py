"""`backcoach exercises`, `routines` and `plan`: look at the catalogue and timelines."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from backcoach.catalog.loader import Catalog, load_builtin_catalog
from backcoach.catalog.model import Level
from backcoach.session.plan import Timeline, build_plan


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the catalogue commands."""
    p = subparsers.add_parser("exercises", help="list the exercises")
    p.set_defaults(func=cmd_exercises)
    p = subparsers.add_parser("routines", help="list the routines with their lengths")
    p.set_defaults(func=cmd_routines)
    p = subparsers.add_parser("plan", help="show the timeline of a routine")
    p.add_argument("routine", help="routine id (see `backcoach routines`)")
    p.add_argument("--level", default=None, help="beginner, intermediate or advanced")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_plan)


def load_catalog_for(args: argparse.Namespace) -> Catalog:
    """The built-in catalogue plus the user's own files, reporting problems on stderr."""
    from backcoach.store.paths import resolve_paths

    paths = resolve_paths(args.home)
    catalog = load_builtin_catalog((paths.data_dir,))
    for problem in catalog.problems:
        print(f"backcoach: skipped {problem}", file=sys.stderr)
    return catalog


def resolve_routine_and_level(catalog: Catalog, routine_id: str,
                              level_name: str | None) -> tuple[str, Level]:
    """Check a routine id and level from the command line (UsageError lists the choices)."""
    from backcoach.cli import UsageError

    if routine_id not in catalog.routines:
        raise UsageError(f"unknown routine {routine_id!r}; known routines: "
                         + ", ".join(sorted(catalog.routines)))
    if level_name is None:
        return routine_id, catalog.routines[routine_id].default_level
    try:
        return routine_id, Level(level_name)
    except ValueError:
        raise UsageError(f"unknown level {level_name!r}; known levels: "
                         + ", ".join(level.value for level in Level)) from None


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{round(seconds % 60):02d}"


def cmd_exercises(args: argparse.Namespace) -> int:
    """List exercise ids, names, focus and sides."""
    catalog = load_catalog_for(args)
    for ex in sorted(catalog.exercises.values(), key=lambda e: e.name):
        print(f"{ex.id:24} {ex.name:28} {ex.focus:9} {ex.posture:9} {ex.sides}")
    return 0


def cmd_routines(args: argparse.Namespace) -> int:
    """List routines with their length at each level."""
    catalog = load_catalog_for(args)
    for routine in sorted(catalog.routines.values(), key=lambda r: r.name):
        lengths = "  ".join(
            f"{level.value} {_minutes(build_plan(routine, catalog.exercises, level).total)}"
            for level in Level)
        print(f"{routine.id:26} {routine.name:30} {lengths}")
    return 0


def timeline_to_json(timeline: Timeline) -> dict:
    """A JSON-ready description of a timeline (what `plan --json` prints)."""
    return {
        "routine": timeline.routine_id,
        "name": timeline.routine_name,
        "level": timeline.level.value,
        "total": timeline.total,
        "segments": [
            {
                "index": seg.index, "start": seg.start, "duration": seg.duration,
                "kind": seg.kind.value, "exercise": seg.exercise_id, "side": seg.side.value,
                "set": seg.set, "rep": seg.rep, "position": seg.position, "label": seg.label,
                "cues": [{k: (v.value if hasattr(v, "value") else v)
                          for k, v in asdict(cue).items()} for cue in seg.cues],
            }
            for seg in timeline.segments
        ],
    }


def cmd_plan(args: argparse.Namespace) -> int:
    """Print a routine's timeline as a table or JSON."""
    catalog = load_catalog_for(args)
    routine_id, level = resolve_routine_and_level(catalog, args.routine, args.level)
    timeline = build_plan(catalog.routines[routine_id], catalog.exercises, level)
    if args.json:
        json.dump(timeline_to_json(timeline), sys.stdout, indent=2)
        print()
        return 0
    print(f"{timeline.routine_name} ({level.value}): {_minutes(timeline.total)}")
    for seg in timeline.segments:
        cues = "; ".join(f"{cue.offset:g}s {cue.text}" for cue in seg.cues)
        print(f"{_minutes(seg.start):>6} {seg.duration:5g}s {seg.kind.value:9} "
              f"{seg.exercise_id:18} {seg.side.value:5} {seg.label[:34]:34} {cues}")
    return 0
