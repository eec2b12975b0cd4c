"""While a session runs in real time: the longest event-loop stall and the app's CPU use.

Usage: python benchmarks/session_load.py [--seconds 60] [--probe-ms 5]

The run has two halves. First, CPU: the process's user+system time with nothing else
running. Then stalls: a QTimer probe fires every few milliseconds and records how late it
is; the longest lateness is the longest time the event loop was busy. Offscreen Qt by
default (set DISPLAY and unset QT_QPA_PLATFORM to measure a real window).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    """Run the default routine for a while and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--probe-ms", type=int, default=5)
    parser.add_argument("--routine", default="lower-back-for-runners")
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from backcoach.app import build_app
    from backcoach.catalog.model import Level

    home = tempfile.mkdtemp(prefix="backcoach-bench-")
    app = QApplication(sys.argv[:1])
    parts = build_app(home)
    window = parts.window
    window.resize(1366, 768)
    window.show()
    window.start_routine(args.routine, Level.BEGINNER)

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
    marks: dict[str, tuple[float, float]] = {}

    def mark(name: str) -> None:
        marks[name] = (time.process_time(), time.monotonic())

    half = int(args.seconds * 500)
    QTimer.singleShot(1000, lambda: mark("cpu-start"))  # after start-up has settled
    QTimer.singleShot(1000 + half, lambda: (mark("cpu-end"), last.__setitem__(
        0, clock.nsecsElapsed()), probe.start()))
    QTimer.singleShot(1000 + 2 * half, app.quit)
    app.exec()
    parts.close()
    cpu = marks["cpu-end"][0] - marks["cpu-start"][0]
    wall = marks["cpu-end"][1] - marks["cpu-start"][1]
    print(f"session run: routine {args.routine}, {args.seconds:.0f} s in all")
    print(f"CPU while running: {cpu:.2f} s over {wall:.1f} s = {100 * cpu / wall:.2f}% of one "
          f"core ({60 * cpu / wall:.2f} s of CPU per minute)")
    print(f"event-loop stall: max {max(lateness):.1f} ms, "
          f"p99 {statistics.quantiles(lateness, n=100)[98]:.1f} ms, "
          f"median {statistics.median(lateness):.2f} ms over {len(lateness)} probes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
