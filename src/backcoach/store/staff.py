"""The shared gym PC's staff side (no Qt): the staff PIN and the kiosk configuration.

The PIN is never stored: `staff.json` in the config folder holds a salted scrypt hash of
it (random 16-byte salt, n=2**14, r=8, p=1, the parameters saved beside the hash so they
can be raised later), the count of wrong tries and, after five wrong tries in a row, the
wall-clock time until which PIN entry stays locked (60 s). Because the lock is in the file,
restarting the app does not reset it. Time comes from an injected clock so tests never
wait. Nothing here logs a PIN or hands it to an exception.

Resetting a forgotten PIN is an administrator's job: delete `staff.json` as the OS user
(or an admin), restart BackCoach and set a new PIN at the prompt.

`kiosk.json`, beside it, is the staff's configuration of the kiosk: on or off, which
routines the home shows and in what order, the featured routine, the volume cap and the
idle times. Both files are written atomically; an unreadable one is moved aside as `.bak`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from backcoach.store.atomic import (
    StorageError,
    atomic_write_text,
    move_aside,
    read_json_file,
    storage_error,
)

log = logging.getLogger(__name__)

STAFF_FILE = "staff.json"
KIOSK_FILE = "kiosk.json"
VERSION = 1

MIN_PIN_DIGITS = 4
MAX_PIN_DIGITS = 12
MAX_TRIES = 5
LOCK_SECONDS = 60.0

SCRYPT_N = 2 ** 14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
_MAXMEM = 64 * 1024 * 1024


def pin_problem(pin: str) -> str | None:
    """Why `pin` cannot be a staff PIN, or None if it can."""
    if not pin.isascii() or not pin.isdigit():
        return "A PIN is made of digits only."
    if not MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS:
        return f"A PIN has {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits."
    if len(set(pin)) == 1:
        return "Choose a PIN that is not one digit repeated."
    return None


def hash_pin(pin: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R,
             p: int = SCRYPT_P) -> bytes:
    """The scrypt hash of `pin` with `salt`."""
    import hashlib  # here, not at the top: it loads OpenSSL (4 MB) that only the PIN needs

    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                          dklen=HASH_BYTES)


@dataclass(frozen=True)
class PinCheck:
    """The answer to a PIN entry.

    `ok`: the PIN was right. `locked_for`: seconds until PIN entry opens again (0 when
    open). `tries_left`: wrong tries left before the lock.
    """

    ok: bool
    locked_for: float = 0.0
    tries_left: int = MAX_TRIES


class StaffStore:
    """The staff PIN file. Re-read on every call, so a deleted file or a lock set by an
    earlier run is always seen."""

    def __init__(self, config_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(config_dir) / STAFF_FILE
        self.clock = clock
        self.problem: str | None = None

    # ------------------------------------------------------------ file

    def _read(self) -> dict[str, Any]:
        data, damage = read_json_file(self.path, _checked_record)
        if damage is not None:
            self.problem = (f"The staff PIN file {self.path} was damaged "
                            f"({type(damage.error).__name__}); it was moved to {damage.backup}. "
                            f"Set a new staff PIN.")
            log.warning("staff PIN file damaged; moved to %s", damage.backup)
        return data or {}

    def _write(self, data: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error("save", self.path, exc) from exc
        atomic_write_text(self.path, json.dumps(data, indent=2) + "\n")
        try:
            os.chmod(self.path, 0o600)  # only the kiosk's OS user reads the hash
        except OSError as exc:
            log.debug("could not restrict %s: %s", self.path, exc)

    # ------------------------------------------------------------ PIN

    def has_pin(self) -> bool:
        """Whether a staff PIN is set."""
        return "scrypt" in self._read()

    def set_pin(self, pin: str) -> None:
        """Store a new PIN (as a salted hash) and clear any lock; raises ValueError or
        StorageError."""
        why = pin_problem(pin)
        if why:
            raise ValueError(why)
        salt = os.urandom(SALT_BYTES)  # what secrets.token_bytes does, without loading hashlib
        digest = hash_pin(pin, salt)
        self._write({"version": VERSION,
                     "scrypt": {"n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                "salt": _b64(salt), "hash": _b64(digest)},
                     "failures": 0, "locked_until": 0.0})
        log.info("staff PIN set")

    def locked_for(self) -> float:
        """Seconds until PIN entry opens again (0 when it is open)."""
        return self._locked_for(self._read(), self.clock())

    def _locked_for(self, data: dict[str, Any], now: float) -> float:
        until = float(data.get("locked_until", 0.0))
        # A clock set back must not stretch the lock: it never lasts more than LOCK_SECONDS.
        return max(0.0, min(until - now, LOCK_SECONDS))

    def tries_left(self) -> int:
        """Wrong tries left before PIN entry locks."""
        return max(0, MAX_TRIES - int(self._read().get("failures", 0)))

    def verify(self, pin: str) -> PinCheck:
        """Check a PIN; counts wrong tries and locks entry after MAX_TRIES of them.

        While locked, nothing is checked and the try does not count. With no PIN set the
        answer is always no.
        """
        data = self._read()
        now = self.clock()
        locked = self._locked_for(data, now)
        if locked > 0:
            return PinCheck(False, locked_for=locked, tries_left=0)
        record = data.get("scrypt")
        if record is None:
            return PinCheck(False)
        expected = base64.b64decode(record["hash"])
        actual = hash_pin(pin, base64.b64decode(record["salt"]), int(record["n"]),
                          int(record["r"]), int(record["p"]))
        import hmac

        if hmac.compare_digest(expected, actual):
            if data.get("failures") or data.get("locked_until"):
                self._write({**data, "failures": 0, "locked_until": 0.0})
            return PinCheck(True)
        failures = int(data.get("failures", 0)) + 1
        if failures >= MAX_TRIES:
            self._write({**data, "failures": 0, "locked_until": now + LOCK_SECONDS})
            log.warning("staff PIN: %d wrong tries, entry locked for %.0f s", MAX_TRIES,
                        LOCK_SECONDS)
            return PinCheck(False, locked_for=LOCK_SECONDS, tries_left=0)
        self._write({**data, "failures": failures})
        log.info("staff PIN: wrong try %d of %d", failures, MAX_TRIES)
        return PinCheck(False, tries_left=MAX_TRIES - failures)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _checked_record(data: Any) -> dict[str, Any]:
    """`data` if it is a well-formed staff record; raises otherwise."""
    _check_record(data)
    return data


def _check_record(data: Any) -> None:
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise ValueError("not a staff file")
    record = data.get("scrypt")
    if record is not None:
        for key in ("n", "r", "p"):
            if not isinstance(record[key], int) or record[key] < 1:
                raise ValueError(f"bad scrypt {key}")
        base64.b64decode(record["salt"], validate=True)
        base64.b64decode(record["hash"], validate=True)
    float(data.get("locked_until", 0.0))
    int(data.get("failures", 0))


# ---------------------------------------------------------------- kiosk configuration

# (lowest, highest) for the numbers in KioskConfig.
LIMITS: dict[str, tuple[float, float]] = {
    "volume_cap": (0.0, 1.0),
    "after_summary_seconds": (10, 3600),
    "paused_seconds": (30, 7200),
    "running_margin_seconds": (10, 3600),
}


@dataclass(frozen=True)
class KioskConfig:
    """What the staff set up for the kiosk.

    `routines`: the ids the kiosk home shows, in order (empty: all). `featured`: the routine
    selected for each new member. `volume_cap`: the voice never plays louder (0..1).
    Idle times: back home this long after the summary, after a pause, and after a running
    session should have ended.
    """

    enabled: bool = False
    routines: tuple[str, ...] = ()
    featured: str = ""
    volume_cap: float = 0.8
    after_summary_seconds: int = 120
    paused_seconds: int = 600
    running_margin_seconds: int = 60


def config_from_dict(data: Any) -> tuple[KioskConfig, list[str]]:
    """A KioskConfig from JSON data; bad values fall back to defaults (listed in notes)."""
    notes: list[str] = []
    if not isinstance(data, dict):
        return KioskConfig(), ["the file does not hold a table"]
    defaults = KioskConfig()
    values: dict[str, Any] = {}
    for f in fields(KioskConfig):
        if f.name not in data:
            continue
        raw, default = data[f.name], getattr(defaults, f.name)
        if isinstance(default, bool):
            ok = isinstance(raw, bool)
        elif isinstance(default, tuple):
            ok = isinstance(raw, list) and all(isinstance(x, str) for x in raw)
            raw = tuple(raw) if ok else raw
        elif isinstance(default, str):
            ok = isinstance(raw, str) and len(raw) <= 200
        else:
            lo, hi = LIMITS[f.name]
            ok = isinstance(raw, int | float) and not isinstance(raw, bool) and lo <= raw <= hi
            if ok:
                raw = type(default)(raw)
        if ok:
            values[f.name] = raw
        else:
            notes.append(f"{f.name} was not valid, so the default is used")
    return KioskConfig(**values), notes


def load_kiosk_config(config_dir: Path) -> tuple[KioskConfig, str | None]:
    """The kiosk configuration and a message if something was wrong with the file."""
    path = Path(config_dir) / KIOSK_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return KioskConfig(), None
    except OSError as exc:
        return KioskConfig(), f"Could not read the kiosk settings {path} ({exc.strerror or exc})."
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        try:
            backup = move_aside(path)
        except StorageError as move_exc:
            return KioskConfig(), f"The kiosk settings {path} are damaged ({move_exc})."
        return KioskConfig(), (f"The kiosk settings {path} were damaged ({exc}); they were "
                               f"moved to {backup} and the defaults are used.")
    config, notes = config_from_dict(data)
    problem = f"Kiosk settings {path}: " + "; ".join(notes) + "." if notes else None
    return config, problem


def save_kiosk_config(config_dir: Path, config: KioskConfig) -> None:
    """Write the kiosk configuration atomically; raises StorageError."""
    path = Path(config_dir) / KIOSK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error("save", path, exc) from exc
    data = {"version": VERSION, **asdict(config)}
    data["routines"] = list(config.routines)
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
