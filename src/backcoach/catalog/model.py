"""The exercise and routine model: plain frozen dataclasses, no I/O and no Qt.

Loading and validation live in `loader`; this module only says what an exercise *is*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """How hard a routine is played; every exercise has timing for each level."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Sides(StrEnum):
    """Whether an exercise works both sides at once or each side in turn."""

    BOTH = "both"
    EACH = "each"


class PhaseKind(StrEnum):
    """A phase is either a movement into a position or a still hold in it."""

    MOVE = "move"
    HOLD = "hold"


FOCUSES = ("mobility", "strength", "stretch")
POSTURES = ("lying", "kneeling", "standing", "sitting")


@dataclass(frozen=True)
class Position:
    """One body position of an exercise and the illustration that shows it."""

    id: str
    name: str
    illustration: str  # path relative to the resources folder, e.g. "illustrations/x.svg"


@dataclass(frozen=True)
class Phase:
    """One part of a repetition: move into `position`, or hold it.

    A hold phase without `seconds` takes the level's hold time; a move phase always has
    its own (short, fixed) duration so the movement stays slow whatever the level.
    """

    kind: PhaseKind
    position: str
    cue: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class LevelTiming:
    """Timing of an exercise at one level.

    `hold` is the length of each hold phase; `reps` repetitions per side per set;
    `rep_rest` is the pause between repetitions and `set_rest` between sets.
    """

    hold: float
    reps: int = 1
    sets: int = 1
    rep_rest: float = 0.0
    set_rest: float = 0.0


@dataclass(frozen=True)
class Breathing:
    """A breathing pattern in seconds; the pacer and the breath cues follow it."""

    inhale: float
    exhale: float
    hold_in: float = 0.0
    hold_out: float = 0.0

    @property
    def cycle(self) -> float:
        """Seconds for one full breath."""
        return self.inhale + self.hold_in + self.exhale + self.hold_out


@dataclass(frozen=True)
class Exercise:
    """One exercise of the catalogue, with everything the coach needs to lead it."""

    id: str
    name: str
    summary: str
    setup: str  # one line spoken and shown while getting into position
    focus: str
    posture: str
    steps: tuple[str, ...]
    positions: tuple[Position, ...]
    phases: tuple[Phase, ...]
    sides: Sides
    timing: dict[Level, LevelTiming]
    cautions: tuple[str, ...]
    sources: tuple[str, ...]
    breathing: Breathing | None = None
    alternate: bool = False  # each side: alternate rep by rep instead of all reps then switch
    switch_cue: str = "Switch sides"
    switch_gap: float = 5.0
    licence: str = "CC-BY-SA-4.0"
    origin: str = ""  # the file it was loaded from, for messages

    def position(self, position_id: str) -> Position:
        """Return the position with this id (validated to exist at load time)."""
        for pos in self.positions:
            if pos.id == position_id:
                return pos
        raise KeyError(position_id)

    @property
    def first_position(self) -> Position:
        """The position the exercise starts from: the one shown while getting ready."""
        return self.positions[0]


@dataclass(frozen=True)
class TimingOverride:
    """Per-item changes to an exercise's level timing inside one routine."""

    hold: float | None = None
    reps: int | None = None
    sets: int | None = None
    rep_rest: float | None = None
    set_rest: float | None = None
    sides: Sides | None = None

    def apply(self, base: LevelTiming) -> LevelTiming:
        """Return `base` with the fields this override sets replaced."""
        return LevelTiming(
            hold=base.hold if self.hold is None else self.hold,
            reps=base.reps if self.reps is None else self.reps,
            sets=base.sets if self.sets is None else self.sets,
            rep_rest=base.rep_rest if self.rep_rest is None else self.rep_rest,
            set_rest=base.set_rest if self.set_rest is None else self.set_rest,
        )


@dataclass(frozen=True)
class RoutineItem:
    """An exercise inside a routine, with optional overrides per level."""

    exercise: str
    overrides: dict[Level, TimingOverride] = field(default_factory=dict)

    def override(self, level: Level) -> TimingOverride:
        """The override for `level`, or an empty one."""
        return self.overrides.get(level, TimingOverride())


@dataclass(frozen=True)
class Routine:
    """An ordered list of exercises with the rests between them."""

    id: str
    name: str
    description: str
    items: tuple[RoutineItem, ...]
    rest_between: dict[Level, float]
    get_ready: float = 10.0
    default_level: Level = Level.BEGINNER
    builtin: bool = True
    origin: str = ""
