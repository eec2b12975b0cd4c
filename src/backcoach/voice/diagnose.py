"""`backcoach doctor`: check what BackCoach needs from this machine, each finding with its fix.

Levels: OK; WARN (BackCoach runs, but something is missing: no sound, offscreen Qt); FAIL
(something the app needs is broken: Qt cannot start a window, no speech engine, a data
folder that cannot be written). `doctor` exits 1 when any check FAILs, else 0.

Decided: no audio output is a WARN, never a FAIL. Sessions run on the screen without
sound, phrases are still rendered (and cached for when sound comes back), and the window
says why it is quiet. A missing speech engine is a FAIL: spoken cues are the core of a
session followed from the floor, even though the app still runs with the chime.

Qt is tried in a child process: with no display Qt aborts the whole process (with a
misleading message), which must not take the doctor down with it. No Qt is imported in
this process.
"""

from __future__ import annotations

import enum
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from backcoach.voice.cache import VoiceParams, wav_stats
from backcoach.voice.playback import AudioProbe, aplay_device, probe_audio
from backcoach.voice.speech import (
    EngineFactory,
    SpeechWorker,
    espeak_library_present,
    install_command,
)
from backcoach.voice.speech_process import HelperEngine

QT_TIMEOUT = 30.0
SPEECH_TIMEOUT = 15.0
MIN_RMS = 0.01  # a rendered phrase quieter than this is taken as silence


class Level(enum.IntEnum):
    """How bad a finding is."""

    OK = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class Finding:
    """One check's result: what was found and, if it is not OK, what to do."""

    area: str
    level: Level
    summary: str
    fix: str = ""


# -- Qt --------------------------------------------------------------------------------

_QT_SCRIPT = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
print("platform=" + app.platformName())
try:
    from PySide6.QtMultimedia import QMediaDevices
    print("outputs=" + "|".join(d.description() for d in QMediaDevices.audioOutputs()))
except Exception as exc:
    print("outputs-error=" + repr(exc))
"""

QT_PROBE_ENV = "BACKCOACH_QT_PROBE"


def qt_probe_command(environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """How to run the Qt probe in a child process (it may abort, so never in ours).

    From source, `python -c SCRIPT`; in a frozen bundle sys.executable is BackCoach itself
    and takes no `-c`, so the child is BackCoach with QT_PROBE_ENV set (see cli.main).
    """
    if getattr(sys, "frozen", False):
        return [sys.executable], {**environ, QT_PROBE_ENV: "1"}
    return [sys.executable, "-c", _QT_SCRIPT], environ


def run_qt_probe() -> int:
    """Run the probe script in this process (the frozen bundle's child); exit status."""
    exec(compile(_QT_SCRIPT, "<qt-probe>", "exec"), {"__name__": "__qt_probe__"})
    return 0


XCB_LIBS = ("libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 "
            "libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0")
QT_LIBS = "libglib2.0-0 libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0"


@dataclass(frozen=True)
class QtReport:
    """What the Qt child process said."""

    finding: Finding
    outputs: tuple[str, ...] | None  # Qt's audio outputs, None if not known


def check_qt(environ: Mapping[str, str] | None = None, timeout: float = QT_TIMEOUT) -> QtReport:
    """Can a QGuiApplication start here? (And which audio outputs does Qt see?)"""
    environ = dict(os.environ if environ is None else environ)
    platform = environ.get("QT_QPA_PLATFORM", "")
    has_display = bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and not platform and not has_display:
        return QtReport(Finding(
            "Qt platform", Level.FAIL,
            "No display: neither DISPLAY nor WAYLAND_DISPLAY is set, and QT_QPA_PLATFORM is "
            "not set, so the window cannot open here.",
            "Start BackCoach from a desktop session. Without a screen, use a virtual one "
            f"({install_command('xvfb')}, then `xvfb-run backcoach`), or set "
            "QT_QPA_PLATFORM=offscreen for scripts and tests (nothing is shown)."), None)
    started = time.monotonic()
    try:
        command, child_env = qt_probe_command(environ)
        proc = subprocess.run(command, env=child_env, timeout=timeout,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return QtReport(Finding(
            "Qt platform", Level.FAIL,
            f"Starting Qt did not finish within {timeout:g} s.",
            "Check that the display server answers (e.g. run `xdpyinfo`), then try again."), None)
    seconds = time.monotonic() - started
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    outputs = tuple(filter(None, values.get("outputs", "").split("|"))) \
        if "outputs" in values else None
    if proc.returncode != 0 or "platform" not in values:
        err = proc.stderr.strip().splitlines()
        last = next((line for line in reversed(err) if line.strip()), f"exit {proc.returncode}")
        if "xcb" in proc.stderr and ("xcb-cursor" in proc.stderr or "could not load" in
                                     proc.stderr.lower()):
            fix = f"Install the X11 libraries Qt needs: {install_command(XCB_LIBS)}"
        elif "libEGL" in proc.stderr or "libGL" in proc.stderr or "cannot open shared" in \
                proc.stderr:
            fix = f"Install Qt's system libraries: {install_command(QT_LIBS)}"
        else:
            fix = ("Run `QT_DEBUG_PLUGINS=1 backcoach` to see which library is missing, or set "
                   "QT_QPA_PLATFORM=offscreen for headless use.")
        return QtReport(Finding("Qt platform", Level.FAIL,
                                f"Qt could not start a GUI application: {last}", fix), outputs)
    name = values["platform"]
    if name in ("offscreen", "minimal"):
        return QtReport(Finding(
            "Qt platform", Level.WARN,
            f"Qt starts with the {name!r} platform ({seconds:.1f} s): BackCoach runs but shows "
            f"no window (fine for tests and scripts).",
            "To see the window, unset QT_QPA_PLATFORM and run BackCoach in a desktop session."),
            outputs)
    return QtReport(Finding("Qt platform", Level.OK,
                            f"Qt starts on {name!r} ({seconds:.1f} s)."), outputs)


# -- speech ----------------------------------------------------------------------------

def check_speech(factory: EngineFactory = HelperEngine,
                 timeout: float = SPEECH_TIMEOUT) -> list[Finding]:
    """Is there a speech library, does the engine start, list voices and render sound?"""
    findings: list[Finding] = []
    if sys.platform.startswith("linux"):
        if espeak_library_present():
            findings.append(Finding("Speech library", Level.OK, "libespeak-ng is installed."))
        else:
            findings.append(Finding("Speech library", Level.FAIL,
                                    "libespeak-ng (the speech synthesiser) is not installed.",
                                    install_command("libespeak-ng1")))
    with tempfile.TemporaryDirectory(prefix="backcoach-doctor-") as tmp:
        from backcoach.voice.cache import PhraseCache

        problems: list[str] = []
        worker = SpeechWorker(factory, PhraseCache(Path(tmp)), hang_timeout=min(timeout, 10.0),
                              max_restarts=0, on_problem=problems.append)
        try:
            started = time.monotonic()
            future = worker.render("Speech check: breathe in.", VoiceParams())
            try:
                sound = future.result(timeout)
            except Exception as exc:
                message = problems[0] if problems else f"Rendering a test phrase failed: {exc}"
                findings.append(Finding("Speech engine", Level.FAIL, message,
                                        _fix_of(message) or install_command("libespeak-ng1")))
                return findings
            seconds = time.monotonic() - started
            voices = worker.voices()
            stats = wav_stats(sound.path)
        finally:
            worker.shutdown()
    english = sum(1 for v in voices if v.id.lower().rsplit("/", 1)[-1].startswith("en"))
    findings.append(Finding("Speech engine", Level.OK,
                            f"pyttsx3 started and listed {len(voices)} voices ({english} English)."))
    if stats.rms < MIN_RMS:
        findings.append(Finding("Speech rendering", Level.FAIL,
                                f"A test phrase rendered as silence (RMS {stats.rms:.4f}).",
                                install_command("--reinstall libespeak-ng1 espeak-ng-data")))
    else:
        findings.append(Finding("Speech rendering", Level.OK,
                                f"A test phrase rendered to a {stats.duration:.2f} s WAV "
                                f"(RMS {stats.rms:.3f}) in {1000 * seconds:.0f} ms, "
                                f"engine start included."))
    return findings


def _fix_of(message: str) -> str:
    """The 'Fix: ...' part of one of our messages, if it has one."""
    if "Fix: " in message:
        return message.split("Fix: ", 1)[1].split(", then", 1)[0].rstrip(".")
    return ""


# -- audio -----------------------------------------------------------------------------

def check_audio(qt_outputs: tuple[str, ...] | None,
                probe: AudioProbe | None = None) -> list[Finding]:
    """Can BackCoach make a sound here? (WARN, never FAIL: see the module docstring.)"""
    probe = probe or probe_audio(ask_qt=False)
    findings: list[Finding] = []
    linux = sys.platform.startswith("linux")
    if linux:
        if probe.aplay:
            findings.append(Finding("aplay", Level.OK, f"aplay is installed ({probe.aplay})."))
        else:
            findings.append(Finding("aplay", Level.WARN,
                                    "aplay (ALSA's player) is missing: without a Qt audio output "
                                    "there is no way to play sound.",
                                    install_command("alsa-utils")))
    outputs = ", ".join(qt_outputs) if qt_outputs else "none"
    where = []
    if probe.alsa_cards:
        where.append(f"ALSA cards: {'; '.join(probe.alsa_cards)}")
    if probe.sound_server:
        where.append(f"sound server at {probe.sound_server}")
    device = aplay_device(probe) if linux else None
    if device:
        via = "ALSA's default device" if device == "default" else f"ALSA's {device!r} device"
        findings.append(Finding("Audio output", Level.OK,
                                f"aplay plays through {via} ({', '.join(where)})"
                                + (f"; Qt's output ({outputs}) stands by if it fails."
                                   if qt_outputs else ".")))
    elif qt_outputs:
        findings.append(Finding("Audio output", Level.OK,
                                f"Qt plays through: {outputs}" + (f" ({', '.join(where)})"
                                                                  if where else "") + "."))
    elif linux and probe.aplay and probe.alsa_cards:
        findings.append(Finding("Audio output", Level.OK,
                                f"No Qt audio output, but aplay can play ({', '.join(where)})."))
    elif linux and probe.sound_server and qt_outputs is not None:
        from backcoach.voice.playback import no_output_message

        message = no_output_message(probe)
        findings.append(Finding("Audio output", Level.WARN,
                                message.split(" Fix: ")[0].removeprefix("No sound: ")
                                + " BackCoach runs with on-screen cues only.",
                                _fix_of(message)))
    else:
        from backcoach.voice.playback import NO_OUTPUT_FIX

        known = "" if qt_outputs is not None else " (Qt's outputs were not checked)"
        findings.append(Finding(
            "Audio output", Level.WARN,
            f"No audio output: no sound card, no PulseAudio or PipeWire server, and Qt lists "
            f"no output{known}. BackCoach runs with on-screen cues only; speech is still "
            f"rendered and cached.", NO_OUTPUT_FIX.replace(" The on-screen cues carry on "
                                                           "meanwhile.", "")))
    return findings


# -- folders ---------------------------------------------------------------------------

def check_folders(home: str | None = None) -> list[Finding]:
    """Are the config, data, cache and log folders there (or creatable) and writable?"""
    from backcoach.store.paths import resolve_paths

    paths = resolve_paths(home)
    findings = []
    for label, folder in (("config", paths.config_dir), ("data", paths.data_dir),
                          ("cache", paths.cache_dir), ("logs", paths.log_dir)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
                pass
        except OSError as exc:
            findings.append(Finding(
                f"Folder ({label})", Level.FAIL,
                f"{folder} cannot be written ({exc.strerror or exc}).",
                f"Make it writable (e.g. `sudo chown -R $USER {folder}`), or keep BackCoach's "
                f"files elsewhere with `backcoach --home DIR` or BACKCOACH_HOME=DIR."))
        else:
            findings.append(Finding(f"Folder ({label})", Level.OK, f"{folder} is writable."))
    return findings


def run_checks(home: str | None = None, environ: Mapping[str, str] | None = None,
               factory: EngineFactory = HelperEngine) -> list[Finding]:
    """Every check, in the order they are printed."""
    qt = check_qt(environ)
    return [qt.finding, *check_speech(factory), *check_audio(qt.outputs), *check_folders(home)]


def format_findings(findings: list[Finding]) -> str:
    """The doctor's report: one line per finding, its fix indented below, then a summary."""
    tags = {Level.OK: "[ ok ]", Level.WARN: "[warn]", Level.FAIL: "[FAIL]"}
    lines = []
    for f in findings:
        lines.append(f"{tags[f.level]} {f.area}: {f.summary}")
        if f.fix and f.level is not Level.OK:
            lines.append(f"       fix: {f.fix}")
    fails = sum(f.level is Level.FAIL for f in findings)
    warns = sum(f.level is Level.WARN for f in findings)
    if fails:
        lines.append(f"{fails} problem(s) and {warns} warning(s): BackCoach will not work fully "
                     f"until the problems are fixed.")
    elif warns:
        lines.append(f"No problems, {warns} warning(s): BackCoach works, with the limits above.")
    else:
        lines.append("Everything BackCoach needs is in place.")
    return "\n".join(lines)
