"""Cue latency and UI stalls of the voice coach, in real time, with real speech rendering.

Plays the default routine (holds shortened so the run takes about two minutes) through the
real EngineDriver and VoiceCoach: pyttsx3 + espeak-ng render every phrase (cold cache, so
rendering overlaps the start of the session, as on a first run), and each phrase is played
by an `aplay` process to ALSA's null device (works without a sound card) while a
recording wrapper notes when each play started. A 5 ms QTimer probe on the UI thread
measures event-loop stalls.

    python benchmarks/cue_latency.py [--level beginner] [--audio aplay:null|record] [--warm]

Prints: cue latency (scheduled moment -> playback process started: median, p95, max),
what became of each cue (played, shortened, dropped, skipped...), the engine's own
lateness, the prepare time, the time each play() call takes on the UI thread (for aplay,
starting the process), and the UI's longest stall overall and while speaking.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, Qt, QTimer

from backcoach.catalog.loader import load_builtin_catalog
from backcoach.catalog.model import Level, Routine, RoutineItem, TimingOverride
from backcoach.session.events import CueDue
from backcoach.session.plan import Timeline, build_plan
from backcoach.store.settings import VoiceSettings
from backcoach.ui.driver import EngineDriver
from backcoach.voice.cache import Sound
from backcoach.voice.coach import VoiceCoach, timeline_phrases
from backcoach.voice.playback import AplayPlayback, Playback, RecordingPlayback
from backcoach.voice.scheduler import Action, Decision

ROUTINE = "lower-back-for-runners"
PROBE_MS = 5


def short_timeline(level: Level) -> Timeline:
    """The default routine with shorter holds, fewer reps and rests: about two minutes."""
    catalog = load_builtin_catalog()
    base = catalog.routines[ROUTINE]
    overrides = {"knee-to-chest": TimingOverride(hold=20),  # 20 s keeps the "halfway" cue
                 "hip-rolling": TimingOverride(reps=1),
                 "pelvic-lift": TimingOverride(reps=2)}
    items = tuple(RoutineItem(item.exercise, {lv: overrides.get(item.exercise, TimingOverride())
                                              for lv in Level}) for item in base.items)
    routine: Routine = dataclasses.replace(base, items=items,
                                           rest_between=dict.fromkeys(Level, 12.0))
    return build_plan(routine, catalog.exercises, level)


class StallProbe:
    """A 5 ms repeating timer on the UI thread; lateness = how much later than 5 ms it fired."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (time, lateness in s)
        self._last = time.monotonic()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._timer.start(PROBE_MS)

    def _tick(self) -> None:
        now = time.monotonic()
        self.samples.append((now, now - self._last - PROBE_MS / 1000))
        self._last = now

    def worst(self, windows: list[tuple[float, float]] | None = None) -> float:
        """The longest lateness, overall or inside the given (start, end) windows."""
        values = [late for t, late in self.samples
                  if windows is None or any(a <= t <= b for a, b in windows)]
        return max(values, default=0.0)


class TimedPlayback(Playback):
    """Passes everything to `inner`, timing each play() call: what starting a phrase costs
    the UI thread (for aplay, the vfork+exec of a process)."""

    def __init__(self, inner: Playback) -> None:
        self.inner = inner
        self.name, self.latency, self.audible = inner.name, inner.latency, inner.audible
        self.calls: list[float] = []  # seconds inside play()

    def preload(self, sound: Sound) -> None:
        self.inner.preload(sound)

    def play(self, sound: Sound) -> None:
        start = time.perf_counter()
        self.inner.play(sound)
        self.calls.append(time.perf_counter() - start)

    def stop(self) -> None:
        self.inner.stop()

    def problems(self) -> list[str]:
        return self.inner.problems()

    def release(self) -> None:
        self.inner.release()

    @property
    def preloaded(self) -> int:
        return self.inner.preloaded

    def close(self) -> None:
        self.inner.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", default="beginner", choices=[lv.value for lv in Level])
    parser.add_argument("--audio", default="aplay:null" if shutil.which("aplay") else "record",
                        help="aplay:DEVICE (default aplay:null) or record (no process at all)")
    parser.add_argument("--warm", action="store_true",
                        help="render everything before starting (a warm cache)")
    args = parser.parse_args(argv)

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    timeline = short_timeline(Level(args.level))
    inner: TimedPlayback | None = None
    if args.audio.startswith("aplay"):
        inner = TimedPlayback(AplayPlayback(args.audio.partition(":")[2] or None))
    sink = RecordingPlayback(clock=time.monotonic, inner=inner)
    cache_dir = Path(tempfile.mkdtemp(prefix="backcoach-bench-"))
    coach = VoiceCoach(VoiceSettings(), playback=sink, cache_dir=cache_dir)
    decisions: list[Decision] = []
    problems: list[str] = []
    engine_late: list[float] = []
    coach.decision.connect(decisions.append)
    coach.problem.connect(problems.append)
    driver = EngineDriver(timeline, time.monotonic)
    driver.cue_due.connect(lambda e: engine_late.append(e.late) if isinstance(e, CueDue) else None)

    marks: dict[str, float] = {}
    coach.prepared.connect(lambda n: marks.setdefault("prepared", time.monotonic()))
    if args.warm:
        coach.prepare(timeline)
        deadline = time.monotonic() + 30
        while "prepared" not in marks and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
    probe = StallProbe()
    driver.finished.connect(lambda _e: QTimer.singleShot(2500, app.quit))
    none_refs = sys.getrefcount(None)
    marks["start"] = time.monotonic()
    coach.attach(driver)  # prepares (cold unless --warm), then follows the driver
    driver.start()
    print(f"Playing {timeline.routine_name} ({args.level}, shortened): {timeline.total:.0f} s, "
          f"{sum(len(s.cues) for s in timeline.segments)} cues, audio: {sink.name}", flush=True)
    app.exec()
    none_drift = sys.getrefcount(None) - none_refs
    run_minutes = (time.monotonic() - marks["start"]) / 60
    coach.shutdown()

    played = [d for d in decisions if d.action in (Action.PLAYED, Action.SHORTENED, Action.CHIMED)]
    latencies = [p.start - d.moment for d, p in zip(played, sink.played, strict=True)
                 if d.moment is not None]
    crit_kinds = {"countdown", "switch", "breathe_in", "breathe_out", "phase", "halfway", "get_ready",
                  "rest", "well_done"}
    crit = [p.start - d.moment for d, p in zip(played, sink.played, strict=True)
            if d.kind in crit_kinds and d.moment is not None]
    speaking = [(p.start, p.start + p.sound.duration) for p in sink.played]
    counts = Counter(d.action.value for d in decisions)
    ready_ms = 1000 * (marks.get("prepared", float("nan")) - marks["start"])
    print(f"prepare: {len(timeline_phrases(timeline))} phrases, all ready {ready_ms:.0f} ms after "
          f"attach" + (" (warm: rendered before start)" if args.warm else " (cold cache)"))
    print(f"cues: {dict(sorted(counts.items()))}")
    for d in decisions:
        if d.action in (Action.DROPPED, Action.SKIPPED, Action.SHORTENED):
            print(f"  {d.action.value:9} {d.kind:10} {d.text[:50]!r}: {d.reason}")
    print(f"engine lateness (cue_due.late): median {1000 * statistics.median(engine_late):.1f} ms, "
          f"max {1000 * max(engine_late):.1f} ms")
    if latencies:
        print(f"cue latency, moment -> playback started ({len(latencies)} phrases): "
              f"median {1000 * statistics.median(latencies):.1f} ms, "
              f"p95 {1000 * percentile(latencies, 0.95):.1f} ms, max {1000 * max(latencies):.1f} ms")
    if latencies:
        worst_d, worst_p = max(zip(played, sink.played, strict=True),
                               key=lambda dp: dp[1].start - (dp[0].moment or dp[1].start))
        print(f"  slowest: {worst_d.kind} {worst_d.text[:40]!r} at "
              f"{worst_p.start - marks['start']:.2f} s into the run")
    if crit:
        print(f"  time-critical only ({len(crit)}): median {1000 * statistics.median(crit):.1f} ms, "
              f"max {1000 * max(crit):.1f} ms (limit 100 ms)")
    if inner is not None and inner.calls:
        calls = [1000 * c for c in inner.calls]
        print(f"UI stall per play() call ({len(calls)} calls, {inner.name}): "
              f"median {statistics.median(calls):.2f} ms, p95 {percentile(calls, 0.95):.2f} ms, "
              f"max {max(calls):.2f} ms")
    before_first = [(marks["start"], marks.get("prepared", marks["start"]))]
    print(f"UI stall (5 ms probe, {len(probe.samples)} samples): longest {1000 * probe.worst():.1f} ms "
          f"overall, {1000 * probe.worst(speaking):.1f} ms while speaking, "
          f"{1000 * probe.worst(before_first):.1f} ms while rendering the cold cache; "
          f"p99 {1000 * percentile([s for _, s in probe.samples], 0.99):.1f} ms")
    print(f"references to None: {none_drift:+d} over the run ({none_drift / run_minutes:+.0f}/min; "
          f"PySide6 6.12.0 on Python 3.11 loses one per void Qt call)")
    for message in problems:
        print(f"problem reported: {message}")
    shutil.rmtree(cache_dir, ignore_errors=True)
    bad = [x for x in crit if x > 0.100]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
