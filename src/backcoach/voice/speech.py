"""The speech worker: one thread owns the speech engine and renders phrases to WAV files.

The app's engine is speech_process.HelperEngine, which runs pyttsx3 in a helper process;
Pyttsx3Engine below is what runs inside that helper (and in tests).

pyttsx3's engine must be created and driven on one thread, one call at a time (concurrent
calls raise "run loop already started" and can wedge it for good), so every call to it
happens on the worker thread, which takes render jobs from a priority queue and answers
with `concurrent.futures.Future`s. Nobody ever waits on it from the UI thread: results
come back through callbacks, which the Qt side turns into queued signals.

A watchdog thread checks the job in progress. If the engine takes longer than
`hang_timeout` (engine creation included), the worker is abandoned: its thread is left
blocked where it is (a Python thread cannot be killed; it is a daemon and its late answer
is ignored), the job fails with `SpeechHung`, the user is told, and a fresh thread with
a fresh engine takes over the queue. After `max_restarts` hangs in a row speech is turned
off for the rest of the run. If the engine cannot be created at all (no libespeak-ng:
pyttsx3 raises RuntimeError), cached phrases are still served and every other job fails
with `SpeechUnavailable` carrying a plain message and the exact fix.

espeak-ng is one C library per process (one synthesis callback, one set of parameters),
so a process should run one worker at a time; `Pyttsx3Engine` also serialises renders
with a process-wide lock, with a timeout so that one hung engine cannot hang the next.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import itertools
import logging
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from backcoach.voice.cache import PhraseCache, Sound, VoiceParams

log = logging.getLogger(__name__)

DEFAULT_HANG_TIMEOUT = 5.0  # seconds: espeak renders a long sentence in ~20 ms
DEFAULT_MAX_RESTARTS = 3
FILE_WAIT = 2.0  # seconds to wait for the engine's "finished" after runAndWait returns
EMPTY_RETRIES = 2  # renders again when pyttsx3 writes an empty WAV
WAV_HEADER = 44


class SpeechError(RuntimeError):
    """A phrase could not be rendered."""


class SpeechUnavailable(SpeechError):
    """There is no working speech engine; the message says why and how to fix it."""


class SpeechHung(SpeechError):
    """The engine did not answer in time and was replaced."""


@dataclass(frozen=True)
class VoiceInfo:
    """A voice the engine offers (for the settings' voice list)."""

    id: str
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None


class SpeechEngine(Protocol):
    """What the worker needs from a text-to-speech engine (pyttsx3, or a fake in tests)."""

    name: str

    def voices(self) -> list[VoiceInfo]:
        """The installed voices."""
        ...

    def render(self, text: str, params: VoiceParams, path: Path) -> None:
        """Write `text` spoken with `params` to a WAV file at `path` (blocking)."""
        ...


EngineFactory = Callable[[], SpeechEngine]
ProblemCallback = Callable[[str], None]
VoicesCallback = Callable[[list[VoiceInfo]], None]

# pyttsx3 engines are never let go: when one is garbage-collected its driver calls
# espeak_SetSynthCallback(None), which would silence the engine that replaced it.
_KEEP_ALIVE: list[object] = []
_ESPEAK_LOCK = threading.Lock()


class Pyttsx3Engine:
    """pyttsx3 (espeak-ng on Linux, SAPI5 on Windows, NSSpeechSynthesizer on macOS)."""

    name = "pyttsx3"

    def __init__(self, lock_timeout: float = DEFAULT_HANG_TIMEOUT) -> None:
        import pyttsx3  # raises RuntimeError on Linux when libespeak-ng is missing

        # A new engine each time: pyttsx3.init() would hand back a cached (maybe hung) one.
        self._engine = pyttsx3.Engine()
        _KEEP_ALIVE.append(self._engine)
        _silence_driver_prints()
        self._lock_timeout = lock_timeout
        self._errors: list[BaseException] = []
        self._finished = threading.Event()
        self._engine.connect("error", self._on_error)
        self._engine.connect("finished-utterance", lambda **_: self._finished.set())
        self._default_voice = self._engine.getProperty("voice")
        self._voices = [_voice_info(v) for v in self._engine.getProperty("voices")]
        self._voice_ids = {v.id for v in self._voices}

    def _on_error(self, name: object = None, exception: BaseException | None = None,
                  **_: object) -> None:
        self._errors.append(exception or SpeechError("the speech engine reported an error"))

    def voices(self) -> list[VoiceInfo]:
        """The installed voices, as the engine lists them."""
        return list(self._voices)

    def render(self, text: str, params: VoiceParams, path: Path) -> None:
        """Render with save_to_file + runAndWait (about 10-20 ms with espeak-ng).

        pyttsx3's espeak driver now and then writes an empty WAV (about 1 render in 150
        under GIL contention: audio reaching its callback is dropped), so an empty result is
        rendered again, up to EMPTY_RETRIES times.
        """
        if not _ESPEAK_LOCK.acquire(timeout=self._lock_timeout):
            raise SpeechError("another speech engine in this process is still busy")
        try:
            for _attempt in range(EMPTY_RETRIES + 1):
                self._render_once(text, params, path)
                if path.exists() and path.stat().st_size > WAV_HEADER:
                    return
                log.info("speech engine wrote no audio for %r; rendering again", text)
        finally:
            _ESPEAK_LOCK.release()
        raise SpeechError("the speech engine produced no audio")

    def _render_once(self, text: str, params: VoiceParams, path: Path) -> None:
        self._errors.clear()
        # Always set the voice: espeak keeps the last one when asked for an unknown id.
        voice = params.voice_id if params.voice_id in self._voice_ids else self._default_voice
        self._engine.setProperty("voice", voice)
        self._engine.setProperty("rate", int(params.rate))
        self._engine.setProperty("volume", float(params.volume))
        path.unlink(missing_ok=True)
        self._finished.clear()
        self._engine.save_to_file(text, str(path))
        self._engine.runAndWait()
        # runAndWait can return before espeak's callback has written the file (seen on a
        # first render under GIL contention): the driver says when the file is complete.
        if not self._finished.wait(FILE_WAIT):
            raise SpeechError(f"the speech engine did not finish {text!r} within {FILE_WAIT:g} s")
        if self._errors:
            raise SpeechError(f"the speech engine failed: {self._errors[0]}")


def _voice_info(voice: object) -> VoiceInfo:
    languages = tuple(str(x) for x in (getattr(voice, "languages", None) or ()))
    return VoiceInfo(id=str(getattr(voice, "id", "")), name=str(getattr(voice, "name", "")),
                     languages=languages, gender=getattr(voice, "gender", None))


def _silence_driver_prints() -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on stdout for every file."""
    module = sys.modules.get("pyttsx3.drivers.espeak")
    if module is not None and not hasattr(module, "_backcoach_quiet"):
        module.print = lambda *args, **kwargs: log.debug(" ".join(map(str, args)))
        module._backcoach_quiet = True


def install_command(packages: str) -> str:
    """The command that installs Debian package names on this system (best guess)."""
    if shutil.which("apt-get"):
        return f"sudo apt-get install {packages}"
    names = {"libespeak-ng1": "espeak-ng", "alsa-utils": "alsa-utils", "libpulse0": ""}
    other = " ".join(filter(None, (names.get(p, p) for p in packages.split())))
    if shutil.which("dnf"):
        return f"sudo dnf install {other}"
    if shutil.which("pacman"):
        return f"sudo pacman -S {other}"
    if shutil.which("zypper"):
        return f"sudo zypper install {other}"
    return f"install the package(s) {packages} (Debian names) with your package manager"


def espeak_library_present() -> bool:
    """Whether the dynamic loader can find libespeak-ng (Linux)."""
    return ctypes.util.find_library("espeak-ng") is not None


def explain_engine_error(exc: BaseException) -> str:
    """A plain message for the user: what failed, what still works, and the exact fix."""
    detail = str(exc).strip() or type(exc).__name__
    if isinstance(exc, ImportError):
        return (f"Spoken cues are off: the pyttsx3 package is missing ({detail}). Reinstall "
                f"BackCoach, or run: pip install pyttsx3. The on-screen cues and the chime "
                f"still work.")
    if sys.platform.startswith("linux"):
        if not espeak_library_present() or "espeak" in detail.lower():
            return (f"Spoken cues are off: the espeak-ng speech library is not installed "
                    f"(pyttsx3 said: {detail}). Fix: {install_command('libespeak-ng1')}, then "
                    f"restart BackCoach. The on-screen cues and the chime still work.")
        return (f"Spoken cues are off: the speech engine could not start ({detail}). Try: "
                f"{install_command('--reinstall libespeak-ng1')}, then restart BackCoach. "
                f"The on-screen cues and the chime still work.")
    return (f"Spoken cues are off: the system speech engine could not start ({detail}). "
            f"Check that a system voice is installed (Windows: Settings > Time & language > "
            f"Speech; macOS: System Settings > Accessibility > Spoken Content), then restart "
            f"BackCoach. The on-screen cues and the chime still work.")


def hang_message(timeout: float, gave_up: bool) -> str:
    """What the user is told when the engine stops answering."""
    if not gave_up:
        return (f"The speech engine stopped responding (no answer in {timeout:g} s), so "
                f"BackCoach started a fresh one; a cue or two may have been missed. If this "
                f"keeps happening, reinstall the speech library: "
                f"{install_command('--reinstall libespeak-ng1')}.")
    return (f"Spoken cues are off: the speech engine stopped responding again and again "
            f"(no answer in {timeout:g} s). The on-screen cues and the chime still work. Fix: "
            f"{install_command('--reinstall libespeak-ng1')}, then restart BackCoach.")


@dataclass(order=True)
class _Job:
    priority: float
    seq: int
    text: str = field(compare=False)
    params: VoiceParams = field(compare=False)
    future: Future = field(compare=False)


_STOP = object()
_CREATE = object()  # a job that only asks for the engine to be created (wait_ready)


class SpeechWorker:
    """Renders phrases on its own thread; `render()` never blocks the caller.

    `on_problem(message)` and `on_voices(voices)` are called from the worker or watchdog
    threads: the receiver must hand them over to its own thread (VoiceCoach uses queued
    signals).
    """

    def __init__(self, factory: EngineFactory = Pyttsx3Engine, cache: PhraseCache | None = None,
                 *, hang_timeout: float = DEFAULT_HANG_TIMEOUT,
                 max_restarts: int = DEFAULT_MAX_RESTARTS,
                 on_problem: ProblemCallback | None = None,
                 on_voices: VoicesCallback | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if cache is None:
            cache = PhraseCache(Path(tempfile.mkdtemp(prefix="backcoach-voice-")))
        self.cache = cache
        self.on_problem = on_problem
        self.on_voices = on_voices
        self._factory = factory
        self._hang_timeout = hang_timeout
        self._max_restarts = max_restarts
        self._monotonic = monotonic
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._generation = 0
        self._busy_since: float | None = None  # when the current engine call began
        self._current: _Job | None = None
        self._hangs_in_a_row = 0
        self._unavailable: str | None = None  # message once speech is off for good
        self._engine_name = "pyttsx3"
        self._voices: list[VoiceInfo] = []
        self._ready = threading.Event()  # set once an engine exists or creation failed
        self._closed = threading.Event()
        self._started = False
        self.restarts = 0  # engines replaced after a hang (for tests and the doctor)

    # -- public ----------------------------------------------------------------------
    def start(self) -> SpeechWorker:
        """Start the worker and the watchdog (also done by the first `render`)."""
        with self._lock:
            if self._started:
                return self
            self._started = True
            gen = self._generation
        self._spawn(gen)
        threading.Thread(target=self._watch, name="backcoach-speech-watchdog",
                         daemon=True).start()
        return self

    def render(self, text: str, params: VoiceParams, priority: float = 100.0) -> Future:
        """Queue a phrase; the future gets a `Sound` or a SpeechError. Lower priority first."""
        future: Future = Future()
        if self._closed.is_set():
            future.set_exception(SpeechError("the speech worker was shut down"))
            return future
        self.start()
        self._queue.put(_Job(priority, next(self._seq), text, params, future))
        return future

    def voices(self) -> list[VoiceInfo]:
        """The engine's voices ([] until the engine has started)."""
        with self._lock:
            return list(self._voices)

    def wait_ready(self, timeout: float) -> bool:
        """Start the engine if it has not started, and block until it exists or failed (the
        command line; the settings dialog waits here once, for the voice list)."""
        self.start()
        if not self._ready.is_set() and not self._closed.is_set():
            self._queue.put(_Job(float("-inf"), next(self._seq), "", VoiceParams(),
                                 _CREATE))  # type: ignore[arg-type]
        return self._ready.wait(timeout)

    @property
    def unavailable(self) -> str | None:
        """Why speech is off for good, or None while it works (or may still work)."""
        with self._lock:
            return self._unavailable

    def shutdown(self) -> None:
        """Stop taking jobs; pending ones fail. Does not wait for a hung engine."""
        self._closed.set()
        with self._lock:
            self._generation += 1
        self._fail_pending(SpeechError("the speech worker was shut down"))
        self._queue.put(_Job(float("-inf"), -1, "", VoiceParams(), _STOP))  # type: ignore[arg-type]

    # -- worker thread ---------------------------------------------------------------
    def _spawn(self, gen: int) -> None:
        threading.Thread(target=self._run, args=(gen,), name=f"backcoach-speech-{gen}",
                         daemon=True).start()

    def _current_generation(self, gen: int) -> bool:
        with self._lock:
            return gen == self._generation and not self._closed.is_set()

    def _run(self, gen: int) -> None:
        engine: list[SpeechEngine | None] = []  # created at the first need, see _engine
        try:
            self._serve(gen, engine)
        finally:
            close = getattr(engine[0] if engine else None, "close", None)
            if close is not None:  # a helper process is let go at once
                with contextlib.suppress(Exception):
                    close()

    def _engine(self, gen: int, made: list[SpeechEngine | None]) -> None:
        """Create the engine on first need, into `made`: a session whose phrases are all
        cached never starts one (with HelperEngine, no helper process at all)."""
        if not made:
            made.append(self._create_engine(gen))

    def _serve(self, gen: int, made: list[SpeechEngine | None]) -> None:
        while True:
            job = self._queue.get()
            if job.future is _STOP:
                self._queue.put(job)  # let any other live worker see it too
                return
            with self._lock:
                if gen != self._generation:  # replaced while waiting: hand the job back
                    self._queue.put(job)
                    return
            if job.future is _CREATE:  # wait_ready wants the engine (and its voices)
                self._engine(gen, made)
                if not self._current_generation(gen):
                    return
                continue
            sound = self.cache.load(job.params, job.text)
            if sound is None and not made:
                # Back in the queue while the engine starts: if that hangs and is written
                # off, the fresh worker takes the job.
                self._queue.put(job)
                self._engine(gen, made)
                if not self._current_generation(gen):
                    return
                continue
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if sound is None:
                    sound = self._render(gen, made[0], job)
            except BaseException as exc:  # a hang was declared, or the engine raised
                self._finish(gen, job, exc=exc)
            else:
                self._finish(gen, job, sound=sound)
            if not self._current_generation(gen):
                return

    def _create_engine(self, gen: int) -> SpeechEngine | None:
        with self._lock:
            self._busy_since = self._monotonic()
        try:
            engine = self._factory()
            voices = engine.voices()
        except Exception as exc:  # pyttsx3 raises RuntimeError/OSError/ImportError here
            log.warning("speech engine could not be created: %r", exc)
            # SpeechUnavailable already carries the plain message (the helper wrote it).
            message = str(exc) if isinstance(exc, SpeechUnavailable) else \
                explain_engine_error(exc)
            with self._lock:
                if gen != self._generation:
                    return None
                self._busy_since = None
                self._unavailable = message
            self._ready.set()
            self._notify_problem(message)
            return None
        with self._lock:
            if gen != self._generation:  # creation itself hung and was written off
                return None
            self._busy_since = None
            self._engine_name = getattr(engine, "name", "pyttsx3")
            self._voices = voices
        self._ready.set()
        if self.on_voices is not None:
            self.on_voices(list(voices))
        return engine

    def _render(self, gen: int, engine: SpeechEngine | None, job: _Job) -> Sound:
        cached = self.cache.load(job.params, job.text)
        if cached is not None:
            return cached
        if engine is None:
            raise SpeechUnavailable(self.unavailable or "no speech engine")
        scratch = self.cache.scratch_path(job.params, job.text)
        with self._lock:
            self._busy_since = self._monotonic()
            self._current = job
        try:
            engine.render(job.text, job.params, scratch)
        finally:
            with self._lock:
                if gen == self._generation:
                    self._busy_since = None
                    self._current = None
        if not self._current_generation(gen):
            scratch.unlink(missing_ok=True)
            raise SpeechHung("answered after it had been written off")
        return self.cache.store(job.params, job.text, scratch)

    def _finish(self, gen: int, job: _Job, sound: Sound | None = None,
                exc: BaseException | None = None) -> None:
        with self._lock:
            stale = gen != self._generation
            if not stale and sound is not None:
                self._hangs_in_a_row = 0
        if job.future.done():  # the watchdog already failed it
            return
        with contextlib.suppress(Exception):  # InvalidStateError if it raced the watchdog
            if exc is not None:
                if not isinstance(exc, SpeechError):
                    log.warning("rendering %r failed: %r", job.text, exc)
                    exc = SpeechError(f"could not render {job.text!r}: {exc}")
                job.future.set_exception(exc)
            else:
                job.future.set_result(sound)

    # -- watchdog --------------------------------------------------------------------
    def _watch(self) -> None:
        period = max(0.02, min(0.25, self._hang_timeout / 5))
        while not self._closed.wait(period):
            with self._lock:
                since = self._busy_since
                if since is None or self._monotonic() - since <= self._hang_timeout:
                    continue
                # Write the stuck thread off: it keeps its engine (never destroyed) and
                # exits by itself if it ever returns.
                hung_job = self._current
                self._generation += 1
                gen = self._generation
                self._busy_since = None
                self._current = None
                self._hangs_in_a_row += 1
                self.restarts += 1
                give_up = self._hangs_in_a_row > self._max_restarts
                message = hang_message(self._hang_timeout, give_up)
                if give_up:
                    self._unavailable = message
            log.warning("speech engine hung for more than %.1f s; %s", self._hang_timeout,
                        "giving up" if give_up else "starting a fresh one")
            if hung_job is not None and not hung_job.future.done():
                with contextlib.suppress(Exception):
                    hung_job.future.set_exception(SpeechHung(message))
            self._ready.set()
            self._notify_problem(message)
            if give_up:
                self._fail_pending(SpeechUnavailable(message))
                # Serve what is cached, with no engine at all.
                threading.Thread(target=self._serve_cache_only, args=(gen,),
                                 name="backcoach-speech-cache", daemon=True).start()
            else:
                self._spawn(gen)

    def _serve_cache_only(self, gen: int) -> None:
        while True:
            job = self._queue.get()
            if job.future is _STOP or not self._current_generation(gen):
                self._queue.put(job)
                return
            if job.future is _CREATE:
                continue
            if job.future.set_running_or_notify_cancel():
                try:
                    self._finish(gen, job, sound=self._render(gen, None, job))
                except SpeechError as exc:
                    self._finish(gen, job, exc=exc)

    def _fail_pending(self, exc: SpeechError) -> None:
        kept = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job.future is _STOP:
                kept.append(job)
                continue
            if job.future is _CREATE:
                continue
            if isinstance(exc, SpeechUnavailable) and self.cache.load(job.params, job.text):
                kept.append(job)  # a cached phrase can still be served
                continue
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(exc)
        for job in kept:
            self._queue.put(job)

    def _notify_problem(self, message: str) -> None:
        if self.on_problem is not None:
            try:
                self.on_problem(message)
            except Exception:  # a receiver that is gone must not kill the worker
                log.exception("problem callback failed")
