"""Rendered phrases as WAV files in the user's cache folder, keyed by voice, rate, volume and text.

A phrase is rendered once (about 10-20 ms with espeak-ng) and then reused by every later
session, so a session usually starts with every phrase already on disk. Leading and
trailing silence is trimmed when a phrase is stored: the coach times phrases by their
audible length, so "3" really lasts 0.35 s, not 0.69 s, and starts when it is played.

No Qt here: the speech worker thread and the command line use this module directly.
"""

from __future__ import annotations

import array
import math
import os
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

try:  # CPython's own SHA-256: hashlib's would load OpenSSL (3.7 MB resident) for a file name
    from _sha2 import sha256  # Python 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:  # another Python: the same function, through OpenSSL
        from hashlib import sha256

CACHE_FORMAT = 2  # bump when the stored audio changes (trimming, sample format)
SILENCE_THRESHOLD = 330  # about 1% of full scale, in 16-bit sample units
LEAD_KEPT = 0.010  # seconds of silence kept before the first sound
TAIL_KEPT = 0.040  # and after the last, so the end of a word is never clipped


@dataclass(frozen=True)
class VoiceParams:
    """What, besides the text, changes the audio: the cache key and the engine's settings."""

    voice_id: str = ""  # "" = the engine's default voice
    rate: int = 160  # words per minute
    volume: float = 1.0  # 0..1

    @classmethod
    def from_settings(cls, settings: object) -> VoiceParams:
        """The audio-shaping part of a VoiceSettings (voice_id, rate, volume)."""
        return cls(voice_id=str(getattr(settings, "voice_id", "")),
                   rate=int(getattr(settings, "rate", 160)),
                   volume=round(float(getattr(settings, "volume", 1.0)), 2))

    def key(self, text: str, engine: str = "pyttsx3") -> str:
        """A short stable hash naming the phrase's file."""
        raw = f"{CACHE_FORMAT}|{engine}|{sys.platform}|{self.voice_id}|{self.rate}|" \
              f"{self.volume:.2f}|{text}"
        return sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Sound:
    """A playable WAV and its audible length: all the coach needs to time it."""

    text: str
    path: Path
    duration: float  # seconds


@dataclass(frozen=True)
class WavStats:
    """Facts about a WAV file (16-bit PCM), for checks and the doctor."""

    duration: float
    rms: float  # root mean square, as a fraction of full scale (0..1)
    peak: float  # as a fraction of full scale
    rate: int
    channels: int


def read_samples(path: Path) -> tuple[array.array, int, int]:
    """The 16-bit samples (interleaved), the sample rate and the channel count."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise wave.Error(f"{path} is not 16-bit PCM")
        frames = wav.readframes(wav.getnframes())
        rate, channels = wav.getframerate(), wav.getnchannels()
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples, rate, channels


def wav_duration(path: Path) -> float:
    """Seconds of audio in a WAV file (from its header)."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate() or 1)


def wav_stats(path: Path) -> WavStats:
    """Duration, loudness and peak of a WAV file."""
    samples, rate, channels = read_samples(path)
    n = len(samples)
    rms = math.sqrt(sum(s * s for s in samples) / n) / 32768 if n else 0.0
    peak = max((abs(s) for s in samples), default=0) / 32768
    return WavStats(duration=n / channels / rate if rate else 0.0, rms=rms, peak=peak,
                    rate=rate, channels=channels)


def _first_loud(samples: array.array, step: int = 256) -> int | None:
    """Index of the first sample louder than the threshold (chunked: max/min run in C)."""
    for start in range(0, len(samples), step):
        chunk = samples[start:start + step]
        if max(chunk) > SILENCE_THRESHOLD or min(chunk) < -SILENCE_THRESHOLD:
            for i, s in enumerate(chunk):
                if abs(s) > SILENCE_THRESHOLD:
                    return start + i
    return None


def _last_loud(samples: array.array, step: int = 256) -> int | None:
    for end in range(len(samples), 0, -step):
        start = max(0, end - step)
        chunk = samples[start:end]
        if max(chunk) > SILENCE_THRESHOLD or min(chunk) < -SILENCE_THRESHOLD:
            for i in range(len(chunk) - 1, -1, -1):
                if abs(chunk[i]) > SILENCE_THRESHOLD:
                    return start + i
    return None


def trim_silence(source: Path, target: Path) -> float:
    """Copy a WAV without its leading and trailing silence; returns the new duration.

    A file that is silent throughout is copied as it is (the caller decides what that means).
    """
    samples, rate, channels = read_samples(source)
    first, last = _first_loud(samples), _last_loud(samples)
    if first is not None and last is not None:
        lo = max(0, first - round(LEAD_KEPT * rate) * channels)
        hi = min(len(samples), last + 1 + round(TAIL_KEPT * rate) * channels)
        lo -= lo % channels
        hi -= hi % channels
        samples = samples[lo:hi]
    if sys.byteorder == "big":
        samples.byteswap()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    os.replace(tmp, target)
    return len(samples) / channels / rate


class PhraseCache:
    """A folder of rendered phrases; safe to share between threads and processes.

    Files are written under a temporary name and renamed into place, so a reader never
    sees half a file, and two renders of the same phrase simply race to the same result.
    """

    def __init__(self, folder: Path, engine: str = "pyttsx3") -> None:
        self.folder = Path(folder)
        self.engine = engine

    def path_for(self, params: VoiceParams, text: str) -> Path:
        """Where the phrase lives (whether or not it has been rendered)."""
        return self.folder / f"{params.key(text, self.engine)}.wav"

    def load(self, params: VoiceParams, text: str) -> Sound | None:
        """The cached phrase, or None if it is missing or unreadable."""
        path = self.path_for(params, text)
        try:
            duration = wav_duration(path)
        except (OSError, wave.Error, EOFError):
            return None
        return Sound(text, path, duration) if duration > 0 else None

    def scratch_path(self, params: VoiceParams, text: str) -> Path:
        """A private file name for the engine to render into before trimming."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f".render-{params.key(text, self.engine)}-{os.getpid()}.wav"

    def store(self, params: VoiceParams, text: str, rendered: Path) -> Sound:
        """Trim a freshly rendered WAV into the cache and remove the scratch file."""
        target = self.path_for(params, text)
        try:
            duration = trim_silence(rendered, target)
        finally:
            rendered.unlink(missing_ok=True)
        return Sound(text, target, duration)
