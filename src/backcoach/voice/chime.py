"""The fallback sounds: a soft two-note chime and a short tick, made from sine waves.

When speech cannot work (no speech library, an engine that keeps hanging) the coach still
marks the time-critical moments with these, wherever audio works: the tick for each
countdown number, the chime for "switch", "rest", "halfway" and the like.

The shipped files (`resources/sounds/chime.wav`, `tick.wav`) are written by
`tools/make_sounds.py` with the functions below, in pure Python (`wave` + `math`), so they
can be regenerated and checked byte for byte. Volume is applied by writing a scaled copy
into the cache, because some playback paths (an `aplay` process) have no volume control.
"""

from __future__ import annotations

import array
import math
import os
import wave
from collections.abc import Callable
from pathlib import Path

SAMPLE_RATE = 22050
FULL_SCALE = 32767


def _note(freq: float, seconds: float, *, amplitude: float, decay: float,
          attack: float = 0.005) -> list[float]:
    """A sine note with a short linear attack and an exponential decay."""
    n = round(seconds * SAMPLE_RATE)
    out = []
    for i in range(n):
        t = i / SAMPLE_RATE
        envelope = min(1.0, t / attack) * math.exp(-t / decay)
        # A quiet octave partial makes it sound like a bell rather than a test tone.
        value = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
        out.append(amplitude * envelope * value / 1.25)
    # Fade the last 5 ms so the note never ends on a click.
    fade = min(n, round(0.005 * SAMPLE_RATE))
    for k in range(fade):
        out[n - 1 - k] *= k / fade
    return out


def chime_samples() -> list[int]:
    """Two notes, E5 then A5, overlapping: about 0.6 s."""
    first = _note(659.25, 0.6, amplitude=0.55, decay=0.18)
    second = _note(880.0, 0.45, amplitude=0.55, decay=0.16)
    offset = round(0.15 * SAMPLE_RATE)
    mixed = first[:]
    for i, value in enumerate(second):
        mixed[offset + i] += value
    return [max(-FULL_SCALE, min(FULL_SCALE, round(v * FULL_SCALE))) for v in mixed]


def tick_samples() -> list[int]:
    """A short, bright tick for countdown numbers: about 0.08 s."""
    return [round(v * FULL_SCALE) for v in _note(1318.5, 0.08, amplitude=0.5, decay=0.03)]


SOUNDS: dict[str, Callable[[], list[int]]] = {"chime": chime_samples, "tick": tick_samples}


def write_wav(path: Path, samples: list[int] | array.array, rate: int = SAMPLE_RATE) -> None:
    """Write 16-bit mono PCM, atomically (a temp file renamed into place)."""
    path = Path(path)
    data = array.array("h", samples)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    os.replace(tmp, path)


def bundled_sound(name: str) -> Path:
    """The shipped WAV for `name` ("chime" or "tick")."""
    from backcoach.resources import resources_dir

    return resources_dir() / "sounds" / f"{name}.wav"


def sound_at_volume(name: str, volume: float, folder: Path) -> Path:
    """A copy of the sound scaled to `volume` (0..1) in `folder`, made once and reused.

    Falls back to synthesising the sound if the bundled file is missing.
    """
    if name not in SOUNDS:
        raise ValueError(f"unknown sound {name!r}")
    level = max(0, min(100, round(volume * 100)))
    target = Path(folder) / f"{name}-v{level}.wav"
    if target.exists():
        return target
    source = bundled_sound(name)
    try:
        with wave.open(str(source), "rb") as wav:
            samples = array.array("h", wav.readframes(wav.getnframes()))
            rate = wav.getframerate()
    except (OSError, wave.Error, EOFError):
        samples, rate = array.array("h", SOUNDS[name]()), SAMPLE_RATE
    scaled = array.array("h", (round(s * level / 100) for s in samples))
    Path(folder).mkdir(parents=True, exist_ok=True)
    write_wav(target, scaled, rate)
    return target
