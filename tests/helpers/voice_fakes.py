"""Fakes shared by the voice tests (speech engines, sound sources, timelines); no tests here."""

from __future__ import annotations

import math
import threading
from pathlib import Path

from backcoach.catalog.model import Exercise, Level
from backcoach.session.plan import Cue, CueKind, Segment, SegmentKind, Side, Timeline
from backcoach.voice.cache import Sound, VoiceParams
from backcoach.voice.chime import SAMPLE_RATE, write_wav
from backcoach.voice.scheduler import NOT_READY, PhraseLookup
from backcoach.voice.speech import VoiceInfo

SECONDS_PER_WORD = 0.35
NO_ESPEAK = "This means you probably do not have eSpeak or eSpeak-ng installed!"


def words(text: str) -> int:
    """Spoken words in a phrase (a number counts as one)."""
    return max(1, len(text.split()))


def spoken_length(text: str) -> float:
    """How long the fakes make a phrase last."""
    return round(SECONDS_PER_WORD * words(text), 4)


class SineEngine:
    """A speech engine that writes a tone lasting `spoken_length(text)`; instant, never hangs."""

    name = "fake"

    def __init__(self) -> None:
        self.rendered: list[tuple[str, VoiceParams]] = []
        self.thread_ids: set[int] = set()

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("fake/en", "Fake English", ("en",)), VoiceInfo("fake/fr", "Fake French")]

    def render(self, text: str, params: VoiceParams, path: Path) -> None:
        self.thread_ids.add(threading.get_ident())
        self.rendered.append((text, params))
        n = round(spoken_length(text) * SAMPLE_RATE)
        amp = 8000 * params.volume
        write_wav(path, [round(amp * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)) for i in range(n)])


class HangingEngine(SineEngine):
    """An engine whose render really blocks (on an Event) until the test releases it."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release
        self.entered = threading.Event()

    def render(self, text: str, params: VoiceParams, path: Path) -> None:
        self.entered.set()
        self.release.wait()
        super().render(text, params, path)


def failing_factory() -> SineEngine:
    """What pyttsx3.init does on Linux without libespeak-ng."""
    raise RuntimeError(NO_ESPEAK)


class FakeSounds:
    """A SoundSource whose phrases last `spoken_length`; some may be 'still rendering'."""

    def __init__(self) -> None:
        self.not_ready: set[str] = set()
        self.missing: set[str] = set()
        self.lengths: dict[str, float] = {}

    def phrase(self, text: str) -> PhraseLookup:
        if text in self.not_ready:
            return NOT_READY
        if text in self.missing:
            return None
        return Sound(text, Path(f"/fake/{text}.wav"), self.lengths.get(text, spoken_length(text)))

    def chime(self, kind: CueKind) -> Sound | None:
        if kind in (CueKind.BREATHE_IN, CueKind.BREATHE_OUT):
            return None
        name = "[tick]" if kind is CueKind.COUNTDOWN else "[chime]"
        return Sound(name, Path(f"/fake/{name}.wav"), 0.1 if name == "[tick]" else 0.6)


def make_timeline(*segments: tuple[SegmentKind, float, tuple[Cue, ...]],
                  exercises: tuple[Exercise, ...] = ()) -> Timeline:
    """A hand-made timeline: (kind, duration, cues) per segment, back to back."""
    built, start = [], 0.0
    for i, (kind, duration, cues) in enumerate(segments):
        built.append(Segment(index=i, kind=kind, start=start, duration=duration, exercise_id="x",
                             exercise_index=0, side=Side.BOTH, set=1, rep=1, sets=1, reps=1,
                             position="p", from_position="p", label=kind.value,
                             breathing=kind is SegmentKind.HOLD, cues=cues))
        start += duration
    return Timeline(routine_id="test", routine_name="Test", level=Level.BEGINNER,
                    segments=tuple(built), exercises=exercises)


def crit(offset: float, text: str, kind: CueKind = CueKind.COUNTDOWN, cycle: int = -1) -> Cue:
    """A time-critical cue."""
    return Cue(offset, kind, text, critical=True, cycle=cycle)


def announce(offset: float, text: str, short: str = "", kind: CueKind = CueKind.ANNOUNCE) -> Cue:
    """An announcement (not time-critical)."""
    return Cue(offset, kind, text, critical=False, short_text=short)


