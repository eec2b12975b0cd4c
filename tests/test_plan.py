"""The plan turns routines into contiguous timelines with well-placed cues."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Level, Routine, RoutineItem, Sides, TimingOverride
from backcoach.cli import main
from backcoach.session.plan import (
    CRITICAL_SPACING,
    CueKind,
    PlanOptions,
    SegmentKind,
    Side,
    Timeline,
    build_plan,
    planned_length,
    speech_seconds,
)

CATALOG = load_builtin_catalog()


def _check_timeline(timeline: Timeline) -> None:
    expected_start = 0.0
    for i, seg in enumerate(timeline.segments):
        assert seg.index == i
        assert seg.duration > 0
        assert seg.start == pytest.approx(expected_start)
        expected_start += seg.duration
        offsets = [cue.offset for cue in seg.cues]
        assert offsets == sorted(offsets)
        assert all(0 <= o <= seg.duration for o in offsets)
        critical = [c.offset for c in seg.cues if c.critical]
        assert all(b - a >= CRITICAL_SPACING for a, b in itertools.pairwise(critical))
    assert timeline.total == pytest.approx(sum(s.duration for s in timeline.segments))
    assert timeline.segments[0].kind is SegmentKind.GET_READY
    assert timeline.segments[-1].cues[-1].kind is CueKind.WELL_DONE


@pytest.mark.parametrize("routine_id", sorted(CATALOG.routines))
@pytest.mark.parametrize("level", list(Level))
def test_every_builtin_routine_plans_cleanly(routine_id: str, level: Level) -> None:
    """Every shipped routine at every level gives a contiguous, well-cued timeline."""
    _check_timeline(build_plan(CATALOG.routines[routine_id], CATALOG.exercises, level))


def _plan_json(capsys: pytest.CaptureFixture[str], level: str) -> dict:
    assert main(["plan", "lower-back-for-runners", "--level", level, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("level", ["beginner", "intermediate", "advanced"])
def test_article_routine_keeps_the_article_facts(capsys: pytest.CaptureFixture[str],
                                                 level: str) -> None:
    """Knee-to-chest 30 s a side around a switch gap; pelvic lift 5-10 s with breathing."""
    plan = _plan_json(capsys, level)
    segments = plan["segments"]
    switch = next(i for i, s in enumerate(segments)
                  if s["exercise"] == "knee-to-chest" and s["kind"] == "switch")
    before, gap, after = segments[switch - 1: switch + 2]
    assert (before["kind"], before["side"], before["duration"]) == ("hold", "left", 30)
    assert (after["kind"], after["side"], after["duration"]) == ("hold", "right", 30)
    assert 3 <= gap["duration"] <= 10
    assert any(c["text"] == "Switch legs" for c in gap["cues"])

    lifts = [s for s in plan["segments"] if s["exercise"] == "pelvic-lift" and s["kind"] == "hold"]
    assert lifts and all(5 <= s["duration"] <= 10 for s in lifts)
    for hold in lifts:
        kinds = {c["kind"] for c in hold["cues"]}
        assert {"breathe_in", "breathe_out"} <= kinds

    rolls = [s for s in plan["segments"] if s["exercise"] == "hip-rolling" and s["kind"] == "hold"]
    assert {s["side"] for s in rolls} == {"left", "right"}


def test_switch_gap_never_shortens_a_hold() -> None:
    """A longer switch gap lengthens the session; each hold keeps its full time."""
    routine = CATALOG.routines["lower-back-for-runners"]
    short = build_plan(routine, CATALOG.exercises, Level.BEGINNER, PlanOptions(switch_gap=3))
    long = build_plan(routine, CATALOG.exercises, Level.BEGINNER, PlanOptions(switch_gap=12))
    holds = [s.duration for s in short.segments if s.kind is SegmentKind.HOLD]
    assert holds == [s.duration for s in long.segments if s.kind is SegmentKind.HOLD]
    switches = sum(1 for s in short.segments if s.kind is SegmentKind.SWITCH)
    assert long.total - short.total == pytest.approx(9 * switches)


def test_get_ready_length_is_a_setting() -> None:
    """The get-ready gap follows the option, with the countdown at its end."""
    routine = CATALOG.routines["lower-back-for-runners"]
    timeline = build_plan(routine, CATALOG.exercises, Level.BEGINNER,
                          PlanOptions(get_ready=15, speech_wpm=None))
    first = timeline.segments[0]
    assert first.duration == 15
    assert [c.text for c in first.cues if c.kind is CueKind.COUNTDOWN] == ["3", "2", "1"]
    assert [c.offset for c in first.cues if c.kind is CueKind.COUNTDOWN] == [12, 13, 14]


overrides = st.builds(
    TimingOverride,
    hold=st.one_of(st.none(), st.floats(min_value=1, max_value=120)),
    reps=st.one_of(st.none(), st.integers(1, 6)),
    sets=st.one_of(st.none(), st.integers(1, 3)),
    rep_rest=st.one_of(st.none(), st.floats(min_value=0, max_value=20)),
    set_rest=st.one_of(st.none(), st.floats(min_value=0, max_value=60)),
    sides=st.one_of(st.none(), st.sampled_from(list(Sides))),
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(sorted(CATALOG.exercises)), overrides),
                      min_size=1, max_size=6),
       level=st.sampled_from(list(Level)),
       rest=st.floats(min_value=0, max_value=60))
def test_random_routines_sum_up(items: list[tuple[str, TimingOverride]], level: Level,
                                rest: float) -> None:
    """Any routine with any overrides: total time is the sum of the segments, cues in place."""
    routine = Routine(
        id="generated", name="Generated", description="x",
        items=tuple(RoutineItem(ex, {level: ov}) for ex, ov in items),
        rest_between=dict.fromkeys(Level, rest))
    timeline = build_plan(routine, CATALOG.exercises, level)
    _check_timeline(timeline)
    for seg in timeline.segments:
        if seg.kind is SegmentKind.SWITCH:
            assert seg.side is Side.RIGHT


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(sorted(CATALOG.exercises)), overrides),
                      min_size=1, max_size=6),
       level=st.sampled_from(list(Level)),
       rest=st.floats(min_value=0, max_value=60),
       get_ready=st.one_of(st.none(), st.floats(min_value=0, max_value=30)),
       switch_gap=st.one_of(st.none(), st.floats(min_value=0, max_value=15)))
def test_planned_length_is_exactly_the_timelines_total(
        items: list[tuple[str, TimingOverride]], level: Level, rest: float,
        get_ready: float | None, switch_gap: float | None) -> None:
    """The home cards' cue-free length equals the full plan's total, to the last bit."""
    routine = Routine(
        id="generated", name="Generated", description="x",
        items=tuple(RoutineItem(ex, {level: ov}) for ex, ov in items),
        rest_between=dict.fromkeys(Level, rest))
    options = PlanOptions(get_ready=get_ready, switch_gap=switch_gap)
    assert planned_length(routine, CATALOG.exercises, level, options) == \
        build_plan(routine, CATALOG.exercises, level, options).total


@pytest.mark.parametrize("wpm", [100.0, 160.0, 250.0])
def test_opening_gaps_fit_the_announcement_and_caution(wpm: float) -> None:
    """Before every exercise there is time to say its name, set-up and caution before "3"."""
    for routine in CATALOG.routines.values():
        timeline = build_plan(routine, CATALOG.exercises, Level.ADVANCED,
                              PlanOptions(get_ready=5, speech_wpm=wpm))
        for seg in timeline.segments:
            if not seg.opens_exercise:
                continue
            spoken = [c for c in seg.cues if c.kind in (CueKind.ANNOUNCE, CueKind.NEXT,
                                                         CueKind.CAUTION)]
            assert [c.kind for c in spoken][-1] is CueKind.CAUTION
            talk = sum(speech_seconds(c.text, wpm) for c in spoken) + 1.0 + 2 * 0.5
            countdown = min(c.offset for c in seg.cues if c.kind is CueKind.COUNTDOWN)
            assert talk <= countdown + 1e-9
