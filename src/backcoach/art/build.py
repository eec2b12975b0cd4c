"""Generate `resources/illustrations/*.svg` and the app icon's SVG from the pose files.

The SVG files are committed and loaded by the app at run time; this module is how they are
made and how a test proves they still match the pose data (`stale_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from backcoach.art.render import View, draw, frame_scene, render_position
from backcoach.art.scene import Scene, load_scenes
from backcoach.catalog.model import Exercise

ICON_FILE = "icons/backcoach.svg"
ICON_SIZES = (16, 32, 48, 64, 128, 256)
ICON_EXERCISE, ICON_POSITION = "glute-bridge-march", "bridge"
ICON_COLOURS = {
    "background": "#1f6f66",
    "mat": "#f6f3ec",
    "mat-edge": "#d9d2c3",
    "body": "#ffffff",
    "body-far": "#a9d3cc",
    "accent": "#ffb14a",
    "accent-far": "#d99a45",
    "prop": "#ffffff",
}


class IllustrationError(ValueError):
    """The pose data and the catalogue do not match (a missing pose file or position)."""


@dataclass(frozen=True)
class Job:
    """One illustration file to write: where, and its SVG text."""

    exercise: str
    position: str
    path: str  # relative to the resources folder
    svg: str


def scene_for(exercise: Exercise, scenes: dict[str, Scene]) -> Scene:
    """The pose data of an exercise, checked to cover each of its positions."""
    scene = scenes.get(exercise.id)
    if scene is None:
        raise IllustrationError(f"no pose file resources/poses/{exercise.id}.toml for the "
                                f"exercise {exercise.id!r} ({exercise.origin})")
    missing = [p.id for p in exercise.positions if p.id not in scene.positions]
    if missing:
        raise IllustrationError(f"{scene.origin}: no [positions.<id>] for "
                                + ", ".join(missing) + f" of {exercise.id!r}")
    return scene


def jobs(exercises: dict[str, Exercise], scenes: dict[str, Scene] | None = None) -> list[Job]:
    """Every illustration of every exercise, rendered from its pose data."""
    scenes = load_scenes() if scenes is None else scenes
    out = []
    for ex in sorted(exercises.values(), key=lambda e: e.id):
        scene = scene_for(ex, scenes)
        for pos in ex.positions:
            title = f"{ex.name}: {pos.name}"
            out.append(Job(ex.id, pos.id, pos.illustration, render_position(scene, pos.id, title)))
    return out


def icon_svg(scenes: dict[str, Scene] | None = None, size: int = 256) -> str:
    """The app icon: the bridge figure (glute bridge) on a rounded teal tile."""
    scenes = load_scenes() if scenes is None else scenes
    scene = scenes[ICON_EXERCISE]
    pose = scene.positions[ICON_POSITION]
    base = frame_scene(Scene(scene.exercise, {ICON_POSITION: pose}, scene.near, scene.anchor,
                             scene.camera, scene.props), width=size, height=size,
                       margin=size * 0.07, max_scale=10_000)
    view = View(base.right, base.up, base.toward, base.scale, base.ox, base.oy + size * 0.03,
                base.mat, size, size)
    r = size * 0.22
    tile = f'<rect width="{size}" height="{size}" rx="{r:g}" ry="{r:g}" fill="{ICON_COLOURS["background"]}"/>'
    return draw(scene, pose, view, "BackCoach", ICON_COLOURS, background=tile)


def expected_files(resources: Path, exercises: dict[str, Exercise],
                   scenes: dict[str, Scene] | None = None) -> dict[Path, str]:
    """Each generated file's path and the text it must hold."""
    scenes = load_scenes(resources / "poses") if scenes is None else scenes
    files = {resources / job.path: job.svg for job in jobs(exercises, scenes)}
    files[resources / ICON_FILE] = icon_svg(scenes)
    return files


def stale_files(resources: Path, exercises: dict[str, Exercise]) -> list[Path]:
    """Generated files that are missing or differ from what the pose data gives."""
    return [path for path, text in expected_files(resources, exercises).items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def write_files(resources: Path, exercises: dict[str, Exercise]) -> list[Path]:
    """Write every generated SVG that changed; returns the paths written."""
    written = []
    for path, text in expected_files(resources, exercises).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".svg.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
