"""One BackCoach per user and home: a second launch raises the running window instead.

The first process takes a QLockFile in the config folder and listens on a QLocalServer
whose name is made from the OS user and the config folder (so two users, or a test's own
home, never meet). A later process finds the server, sends one line ("raise", or
"start ROUTINE [LEVEL]"), waits for the answer and exits:

- status 0 and a message on stdout when the running window was raised (and the routine
  started, if one was asked for);
- status 2 when the running app refused the request (an unknown routine: the same
  message as `backcoach start` would give);
- status 3 and a message on stderr when another BackCoach holds the lock but does not
  answer (hung, or still starting after the wait).

Two launches at the same moment cannot both win: only one gets the lock, and the other
keeps trying to reach its server until it is listening. A lock left by a crashed process
is taken over (QLockFile checks whether its process still runs).
"""

from __future__ import annotations

import enum
import getpass
import logging
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

LOCK_FILE = "backcoach.lock"
EXIT_RAISED = 0
EXIT_REFUSED = 2
EXIT_NOT_ANSWERING = 3


class Claim(enum.Enum):
    """The outcome of `SingleInstance.claim`."""

    PRIMARY = "primary"  # we are the one instance: go on and build the window
    FORWARDED = "forwarded"  # the running instance took the request: exit 0
    REFUSED = "refused"  # the running instance answered with an error: exit 2
    NOT_ANSWERING = "not-answering"  # locked, but nobody answers: exit 3


def server_name(config_dir: Path) -> str:
    """The local server name for this OS user and BackCoach home."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or passwd
        user = "user"
    folder = str(Path(config_dir).absolute()).encode("utf-8")
    # Two checksums, not hashlib: importing hashlib loads OpenSSL (4 MB) for a name.
    digest = f"{zlib.crc32(folder):08x}{zlib.adler32(folder):08x}"
    safe_user = "".join(c for c in user if c.isalnum())[:32] or "user"
    return f"backcoach-{safe_user}-{digest}"


class SingleInstance(QObject):
    """The lock and the local server of the running instance.

    Requests that arrive before `set_handler` are kept and handed over then. A handler
    returns None when it did what was asked, or a message saying why not.
    """

    def __init__(self, config_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config_dir = Path(config_dir)
        self.name = server_name(self.config_dir)
        self.lock_path = self.config_dir / LOCK_FILE
        self.lock = QLockFile(str(self.lock_path))
        self.lock.setStaleLockTime(0)  # the app holds it for hours: only a dead PID is stale
        self.server: QLocalServer | None = None
        self.reply = ""
        self._pending: list[tuple[str, QLocalSocket]] = []
        self._handler: Callable[[str], str | None] | None = None

    # -- the second process ----------------------------------------------------------
    def claim(self, request: str = "raise", wait: float = 8.0) -> Claim:
        """Become the one instance, or hand `request` to the one that runs."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        while True:
            sent = self._send(request)
            if sent is not None:
                return sent
            if self.lock.tryLock(0):
                self._listen()
                return Claim.PRIMARY
            if time.monotonic() > deadline:
                return Claim.NOT_ANSWERING
            time.sleep(0.05)

    def _send(self, request: str) -> Claim | None:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(300):
            return None
        socket.write((request + "\n").encode("utf-8"))
        socket.flush()
        socket.waitForBytesWritten(1000)
        answer = b""
        deadline = time.monotonic() + 10.0
        while b"\n" not in answer and time.monotonic() < deadline:
            if not socket.waitForReadyRead(200) and \
                    socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                break
            answer += bytes(socket.readAll().data())
        socket.abort()
        text = answer.decode("utf-8", "replace").strip()
        if not text:
            self.reply = "BackCoach is running but did not answer."
            return Claim.NOT_ANSWERING
        if text == "ok":
            return Claim.FORWARDED
        self.reply = text.removeprefix("error ").strip()
        return Claim.REFUSED

    # -- the running process ---------------------------------------------------------
    def _listen(self) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.name)  # a socket file left by a crash; we own the lock
        if not server.listen(self.name):
            log.warning("single instance: cannot listen on %s: %s", self.name,
                        server.errorString())
            return
        server.newConnection.connect(self._on_connection)
        self.server = server

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._on_ready(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._on_ready(socket)

    def _on_ready(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
        if self._handler is None:
            self._pending.append((line, socket))
        else:
            self._answer(line, socket)

    def _answer(self, line: str, socket: QLocalSocket) -> None:
        assert self._handler is not None
        try:
            problem = self._handler(line)
        except Exception as exc:  # a bad request must never take the running app down
            log.exception("single instance: request %r failed", line)
            problem = str(exc) or type(exc).__name__
        reply = "ok" if problem is None else "error " + problem.replace("\n", " ")
        if socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
            socket.write((reply + "\n").encode("utf-8"))
            socket.flush()
            socket.disconnectFromServer()

    def set_handler(self, handler: Callable[[str], str | None]) -> None:
        """Handle requests from later launches (and any that came in meanwhile)."""
        self._handler = handler
        pending, self._pending = self._pending, []
        for line, socket in pending:
            self._answer(line, socket)

    def release(self) -> None:
        """Stop listening and unlock (at exit)."""
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()


def parse_request(line: str) -> tuple[str, list[str]]:
    """("raise", []) or ("start", [routine, level?]) from a request line."""
    words = line.split()
    if not words:
        return "", []
    return words[0], words[1:]


def message_for(claim: Claim, request: str, reply: str, lock_path: Path) -> str:
    """What the second process prints."""
    verb, args = parse_request(request)
    if claim is Claim.FORWARDED:
        if verb == "start" and args:
            return f"BackCoach is already running: it was brought to the front to start {args[0]}."
        return "BackCoach is already running: its window was brought to the front."
    if claim is Claim.REFUSED:
        return f"backcoach: {reply}"
    return (f"backcoach: another BackCoach holds {lock_path} but does not answer. If it is "
            f"stuck, end it; if none is running, delete that file and try again.")


def exit_status(claim: Claim) -> int:
    """The exit status of the second process."""
    return {Claim.FORWARDED: EXIT_RAISED, Claim.REFUSED: EXIT_REFUSED,
            Claim.NOT_ANSWERING: EXIT_NOT_ANSWERING}.get(claim, 0)


def request_for(args) -> str:
    """The request line a launch with these command-line arguments sends."""
    routine = getattr(args, "routine", None)
    if not routine:
        return "raise"
    level = getattr(args, "level", None)
    return " ".join(["start", routine, *([level] if level else [])])


def claim_instance(config_dir: Path, args) -> SingleInstance | int:
    """The SingleInstance if this process is the one to run, else the exit status after
    the running one took the request (the message is printed here)."""
    instance = SingleInstance(config_dir)
    request = request_for(args)
    claim = instance.claim(request)
    if claim is Claim.PRIMARY:
        return instance
    text = message_for(claim, request, instance.reply, instance.lock_path)
    print(text, file=sys.stdout if claim is Claim.FORWARDED else sys.stderr)
    return exit_status(claim)


def window_request_handler(window) -> Callable[[str], str | None]:
    """What the running app does with a request: raise the window, maybe start a routine."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from backcoach.catalog.model import Level

    def handle(line: str) -> str | None:
        verb, args = parse_request(line)
        if verb not in ("raise", "start"):
            return f"unknown request {verb!r}"
        state = window.windowState() & ~Qt.WindowState.WindowMinimized
        window.setWindowState(state | Qt.WindowState.WindowActive)
        window.show()
        window.raise_()
        window.activateWindow()
        if verb == "raise":
            return None
        if not args:
            return "start needs a routine id"
        routine_id = args[0]
        routines = window.catalog.routines
        if routine_id not in routines:
            return (f"unknown routine {routine_id!r}; known routines: "
                    + ", ".join(sorted(routines)))
        try:
            level = Level(args[1]) if len(args) > 1 else routines[routine_id].default_level
        except ValueError:
            return (f"unknown level {args[1]!r}; known levels: "
                    + ", ".join(lv.value for lv in Level))
        if QApplication.activeModalWidget() is not None:
            return "BackCoach is showing a dialog: answer it first, then start the routine."
        # After the answer is sent, so the second process is not kept waiting.
        QTimer.singleShot(0, lambda: window.start_routine(routine_id, level))
        return None

    return handle
