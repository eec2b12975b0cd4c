"""The playback port: start a rendered phrase now, stop it at once.

The coach decides *when* (it knows each phrase's length, so it never overlaps two); a
playback only starts and stops sounds, from the UI thread, without waiting:

- `QtPlayback`: QtMultimedia's QSoundEffect, one preloaded effect per phrase (low latency,
  no process per cue; `release` lets them go once a session is over). Chosen when Qt lists
  an audio output (PulseAudio/PipeWire on Linux, the system mixer on Windows and macOS).
- `AplayPlayback`: one `aplay` process per phrase (ALSA, package alsa-utils). Chosen on
  Linux when Qt has no output but ALSA has a sound card or a sound server socket exists.
  Starting it costs a fork+exec (about 1-3 ms on the calling thread).
- `NullPlayback`: plays nothing. Used when there is no audio output at all: the session
  carries on with its on-screen cues, and the user is told why there is no sound.
- `RecordingPlayback`: a null sink that records what would have played and when, for
  tests and benchmarks (and can wrap a real playback to time it).

`choose_playback()` picks one and says, in plain words with the fix, why the others were
not usable. `BACKCOACH_AUDIO` overrides the choice: `qt`, `aplay`, `aplay:DEVICE` (for
example `aplay:null` plays to ALSA's null device, for benchmarks), or `none`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backcoach.voice.cache import Sound

log = logging.getLogger(__name__)

ENV_AUDIO = "BACKCOACH_AUDIO"


class Playback:
    """Base class and null sink: every method returns at once."""

    name = "none"
    latency = 0.0  # expected seconds from play() to the first sample heard
    audible = False  # whether anything can actually be heard

    def preload(self, sound: Sound) -> None:
        """Get ready to play `sound` instantly later (optional)."""

    def play(self, sound: Sound) -> None:
        """Start playing now; return at once."""

    def stop(self) -> None:
        """Silence whatever is playing, at once."""

    def problems(self) -> list[str]:
        """Problems found since the last call (plain messages with the fix)."""
        return []

    def release(self) -> None:
        """Forget the sounds preloaded for a session that is over (a sound still playing
        plays on); `preload` makes them ready again."""

    @property
    def preloaded(self) -> int:
        """How many sounds are held ready to play."""
        return 0

    def close(self) -> None:
        """Stop and release everything."""
        self.stop()


class NullPlayback(Playback):
    """Plays nothing (no audio output, or sound deliberately off)."""


@dataclass
class Played:
    """One play() seen by a RecordingPlayback."""

    sound: Sound
    start: float  # clock time when play() returned
    stopped: float | None = None  # clock time of a stop() while it was still sounding

    @property
    def end(self) -> float:
        """When it stopped sounding (cut short or played out)."""
        natural = self.start + self.sound.duration
        return natural if self.stopped is None else min(natural, self.stopped)


@dataclass
class RecordingPlayback(Playback):
    """Records each play and stop against a clock; optionally passes them to a real sink."""

    clock: Callable[[], float] = time.monotonic
    inner: Playback | None = None
    latency: float = 0.0
    played: list[Played] = field(default_factory=list)
    stops: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.inner is not None:
            self.name = f"recording+{self.inner.name}"
            self.latency = max(self.latency, self.inner.latency)
            self.audible = self.inner.audible
        else:
            self.name = "recording"

    def preload(self, sound: Sound) -> None:
        if self.inner is not None:
            self.inner.preload(sound)

    def play(self, sound: Sound) -> None:
        if self.inner is not None:
            self.inner.play(sound)
        self.played.append(Played(sound, self.clock()))

    def release(self) -> None:
        if self.inner is not None:
            self.inner.release()

    @property
    def preloaded(self) -> int:
        return self.inner.preloaded if self.inner is not None else 0

    def stop(self) -> None:
        now = self.clock()
        if self.inner is not None:
            self.inner.stop()
        self.stops.append(now)
        for item in self.played:
            if item.stopped is None and item.start <= now < item.start + item.sound.duration:
                item.stopped = now

    def problems(self) -> list[str]:
        return self.inner.problems() if self.inner is not None else []

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()

    @property
    def texts(self) -> list[str]:
        """The texts played, in order."""
        return [p.sound.text for p in self.played]


class AplayPlayback(Playback):
    """One `aplay` process per phrase; stop() terminates the ones still running."""

    name = "aplay"
    latency = 0.03
    audible = True

    def __init__(self, device: str | None = None, executable: str = "aplay") -> None:
        self.device = device
        self.executable = executable
        if device == "null":
            self.name, self.audible = "aplay:null", False
        elif device:
            self.name = f"aplay:{device}"
        self._procs: list[subprocess.Popen] = []
        self._stopped: set[int] = set()
        self._problems: list[str] = []
        self._reported: set[str] = set()

    def command(self, sound: Sound) -> list[str]:
        """The command line for one phrase."""
        cmd = [self.executable, "-q"]
        if self.device:
            cmd += ["-D", self.device]
        return [*cmd, str(sound.path)]

    def play(self, sound: Sound) -> None:
        self._reap()
        try:
            proc = subprocess.Popen(self.command(sound), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    close_fds=True)
        except OSError as exc:
            self._report(f"Sound cannot be played: {self.executable} could not be started "
                         f"({exc.strerror or exc}). Fix: {_install('alsa-utils')}.")
            return
        self._procs.append(proc)

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                self._stopped.add(proc.pid)
                with contextlib.suppress(OSError):
                    proc.terminate()
        self._reap()

    def _reap(self) -> None:
        alive = []
        for proc in self._procs:
            code = proc.poll()
            if code is None:
                alive.append(proc)
                continue
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
            if code != 0 and proc.pid not in self._stopped:
                last = next((line for line in reversed(err.strip().splitlines()) if line), "")
                self._report(f"Sound cannot be played: aplay failed ({last or f'exit {code}'}). "
                             f"{NO_OUTPUT_FIX}")
            self._stopped.discard(proc.pid)
        self._procs = alive

    def _report(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            self._problems.append(message)
            log.warning("%s", message)

    def problems(self) -> list[str]:
        self._reap()
        out, self._problems = self._problems, []
        return out

    @property
    def running(self) -> int:
        """How many aplay processes are still alive."""
        self._reap()
        return len(self._procs)

    def close(self) -> None:
        self.stop()
        deadline = time.monotonic() + 1.0
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._reap()


class QtPlayback(Playback):
    """QSoundEffect per phrase, loaded ahead; needs a QCoreApplication and an audio output."""

    name = "qt"
    latency = 0.02
    audible = True

    def __init__(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtMultimedia import QSoundEffect

        self._QSoundEffect, self._QUrl = QSoundEffect, QUrl
        self._effects: dict[Path, QSoundEffect] = {}
        self._current: QSoundEffect | None = None
        self._problems: list[str] = []
        self._reported: set[str] = set()

    def preload(self, sound: Sound) -> None:
        if sound.path in self._effects:
            return
        effect = self._QSoundEffect()
        effect.setSource(self._QUrl.fromLocalFile(str(sound.path)))
        effect.statusChanged.connect(lambda e=effect: self._check(e))
        self._effects[sound.path] = effect

    def _check(self, effect) -> None:
        if effect.status() == self._QSoundEffect.Status.Error:
            message = (f"Sound cannot be played: Qt could not play {effect.source().fileName()} "
                       f"on the audio output. {NO_OUTPUT_FIX}")
            if message not in self._reported:
                self._reported.add(message)
                self._problems.append(message)

    def play(self, sound: Sound) -> None:
        self.preload(sound)
        effect = self._effects[sound.path]
        self._current = effect
        effect.play()  # plays as soon as loaded if still loading

    def stop(self) -> None:
        if self._current is not None:
            self._current.stop()
            self._current = None

    def problems(self) -> list[str]:
        out, self._problems = self._problems, []
        return out

    def release(self) -> None:
        """Delete the effects (each holds its phrase decoded in memory), but the one playing."""
        playing = self._current if self._current is not None and self._current.isPlaying() \
            else None
        for path, effect in list(self._effects.items()):
            if effect is not playing:
                effect.deleteLater()
                del self._effects[path]
        self._current = playing

    @property
    def preloaded(self) -> int:
        return len(self._effects)

    def close(self) -> None:
        self.stop()
        for effect in self._effects.values():
            effect.deleteLater()
        self._effects.clear()


# -- choosing --------------------------------------------------------------------------

def _install(packages: str) -> str:
    from backcoach.voice.speech import install_command

    return install_command(packages)


NO_OUTPUT_FIX = ("Check that a sound device is connected and not muted, and that the sound "
                 "server runs (desktop: PulseAudio or PipeWire, e.g. `systemctl --user restart "
                 "pipewire-pulse` or `pulseaudio --start`); in a virtual machine, add a sound "
                 "device. The on-screen cues carry on meanwhile.")


@dataclass(frozen=True)
class AudioProbe:
    """What the machine offers for sound (gathered without playing anything)."""

    qt_outputs: tuple[str, ...] | None  # None: not asked (no Qt application)
    aplay: str | None  # path of the aplay program
    alsa_cards: tuple[str, ...]  # from /proc/asound/cards
    sound_server: str | None  # the PulseAudio or PipeWire socket found


@dataclass
class AudioChoice:
    """The chosen playback and, when it is not the real thing, the message for the user."""

    playback: Playback
    problem: str | None
    probe: AudioProbe | None = None


def alsa_cards(path: Path = Path("/proc/asound/cards")) -> tuple[str, ...]:
    """The sound cards ALSA knows, one line each (empty without any)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    cards = []
    for line in text.splitlines():
        line = line.strip()
        if line and line[0].isdigit() and "[" in line:
            cards.append(line)
    return tuple(cards)


def sound_server_socket(environ: Mapping[str, str] | None = None) -> str | None:
    """The PulseAudio or PipeWire socket of this user session, if any."""
    environ = os.environ if environ is None else environ
    server = environ.get("PULSE_SERVER")
    if server:
        return server
    runtime = environ.get("XDG_RUNTIME_DIR")
    if not runtime and hasattr(os, "getuid"):
        runtime = f"/run/user/{os.getuid()}"
    if not runtime:
        return None
    for name in ("pulse/native", "pipewire-0"):
        candidate = Path(runtime) / name
        if candidate.exists():
            return str(candidate)
    return None


def qt_audio_outputs() -> tuple[str, ...] | None:
    """The audio outputs QtMultimedia sees, or None without a Qt application."""
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        return None
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None
    return tuple(device.description() for device in QMediaDevices.audioOutputs())


def probe_audio(*, ask_qt: bool = True, environ: Mapping[str, str] | None = None) -> AudioProbe:
    """Look at what sound the machine offers (a few file checks, then Qt's device list).

    On Linux, Qt plays through a sound server or an ALSA card; with neither there is nothing
    for it to find, so QtMultimedia (some 15 MB with its FFmpeg backend) is not loaded."""
    linux = sys.platform.startswith("linux")
    cards = alsa_cards() if linux else ()
    server = sound_server_socket(environ) if linux else None
    worth_asking = ask_qt and (not linux or bool(cards) or server is not None)
    return AudioProbe(qt_outputs=qt_audio_outputs() if worth_asking else None,
                      aplay=shutil.which("aplay"), alsa_cards=cards, sound_server=server)


def choose_playback(*, prefer: tuple[str, ...] = ("qt", "aplay"),
                    environ: Mapping[str, str] | None = None,
                    probe: AudioProbe | None = None) -> AudioChoice:
    """The best playback this machine offers, with a message when there is none."""
    environ = os.environ if environ is None else environ
    override = environ.get(ENV_AUDIO, "").strip()
    if override:
        kind, _, device = override.partition(":")
        if kind == "none":
            return AudioChoice(NullPlayback(), None)
        if kind == "aplay":
            return AudioChoice(AplayPlayback(device or None), None)
        if kind == "qt":
            return AudioChoice(QtPlayback(), None)
        log.warning("%s=%r not understood (qt, aplay, aplay:DEVICE or none)", ENV_AUDIO, override)
    if probe is None:
        probe = probe_audio(ask_qt="qt" in prefer, environ=environ)
    for kind in prefer:
        if kind == "qt" and probe.qt_outputs:
            return AudioChoice(QtPlayback(), None, probe)
        if kind == "aplay" and probe.aplay and (probe.alsa_cards or probe.sound_server):
            return AudioChoice(AplayPlayback(), None, probe)
    return AudioChoice(NullPlayback(), no_output_message(probe), probe)


def no_output_message(probe: AudioProbe) -> str:
    """Why nothing can be heard, and the fix."""
    if sys.platform.startswith("linux") and not probe.aplay and not probe.qt_outputs:
        return (f"No sound: the aplay program is missing and Qt found no audio output. "
                f"Fix: {_install('alsa-utils libpulse0')}. The on-screen cues carry on.")
    return ("No sound: this computer has no audio output that BackCoach can use (no sound "
            "card, and no PulseAudio or PipeWire sound server). " + NO_OUTPUT_FIX)
