"""One BackCoach per user and home: a second launch raises the running window instead.

The first process takes a QLockFile in the config folder and watches a requests folder
next to it (`requests_dir`: one per OS user, so two users sharing a home never meet) with
a QFileSystemWatcher. A later process that finds the lock held leaves its request there as
a file of one line ("raise", or "start ROUTINE [LEVEL]"), written under a temporary name
and renamed into place, waits for the answer file the running one writes the same way
("ok" or "error ..."), deletes both and exits:

- status 0 and a message on stdout when the running window was raised (and the routine
  started, if one was asked for);
- status 2 when the running app refused the request (an unknown routine: the same
  message as `backcoach start` would give);
- status 3 and a message on stderr when another BackCoach holds the lock but does not
  answer (hung, or still starting after the wait); the request is deleted then, so a
  hung app that comes back does not act on it late.

Only QtCore and modules the app has loaded anyway are used: no QtNetwork, no socket.

Two launches at the same moment cannot both win: only one gets the lock. The other leaves
its request at once; the winner answers it when `set_handler` is called (requests that
come before are kept in the folder until then). A lock left by a crashed process is taken
over (QLockFile checks whether its process still runs), also by a launch that is already
waiting for an answer. Whatever a crash left in the requests folder is deleted when the
lock is taken, so an old "start" is never acted on; a waiting launch whose request was
swept away that way writes it again (it rewrites it whenever it is missing, and renames
it over itself every second in case a change notification was lost: the running app
answers each request name once). The running app does not poll: it wakes only when the
folder changes.

When the config folder cannot be written, the app runs without the one-instance check and
says so on stderr; a later launch that cannot leave its request says why and exits 3.
"""

from __future__ import annotations

import enum
import errno
import logging
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QLockFile, QObject, QTimer

log = logging.getLogger(__name__)

LOCK_FILE = "backcoach.lock"
REQUEST = ".request"
ANSWER = ".answer"
TEMP = ".tmp"
EXIT_RAISED = 0
EXIT_REFUSED = 2
EXIT_NOT_ANSWERING = 3

WAIT_S = 10.0  # how long a later launch waits for the running one to answer
POLL_S = 0.01  # how often it looks for the answer
LOCK_CHECK_S = 0.1  # how often it checks whether the lock holder died meanwhile
REANNOUNCE_S = 1.0  # how often it renames its request over itself (a lost notification)
FALLBACK_SCAN_MS = 1000  # only when the folder cannot be watched (a system limit)
MAX_REQUEST = 4096


class Claim(enum.Enum):
    """The outcome of `SingleInstance.claim`."""

    PRIMARY = "primary"  # we are the one instance: go on and build the window
    FORWARDED = "forwarded"  # the running instance took the request: exit 0
    REFUSED = "refused"  # the running instance answered with an error: exit 2
    NOT_ANSWERING = "not-answering"  # locked, but nobody answers: exit 3


def _user_key() -> str:
    """The OS user, as part of a file name: the uid on POSIX, the user name on Windows."""
    if hasattr(os, "getuid"):
        return str(os.getuid())
    name = os.environ.get("USERNAME") or os.environ.get("USER") or "user"
    return "".join(c for c in name if c.isalnum())[:32] or "user"


def requests_dir(config_dir: Path) -> Path:
    """The folder where later launches leave their requests, for this OS user and home."""
    return Path(config_dir).absolute() / f"backcoach-requests-{_user_key()}"


def _ours(entry: os.DirEntry) -> bool:
    """A file of this channel that this OS user may delete (never another user's file)."""
    if not entry.name.endswith((REQUEST, ANSWER, TEMP)):
        return False
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        return not hasattr(os, "getuid") or entry.stat(follow_symlinks=False).st_uid == os.getuid()
    except OSError:
        return False


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp name next to `path`, then rename it over `path`.

    No fsync: these files live for a moment, and a reader sees the old name or the whole
    new file, never a part of it.
    """
    tmp = path.with_name(f"{path.name}.{os.urandom(4).hex()}{TEMP}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o600)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> bool:
    """Delete a file if it is there; False when it could not be deleted (Windows: in use)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.debug("single instance: cannot delete %s: %s", path, exc)
        return False
    return True


def _read(path: Path) -> str | None:
    """A whole line written by `_write_atomically` by this OS user, or None (missing,
    unreadable, another user's)."""
    try:
        with open(path, "rb") as file:
            if hasattr(os, "getuid") and os.fstat(file.fileno()).st_uid != os.getuid():
                return None
            data = file.read(MAX_REQUEST + 1)
    except OSError:
        return None
    if not data.endswith(b"\n") or len(data) > MAX_REQUEST:
        return None
    return data.decode("utf-8", "replace").strip()


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class SingleInstance(QObject):
    """The lock and the watched requests folder of the running instance.

    Requests that arrive before `set_handler` are kept and handed over then. A handler
    returns None when it did what was asked, or a message saying why not.
    """

    def __init__(self, config_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config_dir = Path(config_dir)
        self.folder = requests_dir(self.config_dir)
        self.lock_path = self.config_dir / LOCK_FILE
        self.lock = QLockFile(str(self.lock_path))
        self.lock.setStaleLockTime(0)  # the app holds it for hours: only a dead PID is stale
        self.watcher: QFileSystemWatcher | None = None
        self.reply = ""  # the running app's error text (REFUSED), or why we could not ask
        self.problem = ""  # PRIMARY without the one-instance check: why (for stderr)
        self._handler: Callable[[str], str | None] | None = None
        self._answered: set[str] = set()  # request names answered (each is answered once)
        self._scanning = False
        self._rescan = False
        self._fallback: QTimer | None = None

    # -- the later process ---------------------------------------------------------
    def claim(self, request: str = "raise", wait: float = WAIT_S) -> Claim:
        """Become the one instance, or hand `request` to the one that runs."""
        try:
            self.config_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return self._unguarded(f"cannot create the folder {self.config_dir} "
                                   f"({_reason(exc)})")
        if self._try_lock():
            return Claim.PRIMARY
        if self.lock.error() != QLockFile.LockError.LockFailedError:  # not held: unwritable
            return self._unguarded(f"cannot create {self.lock_path} (the folder "
                                   f"{self.config_dir} is not writable)")
        return self._send(request, wait)

    def _try_lock(self) -> bool:
        """Take the lock if it is free (or stale) and start watching; True if we did."""
        if not self.lock.tryLock(0):
            return False
        self._watch()
        return True

    def _unguarded(self, why: str) -> Claim:
        # Printed by claim_instance (logging is not set up yet at this point).
        self.problem = (f"backcoach: {why}; starting without the one-instance check, so "
                        f"another launch will open another window.")
        return Claim.PRIMARY

    def _send(self, request: str, wait: float) -> Claim:
        name = f"{os.getpid()}-{os.urandom(4).hex()}"
        request_path = self.folder / (name + REQUEST)
        answer_path = self.folder / (name + ANSWER)
        text = request + "\n"
        now = time.monotonic()
        deadline = now + wait
        next_lock_check = now + LOCK_CHECK_S
        next_announce = now  # write it at once
        written = done = False
        try:
            while True:
                answer = _read(answer_path)
                if answer is not None:
                    done = True
                    return self._claim_from(answer)
                now = time.monotonic()
                if now >= next_announce or (written and not os.path.exists(request_path)):
                    try:
                        self._announce(request_path, text)
                    except FileNotFoundError:
                        pass  # the folder went away under us: again at the next look
                    except OSError as exc:
                        if not written:  # the folder is not usable: no point in waiting
                            self.reply = (f"Could not leave a request in {self.folder} "
                                          f"({_reason(exc)}).")
                            return Claim.NOT_ANSWERING
                        log.debug("single instance: rewriting %s: %s", request_path, exc)
                        next_announce = now + REANNOUNCE_S
                    else:
                        written = True
                        next_announce = now + REANNOUNCE_S
                if now >= next_lock_check:
                    next_lock_check = now + LOCK_CHECK_S
                    if self._try_lock():  # the holder died while we waited: our turn
                        return Claim.PRIMARY
                if now >= deadline:
                    return Claim.NOT_ANSWERING
                time.sleep(POLL_S)
        finally:
            if done:  # the answer first: a request without one is never a finished one
                _remove(answer_path)
            _remove(request_path)  # given up (or taken over): a late app must not act on it

    def _announce(self, request_path: Path, text: str) -> None:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._check_owner()
        _write_atomically(request_path, text)

    def _check_owner(self) -> None:
        """Refuse a requests folder that another OS user made (it could be read or fed)."""
        if not hasattr(os, "getuid"):
            return
        info = os.stat(self.folder, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(self.folder))
        if info.st_uid != os.getuid():
            raise PermissionError(errno.EACCES, "it belongs to another user", str(self.folder))

    def _claim_from(self, answer: str) -> Claim:
        if answer == "ok":
            return Claim.FORWARDED
        self.reply = answer.removeprefix("error").strip() or "the running BackCoach refused."
        return Claim.REFUSED

    # -- the running process -------------------------------------------------------
    def _watch(self) -> None:
        """Sweep what a crash left, then watch the requests folder (we hold the lock)."""
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            self._check_owner()
            self._sweep()
        except OSError as exc:
            self.problem = (f"backcoach: cannot use {self.folder} ({_reason(exc)}); a later "
                            f"launch cannot reach this window and will say so.")
            return
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._on_changed)
        self._add_watch()

    def _sweep(self) -> None:
        """Delete requests and answers left by crashed processes (only this user's)."""
        with os.scandir(self.folder) as entries:
            stale = [entry for entry in entries if _ours(entry)]
        for entry in stale:
            log.info("single instance: deleting the stale %s", entry.name)
            _remove(Path(entry.path))

    def _add_watch(self) -> None:
        assert self.watcher is not None
        if self.watcher.addPath(str(self.folder)):
            if self._fallback is not None:
                self._fallback.stop()
            return
        # A system limit on watches (inotify's max_user_watches): look every second instead,
        # only in this case, and go back to watching when the system lets us.
        if self._fallback is None:
            self._fallback = QTimer(self)
            self._fallback.setInterval(FALLBACK_SCAN_MS)
            self._fallback.timeout.connect(self._on_changed)
        if not self._fallback.isActive():
            log.warning("single instance: cannot watch %s; checking it every %d ms",
                        self.folder, FALLBACK_SCAN_MS)
            self._fallback.start()

    def _on_changed(self, _path: str = "") -> None:
        if self.watcher is None:
            return
        if not any(Path(d) == self.folder for d in self.watcher.directories()):  # deleted
            try:
                self.folder.mkdir(mode=0o700, exist_ok=True)
            except OSError as exc:
                log.warning("single instance: cannot re-create %s: %s", self.folder, exc)
                return
            self._add_watch()
        self._scan()

    def _scan(self) -> None:
        """Answer every request in the folder not answered yet (once a handler is set)."""
        if self._handler is None:
            return  # kept in the folder; set_handler answers them
        if self._scanning:  # a handler that runs an event loop: scan again afterwards
            self._rescan = True
            return
        self._scanning = True
        try:
            self._rescan = True
            while self._rescan:
                self._rescan = False
                self._scan_once()
        finally:
            self._scanning = False

    def _scan_once(self) -> None:
        try:
            with os.scandir(self.folder) as scan:
                entries = list(scan)
        except OSError:
            return
        present = {entry.name for entry in entries}
        requests = sorted(n[:-len(REQUEST)] for n in present if n.endswith(REQUEST))
        self._answered &= set(requests)
        for entry in entries:  # answers nobody waits for any more (the launch gave up)
            if entry.name.endswith(ANSWER) and \
                    entry.name[:-len(ANSWER)] + REQUEST not in present and _ours(entry):
                _remove(Path(entry.path))
        for name in requests:
            if name in self._answered or name + ANSWER in present:
                self._answered.add(name)
                continue
            line = _read(self.folder / (name + REQUEST))
            if line is None:
                continue  # gone meanwhile, or not readable
            self._answered.add(name)
            self._answer(name, line)

    def _answer(self, name: str, line: str) -> None:
        assert self._handler is not None
        try:
            problem = self._handler(line)
        except Exception as exc:  # a bad request must never take the running app down
            log.exception("single instance: request %r failed", line)
            problem = str(exc) or type(exc).__name__
        reply = "ok" if problem is None else "error " + problem.replace("\n", " ")
        if not os.path.exists(self.folder / (name + REQUEST)):
            return  # the launch gave up meanwhile
        try:
            _write_atomically(self.folder / (name + ANSWER), reply + "\n")
        except OSError as exc:
            log.warning("single instance: cannot answer %s: %s", name, exc)

    def set_handler(self, handler: Callable[[str], str | None]) -> None:
        """Handle requests from later launches (and any that came in meanwhile)."""
        self._handler = handler
        self._scan()

    def release(self) -> None:
        """Stop watching and unlock (at exit)."""
        if self._fallback is not None:
            self._fallback.stop()
            self._fallback = None
        if self.watcher is not None:
            self.watcher.directoryChanged.disconnect(self._on_changed)
            self.watcher.deleteLater()
            self.watcher = None
        self._handler = None
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
    text = (f"backcoach: another BackCoach holds {lock_path} but does not answer. If it is "
            f"stuck, end it; if none is running, delete that file and try again.")
    return f"{text} {reply}" if reply else text


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
        if instance.problem:
            print(instance.problem, file=sys.stderr)
        return instance
    text = message_for(claim, request, instance.reply, instance.lock_path)
    print(text, file=sys.stdout if claim is Claim.FORWARDED else sys.stderr)
    return exit_status(claim)


def window_request_handler(window) -> Callable[[str], str | None]:
    """What the running app does with a request: raise the window, maybe start a routine."""
    from PySide6 import QtCore
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from backcoach.catalog.model import Level

    def handle(line: str) -> str | None:
        verb, args = parse_request(line)
        if verb not in ("raise", "start"):
            return f"unknown request {verb!r}"
        Qt = QtCore.Qt  # at a request, not at start-up (see ui/qt_names)
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
