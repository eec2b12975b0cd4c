"""Exercise illustrations on screen: the `IllustrationView` widget, thumbnails, the app icon.

Stills come from the generated files in `resources/illustrations/` (themed as they load and
cached per file and theme). A movement between two positions is drawn live from the pose
data (`backcoach.art`), interpolating the angles at no more than 12.5 frames a second; no
timer runs while the picture is still.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QSizePolicy, QWidget

from backcoach.art.palette import THEMES, apply_theme
from backcoach.catalog.model import Exercise
from backcoach.resources import resources_dir

if TYPE_CHECKING:  # the pose model is imported on the first movement, not at start-up
    from backcoach.art.pose import Pose
    from backcoach.art.render import View
    from backcoach.art.scene import Scene

FRAME_INTERVAL_MS = 80  # 12.5 frames a second: smooth for slow moves, light on the CPU
FRAME_STEPS = 48  # in-between poses per movement (a 4 s move shows about 50 frames)
MAX_CACHED_FRAMES = 600  # small SVG renderers, a few kB each
_frames: dict[tuple, QSvgRenderer] = {}
ASPECT = 3 / 2  # every illustration's viewBox (backcoach.art.render.WIDTH / HEIGHT)
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


def _fit(bounds: QRectF) -> QRectF:
    """The largest 3:2 rectangle centred in `bounds`."""
    w, h = bounds.width(), bounds.height()
    if w / max(h, 1e-9) > ASPECT:
        w = h * ASPECT
    else:
        h = w / ASPECT
    return QRectF(bounds.x() + (bounds.width() - w) / 2, bounds.y() + (bounds.height() - h) / 2,
                  w, h)


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
        # a movement in progress
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_INTERVAL_MS)
        self._timer.timeout.connect(self._next_frame)
        self._scene: Scene | None = None
        self._view: View | None = None
        self._poses: tuple[Pose, Pose] | None = None
        self._move_key: tuple[str, str, str] = ("", "", "")  # exercise, from, to
        self._started = 0.0
        self._seconds = 0.0
        self._paused_at: float | None = None
        self.progress = 1.0  # how far the current movement has gone (1.0 when still)
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
        if self._poses is not None:
            self._render_frame(self.progress)
        elif self._exercise is not None and self._position is not None:
            self._renderer = _still(illustration_path(self._exercise, self._position), self._theme)
        self.update()

    def show_position(self, exercise: Exercise | str, position_id: str,
                      mirrored: bool = False) -> None:
        """Show one position still (stopping any movement)."""
        self._stop()
        self._exercise, self._position, self._mirrored = exercise, position_id, mirrored
        self._renderer = _still(illustration_path(exercise, position_id), self._theme)
        self.progress = 1.0
        self._describe()
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
        self._stop()
        self._exercise, self._position, self._mirrored = exercise, to_position, mirrored
        self._scene, self._view = scene, _framing(ex_id)
        self._poses = (scene.positions[from_position], scene.positions[to_position])
        self._move_key = (ex_id, from_position, to_position)
        self._started, self._seconds, self._paused_at = self._clock(), float(seconds), None
        self.progress = 0.0
        self._describe()
        self._render_frame(0.0)
        if self.isVisible():
            self._timer.start()
        else:
            self._finish()

    def pause_animation(self) -> None:
        """Freeze a movement where it is (the session was paused)."""
        if self._timer.isActive():
            self._paused_at = self._clock()
            self._timer.stop()

    def resume_animation(self) -> None:
        """Carry on a paused movement from where it stopped."""
        if self._paused_at is not None and self._poses is not None:
            self._started += self._clock() - self._paused_at
            self._paused_at = None
            self._timer.start()

    def is_animating(self) -> bool:
        """True while a movement runs (its frame timer is active)."""
        return self._timer.isActive()

    # ------------------------------------------------------------------ internals

    def _describe(self) -> None:
        if self._exercise is None or self._position is None:
            return
        text = describe(self._exercise, self._position, self._mirrored)
        self.setAccessibleName(text)
        self.setAccessibleDescription(f"Illustration of the position: {text}")
        self.setToolTip(text)

    def _render_frame(self, t: float) -> None:
        assert self._scene is not None and self._view is not None and self._poses is not None
        # Frames sit on a fixed grid of FRAME_STEPS per movement, so the reps after the
        # first replay cached renderers instead of redoing the pose maths and SVG parsing.
        step = round(t * FRAME_STEPS)
        key = (*self._move_key, self._theme, step)
        renderer = _frames.get(key)
        if renderer is None:
            from backcoach.art.pose import ease
            from backcoach.art.render import draw

            pose = self._poses[0].lerp(self._poses[1], ease(step / FRAME_STEPS))
            svg = apply_theme(draw(self._scene, pose, self._view), self._theme)
            renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
            if len(_frames) >= MAX_CACHED_FRAMES:
                _frames.pop(next(iter(_frames)))  # the oldest: movements come round again
            _frames[key] = renderer
        self._renderer = renderer
        self.update()

    def _next_frame(self) -> None:
        if self._poses is None:
            self._timer.stop()
            return
        elapsed = (self._paused_at or self._clock()) - self._started
        self.progress = min(1.0, elapsed / self._seconds)
        if self.progress >= 1.0:
            self._finish()
        else:
            self._render_frame(self.progress)

    def _finish(self) -> None:
        """End the movement on the target's still."""
        self._stop()
        if self._exercise is not None and self._position is not None:
            self._renderer = _still(illustration_path(self._exercise, self._position), self._theme)
        self.progress = 1.0
        self.update()

    def _stop(self) -> None:
        self._timer.stop()
        self._poses = None
        self._paused_at = None

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        """Hidden: no frames for nobody; jump to the end of any movement."""
        if self._poses is not None:
            self._finish()
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

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        """Draw the current picture, centred and aspect-kept."""
        if self._renderer is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint(painter, self._renderer, _fit(QRectF(self.rect())), self._mirrored)
        painter.end()
