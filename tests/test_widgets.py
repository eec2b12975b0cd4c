"""The session screen's painted widgets repaint only what changed, and paint their own background."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from backcoach.catalog.model import Breathing
from backcoach.ui.theme import DARK, LIGHT
from backcoach.ui.widgets import (
    RING_ALPHA,
    RING_STEP_PX,
    CountdownDial,
    SessionProgress,
    SideBadge,
    blend,
)

PATTERN = Breathing(inhale=4, hold_in=0, exhale=4, hold_out=0)


class Clock:
    """Seconds into the hold, as the engine would give them."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def __call__(self) -> float:
        return self.elapsed


def _record_updates(widget: QWidget) -> list[QRect | None]:
    """Replace `widget.update` so that each call is recorded (None for the whole widget)."""
    calls: list[QRect | None] = []
    widget.update = lambda *args: calls.append(QRect(args[0]) if args else None)  # type: ignore
    return calls


@pytest.fixture
def dial(qtbot):
    """A shown 400x300 dial running the pacer on a clock the test moves."""
    dial = CountdownDial()
    qtbot.addWidget(dial)
    dial.resize(400, 300)
    dial.show()
    qtbot.waitExposed(dial)
    clock = Clock()
    dial.set_time(7, QColor(LIGHT.left))
    dial.set_breathing(PATTERN, clock)
    dial.clock = clock  # type: ignore[attr-defined]
    return dial


def test_blend_mixes_each_channel_by_alpha() -> None:
    """A colour at an alpha over a background gives the mix a translucent paint would."""
    mixed = blend(QColor(255, 0, 100), 51, QColor(0, 255, 100))
    assert (mixed.red(), mixed.green(), mixed.blue(), mixed.alpha()) == (51, 204, 100, 255)
    assert blend(QColor("#123456"), 255, QColor("#ffffff")) == QColor("#123456")


def test_ring_repaints_only_once_it_has_moved_a_pixel(dial: CountdownDial) -> None:
    """A pacer frame whose ring radius moved less than a pixel asks for no repaint at all."""
    before = dial.ring_radius
    assert before is not None
    calls = _record_updates(dial)
    # radius = 150 * (0.5 + 0.5 * t / 4) while breathing in: 1 px is 4 / 75 s
    dial.clock.elapsed = 0.5 * RING_STEP_PX * 4 / 75
    dial.pacer_frame()
    assert calls == []
    assert dial.ring_radius == before
    dial.clock.elapsed = 2 * RING_STEP_PX * 4 / 75
    dial.pacer_frame()
    assert len(calls) == 1
    assert dial.ring_radius == pytest.approx(before + 2 * RING_STEP_PX)


def test_a_pacer_frame_updates_only_the_square_round_the_ring(dial: CountdownDial) -> None:
    """The rectangle a pacer frame repaints holds the old and the new ring and is not the dial."""
    calls = _record_updates(dial)
    old = dial.ring_rect(dial.ring_radius, 5.25)
    dial.clock.elapsed = 1.0
    dial.pacer_frame()
    (dirty,) = calls
    assert dirty is not None and dirty != dial.rect()
    assert dirty.contains(old) and dirty.contains(dial.ring_rect(dial.ring_radius, 5.25))
    assert dirty.width() < dial.width()


def test_a_new_breath_word_repaints_the_whole_dial(dial: CountdownDial) -> None:
    """Going from "breathe in" to "breathe out" repaints everything: the word is under the digits."""
    calls = _record_updates(dial)
    dial.clock.elapsed = 4.5
    dial.pacer_frame()
    assert calls == [None]
    assert dial.breath()[0] == "out"


def test_dial_paints_its_background_and_an_opaque_ring(dial: CountdownDial) -> None:
    """The dial is opaque: its corners are the theme's window colour, the ring the pre-mixed colour."""
    dial.set_theme(DARK)
    assert dial.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    image = dial.grab().toImage()
    assert image.pixelColor(2, 2) == QColor(DARK.window)
    radius = round(dial.ring_radius)
    ring = image.pixelColor(200 + radius, 150)
    expected = blend(QColor(LIGHT.left), RING_ALPHA, QColor(DARK.window))
    assert max(abs(ring.red() - expected.red()), abs(ring.green() - expected.green()),
               abs(ring.blue() - expected.blue())) <= 2
    digits = QColor(LIGHT.left)
    assert sum(image.pixelColor(x, y) == digits for x in range(0, 400, 2) for y in range(0, 300, 2)) > 500


def test_new_hold_starts_the_ring_at_its_own_phase(dial: CountdownDial) -> None:
    """A new breathing pattern reads its hold time at once instead of showing the last hold's ring."""
    dial.clock.elapsed = 3.9
    dial.pacer_frame()
    fresh = Clock()
    dial.set_breathing(PATTERN, fresh)
    assert dial.ring_radius == pytest.approx(75.0)


def test_digits_repaint_only_when_they_change(dial: CountdownDial) -> None:
    """Setting the same whole second again asks for no repaint; a new digit repaints the dial."""
    calls = _record_updates(dial)
    dial.set_time(6.9, QColor(LIGHT.left))
    assert calls == []
    dial.set_time(6.0, QColor(LIGHT.left))
    dial.set_time(5.5, QColor(LIGHT.left))
    assert calls == [None]
    assert dial.text == "6"


def test_side_badge_repaints_only_for_a_new_word_or_colour(qtbot) -> None:
    """Showing the same side again is free; a new side or colour repaints the badge."""
    badge = SideBadge()
    qtbot.addWidget(badge)
    badge.set_side("LEFT", QColor(LIGHT.left))
    calls = _record_updates(badge)
    badge.set_side("LEFT", QColor(LIGHT.left))
    assert calls == []
    badge.set_side("RIGHT", QColor(LIGHT.right))
    badge.set_side("RIGHT", QColor(LIGHT.both))
    assert calls == [None, None]


def test_progress_bar_paints_its_own_background(qtbot) -> None:
    """The progress bar is opaque and fills round its track with the theme's window colour."""
    bar = SessionProgress()
    qtbot.addWidget(bar)
    bar.set_theme(DARK)
    bar.resize(300, 18)
    bar.set_fraction(0.5)
    assert bar.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    image = bar.grab().toImage()
    assert image.pixelColor(150, 0) == QColor(DARK.window)
    assert image.pixelColor(100, 9) == QColor(DARK.accent)
