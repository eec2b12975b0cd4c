"""BackCoach's performance table, measured against a bare PySide6 window in the same run.

    python benchmarks/run.py [--runs 5] [--real-minutes 5] [--skip-voice]

Everything runs under Xvfb (a real X server), as separate processes measured from the
outside, so BackCoach and the bare window (benchmarks/bare_window.py) are measured the
same way; machine-dependent figures are given as ratios to the bare window.

- start-up: process start to the window mapped (the X server's MapNotify, seen by xev),
  median of --runs, as a returning user starts (and, on its own row, the first start in
  a new home);
- memory: RSS of the idle home screen, and after a whole (short) session with each
  playback a user may get: aplay (a Linux PC with a sound card; played to ALSA's null
  device here) and QtMultimedia (Windows, macOS, Linux without aplay), median of 3 each;
- CPU: seconds of CPU per minute while a session runs, and idle on the home screen;
- timer accuracy: the drift over 30 simulated minutes (engine with a fake clock), and over
  --real-minutes of a real session, each segment's and cue's actual moment (from --trace)
  against its schedule;
- cue latency and the longest UI stall while speaking (benchmarks/cue_latency.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.xvfb import missing_tools, xvfb  # noqa: E402

from backcoach.voice.speech_process import IDLE_EXIT  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
TINY_ROUTINE = """
id = "bench-tiny"
name = "Benchmark tiny"
description = "Every segment kind, in seconds: for measuring memory after a whole session."
get_ready = 3
[rest_between]
beginner = 5
intermediate = 5
advanced = 5
[[items]]
exercise = "knee-to-chest"
[items.beginner]
hold = 3
[[items]]
exercise = "pelvic-lift"
[items.beginner]
hold = 2
reps = 1
"""


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds a process has used so far; with `children`, also those of
    its child processes that have ended (aplay for each phrase, the speech helper)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def helper_peak_mb(pid: int) -> float | None:
    """Peak RSS (VmHWM) of `pid`'s speech helper child if one runs now, else None."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != pid:
                continue
            cmdline = (stat.parent / "cmdline").read_bytes()
            if b"speech_process" not in cmdline:
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue  # it ended while we looked
    return None


def wait_mapped(name: str, env: dict[str, str], proc: subprocess.Popen, timeout: float = 30) -> float:
    """Poll until a visible window whose title contains `name` exists; seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             capture_output=True, text=True, env=env).stdout
        if out.strip():
            return time.perf_counter() - start
        if proc.poll() is not None:
            tail = Path(proc.log_path).read_text(errors="replace")[-1500:]
            raise RuntimeError(f"process exited early ({proc.returncode}):\n{tail}")
        time.sleep(0.02)
    raise TimeoutError(name)


class MapWatcher:
    """The moment the X server maps a top-level window, from its own events.

    One `xev -root -event substructure` (x11-utils) runs for the whole measurement and
    reports every window created or mapped on the display; a launch's first MapNotify is
    its main window being mapped. Event-driven, so it neither lags like polling with
    xdotool (every 20 ms, plus a process per look: 30-40 ms late on average, and the
    spawned processes compete for the CPU with the program being timed) nor disturbs it.
    """

    def __init__(self, env: dict[str, str]) -> None:
        import select

        self._select = select.select
        self.proc = subprocess.Popen(["xev", "-root", "-event", "substructure"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.fd = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self.env = env
        time.sleep(0.5)  # xev has selected its events by then
        self.drain()

    def drain(self) -> str:
        """Whatever xev has printed so far."""
        out = b""
        while self._select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise RuntimeError("xev ended")
            out += chunk
        return out.decode("utf-8", "replace")

    def wait_mapped(self, t0: float, name: str, proc: subprocess.Popen,
                    timeout: float = 30) -> float:
        """Seconds from `t0` until the next window is mapped; checks it is titled `name`."""
        text = ""
        deadline = time.perf_counter() + timeout
        while "MapNotify" not in text:
            if not self._select([self.fd], [], [], max(0.0, deadline - time.perf_counter()))[0]:
                raise TimeoutError(name)
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise RuntimeError("xev ended")
            text += chunk.decode("utf-8", "replace")
            if "MapNotify" in text:
                seconds = time.perf_counter() - t0
            if proc.poll() is not None:
                tail = Path(proc.log_path).read_text(errors="replace")[-1500:]
                raise RuntimeError(f"process exited early ({proc.returncode}):\n{tail}")
        time.sleep(0.05)
        text += self.drain()
        # "MapNotify event, ...\n    event 0x.., window 0x400007, override NO"
        after = text.split("MapNotify", 1)[1]
        window = after.split("window ", 2)[2].split(",", 1)[0]
        title = subprocess.run(["xprop", "-id", window, "WM_NAME"], capture_output=True,
                               text=True, env=self.env).stdout
        if name not in title:
            raise RuntimeError(f"the first window mapped was not {name!r}: {title.strip()}")
        return seconds

    def close(self) -> None:
        """Stop xev."""
        stop(self.proc)


def make_home(voice: bool = True) -> Path:
    """A BackCoach home with the notice seen and the tiny routine installed."""
    home = Path(tempfile.mkdtemp(prefix="backcoach-bench-"))
    (home / "config").mkdir()
    (home / "config" / "settings.json").write_text(json.dumps(
        {"version": 2, "first_run_notice_seen": True, "voice": {"enabled": voice}}))
    (home / "data" / "routines").mkdir(parents=True)
    (home / "data" / "routines" / "bench-tiny.toml").write_text(TINY_ROUTINE)
    return home


def launch(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a process; its output goes to a log file, shown if it dies early."""
    with tempfile.NamedTemporaryFile(prefix="backcoach-bench-", suffix=".log",
                                     delete=False) as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen) -> None:
    """End a process and reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def app_cmd(*args: str) -> list[str]:
    """The command line that starts BackCoach: the `backcoach` script pip installed beside
    this Python (what `./setup.sh run` and a desktop launcher run), else `python -m
    backcoach`, which also pays for runpy (about 3 ms) that no user's start does."""
    script = Path(sys.executable).with_name("backcoach")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-m", "backcoach", *args]


BARE = [sys.executable, str(ROOT / "benchmarks" / "bare_window.py")]


def compile_bytecode() -> None:
    """Compile BackCoach's modules, as an installed app has them (pip compiles at install;
    an editable checkout writes them on first run unless PYTHONDONTWRITEBYTECODE is set, as
    it is on some machines): otherwise every launch measured would also compile the
    sources changed since, which no user's start pays."""
    import compileall

    import backcoach

    compileall.compile_dir(str(Path(backcoach.__file__).parent), quiet=1)


def measure_startup(env: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Start-up time and idle home RSS, alternating bare and app runs to share the noise.

    Measured as a returning user starts: the same home for every run, after one unmeasured
    launch (BackCoach's first start in a home also fills its caches, e.g. the parsed
    catalogue). That first start is measured separately, on a fresh home each run."""
    out: dict[str, list[float]] = {"bare_start": [], "app_start": [], "bare_rss": [],
                                   "app_rss": [], "bare_idle_cpu": [], "app_idle_cpu": [],
                                   "app_first_start": []}
    kinds = (("bare", BARE, "Bare window"), ("app", app_cmd(), "BackCoach"))
    watcher = MapWatcher(env)
    homes = {kind: make_home() for kind, _cmd, _name in kinds}
    # The parse cache does not keep a file changed in the last 3 s (see parse_cache.RACY_NS),
    # and make_home has just written the tiny routine: let it age as a user's files have.
    time.sleep(3.5)
    for kind, cmd, name in kinds:  # the warm-up launch
        run_env = {**env, "BACKCOACH_HOME": str(homes[kind])}
        proc = launch(cmd, run_env)
        wait_mapped(name, run_env, proc)
        time.sleep(1.0)
        stop(proc)
    watcher.drain()
    for _ in range(runs):
        for kind, cmd, name in kinds:
            run_env = {**env, "BACKCOACH_HOME": str(homes[kind])}
            t0 = time.perf_counter()
            proc = launch(cmd, run_env)
            out[f"{kind}_start"].append(watcher.wait_mapped(t0, name, proc))
            time.sleep(2.0)  # deferred work settles
            out[f"{kind}_rss"].append(rss_mb(proc.pid))
            cpu0 = cpu_seconds(proc.pid)
            time.sleep(3.0)
            out[f"{kind}_idle_cpu"].append((cpu_seconds(proc.pid) - cpu0) / 3.0 * 60)
            stop(proc)
            watcher.drain()  # its unmapping and destruction
        run_env = {**env, "BACKCOACH_HOME": str(make_home())}
        t0 = time.perf_counter()
        proc = launch(app_cmd(), run_env)
        out["app_first_start"].append(watcher.wait_mapped(t0, "BackCoach", proc))
        time.sleep(1.0)
        stop(proc)
        watcher.drain()
    watcher.close()
    return out


SESSION_AUDIO = {"aplay": "aplay:null", "qt": "qt"}  # BACKCOACH_AUDIO for each memory row
SESSION_RUNS = 3


def measure_session_memory(env: dict[str, str], audio: str | None = None,
                           ) -> tuple[float, float | None]:
    """RSS after a whole (tiny) session has played through to the summary (`audio` forces a
    playback, see BACKCOACH_AUDIO: "aplay:null" plays as a Linux PC with a sound card does,
    to ALSA's null device; "qt" loads QtMultimedia as on Windows and macOS), and the speech
    helper's peak RSS (None if it was never seen: the phrases were all cached)."""
    home = make_home()
    trace = home / "trace.jsonl"
    run_env = {**env, "BACKCOACH_HOME": str(home)}
    if audio:
        run_env["BACKCOACH_AUDIO"] = audio
    proc = launch(app_cmd("start", "bench-tiny", "--trace", str(trace)), run_env)
    deadline = time.monotonic() + 180
    helper: float | None = None
    while time.monotonic() < deadline:
        peak = helper_peak_mb(proc.pid)
        if peak is not None:
            helper = max(helper or 0.0, peak)
        if trace.exists() and '"finished"' in trace.read_text():
            break
        time.sleep(0.2)
    else:
        stop(proc)
        raise TimeoutError("the tiny session did not finish")
    time.sleep(2.0)  # the summary is drawn and freed memory handed back
    rss = rss_mb(proc.pid)
    stop(proc)
    return rss, helper


def measure_session_memories(env: dict[str, str], runs: int = SESSION_RUNS) -> dict[str, float]:
    """Median RSS after a session for each playback of SESSION_AUDIO, the runs alternating
    between them so that they share the machine's noise (a run varies by 1-2 MB); and,
    under "helper", the speech helper's median peak RSS while it rendered."""
    seen: dict[str, list[float]] = {kind: [] for kind in SESSION_AUDIO}
    helpers: list[float] = []
    for _ in range(runs):
        for kind, audio in SESSION_AUDIO.items():
            rss, helper = measure_session_memory(env, audio)
            seen[kind].append(rss)
            if helper is not None:
                helpers.append(helper)
    medians = {kind: statistics.median(values) for kind, values in seen.items()}
    medians["helper"] = statistics.median(helpers) if helpers else float("nan")
    return medians


def measure_real_session(env: dict[str, str], minutes: float) -> dict[str, object]:
    """A real session for `minutes`: CPU per minute, and timing errors from the trace."""
    home = make_home()
    trace = home / "trace.jsonl"
    run_env = {**env, "BACKCOACH_HOME": str(home)}
    proc = launch(app_cmd("start", "core-strength", "--trace", str(trace)), run_env)
    wait_mapped("BackCoach", run_env, proc)
    time.sleep(15)  # past start-up and the voice's first rendering
    cpu0, all0, t0 = cpu_seconds(proc.pid), cpu_seconds(proc.pid, True), time.monotonic()
    time.sleep(max(10.0, minutes * 60 - 15))
    elapsed = time.monotonic() - t0
    cpu = (cpu_seconds(proc.pid) - cpu0) / elapsed * 60
    # The children that ended in the window: an aplay per phrase, and the speech helper
    # (its whole life, start-up included, is counted when it leaves, once idle).
    cpu_all = (cpu_seconds(proc.pid, True) - all0) / elapsed * 60
    stop(proc)
    events = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    start = next(e for e in events if e["event"] == "state_changed" and e["reason"] == "start")
    anchor = start["at"]
    segment_errors, cue_errors = [], []
    starts: dict[int, float] = {}
    for e in events:
        if e["event"] == "segment_started":
            starts[e["index"]] = e["start"]
            segment_errors.append(abs(e["t"] - (anchor + e["start"])) * 1000)
        elif e["event"] == "cue_due":
            cue_errors.append(abs(e["t"] - (anchor + e["due"])) * 1000)
    return {"cpu_per_min": cpu, "cpu_all_per_min": cpu_all, "segment_errors": segment_errors,
            "cue_errors": cue_errors, "segments": len(segment_errors), "cues": len(cue_errors)}


def simulated_drift() -> float:
    """Engine position minus running time after 30 simulated minutes of jittery ticks."""
    import random

    from backcoach.catalog.loader import load_builtin_catalog
    from backcoach.catalog.model import Level
    from backcoach.session.engine import Engine
    from backcoach.session.plan import build_plan

    catalog = load_builtin_catalog()
    timeline = build_plan(catalog.routines["core-strength"], catalog.exercises, Level.ADVANCED)
    now = [1000.0]
    engine = Engine(timeline, lambda: now[0])
    engine.start()
    rng = random.Random(7)
    running = 0.0
    while running < 30 * 60 and engine.state.value == "running":
        step = rng.randint(20, 1000) / 1024  # exact binary fractions of a second
        now[0] += step
        running += step
        engine.tick()
    return engine.position() - running


def voice_figures() -> list[str]:
    """Run the cue-latency benchmark and keep its result lines."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cue_latency.py")],
                         capture_output=True, text=True, timeout=900,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    lines = [line for line in out.stdout.splitlines()
             if any(word in line.lower() for word in ("latency", "stall", "dropped", "played"))]
    return lines or [f"cue_latency.py failed: {out.stderr[-400:]}"]


def ms(values: list[float]) -> str:
    """Median and max of a list of milliseconds."""
    return f"median {statistics.median(values):.1f} ms, max {max(values):.1f} ms"


def main() -> int:
    """Measure everything and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--real-minutes", type=float, default=5.0)
    parser.add_argument("--skip-voice", action="store_true")
    args = parser.parse_args()
    missing = missing_tools() + [tool for tool in ("xev", "xprop") if shutil.which(tool) is None]
    if missing:
        print(f"needs {', '.join(missing)} (./setup.sh test installs them)")
        return 2
    compile_bytecode()
    with xvfb(1366, 768) as display:
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        env["DISPLAY"] = display
        startup = measure_startup(env, args.runs)
        session_rss = measure_session_memories(env)
        real = measure_real_session(env, args.real_minutes)
    drift = simulated_drift()
    med = {k: statistics.median(v) for k, v in startup.items()}
    rows = [
        (f"start-up to window mapped (median of {args.runs})",
         f"{med['app_start']:.3f} s", f"{med['bare_start']:.3f} s",
         f"{med['app_start'] / med['bare_start']:.2f}x", "<= 1.5x"),
        (f"  the first start in a new home (median of {args.runs})",
         f"{med['app_first_start']:.3f} s", f"{med['bare_start']:.3f} s",
         f"{med['app_first_start'] / med['bare_start']:.2f}x", ""),
        ("RSS, idle home screen", f"{med['app_rss']:.0f} MB", f"{med['bare_rss']:.0f} MB",
         f"{med['app_rss'] / med['bare_rss']:.2f}x", "<= 1.5x"),
        *((f"RSS after a session, {label} (median of {SESSION_RUNS})",
           f"{session_rss[kind]:.0f} MB", f"{med['bare_rss']:.0f} MB",
           f"{session_rss[kind] / med['bare_rss']:.2f}x", "<= 1.5x")
          for kind, label in (("aplay", "aplay to ALSA's null device (Linux)"),
                              ("qt", "QtMultimedia forced (Windows, macOS)"))),
        ("  the speech helper process while it lives (peak, median of "
         f"{SESSION_RUNS * len(SESSION_AUDIO)})", f"{session_rss['helper']:.0f} MB", "", "",
         f"leaves {IDLE_EXIT:g} s after its last phrase"),
        ("CPU, idle home (s per minute)", f"{med['app_idle_cpu']:.3f}",
         f"{med['bare_idle_cpu']:.3f}", "", ""),
        ("CPU, session running (s per minute)", f"{real['cpu_per_min']:.3f}", "",
         f"{real['cpu_per_min'] / 60 * 100:.2f}% of a core", "<= 1%"),
        ("  with its child processes (aplay, speech helper)", f"{real['cpu_all_per_min']:.3f}",
         "", f"{real['cpu_all_per_min'] / 60 * 100:.2f}% of a core", ""),
        ("drift after 30 simulated minutes", f"{drift:.9f} s", "", "", "0"),
        (f"segment start error, {args.real_minutes:g} real min ({real['segments']})",
         ms(real["segment_errors"]), "", "", "<= 20 / 50 ms"),
        (f"cue error, {args.real_minutes:g} real min ({real['cues']})",
         ms(real["cue_errors"]), "", "", "<= 20 / 50 ms"),
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    header = ("figure", "BackCoach", "bare window", "ratio", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if not args.skip_voice:
        print()
        print("voice (benchmarks/cue_latency.py):")
        for line in voice_figures():
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
