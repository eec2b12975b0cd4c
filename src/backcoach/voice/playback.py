"""The playback port: start a rendered phrase now, stop it at once.

The coach decides *when* (it knows each phrase's length, so it never overlaps two); a
playback only starts and stops sounds, from the UI thread, without waiting:

- `AplayPlayback`: one `aplay` process per phrase (ALSA, package alsa-utils). Chosen first
  on Linux: it keeps QtMultimedia and its FFmpeg backend (some 15-18 MB resident for good)
  out of the process, for a vfork+exec per phrase (about 0.5 ms on the calling thread).
  With a sound server it plays through ALSA's PulseAudio or PipeWire device, as Qt would;
  without one, to ALSA's default device (a card).
- `QtPlayback`: QtMultimedia's QSoundEffect, one preloaded effect per phrase (no process
  per cue; `release` lets them go once a session is over). Chosen on Windows and macOS,
  and on Linux when aplay is missing or cannot reach the sound server.
- `FallbackPlayback`: aplay, and if an aplay fails (device busy, no default device, a
  sound server gone) Qt for the rest of the run when Qt lists an output; otherwise the
  failure is reported to the user as before.
- `NullPlayback`: plays nothing. Used when there is no audio output at all: the session
  carries on with its on-screen cues, and the user is told why there is no sound.
- `RecordingPlayback`: a null sink that records what would have played and when, for
  tests and benchmarks (and can wrap a real playback to time it).

`choose_playback()` picks one and says, in plain words with the fix, why the others were
not usable. `BACKCOACH_AUDIO` overrides the choice (with no fallback): `qt`, `aplay`,
`aplay:DEVICE` (for example `aplay:null` plays to ALSA's null device, for benchmarks), or
`none`.
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
from dataclasses import dataclass, field, replace
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
    """One `aplay` process per phrase; stop() terminates the ones still running.

    A process that exits with an error (and was not stopped) is a problem; so is one still
    running `HUNG_AFTER` seconds past its phrase's end (an ALSA device or sound server that
    takes no sound): it is ended, since it would otherwise keep the user silent untold."""

    name = "aplay"
    latency = 0.03
    audible = True
    HUNG_AFTER = 5.0

    def __init__(self, device: str | None = None, executable: str = "aplay") -> None:
        self.device = device
        self.executable = executable
        if device == "null":
            self.name, self.audible = "aplay:null", False
        elif device:
            self.name = f"aplay:{device}"
        self._procs: list[tuple[subprocess.Popen, float]] = []  # (process, give up at)
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
            # close_fds and no preexec_fn: CPython starts it with vfork, not a fork that
            # would copy the page tables of this whole process.
            proc = subprocess.Popen(self.command(sound), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    close_fds=True)
        except OSError as exc:
            self._report(f"Sound cannot be played: {self.executable} could not be started "
                         f"({exc.strerror or exc}). Fix: {_install('alsa-utils')}.")
            return
        self._procs.append((proc, time.monotonic() + sound.duration + self.HUNG_AFTER))

    def stop(self) -> None:
        for proc, _ in self._procs:
            if proc.poll() is None:
                self._stopped.add(proc.pid)
                with contextlib.suppress(OSError):
                    proc.terminate()
        self._reap()

    def _reap(self) -> None:
        alive = []
        now = time.monotonic()
        for proc, give_up in self._procs:
            code = proc.poll()
            if code is None:
                if now > give_up and proc.pid not in self._stopped:
                    self._stopped.add(proc.pid)
                    with contextlib.suppress(OSError):
                        proc.terminate()
                    self._report("Sound cannot be played: aplay did not finish a phrase (the "
                                 "audio device or sound server takes no sound). "
                                 f"{NO_OUTPUT_FIX}")
                alive.append((proc, give_up))
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

    def release(self) -> None:
        """Nothing is preloaded; reap the processes that have ended (the session is over)."""
        self._reap()

    @property
    def running(self) -> int:
        """How many aplay processes are still alive."""
        self._reap()
        return len(self._procs)

    def close(self) -> None:
        self.stop()
        deadline = time.monotonic() + 1.0
        for proc, _ in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._reap()


class FallbackPlayback(Playback):
    """Plays through `primary` (aplay) until it reports a failure, then asks `fallback` once
    for another playback (Qt, if it lists an output) and plays through that for the rest of
    the run, with the sounds preloaded so far. Without one, the failure is reported.

    The phrase that failed is not replayed (it would be late); the next one plays."""

    def __init__(self, primary: Playback, fallback: Callable[[], Playback | None]) -> None:
        self._active = primary
        self._fallback: Callable[[], Playback | None] | None = fallback
        self._retired: Playback | None = None
        self._sounds: dict[Path, Sound] = {}  # what a fallback must preload
        self._problems: list[str] = []

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._active.name

    @property
    def latency(self) -> float:  # type: ignore[override]
        return self._active.latency

    @property
    def audible(self) -> bool:  # type: ignore[override]
        return self._active.audible

    @property
    def active(self) -> Playback:
        """The playback in use now."""
        return self._active

    def _check(self) -> None:
        if self._fallback is None:
            return
        failed = self._active.problems()
        if not failed:
            return
        make, self._fallback = self._fallback, None
        try:
            fallback = make()
        except Exception:  # QtMultimedia missing or broken: report aplay's failure
            log.exception("the fallback playback could not be made")
            fallback = None
        if fallback is None:
            self._problems += failed
            return
        log.warning("%s Playing through %s from now on.", failed[0], fallback.name)
        self._retired, self._active = self._active, fallback
        for sound in self._sounds.values():
            fallback.preload(sound)

    def preload(self, sound: Sound) -> None:
        self._sounds[sound.path] = sound
        self._active.preload(sound)

    def play(self, sound: Sound) -> None:
        self._check()
        self._active.play(sound)

    def stop(self) -> None:
        self._active.stop()

    def problems(self) -> list[str]:
        self._check()
        out, self._problems = [*self._problems, *self._active.problems()], []
        return out

    def release(self) -> None:
        self._sounds.clear()
        self._active.release()

    @property
    def preloaded(self) -> int:
        return self._active.preloaded

    def close(self) -> None:
        self._active.close()
        if self._retired is not None:
            self._retired.close()


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
    alsa_pcms: tuple[tuple[str, str], ...] = ()  # (name, description) from `aplay -L`, listed
    # only when there is a sound server (to find ALSA's way to it)


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


def alsa_pcms(aplay: str, timeout: float = 5.0) -> tuple[tuple[str, str], ...]:
    """ALSA's playback devices as `aplay -L` lists them: (name, first line of description)."""
    try:
        out = subprocess.run([aplay, "-L"], capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL, errors="replace").stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return parse_pcm_list(out)


def parse_pcm_list(text: str) -> tuple[tuple[str, str], ...]:
    """`aplay -L`'s output as (name, first description line) pairs: a name starts a line,
    its description follows, indented."""
    pcms: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line and not line[0].isspace():
            pcms.append((line.strip(), ""))
        elif line.strip() and pcms and not pcms[-1][1]:
            pcms[-1] = (pcms[-1][0], line.strip())
    return tuple(pcms)


def _server_pcm(pcms: tuple[tuple[str, str], ...]) -> str | None:
    """The ALSA device that plays through the sound server: `default` when it is routed
    there (pipewire-alsa, or the pulse plugin's default), else `pipewire` or `pulse`."""
    names = dict(pcms)
    if any(word in names.get("default", "") for word in ("PulseAudio", "PipeWire")):
        return "default"
    return next((name for name in ("pipewire", "pulse") if name in names), None)


def aplay_device(probe: AudioProbe) -> str | None:
    """The ALSA device aplay should play to ("default" for ALSA's default), or None when
    aplay cannot reach the speakers the desktop uses.

    With a sound server, only through ALSA's PulseAudio or PipeWire device: ALSA's default
    would otherwise go straight to a card, which the server may hold (busy) or which may not
    be the output the user listens on; Qt plays through the server instead."""
    if not probe.aplay:
        return None
    if probe.sound_server:
        return _server_pcm(probe.alsa_pcms)
    return "default" if probe.alsa_cards else None


def probe_audio(*, ask_qt: bool = True, environ: Mapping[str, str] | None = None) -> AudioProbe:
    """Look at what sound the machine offers (a few file checks, `aplay -L` when there is a
    sound server, then Qt's device list if `ask_qt`).

    On Linux, Qt plays through a sound server or an ALSA card; with neither there is nothing
    for it to find, so QtMultimedia (some 15 MB with its FFmpeg backend) is not loaded."""
    linux = sys.platform.startswith("linux")
    cards = alsa_cards() if linux else ()
    server = sound_server_socket(environ) if linux else None
    aplay = shutil.which("aplay")
    worth_asking = ask_qt and (not linux or bool(cards) or server is not None)
    return AudioProbe(qt_outputs=qt_audio_outputs() if worth_asking else None,
                      aplay=aplay, alsa_cards=cards, sound_server=server,
                      alsa_pcms=alsa_pcms(aplay) if aplay and server else ())


def default_preference() -> tuple[str, ...]:
    """aplay first on Linux (no QtMultimedia in the process), Qt elsewhere."""
    return ("aplay", "qt") if sys.platform.startswith("linux") else ("qt",)


def _qt_if_it_has_an_output() -> Playback | None:
    """A QtPlayback when Qt lists an audio output (the fallback after aplay failed)."""
    return QtPlayback() if qt_audio_outputs() else None


def choose_playback(*, prefer: tuple[str, ...] | None = None,
                    environ: Mapping[str, str] | None = None,
                    probe: AudioProbe | None = None) -> AudioChoice:
    """The best playback this machine offers, with a message when there is none.

    Qt's outputs are only asked for when Qt is about to be chosen: asking loads
    QtMultimedia. aplay comes with a fallback to Qt for when it fails at play time."""
    environ = os.environ if environ is None else environ
    prefer = default_preference() if prefer is None else prefer
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
        probe = probe_audio(ask_qt=False, environ=environ)
    linux = sys.platform.startswith("linux")
    for kind in prefer:
        if kind == "aplay" and probe.aplay and (device := aplay_device(probe)):
            aplay = AplayPlayback(None if device == "default" else device, probe.aplay)
            return AudioChoice(FallbackPlayback(aplay, _qt_if_it_has_an_output), None, probe)
        if kind == "qt":
            if probe.qt_outputs is None and (not linux or probe.alsa_cards or probe.sound_server):
                probe = replace(probe, qt_outputs=qt_audio_outputs())
            if probe.qt_outputs:
                return AudioChoice(QtPlayback(), None, probe)
    if "aplay" in prefer and probe.aplay and probe.alsa_cards:
        # A card but no route to the sound server, and Qt has no output: ALSA's default.
        return AudioChoice(AplayPlayback(executable=probe.aplay), None, probe)
    return AudioChoice(NullPlayback(), no_output_message(probe), probe)


def no_output_message(probe: AudioProbe) -> str:
    """Why nothing can be heard, and the fix."""
    if sys.platform.startswith("linux") and not probe.aplay and not probe.qt_outputs:
        return (f"No sound: the aplay program is missing and Qt found no audio output. "
                f"Fix: {_install('alsa-utils libpulse0')}. The on-screen cues carry on.")
    if sys.platform.startswith("linux") and probe.sound_server and not probe.qt_outputs:
        return (f"No sound: a sound server runs ({probe.sound_server}), but Qt found no audio "
                f"output and ALSA has no PulseAudio or PipeWire device for aplay. Fix: "
                f"{_install('libpulse0 libasound2-plugins')}, then restart BackCoach. The "
                f"on-screen cues carry on.")
    return ("No sound: this computer has no audio output that BackCoach can use (no sound "
            "card, and no PulseAudio or PipeWire sound server). " + NO_OUTPUT_FIX)
