"""Pose files: `resources/poses/<exercise-id>.toml` gives the angles of each position.

A file names the exercise, which side of the body faces the viewer, the joint that stays
put while moving (`anchor`), the camera, optional props (a strap, a post) and one table per
position id. A position may start from a `base`: another position of the same file or a
shared pose of `_base.toml` (all-fours, lying on the back...), and then lists only what
differs. See docs in `resources/poses/README.md`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from backcoach.art.pose import (
    ANGLE_KEYS,
    HIGHLIGHT_GROUPS,
    JOINT_NAMES,
    NEUTRAL,
    SEGMENT_NAMES,
    Pose,
    Skeleton,
    build_skeleton,
)

BASE_FILE = "_base.toml"
PROP_KINDS = ("strap", "post")


class PoseError(ValueError):
    """A pose file is wrong; the message names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")


@dataclass(frozen=True)
class Camera:
    """Where the figure is seen from: azimuth turns round the vertical, elevation looks down.

    (0, 0) is the plain side view; elevation 90 looks straight down from the ceiling.
    """

    azimuth: float = 0.0
    elevation: float = 0.0


@dataclass(frozen=True)
class Prop:
    """Something besides the body: a strap looped round one foot, or a post to hold."""

    kind: str
    side: str = "l"
    x: float = 0.0
    z: float = 0.0
    height: float = 1.1


@dataclass(frozen=True)
class Scene:
    """All positions of one exercise, drawn with one camera and one framing."""

    exercise: str
    positions: dict[str, Pose]
    near: str = "left"
    anchor: str = "pelvis"
    camera: Camera = field(default_factory=Camera)
    props: tuple[Prop, ...] = ()
    origin: str = ""

    def skeleton(self, pose: Pose | str) -> Skeleton:
        """The posed skeleton of a pose or of a position id."""
        if isinstance(pose, str):
            pose = self.positions[pose]
        return build_skeleton(pose, self.near, self.anchor)


def _number(file: str, key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PoseError(file, key, f"must be a number, not {value!r}")
    return float(value)


def _angle(file: str, key: str, value: object) -> tuple[float, float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise PoseError(file, key, "must be an angle or [angle, angle out of the picture]")
        return _number(file, key, value[0]), _number(file, key, value[1])
    return _number(file, key, value), 0.0


def _highlight(file: str, key: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PoseError(file, key, "must be a list of body part names")
    known = SEGMENT_NAMES | set(HIGHLIGHT_GROUPS)
    for name in value:
        if name not in known:
            raise PoseError(file, key, f"unknown body part {name!r} (known: {', '.join(sorted(known))})")
    return frozenset(value)


class _Resolver:
    """Resolves `base` chains of position tables into full angle sets."""

    def __init__(self, file: str, own: dict, library: dict) -> None:
        self.file, self.own, self.library = file, own, library
        self.done: dict[str, dict[str, tuple[float, float]]] = {}

    def angles(self, name: str, table: dict, trail: tuple[str, ...] = (),
               shared: bool = False) -> dict:
        """The full angles of a position (or, with `shared`, of a base pose of the library)."""
        label = f"{BASE_FILE}:{name}" if shared else name
        if label in trail:
            raise PoseError(self.file, f"positions.{name}.base",
                            "bases go round in a circle: " + " -> ".join((*trail, label)))
        if not isinstance(table, dict):
            raise PoseError(self.file, name, "must be a table of angles")
        angles = dict(NEUTRAL)
        base = table.get("base")
        if base is not None:
            if not shared and base in self.own and base != name:
                angles.update(self.angles(base, self.own[base], (*trail, label)))
            elif base in self.library:
                angles.update(self.angles(base, self.library[base], (*trail, label), shared=True))
            else:
                raise PoseError(self.file, f"{name}.base",
                                f"names no position here nor in {BASE_FILE}: {base!r}")
        for key, value in table.items():
            if key in ("base", "highlight"):
                continue
            if key not in ANGLE_KEYS:
                raise PoseError(self.file, f"{name}.{key}", "unknown angle (known: "
                                + ", ".join(ANGLE_KEYS) + ")")
            angles[key] = _angle(self.file, f"{name}.{key}", value)
        return angles


def load_library(folder: Path) -> dict:
    """The shared base poses of `folder/_base.toml` (raw tables by name)."""
    path = folder / BASE_FILE
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    poses = data.get("poses", {})
    if set(data) - {"poses"} or not isinstance(poses, dict):
        raise PoseError(str(path), "", "must hold only [poses.<name>] tables")
    return poses


def scene_from_data(data: dict, file: str, library: dict | None = None) -> Scene:
    """Validate one pose file's data and build its Scene."""
    library = library or {}
    known = {"exercise", "near", "anchor", "highlight", "camera", "props", "positions"}
    for key in data:
        if key not in known:
            raise PoseError(file, key, "unknown key (known: " + ", ".join(sorted(known)) + ")")
    exercise = data.get("exercise")
    if not isinstance(exercise, str) or not exercise:
        raise PoseError(file, "exercise", "must name the exercise id")
    near = data.get("near", "left")
    if near not in ("left", "right"):
        raise PoseError(file, "near", f"must be \"left\" or \"right\", not {near!r}")
    anchor = data.get("anchor", "pelvis")
    if anchor not in JOINT_NAMES:
        raise PoseError(file, "anchor", f"unknown joint {anchor!r} (known: {', '.join(sorted(JOINT_NAMES))})")
    default_highlight = _highlight(file, "highlight", data.get("highlight", []))

    cam = data.get("camera", {})
    if not isinstance(cam, dict) or set(cam) - {"azimuth", "elevation"}:
        raise PoseError(file, "camera", "takes only azimuth and elevation (degrees)")
    camera = Camera(_number(file, "camera.azimuth", cam.get("azimuth", 0.0)),
                    _number(file, "camera.elevation", cam.get("elevation", 0.0)))

    props = []
    for i, table in enumerate(data.get("props", [])):
        where = f"props[{i}]"
        if not isinstance(table, dict) or table.get("kind") not in PROP_KINDS:
            raise PoseError(file, where, f"needs kind = one of {', '.join(PROP_KINDS)}")
        extra = set(table) - {"kind", "side", "x", "z", "height"}
        if extra:
            raise PoseError(file, f"{where}.{sorted(extra)[0]}", "unknown key")
        side = table.get("side", "l")
        if side not in ("l", "r"):
            raise PoseError(file, f"{where}.side", "must be \"l\" or \"r\"")
        props.append(Prop(table["kind"], side, _number(file, f"{where}.x", table.get("x", 0.0)),
                          _number(file, f"{where}.z", table.get("z", 0.0)),
                          _number(file, f"{where}.height", table.get("height", 1.1))))

    tables = data.get("positions")
    if not isinstance(tables, dict) or not tables:
        raise PoseError(file, "positions", "needs one [positions.<id>] table per position")
    resolver = _Resolver(file, tables, library)
    positions = {}
    for name, table in tables.items():
        angles = resolver.angles(name, table)
        highlight = (_highlight(file, f"positions.{name}.highlight", table["highlight"])
                     if "highlight" in table else default_highlight)
        positions[name] = Pose(angles, highlight)
    return Scene(exercise, positions, near, anchor, camera, tuple(props), file)


def load_scene(path: Path, library: dict | None = None) -> Scene:
    """Load and validate one pose file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PoseError(str(path), "", f"cannot be read: {exc}") from exc
    if library is None:
        library = load_library(path.parent)
    return scene_from_data(data, str(path), library)


def poses_dir() -> Path:
    """The folder of the built-in pose files."""
    from backcoach.resources import resources_dir

    return resources_dir() / "poses"


def load_scenes(folder: Path | None = None) -> dict[str, Scene]:
    """Every pose file of `folder` (default: the built-in one), by exercise id."""
    folder = folder or poses_dir()
    library = load_library(folder)
    scenes = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        scene = load_scene(path, library)
        scenes[scene.exercise] = scene
    return scenes
