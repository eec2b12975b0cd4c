"""Write the fallback sounds into resources/sounds/ (pure Python: `wave` + `math`).

    python tools/make_sounds.py          # (re)write chime.wav and tick.wav
    python tools/make_sounds.py --check  # exit 1 if the files differ from what would be written

The synthesis lives in `backcoach.voice.chime`, so the app can also rebuild a missing file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from backcoach.voice.chime import SOUNDS, write_wav  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    folder = ROOT / "resources" / "sounds"
    folder.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, synth in SOUNDS.items():
        target = folder / f"{name}.wav"
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = Path(tmp) / target.name
                write_wav(fresh, synth())
                if not target.exists() or target.read_bytes() != fresh.read_bytes():
                    stale.append(target)
            continue
        write_wav(target, synth())
        print(f"wrote {target.relative_to(ROOT)}")
    for target in stale:
        print(f"out of date: {target.relative_to(ROOT)} (run tools/make_sounds.py)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
