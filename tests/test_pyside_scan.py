"""PySide6's per-module source scan is spared for the standard library, with the same answers."""

from __future__ import annotations

import json
import subprocess
import sys

# A fresh process: PySide6 loaded after some of the standard library and backcoach.app,
# as at start-up.
PROBE = """
import json, sys, typing, logging, datetime, pathlib
from backcoach.app import spare_pyside_the_standard_library
import PySide6.QtCore
import shibokensupport.feature as feature
from shibokensupport.feature import pyside_feature_dict  # (PySide notes this import itself)
before = dict(feature.pyside_feature_dict)
spare_pyside_the_standard_library()
marked = sorted(set(feature.pyside_feature_dict) - set(before))
agrees = {name: feature._mod_uses_pyside(sys.modules[name]) for name in marked
          if getattr(sys.modules[name], "__file__", None)}
print(json.dumps({"marked": marked, "uses_pyside": agrees,
                  "values": sorted({feature.pyside_feature_dict[n] for n in marked})}))
"""


def _probe() -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_standard_library_modules_are_marked_as_not_using_pyside() -> None:
    """typing, logging, datetime, pathlib and built-ins are recorded as non-PySide; no app module is."""
    got = _probe()
    for name in ("typing", "logging", "datetime", "pathlib", "sys"):
        assert name in got["marked"]
    assert got["values"] == [-1]
    assert not [name for name in got["marked"]
                if name.startswith(("backcoach", "PySide6", "shiboken", "platformdirs"))]


def test_pyside_would_have_given_the_same_answer_for_each_module_marked() -> None:
    """PySide's own source check says 'no PySide' for every module the shortcut marked."""
    got = _probe()
    assert len(got["uses_pyside"]) > 20  # the check ran on the marked modules with sources
    assert [name for name, uses in got["uses_pyside"].items() if uses] == []
