"""Illustrations: every position is drawn, themed, mirrored, animated and kept in step with its pose data."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from tests.helpers.clock import FakeClock
from tests.helpers.events import EventCounter

from backcoach.art.build import ICON_SIZES, stale_files
from backcoach.art.palette import SENTINEL, THEMES, TOKENS, apply_theme
from backcoach.art.pose import ANGLE_KEYS, ease
from backcoach.art.scene import PoseError, load_scenes, scene_from_data
from backcoach.catalog.loader import load_builtin_catalog
from backcoach.resources import resources_dir
from backcoach.ui.illustration import (
    FRAME_INTERVAL_MS,
    FRAME_STEP_PX,
    FRAME_STEPS,
    MIN_FRAME_STEPS,
    IllustrationView,
    app_icon,
    eased_time,
    frame_steps,
    illustration_path,
    margins,
    thumbnail,
)

CATALOG = load_builtin_catalog()
POSITIONS = [(ex.id, pos.id) for ex in CATALOG.exercises.values() for pos in ex.positions]
ILLUSTRATIONS = resources_dir() / "illustrations"


def _rgb32(image: QImage) -> QImage:
    return image.convertToFormat(QImage.Format.Format_RGB32)


def _non_background_pixels(image: QImage, background: str) -> int:
    """Pixels of an image that are not exactly the background colour."""
    image = _rgb32(image)
    data = bytes(image.constBits())
    bg = QColor(background).rgba() | 0xFF000000
    word = bg.to_bytes(4, "little")
    words = [data[i:i + 4] for i in range(0, len(data), 4)]
    return sum(1 for w in words if w != word)


def _differing_pixels(a: QImage, b: QImage, tolerance: int = 40) -> int:
    """Pixels whose colour differs by more than `tolerance` in any channel."""
    da, db = bytes(_rgb32(a).constBits()), bytes(_rgb32(b).constBits())
    assert len(da) == len(db)
    return sum(1 for i in range(0, len(da), 4)
               if max(abs(da[i + k] - db[i + k]) for k in range(3)) > tolerance)


def test_catalogue_has_positions() -> None:
    """The built-in catalogue has exercises with positions to illustrate."""
    assert len(POSITIONS) >= 10


@pytest.mark.parametrize(("exercise_id", "position_id"), POSITIONS)
def test_every_position_renders_at_thumbnail_and_full_size(qtbot, exercise_id: str,
                                                           position_id: str) -> None:
    """Each position's file exists and draws a figure at 64 px and 1024 px in light and dark."""
    exercise = CATALOG.exercises[exercise_id]
    assert illustration_path(exercise, position_id).is_file()
    for theme in ("light", "dark"):
        for size in (64, 1024):
            image = thumbnail(exercise, position_id, size, theme).toImage()
            assert image.width() == size
            drawn = _non_background_pixels(image, THEMES[theme]["background"])
            assert drawn > 0.05 * image.width() * image.height(), (theme, size, drawn)


def test_no_illustration_file_is_unused() -> None:
    """Every SVG in resources/illustrations belongs to some exercise position."""
    used = {resources_dir() / ex.position(pid).illustration
            for ex in CATALOG.exercises.values() for pid in (p.id for p in ex.positions)}
    files = set(ILLUSTRATIONS.glob("*.svg"))
    assert files - used == set()
    assert used - files == set()


def test_every_exercise_has_pose_data() -> None:
    """Every exercise has a pose file covering all of its positions (so it can be animated)."""
    scenes = load_scenes()
    for ex in CATALOG.exercises.values():
        assert ex.id in scenes, ex.id
        assert {p.id for p in ex.positions} <= set(scenes[ex.id].positions), ex.id


def test_generated_svgs_are_up_to_date() -> None:
    """Re-rendering the pose data gives exactly the committed SVGs (run render-illustrations)."""
    assert stale_files(resources_dir(), CATALOG.exercises) == []


def test_mirrored_rendering_is_the_horizontal_mirror(qtbot) -> None:
    """mirrored=True draws the left-to-right mirror image of the still."""
    exercise = CATALOG.exercises["knee-to-chest"]
    plain = thumbnail(exercise, "knee-in", 240, "light").toImage()
    mirrored = thumbnail(exercise, "knee-in", 240, "light", mirrored=True).toImage()
    flipped = plain.flipped(Qt.Orientation.Horizontal)
    assert _differing_pixels(mirrored, flipped) < 0.005 * plain.width() * plain.height()
    assert _differing_pixels(mirrored, plain) > 0.02 * plain.width() * plain.height()


@pytest.mark.parametrize("theme", list(THEMES))
def test_theme_replaces_every_colour_token(theme: str) -> None:
    """A themed SVG holds no sentinel colour, and holds the theme's body and accent colours."""
    for path in ILLUSTRATIONS.glob("*.svg"):
        raw = path.read_text(encoding="utf-8")
        assert TOKENS["body"] in raw
        themed = apply_theme(raw, theme)
        assert SENTINEL.search(themed) is None, path.name
        assert THEMES[theme]["body"] in themed


def test_unknown_theme_is_refused(qtbot) -> None:
    """set_theme names the known themes when given an unknown one."""
    view = IllustrationView()
    qtbot.addWidget(view)
    with pytest.raises(ValueError, match="high-contrast"):
        view.set_theme("sepia")


def _grab(view: IllustrationView) -> QImage:
    return view.grab().toImage()


def test_animate_reaches_the_target_pose_and_stops_its_timer(qtbot) -> None:
    """animate() interpolates over the given seconds, ends on the target still and stops."""
    clock = FakeClock()
    exercise = CATALOG.exercises["pelvic-lift"]
    view = IllustrationView(clock=clock)
    qtbot.addWidget(view)
    view.resize(480, 320)
    view.show()
    qtbot.waitExposed(view)
    view.show_position(exercise, "lifted")
    target = _grab(view)
    view.show_position(exercise, "flat")
    start = _grab(view)

    view.animate(exercise, "flat", "lifted", 3.0)
    assert view.is_animating()
    clock.advance(1.5)
    qtbot.waitUntil(lambda: 0.4 < view.progress < 0.6, timeout=2000)
    middle = _grab(view)
    assert _differing_pixels(middle, start) > 0 and _differing_pixels(middle, target) > 0
    clock.advance(2.0)
    qtbot.waitUntil(lambda: not view.is_animating(), timeout=2000)
    assert view.progress == 1.0
    assert _differing_pixels(_grab(view), target, tolerance=0) == 0


def test_pause_freezes_and_resume_continues_a_movement(qtbot) -> None:
    """A paused movement keeps its place however long the pause, then carries on."""
    clock = FakeClock()
    view = IllustrationView(clock=clock)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.animate(CATALOG.exercises["cat-cow"], "all-fours", "cat", 4.0)
    clock.advance(1.0)
    qtbot.waitUntil(lambda: view.progress >= 0.25, timeout=2000)
    view.pause_animation()
    assert not view.is_animating()
    frozen = view.progress
    clock.advance(60.0)
    qtbot.wait(120)
    assert view.progress == frozen
    view.resume_animation()
    assert view.is_animating()
    clock.advance(1.0)
    qtbot.waitUntil(lambda: 0.45 < view.progress < 0.55, timeout=2000)
    clock.advance(5.0)
    qtbot.waitUntil(lambda: not view.is_animating(), timeout=2000)


def test_next_call_or_hiding_stops_a_movement(qtbot) -> None:
    """show_position() during a movement, or hiding the widget, stops the frame timer."""
    clock = FakeClock()
    exercise = CATALOG.exercises["bird-dog"]
    view = IllustrationView(clock=clock)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.animate(exercise, "all-fours", "reach", 3.0, mirrored=True)
    assert view.is_animating()
    view.show_position(exercise, "all-fours")
    assert not view.is_animating()
    view.animate(exercise, "all-fours", "reach", 3.0)
    view.hide()
    assert not view.is_animating()
    assert view.progress == 1.0


def test_still_view_runs_no_timer_and_names_the_position(qtbot) -> None:
    """A still picture has no timer running and an accessible name giving the position."""
    exercise = CATALOG.exercises["hip-rolling"]
    view = IllustrationView(theme="dark")
    qtbot.addWidget(view)
    view.show_position(exercise, "rolled", mirrored=True)
    assert not view.is_animating()
    assert "Hip rolling" in view.accessibleName()
    assert exercise.position("rolled").name in view.accessibleName()
    assert "right side" in view.accessibleName()


def test_view_keeps_the_aspect_and_centres_the_picture(qtbot) -> None:
    """In a wide widget the 3:2 picture is centred with empty margins left and right."""
    view = IllustrationView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    view.show_position(CATALOG.exercises["side-plank"], "up")
    image = _grab(view)
    left, right = image.pixelColor(10, 150), image.pixelColor(889, 150)
    inside = image.pixelColor(450, 10)
    assert inside == QColor(THEMES["light"]["background"])
    assert left != inside and right != inside


def test_easing_and_interpolation_reach_both_ends() -> None:
    """Pose interpolation starts at the first pose and ends exactly at the second."""
    scene = load_scenes()["knee-to-chest"]
    a, b = scene.positions["flat"], scene.positions["knee-in"]
    assert a.lerp(b, ease(0.0)).angles == a.angles
    assert a.lerp(b, ease(1.0)).angles == b.angles
    assert a.lerp(b, 1.0).highlight == b.highlight
    assert set(a.angles) == set(ANGLE_KEYS)


def test_pose_file_mistakes_name_the_file_and_key() -> None:
    """An unknown angle or body part in a pose file is reported with the file and key."""
    with pytest.raises(PoseError, match=r"mine\.toml: p\.thigh_x: unknown angle"):
        scene_from_data({"exercise": "x", "positions": {"p": {"thigh_x": 3}}}, "mine.toml")
    with pytest.raises(PoseError, match="unknown body part 'tail'"):
        scene_from_data({"exercise": "x", "highlight": ["tail"], "positions": {"p": {}}}, "m.toml")
    with pytest.raises(PoseError, match="names no position"):
        scene_from_data({"exercise": "x", "positions": {"p": {"base": "nowhere"}}}, "m.toml")


def test_app_icon_offers_every_size(qtbot) -> None:
    """app_icon() carries the rendered PNG at each hicolor size, drawn (not blank)."""
    icon = app_icon()
    sizes = {s.width() for s in icon.availableSizes()}
    assert set(ICON_SIZES) <= sizes
    image = icon.pixmap(64, 64).toImage()
    assert image.pixelColor(32, 32).alpha() == 255


def test_contact_sheet_writes_a_labelled_png(qtbot, tmp_path: Path) -> None:
    """contact-sheet renders all illustrations into one PNG file."""
    from backcoach.commands.art_commands import contact_sheet

    out = tmp_path / "sheet.png"
    count = contact_sheet(out, "high-contrast")
    assert count == len(POSITIONS)
    image = QImage(str(out))
    assert not image.isNull() and image.width() > 1000


def test_widget_constants_match_the_art_builder() -> None:
    """The widget's copies of the viewBox shape and icon paths (kept to start up fast) are right."""
    from backcoach.art import build, render
    from backcoach.ui import illustration

    assert illustration.ASPECT == render.WIDTH / render.HEIGHT
    assert illustration.VIEW_BOX == (render.WIDTH, render.HEIGHT)
    assert illustration.ICON_FILE == build.ICON_FILE
    assert illustration.ICON_SIZES == build.ICON_SIZES


def test_eased_time_is_the_inverse_of_the_ease() -> None:
    """eased_time() gives back the time fraction at which the pose model's ease reaches a value."""
    for i in range(21):
        t = i / 20
        assert eased_time(ease(t)) == pytest.approx(t, abs=1e-6)


def test_frame_steps_follow_the_distance_moved_and_the_frame_rate() -> None:
    """A step per FRAME_STEP_PX travelled, but no more than frames can show at the fastest point."""
    assert frame_steps(1.0, 3.0) == MIN_FRAME_STEPS
    assert frame_steps(20 * FRAME_STEP_PX, 3.0) == 20
    assert frame_steps(20 * FRAME_STEP_PX + 0.1, 3.0) == 21
    assert frame_steps(10_000.0, 3.0) == 24  # 3 s at 12.5 frames a second, times 2 / pi
    assert frame_steps(10_000.0, 4.0) == 32
    assert frame_steps(10_000.0, 60.0) == FRAME_STEPS


def test_the_fastest_part_of_a_movement_shows_every_step_once(qtbot) -> None:
    """Mid-movement, one frame interval moves the ease by about one step: none is skipped twice."""
    view = _shown_view(qtbot, FakeClock())
    view.animate(CATALOG.exercises["dead-bug"], "tabletop", "extended", 3.0)
    steps = view.movement_steps
    fastest = ease(0.5 + FRAME_INTERVAL_MS / 1000 / 3.0 / 2) - ease(0.5 - FRAME_INTERVAL_MS / 1000 / 3.0 / 2)
    assert fastest * steps == pytest.approx(1.0, abs=0.05)


def _shown_view(qtbot, clock: FakeClock, width: int = 480, height: int = 320) -> IllustrationView:
    view = IllustrationView(clock=clock)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_slow_movement_is_drawn_in_fewer_steps(qtbot) -> None:
    """A pelvic lift (the hips rise a little) gets fewer in-between steps than a bird dog's reach."""
    view = _shown_view(qtbot, FakeClock())
    view.animate(CATALOG.exercises["pelvic-lift"], "flat", "lifted", 3.0)
    slow = view.movement_steps
    view.animate(CATALOG.exercises["bird-dog"], "all-fours", "reach", 3.0)
    fast = view.movement_steps
    assert MIN_FRAME_STEPS <= slow < fast <= FRAME_STEPS


def _record_updates(widget: QWidget) -> list[QRect | None]:
    """Replace `widget.update` so that each call is recorded (None for the whole widget)."""
    calls: list[QRect | None] = []
    widget.update = lambda *args: calls.append(QRect(args[0]) if args else None)  # type: ignore
    return calls


def test_a_frame_is_drawn_only_when_the_picture_changes(qtbot) -> None:
    """Waking before the next step repaints nothing; a new step repaints the picture, not the margins."""
    clock = FakeClock()
    view = _shown_view(qtbot, clock, 900, 300)
    view.animate(CATALOG.exercises["dead-bug"], "tabletop", "extended", 3.0)
    calls = _record_updates(view)
    clock.advance(0.05)  # the cosine ease has hardly started: still step 0
    view.next_frame()
    assert calls == []
    clock.advance(1.45)
    view.next_frame()
    (dirty,) = calls
    assert dirty is not None and dirty.width() < view.width() and dirty.height() == view.height()
    view.next_frame()  # the same moment again: the same picture
    assert len(calls) == 1


def test_frame_timer_wakes_for_the_next_step_and_no_sooner_than_a_frame(qtbot) -> None:
    """At the slow start the next wake is when the next step is due; mid-move a frame interval on."""
    clock = FakeClock()
    view = _shown_view(qtbot, clock)
    start = clock.now
    view.animate(CATALOG.exercises["dead-bug"], "tabletop", "extended", 3.0)
    steps = view.movement_steps
    first = start + 3.0 * eased_time(0.5 / steps)
    assert first - start > FRAME_INTERVAL_MS / 1000
    assert view.next_frame_due() == pytest.approx(first)
    clock.advance(1.5)
    view.next_frame()
    assert view.next_frame_due() == pytest.approx(clock.now + FRAME_INTERVAL_MS / 1000)


def test_margins_cover_the_outside_of_the_picture_once() -> None:
    """The bands round an inner rectangle cover the rest of the outer one, without overlaps."""
    outer, inner = QRect(0, 0, 100, 50), QRect(20, 5, 60, 40)
    bands = margins(outer, inner)
    assert sum(b.width() * b.height() for b in bands) == 100 * 50 - 60 * 40
    assert not any(b.intersects(inner) for b in bands)
    assert not any(a.intersects(b) for i, a in enumerate(bands) for b in bands[i + 1:])
    assert margins(outer, QRect()) == [outer]


def test_backdrop_fills_the_margins_and_makes_the_view_opaque(qtbot) -> None:
    """With a backdrop the margins of a wide view are that colour and the widget is opaque."""
    view = _shown_view(qtbot, FakeClock(), 900, 300)
    assert not view.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    view.set_backdrop(QColor("#ff0000"))
    view.show_position(CATALOG.exercises["side-plank"], "up")
    image = _grab(view)
    assert view.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert image.pixelColor(10, 150) == QColor("#ff0000")
    assert image.pixelColor(889, 150) == QColor("#ff0000")
    assert image.pixelColor(450, 10) == QColor(THEMES["light"]["background"])




@pytest.mark.parametrize("backdrop", [True, False])
def test_movement_frames_do_not_repaint_the_page_behind(qtbot, backdrop: bool) -> None:
    """With a backdrop a new frame repaints the view alone, not the styled page it sits on."""
    clock = FakeClock()
    page = QWidget(objectName="page")
    page.setStyleSheet("QWidget#page { background: #f6f7f9; }")
    view = IllustrationView(clock=clock)
    QVBoxLayout(page).addWidget(view)
    qtbot.addWidget(page)
    page.resize(900, 400)
    page.show()
    qtbot.waitExposed(page)
    if backdrop:
        view.set_backdrop(QColor("#f6f7f9"))
    view.animate(CATALOG.exercises["dead-bug"], "tabletop", "extended", 3.0)
    QApplication.processEvents()
    counter = EventCounter(QEvent.Type.Paint)
    page.installEventFilter(counter)
    clock.advance(1.5)
    view.next_frame()
    QApplication.processEvents()
    page.removeEventFilter(counter)
    assert (counter.count == 0) is backdrop


def test_movements_are_prepared_ahead_a_piece_at_a_time(qtbot) -> None:
    """prepare_movements works out framing and travel in the background, so animate() finds them cached."""
    from backcoach.ui import illustration

    illustration._framing.cache_clear()
    illustration._travel.cache_clear()
    view = IllustrationView(clock=FakeClock())
    qtbot.addWidget(view)
    moves = [("pelvic-lift", "flat", "lifted"), ("pelvic-lift", "lifted", "flat"),
             ("pelvic-lift", "flat", "lifted"), ("no-pose-data", "a", "b")]
    view.prepare_movements(moves)
    assert view.is_preparing() and illustration._travel.cache_info().currsize == 0
    qtbot.waitUntil(lambda: not view.is_preparing(), timeout=5000)
    assert illustration._travel.cache_info().currsize == 2  # each movement once, unknown ones skipped
    hits = illustration._travel.cache_info().hits
    view.animate(CATALOG.exercises["pelvic-lift"], "flat", "lifted", 3.0)
    assert illustration._travel.cache_info().hits == hits + 1


def test_stopping_drops_the_preparation(qtbot) -> None:
    """stop_preparing ends the background work at once (a session that ends early)."""
    view = IllustrationView(clock=FakeClock())
    qtbot.addWidget(view)
    view.prepare_movements([("pelvic-lift", "flat", "lifted")])
    view.stop_preparing()
    assert not view.is_preparing()


def test_a_movement_from_the_still_shown_does_not_repaint_its_first_frame(qtbot) -> None:
    """animate() from the still on screen asks for no repaint: its first frame is that picture."""
    clock = FakeClock()
    view = _shown_view(qtbot, clock)
    exercise = CATALOG.exercises["dead-bug"]
    view.show_position(exercise, "tabletop")
    still = _grab(view)
    calls = _record_updates(view)
    view.animate(exercise, "tabletop", "extended", 3.0)
    assert calls == []
    assert _differing_pixels(_grab(view), still, tolerance=0) == 0
    view.animate(exercise, "extended", "tabletop", 3.0, mirrored=True)  # mid-movement, mirrored
    assert len(calls) == 1


def test_the_way_back_reuses_the_frames_of_the_way_there(qtbot) -> None:
    """A movement back between two positions with the same highlight draws no new frames."""
    from backcoach.ui import illustration

    illustration._frames.clear()
    clock = FakeClock()
    view = _shown_view(qtbot, clock)
    exercise = CATALOG.exercises["bird-dog"]

    def play(start: str, end: str) -> None:
        view.animate(exercise, start, end, 3.0)
        while view.is_animating():
            clock.advance(0.02)
            view.next_frame()

    play("all-fours", "reach")
    drawn = len(illustration._frames)
    assert drawn > 10
    play("reach", "all-fours")
    assert len(illustration._frames) == drawn
    play("all-fours", "reach")
    assert len(illustration._frames) == drawn


def _play(view: IllustrationView, clock: FakeClock, exercise, start: str, end: str,
          mirrored: bool = False) -> None:
    """Run a whole 3 s movement, painting each frame as it comes."""
    view.animate(exercise, start, end, 3.0, mirrored)
    while view.is_animating():
        clock.advance(0.02)
        view.next_frame()
        view.grab()  # paints now


def test_movement_frames_are_drawn_once_then_copied(qtbot) -> None:
    """A movement's frames are kept as pictures: the way back and the next rep add none."""
    clock = FakeClock()
    view = _shown_view(qtbot, clock)
    exercise = CATALOG.exercises["bird-dog"]
    _play(view, clock, exercise, "all-fours", "reach")
    kept = view.picture_cache_bytes
    assert kept > 0
    _play(view, clock, exercise, "reach", "all-fours", mirrored=True)
    _play(view, clock, exercise, "all-fours", "reach")
    assert view.picture_cache_bytes == kept


def test_kept_pictures_are_bounded_and_freed(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pictures stop being kept at the budget; another exercise, a resize or hiding frees them."""
    from backcoach.ui import illustration

    clock = FakeClock()
    view = _shown_view(qtbot, clock)
    one = 480 * 320 * 4
    monkeypatch.setattr(illustration, "PICTURE_CACHE_BYTES", 3 * one)
    _play(view, clock, CATALOG.exercises["bird-dog"], "all-fours", "reach")
    assert view.picture_cache_bytes == 3 * one
    view.animate(CATALOG.exercises["cat-cow"], "all-fours", "cat", 3.0)
    assert view.picture_cache_bytes == 0
    _play(view, clock, CATALOG.exercises["cat-cow"], "all-fours", "cat")
    assert view.picture_cache_bytes > 0
    view.resize(600, 400)
    QApplication.processEvents()
    assert view.picture_cache_bytes == 0
    _play(view, clock, CATALOG.exercises["cat-cow"], "all-fours", "cat")
    view.hide()
    assert view.picture_cache_bytes == 0


@pytest.mark.parametrize("mirrored", [False, True])
def test_a_copied_frame_looks_like_the_still_it_ends_on(qtbot, mirrored: bool) -> None:
    """The last frame, copied from its kept picture (mirrored or not), matches the still drawn directly."""
    clock = FakeClock()
    view = _shown_view(qtbot, clock, 641, 333)  # an odd size: the picture is not at 0,0
    exercise = CATALOG.exercises["bird-dog"]
    view.animate(exercise, "all-fours", "reach", 3.0, mirrored)
    clock.advance(2.99)
    view.next_frame()
    assert view.is_animating() and view.picture_cache_bytes == 0
    last_frame = _grab(view)
    assert view.picture_cache_bytes > 0
    view.show_position(exercise, "reach", mirrored)
    assert _differing_pixels(last_frame, _grab(view), tolerance=8 if mirrored else 0) == 0
