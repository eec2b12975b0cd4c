"""Turn a routine at a level into a flat, immutable timeline of segments with their cues.

Plan, then play: everything the engine, the window and the voice need is decided here,
once, so that they can never disagree about what happens when.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from backcoach.catalog.model import (
    Exercise,
    Level,
    LevelTiming,
    PhaseKind,
    Routine,
    Sides,
)

MIN_EXERCISE_GAP = 5.0  # seconds: always time to change position between exercises
COUNTDOWN_FROM = 3  # "3, 2, 1" before each hold or movement
HALFWAY_MIN_HOLD = 20.0  # shorter holds get no "halfway"
CRITICAL_SPACING = 1.0  # no two time-critical cues of a segment closer than this
BREATH_AFTER_CUE = 1.5  # first breath cue waits this long after a cue at a hold's start
BREATH_END_MARGIN = 1.5  # no breath cue this close to a hold's end (the next cue follows)


class SegmentKind(StrEnum):
    """What the user does during a segment."""

    GET_READY = "get_ready"
    HOLD = "hold"
    MOVE = "move"
    SWITCH = "switch"
    REST = "rest"


class Side(StrEnum):
    """Which side works during a segment."""

    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


class CueKind(StrEnum):
    """Kinds of cue; each can be turned on or off in the settings."""

    ANNOUNCE = "announce"
    CAUTION = "caution"
    GET_READY = "get_ready"
    COUNTDOWN = "countdown"
    SWITCH = "switch"
    PHASE = "phase"
    BREATHE_IN = "breathe_in"
    BREATHE_OUT = "breathe_out"
    HALFWAY = "halfway"
    REST = "rest"
    NEXT = "next"
    WELL_DONE = "well_done"


@dataclass(frozen=True)
class Cue:
    """Something to say (and show) at `offset` seconds into its segment.

    A critical cue is spoken on time or not at all; the others are announcements that
    may be shortened to `short_text` or skipped when they would collide.
    """

    offset: float
    kind: CueKind
    text: str
    critical: bool
    short_text: str = ""
    cycle: int = -1  # breath cycle number for breathe cues, else -1


@dataclass(frozen=True)
class Segment:
    """One stretch of the timeline: a hold, a movement, a switch, a rest or a get-ready."""

    index: int
    kind: SegmentKind
    start: float
    duration: float
    exercise_id: str  # the exercise being done, or for rest/get-ready the one coming up
    exercise_index: int  # position of that exercise in the routine
    side: Side
    set: int
    rep: int
    sets: int
    reps: int
    position: str  # position shown (the target one during a movement)
    from_position: str  # where a movement starts; equals `position` otherwise
    label: str  # the current step in one short line
    breathing: bool  # whether the breathing pacer runs during this segment
    cues: tuple[Cue, ...] = ()
    opens_exercise: bool = False  # the get-ready or rest gap that introduces an exercise

    @property
    def end(self) -> float:
        """Timeline time at which the segment ends."""
        return self.start + self.duration

    @property
    def is_work(self) -> bool:
        """A hold or a movement, as opposed to a gap between them."""
        return self.kind in (SegmentKind.HOLD, SegmentKind.MOVE)


@dataclass(frozen=True)
class Timeline:
    """The whole session as played: routine, level and its segments back to back."""

    routine_id: str
    routine_name: str
    level: Level
    segments: tuple[Segment, ...]
    exercises: tuple[Exercise, ...]

    @property
    def total(self) -> float:
        """Total seconds of the session."""
        return self.segments[-1].end if self.segments else 0.0

    def exercise(self, segment: Segment) -> Exercise:
        """The exercise a segment belongs to (or, for a gap, the one coming up)."""
        return self.exercises[segment.exercise_index]

    def segment_at(self, position: float) -> int:
        """Index of the segment playing at `position` (the last one at the very end)."""
        lo, hi = 0, len(self.segments) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.segments[mid].start <= position:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def exercise_starts(self) -> list[float]:
        """Timeline time at which each exercise's first hold or movement begins."""
        starts: dict[int, float] = {}
        for seg in self.segments:
            if seg.is_work and seg.exercise_index not in starts:
                starts[seg.exercise_index] = seg.start
        return [starts[i] for i in sorted(starts)]


@dataclass(frozen=True)
class PlanOptions:
    """User settings that shape the plan (from the settings file).

    `speech_wpm` set (the voice's rate, words per minute) stretches the gap before each
    exercise so that its name, set-up and first caution can be spoken before the
    countdown: a caution must never be skipped for want of time. None: voice is off.
    """

    get_ready: float | None = None  # None: the routine's own get-ready length
    switch_gap: float | None = None  # None: each exercise's own gap
    speech_wpm: float | None = 160.0


def speech_seconds(text: str, wpm: float) -> float:
    """A generous estimate of how long `text` takes to say at `wpm` words per minute."""
    return len(text.split()) * 60.0 / wpm * 1.1 + 0.4


ANNOUNCE_AT = 1.0  # the announcement follows "Get ready" / "Rest"
CUE_GAP = 0.5  # silence between two spoken announcements


def _opening_texts(exercise: Exercise, kind: SegmentKind) -> tuple[str, str]:
    prefix = "" if kind is SegmentKind.GET_READY else "Next: "
    return f"{prefix}{exercise.name}. {exercise.setup}", exercise.cautions[0]


def opening_gap(kind: SegmentKind, wanted: float, exercise: Exercise,
                options: PlanOptions) -> float:
    """The gap before an exercise: as long as asked, or long enough for what is said in it."""
    if options.speech_wpm is None:
        return wanted
    announce, caution = _opening_texts(exercise, kind)
    needed = (ANNOUNCE_AT + speech_seconds(announce, options.speech_wpm) + CUE_GAP
              + speech_seconds(caution, options.speech_wpm) + CUE_GAP + COUNTDOWN_FROM)
    return max(wanted, float(math.ceil(needed)))


@dataclass
class _Draft:
    """A segment under construction (cues are attached after the layout is known)."""

    kind: SegmentKind
    duration: float
    exercise_index: int
    side: Side
    set: int
    rep: int
    sets: int
    reps: int
    position: str
    from_position: str
    label: str
    breathing: bool
    phase_cue: str = ""
    side_change: bool = False
    opens_exercise: bool = False  # the gap before an exercise: announce it here


def effective_timing(routine: Routine, item_index: int, exercise: Exercise,
                     level: Level) -> tuple[LevelTiming, Sides]:
    """The timing and sides of one routine item at a level, overrides applied."""
    override = routine.items[item_index].override(level)
    timing = override.apply(exercise.timing[level])
    return timing, override.sides or exercise.sides


def build_plan(routine: Routine, exercises: dict[str, Exercise], level: Level,
               options: PlanOptions | None = None) -> Timeline:
    """Lay the routine out as segments, then schedule the cues inside them."""
    chosen, drafts = _drafts(routine, exercises, level, options or PlanOptions())
    segments: list[Segment] = []
    start = 0.0
    for i, draft in enumerate(drafts):
        following = drafts[i + 1] if i + 1 < len(drafts) else None
        cues = _cues(draft, following, chosen, is_last=following is None)
        segments.append(Segment(
            index=i, kind=draft.kind, start=start, duration=draft.duration,
            exercise_id=chosen[draft.exercise_index].id, exercise_index=draft.exercise_index,
            side=draft.side, set=draft.set, rep=draft.rep, sets=draft.sets, reps=draft.reps,
            position=draft.position, from_position=draft.from_position, label=draft.label,
            breathing=draft.breathing, cues=cues, opens_exercise=draft.opens_exercise))
        start += draft.duration
    return Timeline(routine_id=routine.id, routine_name=routine.name, level=level,
                    segments=tuple(segments), exercises=chosen)


def planned_length(routine: Routine, exercises: dict[str, Exercise], level: Level,
                   options: PlanOptions | None = None) -> float:
    """Seconds the routine lasts (build_plan(...).total) without scheduling its cues: the
    home screen shows every routine's minutes at start-up, and cues are most of the work."""
    _chosen, drafts = _drafts(routine, exercises, level, options or PlanOptions())
    return sum(draft.duration for draft in drafts)


def _drafts(routine: Routine, exercises: dict[str, Exercise], level: Level,
            options: PlanOptions) -> tuple[tuple[Exercise, ...], list[_Draft]]:
    """The routine's exercises and its segments before cues and start times."""
    chosen = tuple(exercises[item.exercise] for item in routine.items)
    drafts: list[_Draft] = []
    for index, exercise in enumerate(chosen):
        timing, sides = effective_timing(routine, index, exercise, level)
        if index == 0:
            get_ready = options.get_ready if options.get_ready is not None else routine.get_ready
            drafts.append(_gap(SegmentKind.GET_READY, opening_gap(
                SegmentKind.GET_READY, get_ready, exercise, options), index, exercise))
        else:
            rest = max(routine.rest_between[level], MIN_EXERCISE_GAP)
            drafts.append(_gap(SegmentKind.REST, opening_gap(
                SegmentKind.REST, rest, exercise, options), index, exercise))
        switch_gap = options.switch_gap if options.switch_gap is not None else exercise.switch_gap
        drafts.extend(_exercise_drafts(exercise, index, timing, sides, switch_gap))
    return chosen, drafts


def _gap(kind: SegmentKind, seconds: float, index: int, exercise: Exercise) -> _Draft:
    first = exercise.first_position.id
    label = "Get into position" if kind is SegmentKind.GET_READY else "Rest"
    return _Draft(kind=kind, duration=seconds, exercise_index=index, side=Side.BOTH, set=1,
                  rep=1, sets=1, reps=1, position=first, from_position=first, label=label,
                  breathing=False, opens_exercise=True)


def _side_order(sides: Sides, alternate: bool, reps: int) -> list[tuple[Side, int]]:
    """(side, rep) pairs in the order they are played within one set."""
    if sides is Sides.BOTH:
        return [(Side.BOTH, rep) for rep in range(1, reps + 1)]
    if alternate:
        return [(side, rep) for rep in range(1, reps + 1) for side in (Side.LEFT, Side.RIGHT)]
    return [(side, rep) for side in (Side.LEFT, Side.RIGHT) for rep in range(1, reps + 1)]


def _exercise_drafts(exercise: Exercise, index: int, timing: LevelTiming, sides: Sides,
                     switch_gap: float) -> list[_Draft]:
    drafts: list[_Draft] = []
    alternate = exercise.alternate and sides is Sides.EACH
    last_position = exercise.first_position.id
    for set_no in range(1, timing.sets + 1):
        if set_no > 1 and timing.set_rest > 0:
            drafts.append(_rest_within(exercise, index, timing, set_no, last_position,
                                       f"Rest before set {set_no} of {timing.sets}",
                                       timing.set_rest))
        previous_side: Side | None = None
        for side, rep in _side_order(sides, alternate, timing.reps):
            side_change = previous_side is not None and side is not previous_side
            if side_change and not alternate:
                drafts.append(_Draft(
                    kind=SegmentKind.SWITCH, duration=switch_gap, exercise_index=index,
                    side=side, set=set_no, rep=rep, sets=timing.sets, reps=timing.reps,
                    position=exercise.first_position.id, from_position=last_position,
                    label=exercise.switch_cue, breathing=False))
                last_position = exercise.first_position.id
            elif rep > 1 and timing.rep_rest > 0 and (not alternate or side is Side.LEFT):
                drafts.append(_rest_within(exercise, index, timing, set_no, last_position,
                                           "Relax", timing.rep_rest, side=side, rep=rep))
            for phase_no, phase in enumerate(exercise.phases):
                is_move = phase.kind is PhaseKind.MOVE
                seconds = phase.seconds if phase.seconds is not None else timing.hold
                position = exercise.position(phase.position)
                drafts.append(_Draft(
                    kind=SegmentKind.MOVE if is_move else SegmentKind.HOLD,
                    duration=seconds, exercise_index=index, side=side, set=set_no, rep=rep,
                    sets=timing.sets, reps=timing.reps, position=phase.position,
                    from_position=last_position if is_move else phase.position,
                    label=phase.cue or (f"Hold: {position.name.lower()}" if not is_move
                                        else position.name),
                    breathing=not is_move and exercise.breathing is not None,
                    phase_cue=phase.cue,
                    side_change=alternate and side_change and phase_no == 0))
                last_position = phase.position
            previous_side = side
    return drafts


def _rest_within(exercise: Exercise, index: int, timing: LevelTiming, set_no: int,
                 position: str, label: str, seconds: float, side: Side = Side.BOTH,
                 rep: int = 1) -> _Draft:
    return _Draft(kind=SegmentKind.REST, duration=seconds, exercise_index=index, side=side,
                  set=set_no, rep=rep, sets=timing.sets, reps=timing.reps,
                  position=position, from_position=position, label=label, breathing=False)


def _cues(draft: _Draft, following: _Draft | None, exercises: tuple[Exercise, ...],
          is_last: bool) -> tuple[Cue, ...]:
    """Schedule the cues of one segment; critical ones never crowd each other."""
    exercise = exercises[draft.exercise_index]
    cues: list[Cue] = []
    if draft.kind is SegmentKind.GET_READY:
        cues.append(Cue(0.0, CueKind.GET_READY, "Get ready", critical=True))
    elif draft.kind is SegmentKind.REST and draft.duration >= COUNTDOWN_FROM + 1:
        cues.append(Cue(0.0, CueKind.REST, "Rest", critical=True))
    elif draft.kind is SegmentKind.SWITCH or draft.side_change:
        cues.append(Cue(0.0, CueKind.SWITCH, exercise.switch_cue, critical=True))
    elif draft.phase_cue:
        cues.append(Cue(0.0, CueKind.PHASE, draft.phase_cue, critical=True))

    if draft.opens_exercise:
        kind = CueKind.ANNOUNCE if draft.kind is SegmentKind.GET_READY else CueKind.NEXT
        announce, caution = _opening_texts(exercise, draft.kind)
        short = announce.split(". ")[0]
        cues.append(Cue(ANNOUNCE_AT, kind, announce, critical=False, short_text=short))
        # The caution follows the announcement (the voice queues them; the offset is where
        # it starts at the default rate, and what the on-screen trace shows).
        caution_at = min(ANNOUNCE_AT + speech_seconds(announce, 160.0) + CUE_GAP,
                         max(ANNOUNCE_AT + CUE_GAP, draft.duration - COUNTDOWN_FROM - 1))
        cues.append(Cue(round(caution_at, 1), CueKind.CAUTION, caution, critical=False))

    if draft.kind is SegmentKind.HOLD:
        if draft.duration >= HALFWAY_MIN_HOLD:
            cues.append(Cue(draft.duration / 2, CueKind.HALFWAY, "Halfway", critical=True))
        if draft.breathing and exercise.breathing is not None:
            cues.extend(_breath_cues(exercise, draft.duration,
                                     start=BREATH_AFTER_CUE if cues else 0.0))

    if following is not None and following.kind in (SegmentKind.HOLD, SegmentKind.MOVE) \
            and draft.kind in (SegmentKind.GET_READY, SegmentKind.REST, SegmentKind.SWITCH) \
            and draft.duration >= COUNTDOWN_FROM + 1:
        for n in range(COUNTDOWN_FROM, 0, -1):
            cues.append(Cue(draft.duration - n, CueKind.COUNTDOWN, str(n), critical=True))

    if is_last:
        cues.append(Cue(draft.duration, CueKind.WELL_DONE, "Well done", critical=True))
    return _spaced(cues)


def _breath_cues(exercise: Exercise, duration: float, start: float) -> list[Cue]:
    assert exercise.breathing is not None
    pattern = exercise.breathing
    cues = []
    t, cycle = start, 0
    last = duration - BREATH_END_MARGIN
    while t <= last:
        cues.append(Cue(t, CueKind.BREATHE_IN, "Breathe in", critical=True, cycle=cycle))
        out_at = t + pattern.inhale + pattern.hold_in
        if out_at <= last:
            cues.append(Cue(out_at, CueKind.BREATHE_OUT, "Breathe out", critical=True,
                            cycle=cycle))
        t += pattern.cycle
        cycle += 1
    return cues


def _spaced(cues: list[Cue]) -> tuple[Cue, ...]:
    """Sort by time; drop a critical cue that would crowd an earlier-listed critical one.

    Cues are listed in priority order (the segment's own cue, halfway, countdown, then
    breath), so a breath cue that would land on "halfway" is the one that goes.
    """
    kept: list[Cue] = []
    priority = sorted(range(len(cues)), key=lambda i: (_rank(cues[i]), i))
    for i in priority:
        cue = cues[i]
        if cue.critical and any(
                other.critical and abs(other.offset - cue.offset) < CRITICAL_SPACING
                for other in kept):
            continue
        kept.append(cue)
    return tuple(sorted(kept, key=lambda c: (c.offset, not c.critical)))


def _rank(cue: Cue) -> int:
    order = [CueKind.WELL_DONE, CueKind.SWITCH, CueKind.GET_READY, CueKind.REST, CueKind.PHASE,
             CueKind.COUNTDOWN, CueKind.HALFWAY, CueKind.BREATHE_IN, CueKind.BREATHE_OUT]
    return order.index(cue.kind) if cue.kind in order else len(order)

