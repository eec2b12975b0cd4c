"""The follow-along page's once-a-second updates stay cheap: no window layout, opaque pictures."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication
from tests.helpers.app import build_test_app, step
from tests.helpers.events import EventCounter

from backcoach.app import AppParts
from backcoach.catalog.model import Level
from backcoach.ui.widgets import format_clock


@pytest.fixture
def session(qtbot, home: Path):
    """The app with core strength running, 2 s into its first (get-ready) segment."""
    parts = build_test_app(qtbot, home)
    parts.window.start_routine("core-strength", Level.INTERMEDIATE)
    step(parts, 2.0)
    QApplication.processEvents()
    yield parts
    parts.close()




def test_ticking_seconds_do_not_lay_out_the_window(session: AppParts) -> None:
    """New elapsed and remaining times within one segment post no layout request to the page."""
    view = session.window.session_view
    counter = EventCounter(QEvent.Type.LayoutRequest)
    view.installEventFilter(counter)
    before = view.elapsed_label.text(), view.remaining_label.text()
    for _ in range(3):
        step(session, 1.0)
        QApplication.processEvents()
    view.removeEventFilter(counter)
    assert (view.elapsed_label.text(), view.remaining_label.text()) != before
    assert counter.count == 0


def test_time_labels_are_wide_enough_for_the_whole_session(session: AppParts) -> None:
    """The fixed-size time labels fit the longest time of the session with any digits."""
    view = session.window.session_view
    total = session.window.driver.engine.timeline.total
    for label, sign in ((view.elapsed_label, ""), (view.remaining_label, "-")):
        assert label.minimumSize() == label.maximumSize()
        widest = max(label.fontMetrics().horizontalAdvance(sign + format_clock(total).replace(
            d, "8")) for d in "0123456789")
        assert label.width() >= widest
    assert view.remaining_label.alignment() & Qt.AlignmentFlag.AlignRight


def test_illustration_backdrop_follows_the_theme(session: AppParts) -> None:
    """The illustration paints its margins in the window colour of the theme in use, and is opaque."""
    view = session.window.session_view
    illustration = view.illustration
    assert illustration.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    image = illustration.grab().toImage()
    corner = image.pixelColor(0, image.height() // 2) if image.width() > image.height() * 1.5 \
        else image.pixelColor(image.width() // 2, 0)
    assert corner.name() == session.window.theme.window


def test_a_session_prepares_its_movements_and_leaving_stops_it(qtbot, home: Path) -> None:
    """Binding a session prepares every movement of its routine ahead; leaving drops what is left."""
    from backcoach.ui import illustration

    illustration._travel.cache_clear()
    parts = build_test_app(qtbot, home)
    try:
        window = parts.window
        window.start_routine("core-strength", Level.INTERMEDIATE)
        view = window.session_view.illustration
        assert view.is_preparing()
        qtbot.waitUntil(lambda: not view.is_preparing(), timeout=5000)
        timeline = window.driver.engine.timeline
        moves = {(s.exercise_id, s.from_position, s.position) for s in timeline.segments
                 if s.kind.value == "move"}
        assert moves and illustration._travel.cache_info().currsize == len(moves)
        window.start_routine("lower-back-for-runners", Level.BEGINNER)
        assert view.is_preparing()
        window.session_view.unbind()
        assert not view.is_preparing()
    finally:
        parts.close()
