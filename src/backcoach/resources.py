"""Where the bundled resources live, whether installed, run from source or frozen.

One function answers it so that catalogue, illustrations and sounds never guess paths.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    """Return the folder holding exercises/, routines/, illustrations/ and sounds/."""
    candidates: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "backcoach" / "resources")
    here = Path(__file__).resolve().parent
    candidates.append(here / "resources")  # inside an installed wheel
    candidates.append(here.parent.parent / "resources")  # source tree or editable install
    for candidate in candidates:
        if (candidate / "exercises").is_dir():
            return candidate
    raise FileNotFoundError(
        "BackCoach cannot find its resources folder (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "). Reinstall the app."
    )
