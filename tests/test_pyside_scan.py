"""PySide6's per-module source scan is spared for the standard library and our modules, safely."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

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
          if getattr(sys.modules.get(name), "__file__", None)}
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


OURS_PROBE = """
import json, sys
import PySide6.QtCore
import shibokensupport.feature as feature
from backcoach.app import spare_pyside_our_modules
before = dict(feature.pyside_feature_dict)
spare_pyside_our_modules()
marked = {n: v for n, v in feature.pyside_feature_dict.items()
          if n not in before and n.startswith("backcoach")}
import backcoach.ui.main_window, backcoach.ui.home, backcoach.session.plan
scanned = {n: feature._mod_uses_pyside(sys.modules[n])
           for n in ("backcoach.ui.main_window", "backcoach.ui.home", "backcoach.session.plan")}
print(json.dumps({"marked": marked, "scanned": scanned, "known_before": sorted(before),
                  "after_import": {n: feature.pyside_feature_dict[n] for n in scanned}}))
"""


def test_our_modules_are_marked_as_pyside_with_default_features() -> None:
    """Every backcoach module is recorded as 0 (PySide, no features) before import, and stays so."""
    out = subprocess.run([sys.executable, "-c", OURS_PROBE], capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    package = Path(__file__).resolve().parents[1] / "src" / "backcoach"
    expected = {"backcoach." + ".".join(p.relative_to(package).with_suffix("").parts)
                for p in package.rglob("*.py")}
    expected = {n.removesuffix(".__init__") for n in expected} - set(got["known_before"])
    assert len(expected) > 50 and set(got["marked"]) == expected
    assert set(got["marked"].values()) == {0}
    # PySide's own scan agrees for modules that use it; its -1 for a Qt-free one only means
    # "ignore", which selects the same default features (the test below).
    assert got["scanned"] == {"backcoach.ui.main_window": True, "backcoach.ui.home": True,
                              "backcoach.session.plan": False}
    assert set(got["after_import"].values()) == {0}


def test_no_module_of_ours_switches_a_pyside_feature() -> None:
    """None of our sources imports __feature__, the premise of marking them all as default."""
    package = Path(__file__).resolve().parents[1] / "src" / "backcoach"
    users = [p.name for p in package.rglob("*.py")
             if re.search(r"^\s*(from|import)\s+__feature__", p.read_text(), re.MULTILINE)]
    assert users == []


LATER_PROBE = """
import json, sys
import PySide6.QtCore
import shibokensupport.feature as feature
from backcoach.app import spare_pyside_the_standard_library
assert "wave" not in sys.modules and "wave" not in feature.pyside_feature_dict
spare_pyside_the_standard_library()
import wave, queue
print(json.dumps({"marked": {n: feature.pyside_feature_dict[n] for n in ("wave", "queue")},
                  "pyside_says": {n: feature._mod_uses_pyside(sys.modules[n])
                                  for n in ("wave", "queue")}}))
"""


def test_standard_library_modules_loaded_later_are_marked_too() -> None:
    """wave and queue, loaded by a session after the marking, are recorded as -1, PySide's answer."""
    out = subprocess.run([sys.executable, "-c", LATER_PROBE], capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"marked": {"wave": -1, "queue": -1},
                   "pyside_says": {"wave": False, "queue": False}}
