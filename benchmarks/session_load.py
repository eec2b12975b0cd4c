"""While a session runs in real time: the app's CPU use, its repaints and the longest stall.

Usage: python benchmarks/session_load.py [--seconds 60] [--settle 15] [--probe-ms 5]
                                         [--routine core-strength] [--level intermediate]
                                         [--no-voice]

A quick, repeatable stand-in for the "CPU, session running" row of benchmarks/run.py (same
routine, same 1366x768 window, the same wait before measuring), in one process and offscreen
by default (set DISPLAY and unset QT_QPA_PLATFORM to measure a real window; offscreen leaves
out the X server round trips, so it reads lower than run.py).

After --settle seconds the run has two halves. First, CPU: the process's user+system time
with nothing else running. Then repaints and stalls: how many times a second the window
repaints (each repaint has a fixed cost whatever is drawn, so this count is the first
thing to look at when the CPU figure moves), which widgets were painted, and a QTimer probe
firing every few milliseconds that records how late it is; the longest lateness is the
longest time the event loop was busy.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    """Run a routine for a while and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="measuring time after the settle, split between the two halves")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds after the session starts before measuring (run.py waits 15)")
    parser.add_argument("--probe-ms", type=int, default=5)
    parser.add_argument("--routine", default="core-strength")
    parser.add_argument("--level", default="", help="beginner, intermediate or advanced "
                        "(default: the routine's own)")
    parser.add_argument("--no-voice", action="store_true",
                        help="leave the voice off (run.py measures with it on)")
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from backcoach.app import build_app
    from backcoach.catalog.model import Level

    home = Path(tempfile.mkdtemp(prefix="backcoach-bench-"))
    (home / "config").mkdir()
    (home / "config" / "settings.json").write_text(
        '{"version": 2, "first_run_notice_seen": true, "voice": {"enabled": %s}}'
        % ("false" if args.no_voice else "true"))
    app = QApplication(sys.argv[:1])
    parts = build_app(home)
    window = parts.window
    window.resize(1366, 768)
    window.show()
    routine = window.catalog.routines[args.routine]
    level = Level(args.level) if args.level else routine.default_level
    window.start_routine(args.routine, level)

    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(args.probe_ms)

    def on_probe() -> None:
        now = clock.nsecsElapsed()
        lateness.append(max(0.0, (now - last[0]) / 1e6 - args.probe_ms))
        last[0] = now

    probe.timeout.connect(on_probe)

    class Repaints(QObject):
        """Counts the window's repaints and the painted widgets (second half only: an
        event filter is Python code on every event it sees)."""

        def __init__(self) -> None:
            super().__init__()
            self.window = 0
            self.widgets: collections.Counter[str] = collections.Counter()

        def eventFilter(self, obj, event) -> bool:  # type: ignore[no-untyped-def]
            """Count; let every event through."""
            if event.type() == QEvent.Type.UpdateRequest and obj is window:
                self.window += 1
            elif event.type() == QEvent.Type.Paint:
                self.widgets[obj.objectName() or type(obj).__name__] += 1
            return False

    repaints = Repaints()
    marks: dict[str, tuple[float, float]] = {}

    def mark(name: str) -> None:
        marks[name] = (time.process_time(), time.monotonic())

    def second_half() -> None:
        mark("cpu-end")
        last[0] = clock.nsecsElapsed()
        probe.start()
        app.installEventFilter(repaints)

    settle, half = int(args.settle * 1000), int(args.seconds * 500)
    QTimer.singleShot(settle, lambda: mark("cpu-start"))
    QTimer.singleShot(settle + half, second_half)
    QTimer.singleShot(settle + 2 * half, lambda: (mark("end"), app.quit()))
    app.exec()
    app.removeEventFilter(repaints)
    parts.close()
    cpu = marks["cpu-end"][0] - marks["cpu-start"][0]
    wall = marks["cpu-end"][1] - marks["cpu-start"][1]
    minutes = (marks["end"][1] - marks["cpu-end"][1]) / 60
    print(f"session run: routine {args.routine} ({level.value}), {args.settle:.0f} s to settle, "
          f"then {args.seconds / 2:.0f} s + {args.seconds / 2:.0f} s")
    print(f"CPU while running: {cpu:.2f} s over {wall:.1f} s = {100 * cpu / wall:.2f}% of one "
          f"core ({60 * cpu / wall:.2f} s of CPU per minute)")
    painted = ", ".join(f"{name} {count / minutes:.0f}"
                        for name, count in repaints.widgets.most_common(6))
    print(f"repaints per minute: window {repaints.window / minutes:.0f} ({painted})")
    print(f"event-loop stall: max {max(lateness):.1f} ms, "
          f"p99 {statistics.quantiles(lateness, n=100)[98]:.1f} ms, "
          f"median {statistics.median(lateness):.2f} ms over {len(lateness)} probes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
