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
PIECES_KEPT = 16  # pictures of digits and words the dial keeps (a few hundred kB each)
BREATH_WORDS = {"in": "breathe in", "out": "breathe out", "hold": "hold"}


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
        self._word = ""  # the breath word shown ("" without a pacer)
        self._ring: tuple[float, float] | None = None  # (radius, pen width) as painted
        self._background = QColor(LIGHT.window)
        self._pen = QPen()
        self._pen_key: tuple | None = None
        self._center = QPointF()
        self._size, self._middle = (0, 0), (0.0, 0.0)
        self._ring_size = (0.0, 3.0)  # largest radius, pen width (for this size)
        self._size_changed()
        # The digits and the breath word as painted, each kept as a small picture of its
        # own box (see _piece), the last few: a session's counts come round again.
        self._pieces: dict[tuple, tuple[QPixmap, QRect]] = {}
        self._shown: list[tuple[QPixmap, QRect]] | None = None  # the pieces painted now
        self._fonts_for: dict[tuple[int, int, str], tuple[QFont, QFont, QRectF]] = {}
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
        self._shown = None
        self.update()

    def set_time(self, seconds: float, color: QColor) -> None:
        """Show the seconds left; repaints only when the digits change, and then moves the
        pacer's ring too (in the same repaint, so the pacer need not wake for it)."""
        text = countdown_text(seconds)
        if self._elapsed_source is not None:
            elapsed = self._elapsed_source()
            self._hold_end = elapsed + seconds
        if text != self._text or color != self._color:
            self._text, self._color, self._shown = text, QColor(color), None
            if self._pacing and self._elapsed_source is not None:
                self._breath_elapsed = elapsed
                self._word, self._ring = self._breath_at(elapsed)
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
        self._word, self._ring = self._breath_at(self._breath_elapsed)
        self._shown = None
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
        """No animation for a hidden widget, and no pictures kept for it."""
        self._pacing = False
        self._timer.stop()
        self._pieces.clear()
        self._shown = None
        super().hideEvent(event)

    def showEvent(self, event) -> None:
        """Resume the pacer when shown again."""
        super().showEvent(event)
        self._sync_timer(running=True)

    def resizeEvent(self, event) -> None:
        """Size the ring and digits for the new size (a resize repaints everything anyway)."""
        self._size_changed()
        self._word, self._ring = self._breath_at(self._breath_elapsed)
        self._pieces.clear()
        self._fonts_for.clear()
        self._shown = None
        super().resizeEvent(event)

    def _size_changed(self) -> None:
        width, height = self.width(), self.height()
        radius_max = min(width, height) * 0.5
        self._ring_size = (radius_max, max(3.0, radius_max * 0.035))
        self._size, self._middle = (width, height), (width / 2, height / 2)
        self._center = QPointF(width / 2, height / 2)

    def pacer_frame(self) -> None:
        """A pacer frame: repaint the ring's square if it has moved by a pixel."""
        if self._elapsed_source is None:
            return
        self._breath_elapsed = elapsed = self._elapsed_source()
        if self._pacing:
            self._arm()
        word, ring = self._breath_at(elapsed)
        before = self._ring
        if word != self._word:
            self._word, self._ring, self._shown = word, ring, None
            self.update()  # the word under the digits changes too
        elif ring is not None and (before is None or abs(ring[0] - before[0]) >= RING_STEP_PX):
            self._ring = ring
            # the larger of two concentric squares holds both rings
            self.update(self.ring_rect(ring[0] if before is None else max(ring[0], before[0]),
                                       ring[1]))

    def breath(self) -> tuple[str, float] | None:
        """The pacer's current phase and size, or None when it is off."""
        if self._breathing is None:
            return None
        return breath_phase(self._breathing, self._breath_elapsed)

    def _breath_at(self, elapsed: float) -> tuple[str, tuple[float, float] | None]:
        """The breath word and the ring (radius, pen width) at `elapsed`, or ("", None)."""
        if self._breathing is None:
            return "", None
        phase, size = breath_phase(self._breathing, elapsed)
        radius_max, pen_width = self._ring_size
        return BREATH_WORDS[phase], (radius_max * (0.5 + 0.5 * size), pen_width)

    @property
    def ring_radius(self) -> float | None:
        """The radius of the ring as painted, or None when the pacer is off."""
        return None if self._ring is None else self._ring[0]

    def ring_rect(self, radius: float, pen_width: float) -> QRect:
        """The pixels that a ring of `radius` drawn `pen_width` wide can touch (worked out
        in plain numbers: it is asked for at every pacer frame)."""
        reach = radius + pen_width / 2 + 2  # and a pixel or two of antialiasing
        (width, height), (cx, cy) = self._size, self._middle
        left, top = max(0, math.floor(cx - reach)), max(0, math.floor(cy - reach))
        return QRect(left, top, min(width, math.ceil(cx + reach)) - left,
                     min(height, math.ceil(cy + reach)) - top)

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

    def _piece(self, key: tuple, text: str, font: QFont, color: QColor, rect: QRectF,
               flags: Qt.AlignmentFlag) -> tuple[QPixmap, QRect]:
        """`text` as drawText paints it in `rect`, as a picture of its box only (widget
        coordinates, whole pixels, two more for antialiasing), kept under `key` among the
        last few.

        Drawn once per text, font, colour and size rather than at each change: a 300-pixel
        digit is drawn as a path, and a session shows the same few counts again and again.
        """
        piece = self._pieces.get(key)
        if piece is not None:
            return piece
        ratio = self.devicePixelRatioF()
        box = QFontMetricsF(font).boundingRect(rect, flags, text).toAlignedRect() \
            .adjusted(-2, -2, 2, 2)
        picture = QPixmap(max(1, round(box.width() * ratio)), max(1, round(box.height() * ratio)))
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        painter = QPainter(picture)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(-box.x(), -box.y())  # whole pixels: the glyphs land as they would
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(rect, flags, text)
        painter.end()
        if len(self._pieces) >= PIECES_KEPT:
            self._pieces.pop(next(iter(self._pieces)))
        self._pieces[key] = piece = (picture, box)
        return piece

    def _fonts(self) -> tuple[QFont, QFont, QRectF]:
        """The digits' font, the breath word's and where the word goes, for this size and
        these digits (a font fitted to them is worked out once, not at every paint)."""
        key = (self.width(), self.height(), self._text if len(self._text) > 2 else "00")
        fonts = self._fonts_for.get(key)
        if fonts is None:
            if len(self._fonts_for) >= 64:  # m:ss counts are each their own key
                self._fonts_for.clear()
            font = self._digit_font()
            small = QFont(self.font())
            small.setPixelSize(max(12, int(self.height() * 0.07)))
            rect = QRectF(self.rect())
            baseline = rect.center().y() + QFontMetricsF(font).tightBoundingRect("0").height() / 2
            where = QRectF(rect.left(), baseline + 8, rect.width(), small.pixelSize() * 1.6)
            fonts = self._fonts_for[key] = (font, small, where)
        return fonts

    def _layer_pieces(self) -> list[tuple[QPixmap, QRect]]:
        """The digits and (while breathing) the breath word under them, as kept pictures."""
        font, small, where = self._fonts()
        size = (self.width(), self.height(), self.devicePixelRatioF(), self._theme.name)
        pieces = [self._piece((self._text, self._color.rgba(), *size), self._text, font,
                              self._color, QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter)]
        if self._word:
            pieces.append(self._piece(
                (self._word, font.pixelSize(), *size), self._word, small,
                QColor(self._theme.muted), where,
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop))
        return pieces

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint the background and the pacer ring, then the digits and word on top."""
        painter = QPainter(self)
        dirty = event.rect()
        painter.fillRect(dirty, self._background)
        ring = self._ring
        if ring is not None:
            # A ring, not a filled disc: filling a half-transparent disc this size every
            # frame was the pacer's whole cost.
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(self._ring_pen(ring[1]))
            painter.drawEllipse(self._center, ring[0], ring[0])
        if self._shown is None:
            self._shown = self._layer_pieces()
        for picture, box in self._shown:
            if box.intersects(dirty):  # the paint's clip keeps the copy to the dirty part
                painter.drawPixmap(box.topLeft(), picture)
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
