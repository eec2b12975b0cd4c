"""The speech engine in a child process that leaves when it has nothing to say.

pyttsx3 with espeak-ng costs a process about 5 MB that never comes back: the speech
library and the ones it links, its phoneme data and pyttsx3's own objects (its espeak
driver initialises the library once and never terminates it). BackCoach renders every
phrase of a session before it starts and then only plays WAV files, so the engine runs in
a helper process instead: `HelperEngine` is the SpeechEngine the SpeechWorker drives, and
the helper (`serve`) is a small loop around the in-process Pyttsx3Engine. The helper exits
after IDLE_EXIT seconds without a request, which hands its memory back to the system; the
next render starts a fresh one (about 0.2 s, behind a session's get-ready time).

It also makes a hung engine harmless: a helper that does not answer in time is killed,
where a hung thread in our own process could only be abandoned.

The protocol is one JSON object per line. The helper first says
`{"voices": [...]}` (or `{"unavailable": message}` and exits), then answers each
`{"text", "voice_id", "rate", "volume", "path"}` with `{"ok": true}` or `{"error": ...}`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from backcoach.voice.cache import VoiceParams
from backcoach.voice.speech import (
    DEFAULT_HANG_TIMEOUT,
    SpeechError,
    SpeechHung,
    SpeechUnavailable,
    VoiceInfo,
    explain_engine_error,
)

log = logging.getLogger(__name__)

HELPER_ENV = "BACKCOACH_SPEECH_HELPER"  # set: the process is the helper (see cli.main)
IDLE_EXIT = 15.0  # seconds without a request before the helper leaves
IDLE_ENV = "BACKCOACH_SPEECH_IDLE"  # how the helper is told IDLE_EXIT
# Past the SpeechWorker's hang timeout, so that its watchdog (which tells the user, and
# gives up after repeated hangs) decides; this one only makes sure the helper is killed.
REPLY_TIMEOUT = DEFAULT_HANG_TIMEOUT + 2.0
# Windows: the helper is a console program; without this a console window would flash up.
NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)


def helper_command(environ: dict[str, str] | os._Environ = os.environ,
                   ) -> tuple[list[str], dict[str, str]]:
    """How to start the helper: this module run by the same Python, with the folder that
    holds the backcoach package on its path (as this process found it); in a frozen
    bundle sys.executable is BackCoach itself, started with HELPER_ENV set."""
    env = {**environ, HELPER_ENV: "1"}
    if getattr(sys, "frozen", False):
        return [sys.executable], env
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, environ.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-m", "backcoach.voice.speech_process"], env


class HelperGone(SpeechError):
    """The helper ended without answering (it left when idle, or it crashed)."""


class HelperEngine:
    """A SpeechEngine whose renders run in the helper process (see the module notes).

    `reply_timeout` bounds every wait for the helper; past it the helper is killed and
    the render fails with SpeechHung (the SpeechWorker's own watchdog has given up on the
    call by then). `command` replaces helper_command() (tests)."""

    name = "pyttsx3"  # the phrases it renders are pyttsx3's: the cache keys stay the same

    def __init__(self, *, reply_timeout: float = REPLY_TIMEOUT,
                 idle_exit: float = IDLE_EXIT,
                 command: tuple[list[str], dict[str, str]] | None = None) -> None:
        self._reply_timeout = reply_timeout
        self._idle_exit = idle_exit
        self._command = command
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._voices: list[VoiceInfo] = []
        self.starts = 0  # helpers started so far (tests and benchmarks)
        self._start()

    # -- SpeechEngine ----------------------------------------------------------------
    def voices(self) -> list[VoiceInfo]:
        """The voices the helper's engine listed when it started."""
        return list(self._voices)

    def render(self, text: str, params: VoiceParams, path: Path) -> None:
        """Have the helper write `text` to `path`; starts a helper if the last one left."""
        request = {"text": text, "voice_id": params.voice_id, "rate": params.rate,
                   "volume": params.volume, "path": str(path)}
        try:
            reply = self._ask(request)
        except HelperGone:  # it left as the request went out (idle), or it died: once more
            log.info("the speech helper had gone; starting a new one")
            reply = self._ask(request)
        if "error" in reply:
            raise SpeechError(str(reply["error"]))

    def close(self) -> None:
        """Let the helper go now (it would leave by itself when idle)."""
        proc = self._proc
        self._proc = None
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()

    @property
    def pid(self) -> int | None:
        """The running helper's process id, or None when there is none."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    # -- the child -------------------------------------------------------------------
    def _start(self) -> None:
        argv, env = self._command or helper_command()
        env = {**env, IDLE_ENV: repr(self._idle_exit)}
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    text=True, encoding="utf-8", bufsize=1,
                                    creationflags=NO_WINDOW)
        except OSError as exc:
            raise SpeechUnavailable(explain_engine_error(exc)) from exc
        self._proc = proc
        self._lines = lines = queue.Queue()
        self.starts += 1
        threading.Thread(target=_read_lines, args=(proc, lines), daemon=True,
                         name="backcoach-speech-helper-reader").start()
        first = self._reply(proc, lines)
        if "unavailable" in first:
            raise SpeechUnavailable(str(first["unavailable"]))
        self._voices = [VoiceInfo(id=v["id"], name=v["name"], languages=tuple(v["languages"]),
                                  gender=v.get("gender")) for v in first.get("voices", [])]

    def _ask(self, request: dict) -> dict:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._start()
            proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
        except (OSError, ValueError) as exc:  # ValueError: the pipe was closed at its end
            self._proc = None
            raise HelperGone(f"the speech helper had ended ({exc})") from exc
        return self._reply(proc, self._lines)

    def _reply(self, proc: subprocess.Popen, lines: queue.Queue) -> dict:
        try:
            line = lines.get(timeout=self._reply_timeout)
        except queue.Empty:
            proc.kill()
            self._proc = None
            raise SpeechHung(f"the speech helper gave no answer in {self._reply_timeout:g} s "
                             f"and was stopped") from None
        if line is None:
            self._proc = None
            try:
                status: int | None = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = None
            raise HelperGone(f"the speech helper ended (exit status {status})")
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            proc.kill()
            self._proc = None
            raise SpeechError(f"the speech helper answered nonsense: {line[:200]!r}")
        return reply


def _read_lines(proc: subprocess.Popen, lines: queue.Queue) -> None:
    """Hand the helper's lines over, then None at its end; reaps it (so its CPU time is
    counted as ours, and no zombie is left)."""
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)
        proc.wait()
        for pipe in (proc.stdout, proc.stdin):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]


# -- the helper process ----------------------------------------------------------------

def serve(idle_exit: float | None = None) -> int:
    """The helper's loop: start pyttsx3, say which voices it has, render until told to
    stop (end of input) or idle for `idle_exit` seconds. Exit status 0, or 3 when there is
    no engine (after saying why)."""
    if idle_exit is None:
        idle_exit = float(os.environ.get(IDLE_ENV, IDLE_EXIT))
    stdin = sys.stdin
    # The answers get a private copy of stdout; whatever else writes there (the speech
    # library, a driver's print) goes to stderr and cannot garble them.
    stdout = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    try:
        other = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no stderr (a windowed app's child)
        other = os.open(os.devnull, os.O_WRONLY)
    os.dup2(other, sys.stdout.fileno())

    def say(message: dict) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    from backcoach.voice.speech import Pyttsx3Engine

    try:
        engine = Pyttsx3Engine()
    except Exception as exc:  # no libespeak-ng, no pyttsx3, no system voice
        say({"unavailable": explain_engine_error(exc)})
        return 3
    say({"voices": [{"id": v.id, "name": v.name, "languages": list(v.languages),
                     "gender": v.gender} for v in engine.voices()]})
    # A thread reads, so waiting for a request can time out on every system (select()
    # does not work on Windows pipes).
    requests: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stdin:
            requests.put(line)
        requests.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = requests.get(timeout=idle_exit)
        except queue.Empty:
            return 0  # idle: leave, and give the memory back
        if line is None:
            return 0
        try:
            request = json.loads(line)
            params = VoiceParams(voice_id=str(request.get("voice_id", "")),
                                 rate=int(request.get("rate", 160)),
                                 volume=float(request.get("volume", 1.0)))
            engine.render(str(request["text"]), params, Path(request["path"]))
        except Exception as exc:  # the parent turns it into a SpeechError
            say({"error": str(exc) or type(exc).__name__})
        else:
            say({"ok": True})


if __name__ == "__main__":
    sys.exit(serve())
