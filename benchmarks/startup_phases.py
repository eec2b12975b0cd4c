"""Where BackCoach's start-up time goes, phase by phase, next to a bare PySide6 window.

    python benchmarks/startup_phases.py [--runs 9]

run.py times the whole start from outside (process start to the window mapped on a real X
server). This script explains that figure: each run starts a fresh process offscreen that
marks, with time.perf_counter (the same monotonic clock in every process), these moments:

- interpreter: from just before the process is started to the first line of the probe;
- imports before Qt: the CLI, the composition root and the Qt-free modules start-up needs;
- PySide6 and QApplication (and, for BackCoach, claiming the single instance);
- building the window: its modules, the Qt types and enums PySide creates on first use,
  the catalogue, settings, history and widgets;
- to the window's first paint event, then to the event loop's first idle turn after it
  (the children are painted and the frame is flushed in between).

A second set of runs counts two costs that no bare window pays, with hooks that time
every call (so their totals read a little high): the Python enums PySide builds for the Qt
types the app uses (the `Qt` namespace alone is 93 enums, about 1,200 members), and the
dataclasses the app defines (each generates and compiles its methods when its module is
imported). Medians of --runs, alternating the two programs so they share the noise.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Both probes print "phase seconds" lines on stdout; times are perf_counter readings.
COMMON = r"""
import os, sys, time
T_PROBE = time.perf_counter()
MARKS = [("start", float(os.environ["PHASES_T0"])), ("probe", T_PROBE)]
def mark(name):
    MARKS.append((name, time.perf_counter()))
def report():
    for name, t in MARKS:
        print(name, t)
    sys.stdout.flush()
COUNTS = {}
if os.environ.get("PHASES_COUNT"):
    import dataclasses, enum
    def timed(key, func):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                n, s = COUNTS.get(key, (0, 0.0))
                COUNTS[key] = (n + 1, s + time.perf_counter() - t)
        return wrapper
    enum.EnumType.__new__ = timed("enums", enum.EnumType.__new__)
    dataclasses._process_class = timed("dataclasses", dataclasses._process_class)
def first_paint_then_quit(window):
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication
    class Watch(QObject):
        def eventFilter(self, obj, event):
            if obj is window and event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                mark("first paint")
                linger = int(os.environ.get("PHASES_LINGER_MS", "0"))
                QTimer.singleShot(0, lambda: (mark("idle"),
                                              QTimer.singleShot(linger, QApplication.quit)))
            return False
    window._phases_watch = Watch(window)
    window.installEventFilter(window._phases_watch)
"""

BARE_PROBE = COMMON + r"""
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
mark("pyside + app")
window = QMainWindow()
window.setWindowTitle("Bare window")
window.resize(1366, 768)
mark("window built")
first_paint_then_quit(window)
window.show()
app.exec()
report()
for key, (n, s) in COUNTS.items():
    print("count", key, n, s)
"""

APP_PROBE = COMMON + r"""
import backcoach.app as app_module
from backcoach import cli
real_qt_free = app_module.import_qt_free_modules
def qt_free():
    real_qt_free()
    mark("imports before qt")
app_module.import_qt_free_modules = qt_free
real_build = app_module.build_app
def build(*args, **kwargs):
    mark("pyside + app")
    parts = real_build(*args, **kwargs)
    mark("window built")
    first_paint_then_quit(parts.window)
    return parts
app_module.build_app = build
try:
    cli.main([])
except SystemExit:
    pass
report()
for key, (n, s) in COUNTS.items():
    print("count", key, n, s)
"""

PHASES = ("interpreter", "imports before qt", "pyside + app", "window built", "first paint",
          "idle")


def run_probe(code: str, home: Path, count: bool,
              linger_ms: int = 0) -> tuple[dict[str, float], dict[str, tuple]]:
    """One fresh process: {phase: seconds it took}, {count key: (calls, seconds)}.
    `linger_ms` keeps it running that long after the first idle turn."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BACKCOACH_HOME": str(home),
           "PHASES_LINGER_MS": str(linger_ms)}
    env.pop("PHASES_COUNT", None)
    if count:
        env["PHASES_COUNT"] = "1"
    env["PHASES_T0"] = repr(time.perf_counter())  # CLOCK_MONOTONIC: one clock for all
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-1500:])
    marks: list[tuple[str, float]] = []
    counts: dict[str, tuple] = {}
    for line in out.stdout.splitlines():
        if line.startswith("count "):
            _, key, n, s = line.split()
            counts[key] = (int(n), float(s))
        else:
            name, t = line.rsplit(" ", 1)
            marks.append((name, float(t)))
    phases = {}
    for (_, t0), (name, t1) in itertools.pairwise(marks):
        phases["interpreter" if name == "probe" else name] = t1 - t0
    return phases, counts


def main() -> int:
    """Run both probes and print the phases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "backcoach"), quiet=1)
    home = Path(tempfile.mkdtemp(prefix="backcoach-phases-"))
    (home / "config").mkdir()
    (home / "config" / "settings.json").write_text('{"version": 2, "first_run_notice_seen": true}')
    # The first start in a home fills its caches (the dataclass code is saved 0.5 s in).
    run_probe(APP_PROBE, home, count=False, linger_ms=1500)
    probes = {"bare": BARE_PROBE, "app": APP_PROBE}
    phases: dict[str, dict[str, list[float]]] = {k: {} for k in probes}
    counts: dict[str, dict[str, list[tuple]]] = {k: {} for k in probes}
    for _ in range(args.runs):
        for kind, code in probes.items():
            got, _ = run_probe(code, home, count=False)
            for name, seconds in got.items():
                phases[kind].setdefault(name, []).append(seconds)
            _, got_counts = run_probe(code, home, count=True)
            for key, value in got_counts.items():
                counts[kind].setdefault(key, []).append(value)

    def med(kind: str, name: str) -> float:
        values = phases[kind].get(name)
        return statistics.median(values) * 1000 if values else 0.0

    print(f"{'phase (median ms of ' + str(args.runs) + ')':34} {'BackCoach':>10} {'bare':>8} "
          f"{'extra':>8}")
    total = {"app": 0.0, "bare": 0.0}
    for name in PHASES:
        app, bare = med("app", name), med("bare", name)
        total["app"] += app
        total["bare"] += bare
        print(f"{name:34} {app:10.1f} {bare:8.1f} {app - bare:8.1f}")
    print(f"{'to idle after the first paint':34} {total['app']:10.1f} {total['bare']:8.1f} "
          f"{total['app'] - total['bare']:8.1f}   ratio {total['app'] / total['bare']:.2f}x")
    print()
    print("costs a bare window does not have (hooked runs; each call timed):")
    for key in ("enums", "dataclasses"):
        for kind in probes:
            values = counts[kind].get(key, [])
            if values:
                n = statistics.median(v[0] for v in values)
                ms = statistics.median(v[1] for v in values) * 1000
                print(f"  {key:12} {kind:5}: {n:4.0f} created, {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
