"""When to speak: the coach's timing rules, as plain Python over an injected clock.

The engine says *that* a cue is due (and how late it noticed); this module decides whether
and when its phrase plays, knowing the audible length of every rendered phrase:

- A time-critical cue (countdown, switch, breathe, phase, halfway, ...) starts within
  `CRITICAL_GRACE` (100 ms) of its scheduled moment, counting the engine's lateness, the
  wait for the phrase before it to end, and the playback's own start-up latency; if it
  cannot, it is dropped, never spoken late.
- Phrases never overlap and are never cut off: the next one starts `GAP` after the
  previous one ends (only pause, a jump, mute or stop cut a phrase short).
- An announcement (announce, next, caution) plays only if it can finish
  `ANNOUNCE_MARGIN` before the next time-critical cue that will actually be spoken;
  otherwise its short form (`short_text`, the exercise name) if that fits, else it is
  skipped. Announcements wait their turn one after another; one whose step is over is
  dropped.
- Breath cues are spoken on the first two cycles of a hold, then every Nth cycle.
- Pause, a jump to another step (next, previous, restart) and an early stop silence the
  current phrase and cancel everything waiting; resuming replays nothing. At the natural
  end of the session the last phrase ("Well done") plays out.

Every decision is reported as a `Decision` (for traces, tests and the benchmark).
`poll(now)` must be called again at the time it returns (the Qt coach arms a timer).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from backcoach.session.events import CueDue, Event, Finished, SegmentStarted, State, StateChanged
from backcoach.session.plan import Cue, CueKind, Timeline
from backcoach.store.settings import VoiceSettings
from backcoach.voice.cache import Sound
from backcoach.voice.playback import Playback

CRITICAL_GRACE = 0.100  # seconds a time-critical cue may start after its moment
CHIME_MARGIN = 0.020  # a phrase not rendered this long before the grace ends: its chime
GAP = 0.10  # silence between two phrases
ANNOUNCE_MARGIN = 0.30  # silence between an announcement and the next critical cue
NATURAL_TOLERANCE = 0.05  # a segment that starts this close to its planned time was reached by time
BREATH_ALWAYS = 2  # breath cycles always spoken at the start of a hold


class _NotReady(enum.Enum):
    TOKEN = 0


NOT_READY: Literal[_NotReady.TOKEN] = _NotReady.TOKEN
PhraseLookup = Sound | None | Literal[_NotReady.TOKEN]


class SoundSource(Protocol):
    """Where the scheduler gets audio from (the coach's phrase store)."""

    def phrase(self, text: str) -> PhraseLookup:
        """The rendered phrase, NOT_READY while it renders, None if it cannot be had."""
        ...

    def chime(self, kind: CueKind) -> Sound | None:
        """The fallback sound for a critical cue when speech is unavailable (None: silence)."""
        ...


class Action(enum.StrEnum):
    """What became of a cue."""

    PLAYED = "played"  # spoken in full
    SHORTENED = "shortened"  # its short form was spoken
    CHIMED = "chimed"  # speech unavailable: the chime marked it
    DROPPED = "dropped"  # time-critical, could not start within the grace: not spoken
    SKIPPED = "skipped"  # announcement with no room (or its step was over)
    SILENCED = "silenced"  # not to be spoken: voice off, kind off, muted, breath pacing
    CANCELLED = "cancelled"  # pause, jump, mute or stop while waiting or playing


@dataclass(frozen=True)
class Decision:
    """One cue's fate: what was played, when, and why."""

    action: Action
    kind: str  # the cue kind, or "test" for the settings' test phrase
    text: str  # the cue's text
    at: float  # clock time of the decision
    moment: float | None = None  # clock time the cue was scheduled for
    start: float | None = None  # clock time play() was called
    played: str = ""  # the text actually played (the short form when shortened)
    reason: str = ""

    def record(self) -> dict[str, object]:
        """A JSON-ready description (for `--trace`: `coach.decision` -> TraceWriter.write)."""
        return {"event": "voice", "action": self.action.value, "kind": self.kind, "text": self.text,
                "played": self.played, "moment": self.moment, "start": self.start,
                "delay": self.delay, "reason": self.reason}

    @property
    def delay(self) -> float | None:
        """Seconds from the scheduled moment to the play() call."""
        if self.start is None or self.moment is None:
            return None
        return self.start - self.moment


@dataclass(frozen=True)
class _Item:
    kind: str
    text: str
    short_text: str
    critical: bool
    moment: float  # clock time it was due
    segment: int | None  # segment index (None: not tied to a step, e.g. the test phrase)
    cue_kind: CueKind | None = None


@dataclass(frozen=True)
class _Playing:
    item: _Item
    sound: Sound
    start: float
    free_at: float  # when the next phrase may start (end + GAP)


def breath_spoken(cycle: int, every: int) -> bool:
    """Breath cycle numbers that are spoken: the first two, then every `every`th."""
    return cycle < 0 or cycle < BREATH_ALWAYS or cycle % max(1, every) == 0


class CueScheduler:
    """Turns engine events into play() calls on a playback, by the rules above."""

    def __init__(self, sink: Playback, sounds: SoundSource, settings: VoiceSettings,
                 on_decision: Callable[[Decision], None] | None = None) -> None:
        self.sink = sink
        self.sounds = sounds
        self.settings = settings
        self.on_decision = on_decision
        self.muted = False
        self.speech_available = True
        self.timeline: Timeline | None = None
        self._running = False
        self._anchor: tuple[float, float] | None = None  # (clock time, timeline position)
        self._frozen = 0.0  # timeline position while not running
        self._segment = -1
        self._playing: _Playing | None = None
        self._pending: _Item | None = None  # a critical cue waiting to start
        self._queue: deque[_Item] = deque()  # announcements waiting their turn

    # -- queries ---------------------------------------------------------------------
    def position(self, now: float) -> float:
        """The timeline position the scheduler believes in at clock time `now`."""
        if self._running and self._anchor is not None:
            return self._anchor[1] + (now - self._anchor[0])
        return self._frozen

    def busy_until(self, now: float) -> float:
        """When the next phrase may start (now, if nothing is sounding)."""
        if self._playing is not None and self._playing.free_at > now:
            return self._playing.free_at
        return now

    @property
    def waiting(self) -> int:
        """How many cues wait to be played."""
        return len(self._queue) + (self._pending is not None)

    def silence_reason(self, cue: Cue) -> str:
        """Why this cue is not to be spoken ("" if it is)."""
        if not self.settings.enabled:
            return "voice is off"
        if self.muted:
            return "muted"
        if not self.settings.cue_enabled(cue.kind.value):
            return f"{cue.kind.value} cues are off"
        if cue.kind in (CueKind.BREATHE_IN, CueKind.BREATHE_OUT) and not breath_spoken(
                cue.cycle, self.settings.breathe_every):
            return f"breath cues every {self.settings.breathe_every} cycles"
        return ""

    # -- inputs ----------------------------------------------------------------------
    def set_timeline(self, timeline: Timeline | None, now: float) -> None:
        """A new session: forget the old one."""
        self.stop_all(now, "new session")
        self.timeline = timeline
        self._running, self._anchor, self._frozen, self._segment = False, None, 0.0, -1

    def handle(self, event: Event, now: float) -> float | None:
        """React to an engine event; returns when `poll` wants to be called next."""
        if isinstance(event, CueDue):
            self._on_cue(event, now)
        elif isinstance(event, SegmentStarted):
            self._on_segment(event, now)
        elif isinstance(event, StateChanged):
            self._on_state(event, now)
        elif isinstance(event, Finished):
            self._running, self._anchor = False, None
            self._frozen = event.position
            if event.completed:
                self._cancel_queue(now, "session finished")  # let the last phrase play out
            else:
                self.stop_all(now, "session stopped")
        return self.poll(now)

    def _on_cue(self, event: CueDue, now: float) -> None:
        self._running = True
        self._anchor = (event.at, event.due + event.late)
        cue = event.cue
        item = _Item(kind=cue.kind.value, text=cue.text, short_text=cue.short_text,
                     critical=cue.critical, moment=event.at - event.late,
                     segment=event.segment.index, cue_kind=cue.kind)
        reason = self.silence_reason(cue)
        if reason:
            self._decide(Action.SILENCED, item, now, reason=reason)
            return
        if not cue.critical:
            self._queue.append(item)
            return
        if self._pending is not None:  # the previous critical cue's time is up
            self._decide(Action.DROPPED, self._pending, now, reason="a later cue is due")
        self._pending = item

    def _on_segment(self, event: SegmentStarted, now: float) -> None:
        seg = event.segment
        natural = (self._running and seg.index == self._segment + 1
                   and self.position(event.at) >= seg.start - NATURAL_TOLERANCE)
        if not natural:
            if self._segment >= 0:
                self.stop_all(now, "moved to another step")
            if self._running:
                self._anchor = (event.at, seg.start)
            else:
                self._frozen = seg.start
        self._segment = seg.index

    def _on_state(self, event: StateChanged, now: float) -> None:
        if event.new is State.RUNNING:
            if event.old is State.IDLE:
                self._frozen = 0.0
            self._running = True
            self._anchor = (event.at, self._frozen)
        elif event.new is State.PAUSED:
            self._frozen = self.position(event.at)
            self._running, self._anchor = False, None
            self.stop_all(now, "paused")
        elif event.new is State.FINISHED:
            self._frozen = self.position(event.at)
            self._running, self._anchor = False, None

    def set_muted(self, muted: bool, now: float) -> None:
        """Mute silences at once and drops what waits; unmuting replays nothing."""
        self.muted = muted
        if muted:
            self.stop_all(now, "muted")

    def apply_settings(self, settings: VoiceSettings, now: float) -> None:
        """New settings take effect from the next cue (voice off silences at once)."""
        self.settings = settings
        if not settings.enabled:
            self.stop_all(now, "voice is off")

    def say(self, text: str, now: float, kind: str = "test") -> float | None:
        """Queue a phrase not tied to a cue (the settings' test): it waits its turn."""
        self._queue.append(_Item(kind=kind, text=text, short_text="", critical=False,
                                 moment=now, segment=None))
        return self.poll(now)

    def stop_all(self, now: float, reason: str) -> None:
        """Silence the playing phrase and cancel everything waiting."""
        playing = self._playing
        if playing is not None and now < playing.free_at + self.sink.latency:
            self.sink.stop()
            if now < playing.start + self.sink.latency + playing.sound.duration:
                self._decide(Action.CANCELLED, playing.item, now, start=playing.start,
                             played=playing.sound.text, reason=f"cut: {reason}")
        self._playing = None
        if self._pending is not None:
            self._decide(Action.CANCELLED, self._pending, now, reason=reason)
            self._pending = None
        self._cancel_queue(now, reason)

    def _cancel_queue(self, now: float, reason: str) -> None:
        while self._queue:
            self._decide(Action.CANCELLED, self._queue.popleft(), now, reason=reason)

    # -- the clock -------------------------------------------------------------------
    def poll(self, now: float) -> float | None:
        """Start whatever is due; returns the clock time to be polled again (or None)."""
        wakes: list[float] = []
        if self._pending is not None:
            wake = self._service_critical(now)
            if wake is not None:
                wakes.append(wake)
        if self._pending is None:
            wake = self._service_queue(now)
            if wake is not None:
                wakes.append(wake)
        return min(wakes) if wakes else None

    def _critical_sound(self, item: _Item) -> PhraseLookup:
        if self.speech_available:
            sound = self.sounds.phrase(item.text)
            if sound is not None:
                return sound
        if item.cue_kind is None:
            return None
        return self.sounds.chime(item.cue_kind)

    def _service_critical(self, now: float) -> float | None:
        item = self._pending
        assert item is not None
        deadline = item.moment + CRITICAL_GRACE - self.sink.latency  # last moment for play()
        sound = self._critical_sound(item)
        reason = ""
        if sound is NOT_READY:
            if now < deadline - CHIME_MARGIN:
                return deadline - CHIME_MARGIN
            # Still rendering (a cold cache's first phrases wait for the speech engine to
            # start): its chime or tick marks the moment rather than nothing at all.
            sound = self.sounds.chime(item.cue_kind) if item.cue_kind is not None else None
            reason = "phrase not rendered in time"
            if sound is None:
                self._pending = None
                self._decide(Action.DROPPED, item, now, reason=reason)
                return None
        if sound is None:
            self._pending = None
            self._decide(Action.DROPPED, item, now, reason="no sound for it (speech unavailable)")
            return None
        free = self.busy_until(now)
        if free > deadline:
            self._pending = None
            if now > deadline:
                why = f"late by {1000 * (now + self.sink.latency - item.moment):.0f} ms"
            else:
                assert self._playing is not None
                why = f"{self._playing.sound.text!r} still playing"
            self._decide(Action.DROPPED, item, now, reason=why)
            return None
        if free > now:
            return free
        self._pending = None
        action = Action.PLAYED if sound.text == item.text else Action.CHIMED
        self._play(item, sound, now, action, reason)
        return None

    def _service_queue(self, now: float) -> float | None:
        while self._queue:
            item = self._queue[0]
            if item.segment is not None and item.segment != self._segment:
                self._queue.popleft()
                self._decide(Action.SKIPPED, item, now, reason="its step is over")
                continue
            free = self.busy_until(now)
            if free > now:
                return free
            if not self.speech_available:
                self._queue.popleft()
                self._decide(Action.SKIPPED, item, now, reason="speech unavailable")
                continue
            full = self.sounds.phrase(item.text)
            if full is NOT_READY:
                return now + 0.25  # a render answer (or this) will poll again
            short = self.sounds.phrase(item.short_text) if item.short_text else None
            limit = self._announce_limit(now) if item.segment is not None else math.inf
            self._queue.popleft()
            if isinstance(full, Sound) and now + full.duration <= limit:
                self._play(item, full, now, Action.PLAYED)
            elif isinstance(short, Sound) and now + short.duration <= limit:
                self._play(item, short, now, Action.SHORTENED)
            elif full is None:
                self._decide(Action.SKIPPED, item, now, reason="phrase could not be rendered")
            else:
                room = max(0.0, limit - now)
                self._decide(Action.SKIPPED, item, now,
                             reason=f"only {room:.1f} s before the next cue")
        return None

    def _announce_limit(self, now: float) -> float:
        """Clock time by which an announcement starting now must have finished."""
        if not self._running or self.timeline is None:
            return math.inf
        pos = self.position(now)
        nxt = self._next_spoken_critical(pos)
        if nxt is None:
            return math.inf
        return now + (nxt - pos) - ANNOUNCE_MARGIN

    def _next_spoken_critical(self, pos: float) -> float | None:
        timeline = self.timeline
        assert timeline is not None
        for seg in timeline.segments[timeline.segment_at(pos):]:
            for cue in seg.cues:
                moment = seg.start + cue.offset
                if cue.critical and moment > pos + 1e-6 and not self.silence_reason(cue) \
                        and (self.speech_available or self.sounds.chime(cue.kind) is not None):
                    return moment
        return None

    def _play(self, item: _Item, sound: Sound, now: float, action: Action,
              reason: str = "") -> None:
        self.sink.play(sound)
        self._playing = _Playing(item, sound, now, now + sound.duration + GAP)
        self._decide(action, item, now, start=now, played=sound.text, reason=reason)

    def _decide(self, action: Action, item: _Item, now: float, *, start: float | None = None,
                played: str = "", reason: str = "") -> None:
        if self.on_decision is not None:
            self.on_decision(Decision(action=action, kind=item.kind, text=item.text, at=now,
                                      moment=item.moment, start=start, played=played,
                                      reason=reason))
