"""The follow-along screen: what to do now, for how long, on which side, and what is next.

Everything shown is derived from (timeline, engine position): the view keeps no copy of
the session's state, so pausing, skipping or a clock jump can never make it disagree
with the engine.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QAction, QColor, QPixmap
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from backcoach.catalog.model import Exercise
from backcoach.session.events import SegmentStarted, State, StateChanged
from backcoach.session.plan import Segment, SegmentKind, Side, Timeline
from backcoach.ui.driver import EngineDriver
from backcoach.ui.illustration import IllustrationView, release_caches, thumbnail
from backcoach.ui.theme import LIGHT, Theme
from backcoach.ui.widgets import CountdownDial, SessionProgress, SideBadge, format_clock

THUMB_SIZE = 72


def side_words(segment: Segment) -> str:
    """The word in the side badge for a segment."""
    if segment.kind is SegmentKind.GET_READY:
        return "GET READY"
    if segment.kind is SegmentKind.SWITCH:
        return "SWITCH"
    if segment.kind is SegmentKind.REST:
        return "REST"
    return {Side.LEFT: "LEFT", Side.RIGHT: "RIGHT", Side.BOTH: "BOTH"}[segment.side]


def describe_segment(timeline: Timeline, segment: Segment) -> str:
    """One sentence for screen readers when a segment starts."""
    exercise = timeline.exercise(segment)
    seconds = round(segment.duration)
    if segment.kind is SegmentKind.GET_READY:
        return f"Get ready: {exercise.name}. {exercise.setup} {seconds} seconds."
    if segment.kind is SegmentKind.SWITCH:
        return f"{exercise.switch_cue}. {seconds} seconds."
    if segment.kind is SegmentKind.REST:
        return f"{segment.label}, {seconds} seconds. Next: {exercise.name}."
    side = "" if segment.side is Side.BOTH else f"{segment.side.value} side, "
    return f"{exercise.name}, {side}{segment.label}, {seconds} seconds."


def next_up_text(timeline: Timeline, segment: Segment) -> str:
    """What comes after `segment`, in a few words."""
    if segment.index + 1 >= len(timeline.segments):
        return "Finish"
    nxt = timeline.segments[segment.index + 1]
    exercise = timeline.exercise(nxt)
    side = "" if nxt.side is Side.BOTH else f" ({nxt.side.value})"
    if nxt.opens_exercise:
        return f"Rest, then {exercise.name}"
    if segment.opens_exercise:
        return f"{exercise.name}: {nxt.label}{side}"
    if nxt.kind is SegmentKind.SWITCH:
        return exercise.switch_cue
    if nxt.kind is SegmentKind.REST:
        return f"{nxt.label} {round(nxt.duration)} s"
    return f"{nxt.label}{side}"


class WrapLabel(QLabel):
    """A word-wrapped label that measures each of its texts once.

    Every new text lays the whole window out again, and on the way Qt asks each wrapped
    label of the page for its size and its height at several widths, each answer laying
    the text out from scratch: 0.6 ms of a segment change, most of its relayout. A
    session's texts come round rep after rep, so the answers are kept, per text (and
    width), for as long as the font and style stay the same.
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.setWordWrap(True)
        # (text, width) -> height; (text, -1) -> size hint; (text, -2) -> minimum size hint
        self._sizes: dict[tuple[str, int], QSize] = {}

    def setText(self, text: str) -> None:
        """Show `text`. A rich text is laid out at once: laid out in the paint (as QLabel does
        after a new text), its layout asks for a second repaint of the label, and the whole
        window's dirty region with it."""
        if text == self.text():
            return
        super().setText(text)
        if self.textFormat() is Qt.TextFormat.RichText or (
                self.textFormat() is Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)):
            super().heightForWidth(max(1, self.width()))

    def _known(self, key: tuple[str, int]) -> QSize | None:
        if len(self._sizes) >= 256:  # a bound, not a policy: a session has a few dozen
            self._sizes.clear()
        return self._sizes.get(key)

    def heightForWidth(self, width: int) -> int:
        """The height at `width`, measured once per text and width."""
        key = (self.text(), width)
        size = self._known(key)
        if size is None:
            size = self._sizes[key] = QSize(width, super().heightForWidth(width))
        return size.height()

    def sizeHint(self) -> QSize:
        """The preferred size, measured once per text."""
        key = (self.text(), -1)
        size = self._known(key)
        if size is None:
            size = self._sizes[key] = super().sizeHint()
        return QSize(size)

    def minimumSizeHint(self) -> QSize:
        """The smallest size, measured once per text."""
        key = (self.text(), -2)
        size = self._known(key)
        if size is None:
            size = self._sizes[key] = super().minimumSizeHint()
        return QSize(size)

    def changeEvent(self, event: QEvent) -> None:
        """A new font or style measures the texts anew."""
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._sizes.clear()
        super().changeEvent(event)


class SessionView(QWidget):
    """Shows one running session; bound to an EngineDriver by `bind`."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self._theme = LIGHT
        self._driver: EngineDriver | None = None
        self._timeline: Timeline | None = None
        self._shown_index = -1
        # next-up pictures of this session: (exercise, position, mirrored, theme) -> pixmap
        self._thumbs: dict[tuple[str, str, bool, str], QPixmap] = {}

        self.title = QLabel(objectName="exerciseName")
        self.title.setProperty("role", "title")
        self.step = WrapLabel(objectName="stepLabel")
        self.step.setProperty("role", "subtitle")
        self.counter = QLabel(objectName="counter")
        self.counter.setProperty("role", "subtitle")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.paused_label = QLabel("Paused: press Space to carry on", objectName="pausedLabel")
        self.paused_label.setProperty("role", "subtitle")
        self.paused_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.paused_label.hide()

        self.illustration = IllustrationView()
        self.illustration.setSizePolicy(QSizePolicy.Policy.Expanding,
                                        QSizePolicy.Policy.Expanding)
        self.side_badge = SideBadge()
        self.countdown = CountdownDial()

        self.cautions = QFrame(objectName="cautions")
        self.cautions_label = WrapLabel(objectName="cautionsText")
        self.cautions_label.setAccessibleName("Cautions")
        self.cautions_label.setStyleSheet("font-size: 12pt;")
        cl = QHBoxLayout(self.cautions)
        cl.setContentsMargins(14, 10, 14, 10)
        cl.addWidget(self.cautions_label)

        self.next_thumb = QLabel(objectName="nextThumb")
        self.next_thumb.setFixedSize(THUMB_SIZE, THUMB_SIZE)
        self.next_label = WrapLabel(objectName="nextLabel")
        self.next_label.setAccessibleName("Next up")
        self.next_label.setStyleSheet("font-size: 13pt;")
        next_box = QHBoxLayout()
        next_box.addWidget(self.next_thumb)
        next_box.addWidget(self.next_label, 1)

        self.progress = SessionProgress()
        self.elapsed_label = QLabel(objectName="elapsed")
        self.elapsed_label.setProperty("role", "muted")
        self.remaining_label = QLabel(objectName="remaining")
        self.remaining_label.setProperty("role", "muted")
        self.remaining_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        header = QGridLayout()
        header.addWidget(self.title, 0, 0)
        header.addWidget(self.counter, 0, 1)
        header.addWidget(self.step, 1, 0, 1, 2)
        header.setColumnStretch(0, 1)

        # Left: what to do (picture, cautions, what is next). Right: side and time, as
        # tall as possible so the digits stay readable from the floor.
        left = QVBoxLayout()
        left.addWidget(self.illustration, 1)
        left.addWidget(self.cautions)
        left.addLayout(next_box)

        right = QVBoxLayout()
        right.addWidget(self.side_badge, 2)
        right.addWidget(self.countdown, 9)
        right.addWidget(self.paused_label)

        middle = QHBoxLayout()
        middle.addLayout(left, 11)
        middle.addSpacing(12)
        middle.addLayout(right, 9)

        times = QHBoxLayout()
        times.addWidget(self.elapsed_label)
        times.addWidget(self.progress, 1)
        times.addWidget(self.remaining_label)

        controls = QHBoxLayout()
        controls.addStretch(1)
        self.buttons: dict[str, QToolButton] = {}
        for key in ("previous", "pause", "next", "restart", "mute", "leave"):
            button = QToolButton(objectName=f"{key}Button")
            button.setDefaultAction(actions[key])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumSize(120, 46)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.buttons[key] = button
            controls.addWidget(button)
        controls.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 12, 24, 12)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addLayout(middle, 1)
        layout.addLayout(times)
        layout.addLayout(controls)

    # -- theme -----------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        """Recolour the painted widgets and the illustration."""
        self._theme = theme
        self.countdown.set_theme(theme)
        self.progress.set_theme(theme)
        self.illustration.set_theme(theme.illustration_theme)
        if self._timeline is not None:
            self._fix_time_label_sizes(self._timeline.total or 1.0)
        self.illustration.set_backdrop(QColor(theme.window))  # opaque: frames repaint it alone
        if self._driver is not None:
            self._show_segment(self._driver.engine.segment, force=True)

    # -- binding ---------------------------------------------------------------------
    def bind(self, driver: EngineDriver) -> None:
        """Follow a new session."""
        if self._driver is not None:
            self.unbind()
        self._driver = driver
        self._timeline = driver.engine.timeline
        self._shown_index = -1
        total = self._timeline.total or 1.0
        self.progress.set_ticks([start / total for start in self._timeline.exercise_starts()])
        self._fix_time_label_sizes(total)
        driver.segment_started.connect(self._on_segment_started)
        driver.state_changed.connect(self._on_state_changed)
        driver.display_tick.connect(self.refresh)
        self._show_segment(driver.engine.segment, force=True)
        self.refresh()
        self.illustration.prepare_movements(
            (s.exercise_id, s.from_position, s.position) for s in self._timeline.segments
            if s.kind is SegmentKind.MOVE)

    def unbind(self) -> None:
        """Stop following the current session."""
        if self._driver is None:
            return
        for signal, slot in ((self._driver.segment_started, self._on_segment_started),
                             (self._driver.state_changed, self._on_state_changed),
                             (self._driver.display_tick, self.refresh)):
            signal.disconnect(slot)
        self.countdown.set_breathing(None)
        # The session is over: its pictures and pose data can go (the window shows the
        # summary or home, which need none of them). A next session's bind prepares its
        # movements again ahead, and draws its stills and frames as the first one did.
        self.illustration.release()
        release_caches()
        self.next_thumb.clear()
        self._thumbs.clear()
        self._driver = None
        self._timeline = None
        self._shown_index = -1

    def _fix_time_label_sizes(self, total: float) -> None:
        """Give the elapsed and remaining times one fixed size, wide enough for any time in
        this session: a label whose size can change asks the whole window to lay itself out
        again each time its text changes, which was once a second."""
        pattern = format_clock(total).translate(str.maketrans("0123456789", "0000000000"))
        for label, sign in ((self.elapsed_label, ""), (self.remaining_label, "-")):
            label.ensurePolished()
            metrics = label.fontMetrics()
            width = max(metrics.horizontalAdvance(sign + pattern.replace("0", digit))
                        for digit in "0123456789")
            label.setFixedSize(math.ceil(width) + 2, metrics.height())

    # -- updates ---------------------------------------------------------------------
    def _on_segment_started(self, event: SegmentStarted) -> None:
        self._show_segment(event.segment)
        if self._timeline is not None and self.isVisible():
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(
                self, describe_segment(self._timeline, event.segment)))

    def _on_state_changed(self, event: StateChanged) -> None:
        paused = event.new is State.PAUSED
        self.paused_label.setVisible(paused)
        if paused and event.reason == "clock-jump":
            self.paused_label.setText("Paused after a long gap (did the computer sleep?): "
                                      "press Space to carry on")
        else:
            self.paused_label.setText("Paused: press Space to carry on")
        running = event.new is State.RUNNING
        self.countdown.set_running(running)
        if paused:
            self.illustration.pause_animation()
        elif running:
            self.illustration.resume_animation()

    def _show_segment(self, segment: Segment, force: bool = False) -> None:
        if self._timeline is None or (segment.index == self._shown_index and not force):
            return
        self._shown_index = segment.index
        timeline = self._timeline
        exercise = timeline.exercise(segment)
        n_exercises = len(timeline.exercises)
        self.title.setText(exercise.name)
        if segment.kind is SegmentKind.GET_READY:
            self.step.setText(f"Get into position: {exercise.setup}")
        elif segment.opens_exercise:
            self.step.setText(f"Rest. Next: {exercise.setup}")
        elif segment.kind is SegmentKind.SWITCH:
            self.step.setText(f"{exercise.switch_cue}: {segment.side.value} side next")
        else:
            self.step.setText(segment.label)
        parts = [f"Exercise {segment.exercise_index + 1} of {n_exercises}"]
        if segment.is_work and segment.reps > 1:
            parts.append(f"rep {segment.rep} of {segment.reps}")
        if segment.is_work and segment.sets > 1:
            parts.append(f"set {segment.set} of {segment.sets}")
        self.counter.setText(" · ".join(parts))

        color = (self._theme.color("rest") if segment.kind is SegmentKind.REST
                 else self._theme.side_color(segment.side.value))
        self.side_badge.set_side(side_words(segment), color)
        self._countdown_color = color
        mirrored = segment.side is Side.RIGHT
        if segment.kind is SegmentKind.MOVE and self._driver is not None:
            remaining = self._driver.engine.segment_remaining()
            self.illustration.animate(exercise, segment.from_position, segment.position,
                                      remaining, mirrored)
            if self._driver.engine.state is State.PAUSED:
                self.illustration.pause_animation()
        else:
            self.illustration.show_position(exercise, segment.position, mirrored)

        if segment.breathing and exercise.breathing is not None and self._driver is not None:
            self.countdown.set_breathing(exercise.breathing, self._driver.engine.segment_elapsed)
            self.countdown.set_running(self._driver.engine.state is State.RUNNING)
        else:
            self.countdown.set_breathing(None)

        self.cautions_label.setText("\n".join(f"⚠  {c}" for c in exercise.cautions))
        self.next_label.setText(f"<b>Next:</b> {next_up_text(timeline, segment)}")
        if segment.index + 1 < len(timeline.segments):
            nxt = timeline.segments[segment.index + 1]
            self.next_thumb.setPixmap(self._thumbnail(timeline.exercise(nxt), nxt.position,
                                                      nxt.side is Side.RIGHT))
        else:
            self.next_thumb.setPixmap(QPixmap())
        # Lay the window out for the new texts now, before the repaint they asked for: laid
        # out after it (each layout up to the window's, a turn of the event loop each), the
        # labels measured on the way asked for a second repaint.
        widget: QWidget | None = self
        while widget is not None:
            if (layout := widget.layout()) is not None:
                layout.activate()
            widget = widget.parentWidget()

    def _thumbnail(self, exercise: Exercise, position: str, mirrored: bool) -> QPixmap:
        """A next-up picture, drawn once per session: a session shows the same few again and
        again, and drawing one from its SVG cost more than the rest of a new segment's
        texts; the label, given the very pixmap it shows, does not even repaint."""
        theme = self._theme.illustration_theme
        key = (exercise.id, position, mirrored, theme)
        pixmap = self._thumbs.get(key)
        if pixmap is None:
            pixmap = self._thumbs[key] = thumbnail(exercise, position, THUMB_SIZE, theme,
                                                   mirrored=mirrored)
        return pixmap

    def refresh(self) -> None:
        """Redraw what depends on time: countdown, progress, elapsed and remaining."""
        if self._driver is None or self._timeline is None:
            return
        engine = self._driver.engine
        self._show_segment(engine.segment)
        self.countdown.set_time(engine.segment_remaining(), self._countdown_color)
        position = engine.position()
        total = self._timeline.total or 1.0
        self.progress.set_fraction(position / total)
        elapsed, remaining = format_clock(position), format_clock(engine.remaining())
        if self.elapsed_label.text() != elapsed:
            self.elapsed_label.setText(elapsed)
        if self.remaining_label.text() != f"-{remaining}":
            self.remaining_label.setText(f"-{remaining}")
