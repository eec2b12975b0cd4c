"""Painted widgets of the session screen: the countdown with its breathing pacer, the side
badge and the session progress bar.

They are painted rather than built from labels so that a screen reader is not told about
every tick: their accessible names are fixed, and the window announces each new segment
once instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from backcoach.catalog.model import Breathing
from backcoach.ui.theme import LIGHT, Theme

PACER_FPS = 8  # smooth enough for a circle that grows over seconds, cheap on the CPU
RING_ALPHA = 130  # the pacer ring's opacity over the dial's background
RING_STEP_PX = 1.0  # the ring is repainted once its radius has changed by this much


def format_clock(seconds: float) -> str:
    """m:ss for a number of seconds (rounded up, as a countdown shows it)."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60}:{whole % 60:02d}"


def countdown_text(seconds: float) -> str:
    """What the big countdown shows: plain seconds under a minute, else m:ss."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return str(whole) if whole < 60 else format_clock(whole)


def blend(color: QColor, alpha: int, background: QColor) -> QColor:
    """The opaque colour that `color` at `alpha` (0..255) makes over an opaque `background`."""
    a = alpha / 255
    return QColor(round(color.red() * a + background.red() * (1 - a)),
                  round(color.green() * a + background.green() * (1 - a)),
                  round(color.blue() * a + background.blue() * (1 - a)))


def breath_phase(pattern: Breathing, elapsed: float) -> tuple[str, float]:
    """Where in the breath we are: ('in'|'hold'|'out', circle size 0..1)."""
    t = elapsed % pattern.cycle
    if t < pattern.inhale:
        return "in", t / pattern.inhale
    t -= pattern.inhale
    if t < pattern.hold_in:
        return "hold", 1.0
    t -= pattern.hold_in
    if t < pattern.exhale:
        return "out", 1.0 - t / pattern.exhale
    return "hold", 0.0


class CountdownDial(QWidget):
    """The big countdown, with a breathing circle that grows on "in" and shrinks on "out".

    Digits are sized from the widget's height so that they stay readable from across a
    room (the window makes this widget at least a quarter of its height tall).

    The dial paints its own background (the theme's window colour), so Qt need not repaint
    the styled page behind it, and the pacer repaints only the square round its ring, and
    only once the ring has grown or shrunk by a pixel. Its frames fall on eighths of the
    countdown's seconds, and the ring moves with the digits at each whole second, so that
    the two share that repaint.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Time left in this step")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._theme = LIGHT
        self._text = ""
        self._color = QColor(LIGHT.text)
        self._breathing: Breathing | None = None
        self._breath_elapsed = 0.0
        self._elapsed_source = None  # callable giving seconds into the hold
        self._ring: tuple[float, float] | None = None  # (radius, pen width) as painted
        self._background = QColor(LIGHT.window)
        self._pen = QPen()
        self._pen_key: tuple | None = None
        self._layer: QPixmap | None = None
        self._layer_key: tuple | None = None
        self._layer_bounds = QRect()  # where the layer is not transparent
        self._hold_end: float | None = None  # where the hold ends on the elapsed clock
        self._pacing = False  # the pacer runs (breathing, running, shown)
        # Frames at even eighths of a second counted back from the hold's end, except the
        # whole seconds: the countdown's new digits repaint the dial then, and draw the ring.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.pacer_frame)

    def set_theme(self, theme: Theme) -> None:
        """Use the theme's colours."""
        self._theme = theme
        self._background = QColor(theme.window)
        self.update()

    def set_time(self, seconds: float, color: QColor) -> None:
        """Show the seconds left; repaints only when the digits change, and then moves the
        pacer's ring too (in the same repaint, so the pacer need not wake for it)."""
        text = countdown_text(seconds)
        if self._elapsed_source is not None:
            elapsed = self._elapsed_source()
            self._hold_end = elapsed + seconds
        if text != self._text or color != self._color:
            self._text, self._color = text, QColor(color)
            if self._pacing and self._elapsed_source is not None:
                self._breath_elapsed = elapsed
                self._ring = self._ring_now()
                self._arm()
            self.update()

    @property
    def text(self) -> str:
        """The digits currently shown."""
        return self._text

    def set_breathing(self, pattern: Breathing | None, elapsed_source=None) -> None:
        """Run the pacer for `pattern` (None hides it); `elapsed_source()` gives hold time."""
        self._breathing = pattern
        self._elapsed_source = elapsed_source
        self._hold_end = None  # until set_time says how long this hold is
        if elapsed_source is not None:
            self._breath_elapsed = elapsed_source()  # not the last hold's phase for a frame
        self._ring = self._ring_now()
        self._pacing = False
        self._sync_timer(running=True)
        self.update()

    def set_running(self, running: bool) -> None:
        """Freeze the pacer while paused (and stop its timer)."""
        self._sync_timer(running)

    def _sync_timer(self, running: bool) -> None:
        active = running and self._breathing is not None and self._elapsed_source is not None
        if active and not self._pacing:
            self._pacing = True
            self._arm()
        elif not active:
            self._pacing = False
            self._timer.stop()

    def _arm(self) -> None:
        """Wake for the next pacer frame: the next eighth of a second before the hold's end
        that is not a whole second (or an eighth from now while the hold's end is unknown)."""
        if self._hold_end is None:
            wait = 1 / PACER_FPS
        else:
            left = self._hold_end - self._breath_elapsed
            frame = math.ceil(left * PACER_FPS - 1e-6) - 1  # at `frame` eighths before the end
            if frame % PACER_FPS == 0:
                frame -= 1  # a whole second: the new digits draw it
            wait = left - frame / PACER_FPS
        self._timer.start(max(1, round(wait * 1000)))

    def hideEvent(self, event) -> None:
        """No animation for a hidden widget."""
        self._pacing = False
        self._timer.stop()
        super().hideEvent(event)

    def showEvent(self, event) -> None:
        """Resume the pacer when shown again."""
        super().showEvent(event)
        self._sync_timer(running=True)

    def resizeEvent(self, event) -> None:
        """Size the ring for the new size (a resize repaints everything anyway)."""
        self._ring = self._ring_now()
        super().resizeEvent(event)

    def pacer_frame(self) -> None:
        """A pacer frame: repaint the ring's square if it has moved by a pixel."""
        if self._elapsed_source is None:
            return
        word = self._breath_word()
        self._breath_elapsed = self._elapsed_source()
        if self._pacing:
            self._arm()
        ring, before = self._ring_now(), self._ring
        if self._breath_word() != word:
            self._ring = ring
            self.update()  # the word under the digits changes too
        elif ring is not None and (before is None or abs(ring[0] - before[0]) >= RING_STEP_PX):
            self._ring = ring
            dirty = self.ring_rect(*ring)
            if before is not None:
                dirty = dirty.united(self.ring_rect(*before))
            self.update(dirty)

    def breath(self) -> tuple[str, float] | None:
        """The pacer's current phase and size, or None when it is off."""
        if self._breathing is None:
            return None
        return breath_phase(self._breathing, self._breath_elapsed)

    def _breath_word(self) -> str:
        breath = self.breath()
        if breath is None:
            return ""
        return {"in": "breathe in", "out": "breathe out", "hold": "hold"}[breath[0]]

    def _ring_now(self) -> tuple[float, float] | None:
        """(radius, pen width) of the pacer ring for the current breath, or None when off."""
        breath = self.breath()
        if breath is None:
            return None
        radius_max = min(self.width(), self.height()) * 0.5
        return radius_max * (0.5 + 0.5 * breath[1]), max(3.0, radius_max * 0.035)

    @property
    def ring_radius(self) -> float | None:
        """The radius of the ring as painted, or None when the pacer is off."""
        return None if self._ring is None else self._ring[0]

    def ring_rect(self, radius: float, pen_width: float) -> QRect:
        """The pixels that a ring of `radius` drawn `pen_width` wide can touch."""
        reach = radius + pen_width / 2 + 2  # and a pixel or two of antialiasing
        return QRectF(self.width() / 2 - reach, self.height() / 2 - reach, 2 * reach, 2 * reach) \
            .toAlignedRect().intersected(self.rect())

    def _ring_pen(self, width: float) -> QPen:
        key = (self._color.rgba(), self._theme.window, width)
        if self._pen_key != key:
            self._pen, self._pen_key = QPen(self.ring_color(), width), key
        return self._pen

    def ring_color(self) -> QColor:
        """The ring's colour: the digits' colour, see-through, laid over the background.

        Mixed once here rather than blended by the painter: a translucent antialiased stroke
        this size cost several times as much to paint as an opaque one of the same look.
        """
        return blend(self._color, RING_ALPHA, QColor(self._theme.window))

    def digit_height(self) -> float:
        """Pixel height of the digits as painted (tested against the window height)."""
        return QFontMetricsF(self._digit_font()).tightBoundingRect("0").height()

    def _digit_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setFeature(QFont.Tag("tnum"), 1)  # digits of equal width: no jitter
        size = max(24, int(self.height() * 0.8))
        font.setPixelSize(size)
        sample = self._text if len(self._text) > 2 else "00"
        while size > 24 and QFontMetricsF(font).horizontalAdvance(sample) > self.width() * 0.96:
            size = int(size * 0.92)
            font.setPixelSize(size)
        return font

    def _digits_layer(self) -> QPixmap:
        """The digits and breath word, rendered once per change: each pacer frame then only
        draws a circle and copies this layer, instead of laying out 300-pixel glyphs."""
        word = self._breath_word()
        ratio = self.devicePixelRatioF()
        key = (self._text, self._color.rgba(), word, self.width(), self.height(), ratio,
               self._theme.name)
        if self._layer_key == key and self._layer is not None:
            return self._layer
        layer = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
        layer.setDevicePixelRatio(ratio)
        layer.fill(Qt.GlobalColor.transparent)
        painter = QPainter(layer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect())
        font = self._digit_font()
        painter.setFont(font)
        painter.setPen(self._color)
        bounds = painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._text)
        if word:
            small = QFont(self.font())
            small.setPixelSize(max(12, int(self.height() * 0.07)))
            painter.setFont(small)
            painter.setPen(QColor(self._theme.muted))
            baseline = rect.center().y() + QFontMetricsF(font).tightBoundingRect("0").height() / 2
            bounds = bounds.united(painter.drawText(
                QRectF(rect.left(), baseline + 8, rect.width(), small.pixelSize() * 1.6),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, word))
        painter.end()
        self._layer, self._layer_key = layer, key
        self._layer_bounds = bounds.toAlignedRect().adjusted(-2, -2, 2, 2)  # antialiasing
        return layer

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the background and the pacer ring, then the cached digits layer on top."""
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._background)
        if self._ring is not None:
            radius, pen_width = self._ring
            # A ring, not a filled disc: filling a half-transparent disc this size every
            # frame was the pacer's whole cost.
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(self._ring_pen(pen_width))
            painter.drawEllipse(QPointF(self.width() / 2, self.height() / 2), radius, radius)
        layer = self._digits_layer()
        area = self._layer_bounds.intersected(event.rect())  # copy no transparent pixels
        if not area.isEmpty():
            ratio = layer.devicePixelRatio()
            painter.drawPixmap(QRectF(area), layer, QRectF(area.x() * ratio, area.y() * ratio,
                                                            area.width() * ratio,
                                                            area.height() * ratio))
        painter.end()


class SideBadge(QWidget):
    """LEFT / RIGHT / BOTH in huge letters, in the side's colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Working side")
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._text = ""
        self._color = QColor(LIGHT.both)

    @property
    def text(self) -> str:
        """The word shown."""
        return self._text

    def set_side(self, text: str, color: QColor) -> None:
        """Show `text` (e.g. "LEFT") in `color`; repaints only when either changes."""
        if text == self._text and QColor(color) == self._color:
            return
        self._text, self._color = text, QColor(color)
        self.setAccessibleDescription(text)
        self.update()

    def sizeHint(self) -> QSize:
        """Tall enough for big letters."""
        return QSize(300, 110)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the side word as large as fits."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        size = int(self.height() * 0.8)
        font.setPixelSize(max(12, size))
        while size > 12 and QFontMetricsF(font).horizontalAdvance(self._text) > self.width() * 0.95:
            size = int(size * 0.9)
            font.setPixelSize(size)
        painter.setFont(font)
        painter.setPen(self._color)
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._text)
        painter.end()


class SessionProgress(QWidget):
    """A bar over the whole session with a tick where each exercise begins."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Session progress")
        self.setMinimumHeight(18)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints the window colour
        self._fraction = 0.0
        self._ticks: list[float] = []
        self._theme = LIGHT

    def set_theme(self, theme: Theme) -> None:
        """Use the theme's colours."""
        self._theme = theme
        self.update()

    def set_ticks(self, fractions: Sequence[float]) -> None:
        """Where exercises begin, as fractions of the session."""
        self._ticks = list(fractions)
        self.update()

    def set_fraction(self, fraction: float) -> None:
        """How much of the session is done (0..1); repaints only on a visible change."""
        fraction = min(1.0, max(0.0, fraction))
        if abs(fraction - self._fraction) * max(1, self.width()) >= 0.5 or fraction in (0.0, 1.0):
            self._fraction = fraction
            self.update()

    @property
    def fraction(self) -> float:
        """The fraction shown."""
        return self._fraction

    def sizeHint(self) -> QSize:
        """A slim bar."""
        return QSize(400, 18)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Background, track, fill, then the exercise ticks."""
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(self._theme.window))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 3, -1, -3)
        radius = rect.height() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self._theme.border))
        painter.drawRoundedRect(rect, radius, radius)
        if self._fraction > 0:
            done = QRectF(rect)
            done.setWidth(max(rect.height(), rect.width() * self._fraction))
            painter.setBrush(QColor(self._theme.accent))
            painter.drawRoundedRect(done, radius, radius)
        painter.setPen(QPen(QColor(self._theme.text), 2))
        for tick in self._ticks:
            x = rect.left() + rect.width() * tick
            painter.drawLine(QPointF(x, rect.top() - 2), QPointF(x, rect.bottom() + 2))
        painter.end()
