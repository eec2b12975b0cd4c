"""Draw a posed figure as SVG text, in one house style, with colour tokens (see `palette`).

The figure is built of capsules (limbs, elliptic trunk sections) and balls (head), so an
orthographic camera sees exact stadiums and circles whatever the angle. Parts are painted
back to front; each part is first drawn a little wider in the background colour so that
whatever it crosses shows a thin gap, which keeps limbs readable even at 64 px. Limbs on
the far side of the body are drawn lighter, the working part in the accent colour.

Every position of an exercise shares one framing (the union of all its positions), so a
still and an animation frame line up exactly and the figure never jumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape  # not xml.sax.saxutils: it imports urllib and http.client (13 ms)

from backcoach.art.palette import TOKENS
from backcoach.art.pose import (
    HEAD_RADIUS,
    NOSE_RADIUS,
    Pose,
    Skeleton,
    Vec,
    add,
    cross,
    dot,
    scale,
    sub,
    unit,
)
from backcoach.art.scene import Camera, Prop, Scene

WIDTH, HEIGHT = 480, 320  # the viewBox of every illustration (3:2)
MARGIN = 16.0  # px of the viewBox kept clear round the scene
MAX_SCALE = 230.0  # px per metre: lying figures all come out this size
GAP = 0.02  # metres of background drawn round each part where it crosses another
MAT_THICKNESS = 0.04
MAT_HALF_WIDTH = 0.33
MAT_MARGIN = 0.16  # metres of mat beyond the figure at each end
MAT_MIN_LENGTH = 1.3
STRAP_RADIUS = 0.012
POST_RADIUS = 0.035


@dataclass(frozen=True)
class View:
    """An orthographic camera plus the placement of the scene on the canvas."""

    right: Vec
    up: Vec
    toward: Vec  # towards the viewer: larger depth is nearer
    scale: float = 1.0
    ox: float = 0.0
    oy: float = 0.0
    mat: tuple[float, float] = (-0.8, 0.8)
    width: int = WIDTH
    height: int = HEIGHT

    @staticmethod
    def of(camera: Camera) -> View:
        """The unplaced view of a camera."""
        az, el = math.radians(camera.azimuth), math.radians(camera.elevation)
        toward = (math.sin(az) * math.cos(el), math.sin(el), math.cos(az) * math.cos(el))
        right = (math.cos(az), 0.0, -math.sin(az))
        return View(right, cross(toward, right), toward)

    def flat(self, p: Vec) -> tuple[float, float]:
        """Picture coordinates in metres (y up), before placing on the canvas."""
        return dot(p, self.right), dot(p, self.up)

    def xy(self, p: Vec) -> tuple[float, float]:
        """Canvas coordinates (px, y down)."""
        x, y = self.flat(p)
        return self.ox + self.scale * x, self.oy - self.scale * y

    def depth(self, p: Vec) -> float:
        """Distance towards the viewer."""
        return dot(p, self.toward)


def _half_width(view: View, seg) -> float:  # type: ignore[no-untyped-def]
    """Half the drawn width of a segment: round limbs keep theirs, trunk sections vary."""
    if seg.radius == seg.side_radius:
        return seg.radius
    axis = sub(seg.b, seg.a)
    ax, ay = dot(axis, view.right), dot(axis, view.up)
    n = math.hypot(ax, ay)
    if n < 1e-9:
        return max(seg.radius, seg.side_radius)
    across = add(scale(view.right, -ay / n), scale(view.up, ax / n))
    return math.hypot(seg.radius * dot(seg.front, across), seg.side_radius * dot(seg.left, across))


def _mat_corners(view: View) -> list[tuple[str, tuple[Vec, ...]]]:
    """The faces of the mat seen by the camera (colour role, 3-D corners), top face first."""
    x0, x1 = view.mat
    y0, y1 = -MAT_THICKNESS, 0.0
    z0, z1 = -MAT_HALF_WIDTH, MAT_HALF_WIDTH
    faces = [
        ((0.0, 1.0, 0.0), ((x0, y1, z0), (x1, y1, z0), (x1, y1, z1), (x0, y1, z1))),
        ((0.0, 0.0, 1.0), ((x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1))),
        ((0.0, 0.0, -1.0), ((x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0))),
        ((1.0, 0.0, 0.0), ((x1, y0, z0), (x1, y0, z1), (x1, y1, z1), (x1, y1, z0))),
        ((-1.0, 0.0, 0.0), ((x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0))),
    ]
    seen = [("mat" if i == 0 else "mat-edge", corners)
            for i, (normal, corners) in enumerate(faces) if dot(normal, view.toward) > 1e-6]
    if (seen and seen[0][0] != "mat") or view.toward[1] < 0.05:  # seen from the side: all mat
        seen = [("mat", corners) for _role, corners in seen]
    return seen


def _strap_points(skel: Skeleton, side: str) -> list[Vec]:
    """A strap from one hand round the sole of the foot on `side` and back to the other hand."""
    j = skel.joints
    ankle, toe, knee = j[f"ankle_{side}"], j[f"toe_{side}"], j[f"knee_{side}"]
    sole_dir = unit(sub(ankle, knee))
    sole = add(scale(add(ankle, toe), 0.5), scale(sole_dir, 0.05))
    hands = [scale(add(j[f"wrist_{s}"], j[f"fingers_{s}"]), 0.5) for s in ("l", "r")]
    return [hands[0], sole, hands[1]]


def _fmt(v: float) -> str:
    text = f"{v:.1f}"
    return "0.0" if text == "-0.0" else text


class _Canvas:
    """Collects SVG elements in painting order."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.parts: list[str] = []

    def line(self, a: Vec, b: Vec, half: float, colour: str, cap: str = "round") -> None:
        (x0, y0), (x1, y1) = self.view.xy(a), self.view.xy(b)
        width = 2 * half * self.view.scale
        cap_attr = "" if cap == "round" else f' stroke-linecap="{cap}"'
        self.parts.append(f'<path d="M{_fmt(x0)} {_fmt(y0)}L{_fmt(x1)} {_fmt(y1)}" '
                          f'stroke="{colour}" stroke-width="{_fmt(width)}"{cap_attr}/>')

    def curve(self, a: Vec, control: Vec, b: Vec, half: float, colour: str,
              cap: str = "round") -> None:
        (x0, y0), (cx, cy), (x1, y1) = (self.view.xy(p) for p in (a, control, b))
        cap_attr = "" if cap == "round" else f' stroke-linecap="{cap}"'
        self.parts.append(f'<path d="M{_fmt(x0)} {_fmt(y0)}Q{_fmt(cx)} {_fmt(cy)} '
                          f'{_fmt(x1)} {_fmt(y1)}" stroke="{colour}" '
                          f'stroke-width="{_fmt(2 * half * self.view.scale)}"{cap_attr}/>')

    def polyline(self, points: list[Vec], half: float, colour: str) -> None:
        coords = [self.view.xy(p) for p in points]
        d = "M" + "L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in coords)
        self.parts.append(f'<path d="{d}" stroke="{colour}" '
                          f'stroke-width="{_fmt(2 * half * self.view.scale)}"/>')

    def ball(self, centre: Vec, radius: float, colour: str) -> None:
        x, y = self.view.xy(centre)
        self.parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" '
                          f'r="{_fmt(radius * self.view.scale)}" fill="{colour}" stroke="none"/>')

    def polygon(self, corners: tuple[Vec, ...], colour: str) -> None:
        pts = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in (self.view.xy(c) for c in corners))
        self.parts.append(f'<polygon points="{pts}" fill="{colour}" stroke="none"/>')


def _paint_segment(canvas: _Canvas, seg, colour: str, gap_colour: str) -> None:  # type: ignore[no-untyped-def]
    """A segment's outline gap (skipping the start tucked into its parent), then its fill."""
    view = canvas.view
    half = _half_width(view, seg)
    if seg.name == "head":
        canvas.ball(seg.a, HEAD_RADIUS + GAP, gap_colour)
        return
    length = math.dist(view.flat(seg.a), view.flat(seg.b))
    if seg.trim <= 0.0:
        canvas.line(seg.a, seg.b, half + GAP, gap_colour)
    else:
        if length > seg.trim:
            start = add(seg.a, scale(sub(seg.b, seg.a), seg.trim / length))
            canvas.line(start, seg.b, half + GAP, gap_colour, cap="butt")
        canvas.ball(seg.b, half + GAP, gap_colour)
    canvas.line(seg.a, seg.b, half, colour)


def _mid(a: Vec, b: Vec) -> Vec:
    return scale(add(a, b), 0.5)


def _paint_torso(canvas: _Canvas, pelvis, chest, colours: dict[str, str],  # type: ignore[no-untyped-def]
                 lit: frozenset[str]) -> None:
    """The trunk as one smooth curve from the seat to the shoulders, lit in parts if need be."""
    half = (_half_width(canvas.view, pelvis) + _half_width(canvas.view, chest)) / 2
    a, w, c = pelvis.a, pelvis.b, chest.b
    canvas.curve(a, w, c, half + GAP, colours["background"])
    both = "pelvis" in lit and "chest" in lit
    canvas.curve(a, w, c, half, colours["accent" if both else "body"])
    if both:
        return
    mid = scale(add(add(a, c), scale(w, 2.0)), 0.25)  # the curve's point at t = 0.5
    if "pelvis" in lit:
        canvas.ball(a, half, colours["accent"])
        canvas.curve(a, _mid(a, w), mid, half, colours["accent"], cap="butt")
    if "chest" in lit:
        canvas.ball(c, half, colours["accent"])
        canvas.curve(mid, _mid(w, c), c, half, colours["accent"], cap="butt")


def _chains(skel: Skeleton) -> dict[str, list]:
    chains: dict[str, list] = {}
    for seg in skel.segments:
        chains.setdefault(seg.chain, []).append(seg)
    return chains


def _bounds(view: View, skel: Skeleton, props: tuple[Prop, ...]) -> list[tuple[float, float]]:
    """Picture-plane points (metres) that the drawing of a skeleton must contain."""
    pts: list[tuple[float, float]] = []
    for seg in skel.segments:
        half = HEAD_RADIUS if seg.name == "head" else _half_width(view, seg)
        for p in (seg.a, seg.b):
            x, y = view.flat(p)
            pts += [(x - half, y - half), (x + half, y + half)]
    for prop in props:
        if prop.kind == "post":
            base = (prop.x, 0.0, prop.z)
            for p in (base, add(base, (0.0, prop.height, 0.0))):
                x, y = view.flat(p)
                pts += [(x - POST_RADIUS, y - POST_RADIUS), (x + POST_RADIUS, y + POST_RADIUS)]
    return pts


def frame_scene(scene: Scene, extra: list[Pose] | None = None,
                width: int = WIDTH, height: int = HEIGHT, margin: float = MARGIN,
                max_scale: float = MAX_SCALE) -> View:
    """The view showing every position of `scene` (and `extra` poses) at one fixed framing."""
    view = View.of(scene.camera)
    skels = [scene.skeleton(p) for p in (*scene.positions.values(), *(extra or []))]
    xs = [p[0] for s in skels for seg in s.segments for p in (seg.a, seg.b)]
    xs += [prop.x for prop in scene.props if prop.kind == "post"]
    lo, hi = min(xs) - MAT_MARGIN, max(xs) + MAT_MARGIN
    if hi - lo < MAT_MIN_LENGTH:
        mid = (lo + hi) / 2
        lo, hi = mid - MAT_MIN_LENGTH / 2, mid + MAT_MIN_LENGTH / 2
    view = View(view.right, view.up, view.toward, mat=(lo, hi), width=width, height=height)
    pts = [pt for s in skels for pt in _bounds(view, s, scene.props)]
    pts += [view.flat(c) for _role, face in _mat_corners(view) for c in face]
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    s = min(max_scale, (width - 2 * margin) / (x1 - x0), (height - 2 * margin) / (y1 - y0))
    ox = width / 2 - s * (x0 + x1) / 2
    spare = height - s * (y1 - y0)
    oy = height - spare * 0.42 + s * y0  # a little below centre: the figure rests, not floats
    return View(view.right, view.up, view.toward, s, ox, oy, (lo, hi), width, height)


def draw(scene: Scene, pose: Pose, view: View, title: str = "",
         colours: dict[str, str] | None = None, background: str = "rect") -> str:
    """SVG text of `pose` seen through `view`, coloured with tokens (or `colours` by role)."""
    col = dict(TOKENS)
    if colours:
        col.update(colours)
    skel = scene.skeleton(pose)
    canvas = _Canvas(view)
    gap = col["background"]

    for role, face in _mat_corners(view):
        canvas.polygon(face, col[role])

    chains = _chains(skel)
    trunk_depth = sum(view.depth(s.a) + view.depth(s.b) for s in chains["trunk"]) / (
        2 * len(chains["trunk"]))
    items: list[tuple[float, int, str, object]] = []
    for name, segs in chains.items():
        depth = sum(view.depth(s.a) + view.depth(s.b) for s in segs) / (2 * len(segs))
        items.append((depth, 1 if name == "trunk" else 0, name, segs))
    for i, prop in enumerate(scene.props):
        if prop.kind == "strap":
            pts = _strap_points(skel, prop.side)
            depth = view.depth(skel.joints[f"ankle_{prop.side}"]) + 0.01
        else:
            pts = [(prop.x, -MAT_THICKNESS, prop.z), (prop.x, prop.height, prop.z)]
            depth = view.depth(pts[0])
        items.append((depth, 2, f"prop{i}", (prop, pts)))
    items.sort(key=lambda item: (item[0], item[1]))

    for depth, _prio, name, payload in items:
        if name.startswith("prop"):
            prop, pts = payload  # type: ignore[misc]
            radius = STRAP_RADIUS if prop.kind == "strap" else POST_RADIUS
            canvas.polyline(pts, radius + GAP * 0.6, gap)
            canvas.polyline(pts, radius, col["prop"])
            continue
        far = name != "trunk" and depth < trunk_depth - 0.04
        segs = list(payload)  # type: ignore[call-overload]
        if name == "trunk":
            _paint_torso(canvas, segs[0], segs[1], col, skel.highlight)
            segs = segs[2:]
        for seg in segs:
            lit = seg.name in skel.highlight
            role = ("accent" if lit else "body") + ("-far" if far else "")
            _paint_segment(canvas, seg, col[role], gap)
            if seg.name == "head":
                canvas.ball(skel.joints["nose"], NOSE_RADIUS, col[role])
                canvas.ball(seg.a, HEAD_RADIUS, col[role])

    w, h = view.width, view.height
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" '
            f'width="{w}" height="{h}" viewBox="0 0 {w} {h}">')
    out = [head]
    if title:
        out.append(f"<title>{escape(title, quote=False)}</title>")
    if background == "rect":
        out.append(f'<rect width="{w}" height="{h}" fill="{col["background"]}"/>')
    elif background:
        out.append(background)
    out.append('<g fill="none" stroke-linecap="round" stroke-linejoin="round">')
    out.extend(canvas.parts)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_position(scene: Scene, position_id: str, title: str = "") -> str:
    """The SVG text of one position of a scene, in the scene's shared framing."""
    return draw(scene, scene.positions[position_id], frame_scene(scene), title)
