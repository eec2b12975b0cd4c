"""The engine plays a timeline against an injected clock: once, in order, without drift."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers.clock import FakeClock

from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Level, Routine, RoutineItem, TimingOverride
from backcoach.session.engine import Engine
from backcoach.session.events import CueDue, Event, Finished, SegmentStarted, State, StateChanged
from backcoach.session.plan import Timeline, build_plan

CATALOG = load_builtin_catalog()


def _timeline(level: Level = Level.BEGINNER) -> Timeline:
    return build_plan(CATALOG.routines["lower-back-for-runners"], CATALOG.exercises, level)


def _engine(timeline: Timeline | None = None) -> tuple[Engine, FakeClock, list[Event]]:
    clock = FakeClock()
    engine = Engine(timeline or _timeline(), clock)
    events: list[Event] = []
    engine.subscribe(events.append)
    return engine, clock, events


def _run_to_end(engine: Engine, clock: FakeClock, step: str = "0.25") -> None:
    while engine.state is State.RUNNING:
        clock.advance(step)
        engine.tick()


def test_plays_every_segment_and_cue_once_in_order() -> None:
    """Played straight through, every segment starts once and every cue fires once, in time order."""
    engine, clock, events = _engine()
    engine.start()
    _run_to_end(engine, clock)
    timeline = engine.timeline
    starts = [e.segment.index for e in events if isinstance(e, SegmentStarted)]
    assert starts == list(range(len(timeline.segments)))
    cues = [e for e in events if isinstance(e, CueDue)]
    assert len(cues) == sum(len(s.cues) for s in timeline.segments)
    assert [c.due for c in cues] == sorted(c.due for c in cues)
    assert all(0 <= c.late < 0.25 for c in cues)
    assert isinstance(events[-1], Finished) and events[-1].completed


def test_big_steps_still_emit_everything_in_order() -> None:
    """A tick that crosses several boundaries (under the jump limit) emits each event in order."""
    engine, clock, events = _engine()
    engine.start()
    _run_to_end(engine, clock, step="4.9")
    seen: list[int] = []
    for e in events:
        if isinstance(e, SegmentStarted):
            seen.append(e.segment.index)
        if isinstance(e, CueDue):
            assert e.segment.index == seen[-1]  # a cue never arrives before its segment
    assert seen == list(range(len(engine.timeline.segments)))


def test_pause_freezes_and_resume_continues() -> None:
    """While paused the position stands still and nothing is emitted."""
    engine, clock, events = _engine()
    engine.start()
    clock.advance(3)
    engine.tick()
    engine.pause()
    frozen = engine.position()
    count = len(events)
    clock.advance(100)
    engine.tick()
    assert engine.position() == frozen == 3
    assert len(events) == count
    engine.resume()
    clock.advance(2)
    engine.tick()
    assert engine.position() == 5


def test_clock_jump_pauses_instead_of_racing() -> None:
    """A jump past the limit (laptop sleep) pauses at the last seen position."""
    engine, clock, events = _engine()
    engine.start()
    clock.advance(2)
    engine.tick()
    clock.advance(600)
    engine.tick()
    assert engine.state is State.PAUSED
    assert engine.position() == 2
    assert isinstance(events[-1], StateChanged) and events[-1].reason == "clock-jump"
    assert not any(isinstance(e, CueDue) and e.due > 2 for e in events)


def test_next_previous_and_restart() -> None:
    """Navigation moves to segment starts, emits the new segment, and skips skipped cues."""
    engine, clock, events = _engine()
    engine.start()
    engine.next()
    assert engine.index == 1 and engine.position() == engine.timeline.segments[1].start
    engine.next()
    assert engine.index == 2
    engine.previous()
    assert engine.index == 1
    clock.advance(4)
    engine.tick()
    engine.restart_step()
    assert engine.segment_elapsed() == 0
    # The countdown of the skipped get-ready segment was never spoken.
    assert not any(isinstance(e, CueDue) and e.cue.text == "3" and e.segment.index == 0
                   for e in events)


def test_stop_finishes_early() -> None:
    """Stop ends the session as not completed."""
    engine, clock, events = _engine()
    engine.start()
    clock.advance(1)
    engine.tick()
    engine.stop()
    assert engine.state is State.FINISHED
    assert isinstance(events[-1], Finished) and not events[-1].completed


def test_next_past_the_end_completes() -> None:
    """Skipping past the last segment completes the session."""
    engine, _, events = _engine()
    engine.start()
    for _ in range(len(engine.timeline.segments)):
        engine.next()
    assert engine.state is State.FINISHED
    assert isinstance(events[-1], Finished) and events[-1].completed


ops = st.lists(st.one_of(
    st.tuples(st.just("advance"), st.integers(0, 4900).map(lambda ms: ms / 1000)),
    st.tuples(st.sampled_from(["pause", "resume", "next", "previous", "restart", "tick"]),
              st.none()),
), max_size=120)


@settings(max_examples=200, deadline=None)
@given(ops=ops)
def test_any_mix_of_controls_emits_each_cue_at_most_once(ops: list) -> None:
    """Pause, resume, next, previous, restart and clock steps never repeat a cue or reorder segments."""
    engine, clock, events = _engine()
    engine.start()
    navigation = {"next", "previous", "restart"}
    for op, value in ops:
        if op in navigation:
            events.append("navigate")  # type: ignore[arg-type]
        if op == "advance":
            clock.advance(value)
            engine.tick()
        elif op == "restart":
            engine.restart_step()
        else:
            getattr(engine, op)()
    cue_ids = [(e.segment.index, e.segment.cues.index(e.cue)) for e in events
               if isinstance(e, CueDue)]
    assert len(cue_ids) == len(set(cue_ids))
    # Between navigation commands, segments start in timeline order, one after another,
    # and every cue belongs to the segment started last.
    current, after_navigation = None, False
    for e in events:
        if e == "navigate":
            after_navigation = True
        elif isinstance(e, SegmentStarted):
            if current is not None and not after_navigation:
                assert e.segment.index == current + 1
            current, after_navigation = e.segment.index, False
        elif isinstance(e, CueDue):
            assert e.segment.index == current


def _long_timeline() -> Timeline:
    routine = Routine(
        id="long", name="Long", description="x",
        items=(RoutineItem("knee-to-chest", {Level.BEGINNER: TimingOverride(hold=300, reps=3)}),
               RoutineItem("pelvic-lift", {Level.BEGINNER: TimingOverride(reps=40)})),
        rest_between=dict.fromkeys(Level, 30.0))
    timeline = build_plan(routine, CATALOG.exercises, Level.BEGINNER)
    assert timeline.total > 30 * 60
    return timeline


@settings(max_examples=25, deadline=None)
@given(jitter=st.lists(st.integers(51, 1536).map(lambda k: k / 1024), min_size=50,
                       max_size=50),
       pauses=st.sets(st.integers(0, 2000), max_size=20))
def test_no_drift_over_thirty_minutes(jitter: list[float], pauses: set[int]) -> None:
    """After 30 simulated minutes of jittery ticks and pauses, position equals running time exactly."""
    engine, clock, _ = _engine(_long_timeline())
    engine.start()
    running = 0.0
    step = 0
    while running < 30 * 60:
        dt = jitter[step % len(jitter)]
        step += 1
        clock.advance(dt)
        if engine.state is State.RUNNING:
            running += dt
        engine.tick()
        if step in pauses:
            engine.toggle_pause()
            clock.advance(3)  # paused time never counts
            engine.toggle_pause()
    assert engine.position() == running
    assert engine.state is State.RUNNING


def test_a_cue_passed_between_ticks_is_due_at_once() -> None:
    """A cue whose moment slipped by after a tick is reported as due now, never skipped."""
    engine, clock, events = _engine()
    engine.start()
    first_countdown = next(seg.start + c.offset for seg in engine.timeline.segments
                           for c in seg.cues if c.text == "3")
    while clock.now + 1 < 1000.0 + first_countdown:
        clock.advance(1)
        engine.tick()
    clock.now = 1000.0 + first_countdown - 0.0005  # the timer fired half a millisecond early
    engine.tick()
    assert not any(isinstance(e, CueDue) and e.cue.text == "3" for e in events)
    clock.now += 0.002  # the moment passes before the driver re-arms
    assert engine.time_to_next_event() == 0.0
    engine.tick()
    assert any(isinstance(e, CueDue) and e.cue.text == "3" for e in events)
