"""The session page repaints only what changed, and what it leaves on screen is what a full paint draws."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QRect
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from tests.helpers.app import build_test_app, step
from tests.helpers.clock import FakeClock
from tests.helpers.events import EventCounter

from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Breathing, Level
from backcoach.ui.illustration import IllustrationView, changed_box
from backcoach.ui.session_view import WrapLabel
from backcoach.ui.theme import LIGHT
from backcoach.ui.widgets import PACER_FPS, CountdownDial

CATALOG = load_builtin_catalog()


def _record_updates(widget: QWidget) -> list[QRect | None]:
    """Replace `widget.update` so that each call is recorded (None for the whole widget)."""
    calls: list[QRect | None] = []
    widget.update = lambda *args: calls.append(QRect(args[0]) if args else None)  # type: ignore
    return calls


def _on_screen(widget: QWidget) -> QImage:
    """What the window system holds for `widget` (partial repaints included), not a fresh paint."""
    QApplication.processEvents()
    screen = QGuiApplication.primaryScreen()
    return screen.grabWindow(widget.winId()).toImage().convertToFormat(QImage.Format.Format_RGB32)


def _fresh(widget: QWidget) -> QImage:
    """The widget painted whole, now."""
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_changed_box_bounds_exactly_the_differing_pixels(qapp) -> None:
    """The box spans the pixels that differ (by one unit of one channel too) and is empty for a copy."""
    for fmt in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied):
        before = QImage(101, 61, fmt)
        before.fill(QColor("#f6f3ec"))
        after = QImage(before)
        after.setPixelColor(13, 7, QColor("#f6f3ed"))
        after.setPixelColor(40, 50, QColor("#000000"))
        assert changed_box(before, after) == QRect(13, 7, 28, 44)
        assert changed_box(before, QImage(before)).isEmpty()


@pytest.fixture
def view(qtbot) -> IllustrationView:
    """A shown 641x333 view with a backdrop (as the session page has it), on a fake clock."""
    view = IllustrationView(clock=FakeClock())
    qtbot.addWidget(view)
    view.resize(641, 333)
    view.set_backdrop(QColor("#f6f7f9"))
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_step_to_the_next_repaints_only_what_moved(view: IllustrationView, mirrored: bool) -> None:
    """From one step to the next, the repainted rectangle is the moving limbs', well inside the picture."""
    clock = view._clock
    view.animate(CATALOG.exercises["dead-bug"], "tabletop", "extended", 3.0, mirrored)
    clock.advance(1.5)  # mid-move: each frame is the step after the last
    view.next_frame()
    QApplication.processEvents()
    calls = _record_updates(view)
    clock.advance(view.next_frame_due() - clock.now)  # when the frame timer wakes: the next step
    view.next_frame()
    (dirty,) = calls
    picture = view._placed()[2]
    assert dirty is not None and picture.contains(dirty)
    assert dirty.width() * dirty.height() < picture.width() * picture.height() / 2


def test_partly_repainted_frames_leave_the_whole_picture_on_screen(view: IllustrationView) -> None:
    """After each partly repainted frame, through side switches and cut-short moves, the screen is right."""
    clock = view._clock
    exercise = CATALOG.exercises["bird-dog"]
    # (from, to, mirrored, seconds played; None: until a step before the end, so that the next
    # movement's first frame is the step next to the one on screen, but the other way round)
    moves = [("all-fours", "reach", False, 3.0), ("reach", "all-fours", False, 1.7),
             ("all-fours", "reach", True, 3.0), ("reach", "all-fours", True, None),
             ("all-fours", "reach", False, 2.2), ("reach", "all-fours", True, 3.0)]
    for start, end, mirrored, played in moves:
        view.animate(exercise, start, end, 3.0, mirrored)
        for _ in range(30 if played is None else round(played / 0.1)):
            clock.advance(0.1)
            view.next_frame()
            if not view.is_animating():
                break
            assert _on_screen(view) == _fresh(view)
            if played is None and view._step == view.movement_steps - 1:
                break


def _shown_dial(qtbot) -> CountdownDial:
    """A countdown dial on screen at a session page's size."""
    dial = CountdownDial()
    qtbot.addWidget(dial)
    dial.resize(584, 449)
    dial.show()
    qtbot.waitExposed(dial)
    return dial


def test_pacer_frames_leave_the_whole_dial_on_screen(qtbot) -> None:
    """After each pacer frame of a breath in and out, the screen shows what a full paint of the dial draws."""
    elapsed = [0.0]
    dial = _shown_dial(qtbot)
    dial.set_time(7, QColor(LIGHT.left))
    dial.set_breathing(Breathing(inhale=3, hold_in=0, exhale=3, hold_out=0), lambda: elapsed[0])
    while elapsed[0] < 6.5:
        elapsed[0] += 1 / PACER_FPS
        dial.pacer_frame()
        assert _on_screen(dial) == _fresh(dial)



def test_showing_the_still_on_screen_again_asks_for_no_repaint(view: IllustrationView) -> None:
    """A hold after the move into its position repaints nothing; another position or side does."""
    exercise = CATALOG.exercises["dead-bug"]
    clock = view._clock
    view.animate(exercise, "tabletop", "extended", 3.0)
    while view.is_animating():
        clock.advance(0.1)
        view.next_frame()
    QApplication.processEvents()
    calls = _record_updates(view)
    view.show_position(exercise, "extended")
    view.show_position(exercise, "extended")
    assert calls == []
    view.show_position(exercise, "extended", mirrored=True)
    view.show_position(exercise, "tabletop", mirrored=True)
    assert calls == [None, None]
    assert view.accessibleName().endswith("(mirrored, right side)")


def test_a_hold_starting_as_its_movement_ends_repaints_nothing(view: IllustrationView) -> None:
    """A hold starting while its move shows its last step ends the move and repaints nothing."""
    exercise = CATALOG.exercises["dead-bug"]
    clock = view._clock
    view.animate(exercise, "tabletop", "extended", 3.0, mirrored=True)
    clock.advance(2.99)  # the last step is on screen; the frame timer has not yet ended the move
    view.next_frame()
    QApplication.processEvents()
    assert view.is_animating()
    calls = _record_updates(view)
    view.show_position(exercise, "extended", mirrored=True)
    assert calls == [] and not view.is_animating()


def test_next_up_pictures_are_drawn_once_a_session(qtbot, home: Path) -> None:
    """Coming back to a segment shows the very pixmap drawn the first time; leaving forgets them."""
    parts = build_test_app(qtbot, home)
    parts.window.start_routine("core-strength", Level.INTERMEDIATE)
    view = parts.window.session_view
    driver = parts.window.driver
    step(parts, 25.0)  # into dead bug's reps
    first = view.next_thumb.pixmap().cacheKey()
    for _ in range(4):
        driver.next()
    drawn = len(view._thumbs)
    assert drawn >= 2
    for _ in range(4):
        driver.previous()
    assert view.next_thumb.pixmap().cacheKey() == first
    assert len(view._thumbs) == drawn
    parts.window.discard_session()
    assert view._thumbs == {}
    parts.close()


TEXTS = ["Breathe out, lower arm and leg",
         "Hold: on back, right arm overhead near floor, left leg straight just above floor",
         "<b>Next:</b> Hold: on back, right arm overhead near floor (left)"]


def test_a_wrap_label_measures_as_a_label_does(qtbot) -> None:
    """WrapLabel's sizes and heights are those of a plain word-wrapped QLabel, text after text."""
    kept, plain = WrapLabel(), QLabel()
    plain.setWordWrap(True)
    for label in (kept, plain):
        qtbot.addWidget(label)
        label.setStyleSheet("font-size: 15pt;")
    for _ in range(2):  # the second round comes from memory
        for text in TEXTS:
            kept.setText(text)
            plain.setText(text)
            assert kept.sizeHint() == plain.sizeHint()
            assert kept.minimumSizeHint() == plain.minimumSizeHint()
            for width in (120, 333, 634, 1318):
                assert kept.heightForWidth(width) == plain.heightForWidth(width)


def test_a_wrap_label_measures_a_known_text_from_memory(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text and width measured once is not laid out again, until the font changes."""
    label = WrapLabel()
    qtbot.addWidget(label)
    measured: list[int] = []
    real = QLabel.heightForWidth
    monkeypatch.setattr(QLabel, "heightForWidth",
                        lambda self, width: measured.append(width) or real(self, width))
    plain = TEXTS[:2]
    for text in plain * 2:
        label.setText(text)
        label.heightForWidth(400)
    assert measured == [400] * len(plain)
    small = label.heightForWidth(400)
    font = label.font()
    font.setPointSize(font.pointSize() * 3)
    label.setFont(font)
    assert label.heightForWidth(400) > small




@pytest.mark.parametrize("boundary", [22.0, 25.0, 31.0, 49.0])
def test_a_new_segment_repaints_the_window_once(qtbot, home: Path, boundary: float) -> None:
    """A segment change (new texts, laid out anew) reaches the screen in one repaint, not two."""
    parts = build_test_app(qtbot, home)
    window = parts.window
    window.start_routine("core-strength", Level.INTERMEDIATE)
    step(parts, boundary - 0.1)
    qtbot.wait(20)
    window.session_view.countdown.set_running(False)  # no pacer frame in between
    window.session_view.illustration.pause_animation()  # nor a movement's
    counter = EventCounter(QEvent.Type.UpdateRequest)
    window.installEventFilter(counter)
    step(parts, 0.1)
    qtbot.wait(40)  # the event loop, as it runs for real (frames are 80 ms apart at least)
    window.removeEventFilter(counter)
    assert window.driver.engine.segment.start == boundary
    assert counter.count == 1
    parts.close()


def test_the_pacer_wakes_on_eighths_and_leaves_the_whole_seconds_to_the_digits(qtbot) -> None:
    """The pacer wakes 7 times a second between the ticks; each tick moves the ring with the digits."""
    elapsed = [0.0]
    dial = _shown_dial(qtbot)
    dial.set_breathing(Breathing(inhale=3, hold_in=0, exhale=3, hold_out=0), lambda: elapsed[0])
    dial.set_time(3.0, QColor(LIGHT.left))
    wakes: list[float] = []
    tick = 1.0
    while elapsed[0] < 2.99:
        wake = elapsed[0] + dial._timer.interval() / 1000
        assert wake * PACER_FPS == pytest.approx(round(wake * PACER_FPS), abs=0.01)
        assert round(wake * PACER_FPS) % PACER_FPS != 0  # never on a whole second
        if wake < tick:
            elapsed[0] = wake
            dial.pacer_frame()
            wakes.append(round(wake * PACER_FPS))
        else:  # the driver's tick: new digits
            elapsed[0] = tick
            radius = dial.ring_radius
            dial.set_time(3.0 - tick, QColor(LIGHT.left))
            assert dial.ring_radius > radius  # the ring moved with the digits
            tick += 1.0
    assert wakes == [k for k in range(1, 24) if k % PACER_FPS]


def test_the_dial_keeps_the_pictures_of_the_counts_it_shows(qtbot) -> None:
    """Counting 3, 2, 1 again draws no new digits and shows the same pixels as the first time."""
    dial = _shown_dial(qtbot)
    dial.set_breathing(Breathing(inhale=3, hold_in=0, exhale=3, hold_out=0), lambda: 0.0)
    first = {}
    for seconds in (3, 2, 1):
        dial.set_time(seconds, QColor(LIGHT.left))
        first[seconds] = _fresh(dial)
    kept = dict(dial._pieces)
    assert len(kept) == 4  # three counts and the breath word
    for seconds in (3, 2, 1):
        dial.set_time(seconds, QColor(LIGHT.left))
        assert _fresh(dial) == first[seconds]
    assert dial._pieces == kept
    dial.hide()
    assert dial._pieces == {}
