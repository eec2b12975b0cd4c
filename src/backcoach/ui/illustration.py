"""Exercise illustrations on screen: the `IllustrationView` widget, thumbnails, the app icon.

Stills come from the generated files in `resources/illustrations/` (themed as they load and
cached per file and theme). A movement between two positions is drawn live from the pose
data (`backcoach.art`), interpolating the angles at no more than 12.5 frames a second; no
timer runs while the picture is still. Everything a session's pictures needed is let go
when it ends (`release_caches`, `IllustrationView.release`).

A movement's in-between poses sit on a grid of equal steps of the eased motion: no more
than the 12.5 frames a second can show where the motion is fastest (so each step is about
what one frame moves there), and no more than make the fastest joint travel FRAME_STEP_PX
on screen. The frame timer wakes when the next step is due, so the slow start and end of a
movement, and slow movements, are drawn with fewer frames, and no frame repeats the last.
Each frame is drawn from its SVG once, then copied from a picture kept for the current
exercise (see PICTURE_CACHE_BYTES), and a step to the next repaints only the box round the
pixels that differ (the moving limbs: a fifth to a half of the picture).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QBitmap, QColor, QIcon, QImage, QPainter, QPixmap, QRegion, QTransform
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget

from backcoach.art.palette import THEMES, apply_theme
from backcoach.catalog.model import Exercise
from backcoach.resources import resources_dir

if TYPE_CHECKING:  # the pose model is imported on the first movement, not at start-up
    from backcoach.art.pose import Pose
    from backcoach.art.render import View
    from backcoach.art.scene import Scene

FRAME_INTERVAL_MS = 80  # 12.5 frames a second at most: smooth for slow moves, light on the CPU
FRAME_STEPS = 48  # in-between poses per movement at most
MIN_FRAME_STEPS = 4  # even a movement of a few pixels is shown moving
FRAME_STEP_PX = 2.0  # on-screen travel of the fastest joint from one step to the next
MAX_FRAME_WAIT_MS = 1000  # the frame timer looks at the clock at least this often
MAX_CACHED_FRAMES = 600  # small SVG renderers, a few kB each
# A view also keeps the frames of its current exercise as pictures at its size: copying one
# costs a tenth of drawing it from its SVG, and an exercise replays its movements rep after
# rep. Bounded (a 3 s movement at 1366x768 needs about 23 MB, its way back none more) and
# emptied when the exercise changes, the size or theme changes or the view is hidden.
PICTURE_CACHE_BYTES = 32 * 1024 * 1024
_frames: dict[tuple, QSvgRenderer] = {}
VIEW_BOX = (480, 320)  # every illustration's viewBox (backcoach.art.render.WIDTH, HEIGHT)
ASPECT = VIEW_BOX[0] / VIEW_BOX[1]
ICON_FILE = "icons/backcoach.svg"  # as written by backcoach.art.build
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def _check_theme(name: str) -> str:
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; known: {', '.join(THEMES)}")
    return name


def illustration_path(exercise: Exercise | str, position_id: str) -> Path:
    """The illustration file of a position (an id alone follows the naming convention)."""
    if isinstance(exercise, Exercise):
        return resources_dir() / exercise.position(position_id).illustration
    return resources_dir() / "illustrations" / f"{exercise}-{position_id}.svg"


def describe(exercise: Exercise | str, position_id: str, mirrored: bool = False) -> str:
    """Words for a position's picture: the exercise and the position's precise name."""
    if isinstance(exercise, Exercise):
        text = f"{exercise.name}: {exercise.position(position_id).name}"
    else:
        text = f"{exercise}: {position_id}"
    return text + (" (mirrored, right side)" if mirrored else "")


@cache
def _themed_svg(path: Path, theme: str) -> bytes:
    """A file's SVG with the theme's colours (read once per file and theme)."""
    return apply_theme(path.read_text(encoding="utf-8"), theme).encode("utf-8")


_renderers: dict[tuple[Path, str], QSvgRenderer] = {}
# as backcoach.art.render.draw writes it
_BACKGROUND_RECT = f'<rect width="{VIEW_BOX[0]}" height="{VIEW_BOX[1]}" fill='.encode()


def _still(path: Path, theme: str) -> QSvgRenderer:
    """A cached renderer of a themed still."""
    key = (path, theme)
    renderer = _renderers.get(key)
    if renderer is None:
        renderer = QSvgRenderer(QByteArray(_themed_svg(path, theme)))
        if not renderer.isValid():
            raise ValueError(f"not a valid SVG illustration: {path}")
        _renderers[key] = renderer
    return renderer


@cache
def _fills_view_box(path: Path, theme: str) -> bool:
    """Whether a still paints its whole 3:2 box (a background rect), as generated ones do."""
    return _BACKGROUND_RECT in _themed_svg(path, theme)


@cache
def _scenes() -> dict[str, Scene]:
    try:
        from backcoach.art.scene import PoseError, load_scenes

        return load_scenes()
    except (PoseError, OSError):
        return {}


@cache
def _framing(exercise_id: str) -> View | None:
    scene = _scenes().get(exercise_id)
    from backcoach.art.render import frame_scene

    return None if scene is None else frame_scene(scene)


@cache
def _ease() -> Callable[[float], float]:
    """backcoach.art.pose.ease, imported once (an import statement per frame is not free)."""
    from backcoach.art.pose import ease

    return ease


@cache
def _travel(exercise_id: str, from_position: str, to_position: str) -> float:
    """How far the fastest-moving joint travels in a movement, in viewBox pixels."""
    scene, view = _scenes()[exercise_id], _framing(exercise_id)
    assert view is not None
    a, b = scene.positions[from_position], scene.positions[to_position]
    samples = 16  # the joints move on arcs: follow them in short straight pieces
    points = [{name: view.xy(p) for name, p in scene.skeleton(a.lerp(b, i / samples)).joints.items()}
              for i in range(samples + 1)]
    return max(sum(math.dist(points[i][name], points[i + 1][name]) for i in range(samples))
               for name in points[0])


def movement_preparation(moves: Iterable[tuple[str, str, str]]) -> Iterator[None]:
    """Work out ahead what drawing movements needs (the pose data, each exercise's framing,
    each movement's travel), yielding after each piece so that the caller can spread it over
    the event loop. Done lazily instead, the first movement of a session spent about 30 ms on
    it at the very moment its segment started, delaying that segment's cue."""
    scenes = _scenes()
    yield
    for exercise_id, from_position, to_position in dict.fromkeys(moves):
        scene = scenes.get(exercise_id)
        if scene is None or from_position not in scene.positions or \
                to_position not in scene.positions:
            continue
        _framing(exercise_id)
        yield
        _travel(exercise_id, from_position, to_position)
        yield


def release_caches() -> None:
    """Forget what a session's pictures needed: the frame and still renderers, the themed
    SVGs, the pose data and each exercise's framing and travels (about 2.5 MB of a session's
    memory). Called when a session ends; the next session's `prepare_movements` works the
    pose data out again ahead, and its stills and frames are drawn as the first session's were."""
    _frames.clear()
    _renderers.clear()
    for cached in (_themed_svg, _fills_view_box, _scenes, _framing, _travel):
        cached.cache_clear()


def frame_steps(travel_px: float, seconds: float) -> int:
    """Steps for a movement of `seconds` whose fastest joint travels `travel_px` on screen.

    The cosine ease moves at most pi/2 times its average speed, so at the frame rate
    (1000 / FRAME_INTERVAL_MS a second) the middle of the movement shows a new step in
    every frame; more steps could not be shown there, and at the slower start and end
    they would only add frames that move the figure less than a frame in the middle does.
    """
    by_rate = seconds * 1000 / FRAME_INTERVAL_MS * 2 / math.pi
    by_travel = travel_px / FRAME_STEP_PX
    return max(MIN_FRAME_STEPS, min(FRAME_STEPS, math.ceil(min(by_rate, by_travel) - 1e-9)))


def eased_time(eased: float) -> float:
    """The fraction of a movement's time at which the cosine ease reaches `eased` (0..1).

    The inverse of backcoach.art.pose.ease, kept here so that timing a frame needs no import.
    """
    return math.acos(1.0 - 2.0 * min(1.0, max(0.0, eased))) / math.pi


def _fit(bounds: QRectF) -> QRectF:
    """The largest 3:2 rectangle centred in `bounds`."""
    w, h = bounds.width(), bounds.height()
    if w / max(h, 1e-9) > ASPECT:
        w = h * ASPECT
    else:
        h = w / ASPECT
    return QRectF(bounds.x() + (bounds.width() - w) / 2, bounds.y() + (bounds.height() - h) / 2,
                  w, h)


def _inside_pixels(target: QRectF) -> QRect:
    """The whole pixels that `target` covers completely."""
    left, top = math.ceil(target.left()), math.ceil(target.top())
    right, bottom = math.floor(target.right()), math.floor(target.bottom())
    return QRect(left, top, max(0, right - left), max(0, bottom - top))


def margins(outer: QRect, inner: QRect) -> list[QRect]:
    """The parts of `outer` outside `inner` (a rectangle inside it), as up to four bands."""
    if inner.isEmpty():
        return [QRect(outer)]
    bands = [QRect(outer.left(), outer.top(), outer.width(), inner.top() - outer.top()),
             QRect(outer.left(), inner.bottom() + 1, outer.width(), outer.bottom() - inner.bottom()),
             QRect(outer.left(), inner.top(), inner.left() - outer.left(), inner.height()),
             QRect(inner.right() + 1, inner.top(), outer.right() - inner.right(), inner.height())]
    return [band for band in bands if not band.isEmpty()]


def changed_box(before: QImage, after: QImage) -> QRect:
    """The bounding box, in pixels, of the pixels that differ between two images of one size.

    All in Qt's C++: the difference of the two (black where equal), a one-bit mask of what
    is not black, and the region of that mask. An image with transparency counts a pixel as
    changed even where only its alpha makes the difference black-but-not-opaque: too much is
    repainted then, never too little.
    """
    diff = before.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    diff.setDevicePixelRatio(1.0)
    painter = QPainter(diff)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
    other = QImage(after)
    other.setDevicePixelRatio(1.0)
    painter.drawImage(0, 0, other)
    painter.end()
    # The mask marks the unchanged (opaque black) pixels; as a QBitmap they are its color0,
    # so the region, made of the color1 pixels, is the changed ones (a test pins this down).
    same = diff.createMaskFromColor(0xFF000000, Qt.MaskMode.MaskInColor)
    return QRegion(QBitmap.fromImage(same)).boundingRect()


def _paint(painter: QPainter, renderer: QSvgRenderer, target: QRectF, mirrored: bool) -> None:
    painter.save()
    if mirrored:
        painter.translate(target.x() * 2 + target.width(), 0)
        painter.scale(-1, 1)
    renderer.render(painter, target)
    painter.restore()


def thumbnail(exercise: Exercise | str, position_id: str, size: int, theme: str,
              mirrored: bool = False) -> QPixmap:
    """A position's picture `size` px wide (3:2, so two thirds as high) for cards and next-up."""
    renderer = _still(illustration_path(exercise, position_id), _check_theme(theme))
    height = max(1, round(size / ASPECT))
    image = QImage(size, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _paint(painter, renderer, QRectF(0, 0, size, height), mirrored)
    painter.end()
    return QPixmap.fromImage(image)


def app_icon() -> QIcon:
    """BackCoach's icon: the rendered PNGs at each size, and the SVG for any other size."""
    icons = resources_dir() / "icons"
    icon = QIcon()
    for size in ICON_SIZES:
        png = icons / "hicolor" / f"{size}x{size}" / "apps" / "backcoach.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    svg = resources_dir() / ICON_FILE
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def render_icon_png(size: int) -> QImage:
    """The app icon drawn from its SVG at `size` x `size` px (for the hicolor PNGs)."""
    renderer = QSvgRenderer(str(resources_dir() / ICON_FILE))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


class IllustrationView(QWidget):
    """Shows an exercise position, still or moving into the next, at the widget's full size.

    The picture keeps its 3:2 shape and is centred; `mirrored` flips it for the right side.
    `clock` (monotonic seconds) is injectable so tests need not wait in real time.
    """

    def __init__(self, parent: QWidget | None = None, theme: str = "light",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._theme = _check_theme(theme)
        self._clock = clock
        self._exercise: Exercise | str | None = None
        self._position: str | None = None
        self._mirrored = False
        self._renderer: QSvgRenderer | None = None
        self._fills = False  # whether the renderer paints its whole 3:2 box
        self._placement: tuple[QRectF, QRect, QRect] | None = None  # see _placed()
        self._blit = (QPointF(), QTransform())  # see _placed()
        self._frame_key: tuple | None = None  # the movement frame shown (None: a still)
        self._pictures: dict[tuple, QPixmap] = {}  # frame key -> the frame drawn at this size
        self._pictures_bytes = 0
        self._changes: dict[tuple, QRect] = {}  # see _changed_rect()
        self._backdrop: QColor | None = None
        # a movement in progress
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)  # armed for the moment the picture next changes
        # Precise: it is armed for the moment the next step is due, and a coarse timer may
        # fire a few ms early, find the same step and have to wake again.
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.next_frame)
        self._scene: Scene | None = None
        self._view: View | None = None
        self._poses: tuple[Pose, Pose] | None = None
        self._move_key: tuple[str, str, str] = ("", "", "")  # exercise, from, to
        self._steps = FRAME_STEPS  # in-between poses of the current movement
        self._step = -1  # the one shown
        self._frame_at = 0.0  # clock time it was shown
        self._started = 0.0
        self._seconds = 0.0
        self._paused_at: float | None = None
        self.progress = 1.0  # how far the current movement has gone (1.0 when still)
        # movements prepared ahead (see prepare_movements), a piece per event-loop turn
        self._preparation: Iterator[None] | None = None
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setInterval(0)
        self._prepare_timer.timeout.connect(self._prepare_step)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(96, 64)
        self.setAccessibleName("Exercise illustration")

    # ------------------------------------------------------------------ public API

    def theme(self) -> str:
        """The current theme's name."""
        return self._theme

    def set_theme(self, name: str) -> None:
        """Redraw in the theme "light", "dark" or "high-contrast"."""
        self._theme = _check_theme(name)
        self._forget_pictures()
        if self._poses is not None:
            self._render_frame(self.progress, force=True)
        else:
            self._show_still()
        self.update()

    def set_backdrop(self, color: QColor | None) -> None:
        """Paint the margins round the picture in `color`, the background behind the view.

        The view is then opaque, so that each movement frame repaints only the picture and
        not the styled backgrounds of the window behind it. None leaves the margins clear.
        """
        self._backdrop = None if color is None else QColor(color)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, color is not None)
        self.update()

    def show_position(self, exercise: Exercise | str, position_id: str,
                      mirrored: bool = False) -> None:
        """Show one position still (stopping any movement).

        No repaint when that still is on screen already: a hold that follows the movement
        into its position, or another hold of it (a still's picture is drawn from its SVG).
        A movement into this very still ends as it would have a moment later.
        """
        ex_id = exercise.id if isinstance(exercise, Exercise) else exercise
        if self._poses is not None and self._mirrored == mirrored and \
                (self._move_key[0], self._move_key[2]) == (ex_id, position_id):
            self._finish()
            self._describe()
            return
        shown = self._poses is None and self._frame_key is None and self._renderer is not None \
            and self._mirrored == mirrored and self._renderer is _renderers.get(
                (illustration_path(exercise, position_id), self._theme))
        self._stop()
        self._exercise, self._position, self._mirrored = exercise, position_id, mirrored
        self._show_still()
        self.progress = 1.0
        self._describe()
        if not shown:
            self.update()

    def animate(self, exercise: Exercise | str, from_position: str, to_position: str,
                seconds: float, mirrored: bool = False) -> None:
        """Move smoothly from one position to the other over `seconds`, then stay still.

        Without pose data for the exercise (a hand-drawn one) it shows the target at once.
        """
        ex_id = exercise.id if isinstance(exercise, Exercise) else exercise
        scene = _scenes().get(ex_id)
        if (scene is None or seconds <= 0 or from_position not in scene.positions
                or to_position not in scene.positions):
            self.show_position(exercise, to_position, mirrored)
            return
        # Its first frame is the start position's still, often the picture shown already.
        shown = self._poses is None and self._mirrored == mirrored and self._renderer is not None \
            and self._renderer is _renderers.get((illustration_path(exercise, from_position),
                                                  self._theme))
        self._stop()
        if self._pictures and next(iter(self._pictures))[0] != ex_id:
            self._forget_pictures()  # the last exercise's frames will not come round again
        self._frame_key = None  # a first frame repaints whole: the last one may be mirrored
        self._exercise, self._position, self._mirrored = exercise, to_position, mirrored
        self._scene, self._view = scene, _framing(ex_id)
        self._poses = (scene.positions[from_position], scene.positions[to_position])
        self._move_key = (ex_id, from_position, to_position)
        travel = _travel(*self._move_key) * _fit(QRectF(self.rect())).width() / VIEW_BOX[0]
        self._steps, self._step = frame_steps(travel, seconds), -1
        self._started, self._seconds, self._paused_at = self._clock(), float(seconds), None
        self.progress = 0.0
        self._describe()
        self._render_frame(0.0, repaint=not shown)
        if self.isVisible():
            self._arm()
        else:
            self._finish()

    def prepare_movements(self, moves: Iterable[tuple[str, str, str]]) -> None:
        """Prepare these movements (exercise id, from, to) in the background, one small piece
        per turn of the event loop, so that no movement's first frame has to."""
        self._preparation = movement_preparation(list(moves))
        self._prepare_timer.start()

    def stop_preparing(self) -> None:
        """Drop any preparation still to do (the session ended)."""
        self._prepare_timer.stop()
        self._preparation = None

    def is_preparing(self) -> bool:
        """True while prepare_movements still has work queued."""
        return self._prepare_timer.isActive()

    def _prepare_step(self) -> None:
        if self._preparation is None or next(self._preparation, StopIteration) is StopIteration:
            self.stop_preparing()

    def release(self) -> None:
        """Let go of the picture shown, the movement's pose data and the kept pictures (the
        session is over); nothing is shown until the next show_position or animate."""
        self._stop()
        self.stop_preparing()
        self._exercise = self._position = None
        self._renderer, self._fills, self._frame_key = None, False, None
        self._scene = self._view = None
        self._forget_pictures()
        self.progress = 1.0
        self.update()

    def pause_animation(self) -> None:
        """Freeze a movement where it is (the session was paused)."""
        if self._timer.isActive():
            self._paused_at = self._clock()
            self._timer.stop()

    def resume_animation(self) -> None:
        """Carry on a paused movement from where it stopped."""
        if self._paused_at is not None and self._poses is not None:
            paused_for = self._clock() - self._paused_at
            self._started += paused_for
            self._frame_at += paused_for
            self._paused_at = None
            self._arm()

    @property
    def movement_steps(self) -> int:
        """In-between steps of the current (or last) movement."""
        return self._steps

    def is_animating(self) -> bool:
        """True while a movement runs (its frame timer is active)."""
        return self._timer.isActive()

    # ------------------------------------------------------------------ internals

    def _describe(self) -> None:
        if self._exercise is None or self._position is None:
            return
        text = describe(self._exercise, self._position, self._mirrored)
        if text == self.accessibleName():
            return  # unchanged: no accessibility events for nothing
        self.setAccessibleName(text)
        self.setAccessibleDescription(f"Illustration of the position: {text}")
        self.setToolTip(text)

    def _show_still(self) -> None:
        """Show the current position's still picture."""
        self._frame_key = None
        if self._exercise is not None and self._position is not None:
            path = illustration_path(self._exercise, self._position)
            self._renderer = _still(path, self._theme)
            self._fills = _fills_view_box(path, self._theme)

    def _render_frame(self, t: float, force: bool = False, repaint: bool = True) -> None:
        """Show the step for time fraction `t`, unless it is the one shown (or `force`);
        `repaint` False when the picture on screen is already the same."""
        assert self._scene is not None and self._view is not None and self._poses is not None
        ease = _ease()
        # Frames sit on a fixed grid of steps per movement, so the reps after the first
        # replay cached renderers instead of redoing the pose maths and SVG parsing.
        step = round(ease(t) * self._steps)
        if step == self._step and not force:
            return
        self._step, self._frame_at = step, self._clock()
        ex_id, start, end = self._move_key
        first, last = self._poses
        if end < start and first.highlight == last.highlight:
            # The way back passes through the same poses: share the frames of the way there.
            start, end, first, last, step = end, start, last, first, self._steps - step
        key = (ex_id, start, end, self._theme, self._steps, step)
        shown, self._frame_key = self._frame_key, key
        renderer = _frames.get(key)
        if renderer is None:
            from backcoach.art.render import draw

            pose = first.lerp(last, step / self._steps)
            svg = apply_theme(draw(self._scene, pose, self._view), self._theme)
            renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
            if len(_frames) >= MAX_CACHED_FRAMES:
                _frames.pop(next(iter(_frames)))  # the oldest: movements come round again
            _frames[key] = renderer
        self._renderer, self._fills = renderer, True  # draw() paints a background rect
        if repaint:
            # Only what differs from the frame shown (if that is the step next to this one,
            # a still figure's picture); the margins round the picture stay as they are.
            changed = None if force or shown is None or shown[:5] != key[:5] \
                or abs(shown[5] - key[5]) != 1 else self._changed_rect(shown, key)
            self.update(self._placed()[2] if changed is None else changed)

    def next_frame(self) -> None:
        """Show a movement as it is now (a new frame only if its step has changed), and
        arm the frame timer for the moment it next changes."""
        if self._poses is None:
            self._timer.stop()
            return
        elapsed = (self._paused_at or self._clock()) - self._started
        self.progress = min(1.0, elapsed / self._seconds)
        if self.progress >= 1.0:
            self._finish()
        else:
            self._render_frame(self.progress)
            if self._paused_at is None:
                self._arm()

    def next_frame_due(self) -> float:
        """Clock time at which the picture next changes: when the eased motion reaches the
        next step (or the movement ends), but not sooner than a frame after the last one."""
        change = 1.0 if self._step >= self._steps else \
            eased_time((self._step + 0.5) / self._steps + 1e-9)
        return max(self._started + change * self._seconds,
                   self._frame_at + FRAME_INTERVAL_MS / 1000)

    def _arm(self) -> None:
        """Wake the frame timer when the picture next changes."""
        wait_ms = math.ceil((self.next_frame_due() - self._clock()) * 1000)
        self._timer.start(max(1, min(MAX_FRAME_WAIT_MS, wait_ms)))

    def _finish(self) -> None:
        """End the movement on the target's still (no repaint if its last step is shown:
        that is the same picture)."""
        last_step_shown = self._poses is not None and self._step == self._steps
        self._stop()
        self._show_still()
        self.progress = 1.0
        if not last_step_shown:
            self.update()

    def _stop(self) -> None:
        self._timer.stop()
        self._poses = None
        self._paused_at = None

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        """Hidden: no frames for nobody; jump to the end of any movement, free the pictures."""
        if self._poses is not None:
            self._finish()
        self._forget_pictures()
        super().hideEvent(event)

    def sizeHint(self) -> QSize:
        """A comfortable default size."""
        return QSize(480, 320)

    def hasHeightForWidth(self) -> bool:
        """The picture is 3:2."""
        return True

    def heightForWidth(self, width: int) -> int:
        """Height that fits the 3:2 picture."""
        return round(width / ASPECT)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        """Forget the placement and the pictures worked out for the old size."""
        self._placement = None
        self._forget_pictures()
        super().resizeEvent(event)

    def _placed(self) -> tuple[QRectF, QRect, QRect]:
        """Where the picture goes at this size: its rectangle, on whole pixels so that a
        frame drawn once can be copied (mirrored too) exactly where it would be drawn, the
        whole pixels it covers and the pixels it touches (the same three, but kept apart for
        clarity; worked out once per size, not once per frame)."""
        if self._placement is None:
            target = QRectF(_fit(QRectF(self.rect())).toRect())
            self._placement = (target, _inside_pixels(target), target.toAlignedRect())
            # where a kept picture is copied, and the flip that mirrors it in place
            self._blit = (target.topLeft(), QTransform(-1, 0, 0, 1, target.x() * 2 + target.width(), 0))
        return self._placement

    @property
    def picture_cache_bytes(self) -> int:
        """Memory taken by the frames kept as pictures."""
        return self._pictures_bytes

    def _forget_pictures(self) -> None:
        self._pictures.clear()
        self._pictures_bytes = 0
        self._changes.clear()

    def _changed_rect(self, shown: tuple, key: tuple) -> QRect | None:
        """The part of the view that differs between the frames `shown` and `key`, on screen
        (mirrored as shown), or None when either picture cannot be kept to compare.

        Between two steps of a movement only the moving limbs change: about a quarter of the
        picture, so a frame repaints and copies a quarter of the pixels. Worked out once per
        pair of steps from the kept pictures, then looked up rep after rep.
        """
        pair = (shown, key) if shown[5] < key[5] else (key, shown)
        placed = self._changes.get((pair, self._mirrored))
        if placed is not None:
            return placed
        box = self._changes.get(pair)
        if box is None:
            before = self._pictures.get(shown)
            if before is None or (key not in self._pictures and self._pictures_bytes
                                  + before.width() * before.height() * 4 > PICTURE_CACHE_BYTES):
                return None
            assert self._renderer is not None
            after = self._picture(key, self._renderer, self._placed()[0])  # kept for the paint
            box = changed_box(before.toImage(), after.toImage())
            ratio = before.devicePixelRatio()
            if ratio != 1:
                box = QRectF(box.x() / ratio, box.y() / ratio, box.width() / ratio,
                             box.height() / ratio).toAlignedRect()
            self._changes[pair] = box
        if box.isEmpty():
            placed = QRect()
        else:
            target, _inside, touched = self._placed()
            x = round(target.x()) + (round(target.width()) - box.x() - box.width()
                                     if self._mirrored else box.x())
            # a pixel more each way: at a fractional device pixel ratio a copy can land half over
            placed = QRect(x, round(target.y()) + box.y(), box.width(), box.height()) \
                .adjusted(-1, -1, 1, 1).intersected(touched)
        self._changes[(pair, self._mirrored)] = placed  # on screen, this side up
        return placed

    def _picture(self, key: tuple, renderer: QSvgRenderer, target: QRectF) -> QPixmap:
        """The frame `key` drawn (unmirrored) at the size of `target`, kept while it fits."""
        picture = self._pictures.get(key)
        if picture is None:
            ratio = self.devicePixelRatioF()
            picture = QPixmap(round(target.width() * ratio), round(target.height() * ratio))
            picture.setDevicePixelRatio(ratio)
            painter = QPainter(picture)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, target.width(), target.height()))
            painter.end()
            size = picture.width() * picture.height() * 4
            if self._pictures_bytes + size <= PICTURE_CACHE_BYTES:
                self._pictures[key] = picture
                self._pictures_bytes += size
        return picture

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        """Draw the current picture, centred and aspect-kept, and any backdrop round it."""
        target, inside, _touched = self._placed()
        painter = QPainter(self)
        renderer, key = self._renderer, self._frame_key
        if self._backdrop is not None:
            covered = inside if renderer is not None and self._fills else QRect()
            if not covered.contains(event.rect()):
                for band in margins(self.rect(), covered):
                    painter.fillRect(band, self._backdrop)
        if key is not None and renderer is not None:
            # a movement frame: as few calls as can be, there are ten of them a second
            picture = self._pictures.get(key) or self._picture(key, renderer, target)
            origin, mirror = self._blit
            if self._mirrored:
                painter.setTransform(mirror)
            painter.drawPixmap(origin, picture)
        elif renderer is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            _paint(painter, self._renderer, target, self._mirrored)
        painter.end()
