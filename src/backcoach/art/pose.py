"""A posable human figure kept as data: joint angles in, a 3-D skeleton out (no Qt, no I/O).

Angles are written as if drawing a side view: degrees counter-clockwise from "pointing right"
(0 = right, 90 = up, 180 = left, 270 = down), each with an optional second number, the angle
out of the picture plane, away from the body's midline (a knee falling open, an arm held out
to the side). Every segment's angle is absolute in the figure's own frame, not relative to
its parent, so "thigh_l = 100" reads as "the left thigh points up and a little left".

The figure frame is the side view itself: x to the right, y up, z towards the viewer. The
side named `near` faces the viewer. Once posed, the whole figure can be rolled about its x
axis (`roll`, for lying on one side) and tilted in the picture (`tilt`), is slid so that its
`anchor` joint stays put, and is
set down so that its lowest point rests on the mat (y = 0). A camera (azimuth, elevation)
then looks at it; see `render`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Vec = tuple[float, float, float]

SIDES = ("l", "r")
LIMB_SEGMENTS = ("thigh", "shin", "foot", "upper_arm", "forearm", "hand")
TRUNK_KEYS = ("trunk", "chest", "neck", "head")
SCALAR_KEYS = ("head_turn", "roll", "tilt")
LIMB_KEYS = tuple(f"{seg}_{side}" for side in SIDES for seg in LIMB_SEGMENTS)
ANGLE_KEYS = TRUNK_KEYS + SCALAR_KEYS + LIMB_KEYS

# Proportions of an adult about 1.75 m tall, in metres.
LENGTH = {
    "lumbar": 0.22, "thorax": 0.30, "neck": 0.09, "head": 0.10,
    "thigh": 0.44, "shin": 0.42, "foot": 0.17,
    "upper_arm": 0.29, "forearm": 0.25, "hand": 0.08,
}
WIDTH = {
    "thigh": 0.15, "shin": 0.10, "foot": 0.085,
    "upper_arm": 0.095, "forearm": 0.08, "hand": 0.07, "neck": 0.085,
}
# The trunk's section is elliptic: (front-to-back, side-to-side) half-widths.
TRUNK_SECTION = (0.115, 0.17)
HEAD_RADIUS = 0.115
NOSE_RADIUS = 0.036
HIP_HALF_WIDTH = 0.09
SHOULDER_HALF_WIDTH = 0.17
SHOULDER_DROP = 0.05  # shoulder joints sit this far below the base of the neck
SHOULDER_BACK = 0.04  # ... and this far behind the spine's line
CHEST_TOP_INSET = 0.08  # the chest's rounded top ends this far short of the neck base

# A neutral pose (lying on the back, head to the right) that every pose starts from.
NEUTRAL: dict[str, tuple[float, float]] = {
    "trunk": (0.0, 0.0), "chest": (0.0, 0.0), "neck": (0.0, 0.0), "head": (0.0, 0.0),
    "head_turn": (0.0, 0.0), "roll": (0.0, 0.0), "tilt": (0.0, 0.0),
    **{f"thigh_{s}": (183.0, 0.0) for s in SIDES},
    **{f"shin_{s}": (182.0, 0.0) for s in SIDES},
    **{f"foot_{s}": (105.0, 0.0) for s in SIDES},
    **{f"upper_arm_{s}": (182.0, 0.0) for s in SIDES},
    **{f"forearm_{s}": (181.0, 0.0) for s in SIDES},
    **{f"hand_{s}": (180.0, 0.0) for s in SIDES},
}

# Names a pose's `highlight` may use besides single segments.
HIGHLIGHT_GROUPS = {
    **{f"leg_{s}": (f"thigh_{s}", f"shin_{s}", f"foot_{s}") for s in SIDES},
    **{f"arm_{s}": (f"upper_arm_{s}", f"forearm_{s}", f"hand_{s}") for s in SIDES},
    "trunk": ("pelvis", "chest"),
    "head": ("neck", "head"),
}
SEGMENT_NAMES = frozenset(("pelvis", "chest", "neck", "head", *LIMB_KEYS))
JOINT_NAMES = frozenset((
    "pelvis", "waist", "neck", "head", "nose",
    *(f"{j}_{s}" for s in SIDES for j in ("hip", "knee", "ankle", "toe",
                                          "shoulder", "elbow", "wrist", "fingers")),
))


def expand_highlight(names: tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """Segment names for highlight names, expanding groups such as `leg_l`."""
    out: set[str] = set()
    for name in names:
        out.update(HIGHLIGHT_GROUPS.get(name, (name,)))
    return frozenset(out)


# ---------------------------------------------------------------- small vector helpers


def add(a: Vec, b: Vec) -> Vec:
    """a + b."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def sub(a: Vec, b: Vec) -> Vec:
    """a - b."""
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def scale(a: Vec, k: float) -> Vec:
    """a * k."""
    return (a[0] * k, a[1] * k, a[2] * k)


def dot(a: Vec, b: Vec) -> float:
    """The dot product."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec, b: Vec) -> Vec:
    """The cross product."""
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def unit(a: Vec) -> Vec:
    """a scaled to length 1 (or a itself if it is zero)."""
    n = math.sqrt(dot(a, a))
    return a if n < 1e-12 else scale(a, 1.0 / n)


def direction(angle: float, out: float = 0.0, side: float = 1.0) -> Vec:
    """A unit vector at `angle` degrees in the picture plane, tilted `out` degrees towards z*side."""
    a, o = math.radians(angle), math.radians(out)
    return (math.cos(o) * math.cos(a), math.cos(o) * math.sin(a), side * math.sin(o))


# ---------------------------------------------------------------- poses


@dataclass(frozen=True)
class Pose:
    """One still position of the figure: every angle of ANGLE_KEYS, and what is highlighted."""

    angles: dict[str, tuple[float, float]]
    highlight: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        missing = set(ANGLE_KEYS) - set(self.angles)
        if missing:
            raise ValueError(f"pose lacks angles: {', '.join(sorted(missing))}")

    def lerp(self, other: Pose, t: float) -> Pose:
        """The pose a fraction `t` (0..1) of the way to `other`; highlights switch at the end."""
        t = min(1.0, max(0.0, t))
        angles = {key: (a0 + (a1 - a0) * t, o0 + (o1 - o0) * t)
                  for key, (a0, o0) in self.angles.items()
                  for a1, o1 in (other.angles[key],)}
        return Pose(angles, other.highlight if t > 0.0 else self.highlight)


def ease(t: float) -> float:
    """Smooth start and stop (cosine ease-in-out) for a movement fraction 0..1."""
    t = min(1.0, max(0.0, t))
    return 0.5 - 0.5 * math.cos(math.pi * t)


@dataclass(frozen=True)
class Segment:
    """One drawable piece of the posed figure: a capsule from a to b (or, for the head, a ball).

    `radius` is the front-to-back half-width and `side_radius` the side-to-side one (equal for
    round limbs); `front` and `left` orient an elliptic trunk section. `trim` is how much of
    the start sits inside the parent and is drawn without an outline, so joints stay seamless.
    """

    name: str
    chain: str
    a: Vec
    b: Vec
    radius: float
    side_radius: float
    front: Vec
    left: Vec
    trim: float = 0.0

    def moved(self, fn) -> Segment:  # type: ignore[no-untyped-def]
        """This segment with points mapped by fn(point) and directions by fn.direction."""
        return Segment(self.name, self.chain, fn(self.a), fn(self.b), self.radius,
                       self.side_radius, fn.direction(self.front), fn.direction(self.left),
                       self.trim)

    def lowest(self) -> float:
        """The lowest y of the segment's surface."""
        up = (0.0, 1.0, 0.0)
        axis = unit(sub(self.b, self.a))
        r = math.sqrt((self.radius * dot(self.front, up)) ** 2
                      + (self.side_radius * dot(self.left, up)) ** 2
                      + (self.radius * dot(axis, up)) ** 2)
        if self.radius == self.side_radius:
            r = self.radius
        return min(self.a[1], self.b[1]) - r


@dataclass(frozen=True)
class Skeleton:
    """A posed figure in world coordinates (metres; y up, the mat's top at y = 0)."""

    segments: tuple[Segment, ...]
    joints: dict[str, Vec]
    face: Vec  # unit vector from the head's centre towards the nose
    highlight: frozenset[str] = field(default_factory=frozenset)


class _Map:
    """A rigid map: roll about the x axis, tilt about the z axis, then shift; also of directions."""

    def __init__(self, roll: float = 0.0, tilt: float = 0.0, shift: Vec = (0.0, 0.0, 0.0)) -> None:
        r, t = math.radians(roll), math.radians(tilt)
        self.c, self.s = math.cos(r), math.sin(r)
        self.tc, self.ts = math.cos(t), math.sin(t)
        self.shift = shift

    def direction(self, v: Vec) -> Vec:
        x, y, z = v[0], v[1] * self.c - v[2] * self.s, v[1] * self.s + v[2] * self.c
        return (x * self.tc - y * self.ts, x * self.ts + y * self.tc, z)

    def __call__(self, p: Vec) -> Vec:
        return add(self.direction(p), self.shift)


def build_skeleton(pose: Pose, near: str = "left", anchor: str = "pelvis") -> Skeleton:
    """Pose the figure: forward kinematics, roll, anchor on x = 0, then rest it on the mat."""
    ang = pose.angles
    left: Vec = (0.0, 0.0, 1.0) if near == "left" else (0.0, 0.0, -1.0)
    turn_front = 90.0 if near == "left" else -90.0  # front is the spine turned this way
    lateral = {"l": left, "r": scale(left, -1.0)}
    side_sign = {"l": left[2], "r": -left[2]}

    def spine(key: str) -> tuple[Vec, Vec]:
        a = ang[key][0]
        return direction(a), direction(a + turn_front)

    joints: dict[str, Vec] = {}
    segs: list[Segment] = []
    pelvis: Vec = (0.0, 0.0, 0.0)
    up_p, front_p = spine("trunk")
    waist = add(pelvis, scale(up_p, LENGTH["lumbar"]))
    up_c, front_c = spine("chest")
    neck_base = add(waist, scale(up_c, LENGTH["thorax"]))
    up_n, _ = spine("neck")
    skull = add(neck_base, scale(up_n, LENGTH["neck"]))
    up_h, front_h = spine("head")
    head = add(skull, scale(up_h, LENGTH["head"]))
    joints.update(pelvis=pelvis, waist=waist, neck=neck_base, head=head)

    tr, tl = TRUNK_SECTION
    segs.append(Segment("pelvis", "trunk", pelvis, waist, tr, tl, front_p, left))
    chest_top = sub(neck_base, scale(up_c, CHEST_TOP_INSET))
    segs.append(Segment("chest", "trunk", waist, chest_top, tr, tl, front_c, left, trim=tr))
    segs.append(Segment("neck", "trunk", sub(neck_base, scale(up_n, 0.06)), skull,
                        WIDTH["neck"] / 2, WIDTH["neck"] / 2, front_c, left, trim=0.11))
    segs.append(Segment("head", "trunk", head, head, HEAD_RADIUS, HEAD_RADIUS, front_h, left))

    t = math.radians(ang["head_turn"][0])
    face = unit(add(scale(front_h, math.cos(t)), scale(left, math.sin(t))))

    for s in SIDES:
        hip = add(pelvis, scale(lateral[s], HIP_HALF_WIDTH))
        shoulder = add(sub(neck_base, add(scale(up_c, SHOULDER_DROP), scale(front_c, SHOULDER_BACK))),
                       scale(lateral[s], SHOULDER_HALF_WIDTH))
        chains = (
            (f"leg_{s}", hip, (("thigh", "hip", "knee"), ("shin", "knee", "ankle"),
                               ("foot", "ankle", "toe")), 0.09),
            (f"arm_{s}", shoulder, (("upper_arm", "shoulder", "elbow"),
                                    ("forearm", "elbow", "wrist"),
                                    ("hand", "wrist", "fingers")), 0.07),
        )
        for chain, start, parts, first_trim in chains:
            joints[parts[0][1] + "_" + s] = start
            point, trim = start, first_trim
            for seg, _j0, j1 in parts:
                a, o = ang[f"{seg}_{s}"]
                end = add(point, scale(direction(a, o, side_sign[s]), LENGTH[seg]))
                r = WIDTH[seg] / 2
                segs.append(Segment(f"{seg}_{s}", chain, point, end, r, r, front_p, left,
                                    trim=trim))
                joints[f"{j1}_{s}"] = end
                point, trim = end, r

    roll = _Map(ang["roll"][0], ang["tilt"][0])
    segs = [seg.moved(roll) for seg in segs]
    joints = {name: roll(p) for name, p in joints.items()}
    face = roll.direction(face)

    joints["nose"] = add(joints["head"], scale(face, HEAD_RADIUS - NOSE_RADIUS * 0.3))
    anchor_point = joints[anchor]
    lowest = min(min(seg.lowest() for seg in segs), joints["nose"][1] - NOSE_RADIUS)
    shift = _Map(shift=(-anchor_point[0], -lowest, 0.0))
    return Skeleton(tuple(seg.moved(shift) for seg in segs),
                    {name: shift(p) for name, p in joints.items()},
                    face, expand_highlight(pose.highlight))
