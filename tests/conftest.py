"""Shared fixtures: every test runs with its own BackCoach home, never the real one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                   ) -> Path:
    """Point BACKCOACH_HOME at a fresh folder so no test touches the user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("BACKCOACH_HOME", str(home))
    return home


@pytest.fixture
def home(_isolated_home: Path) -> Path:
    """The BACKCOACH_HOME folder of the current test."""
    return _isolated_home
