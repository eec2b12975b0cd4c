"""Build the real app for a test (real settings, history and catalogue) on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.helpers.clock import FakeClock

from backcoach.app import AppParts, build_app


def build_test_app(qtbot, home: Path, *, size: tuple[int, int] = (1366, 768),
                   before_close: Callable[[object], None] | None = None,
                   **kwargs) -> AppParts:
    """The whole app on `home`, shown at `size`, its clock a FakeClock at `parts.clock`."""
    clock = FakeClock()
    parts = build_app(home, clock=clock, **kwargs)
    parts.clock = clock
    qtbot.addWidget(parts.window, before_close_func=before_close)
    parts.window.resize(*size)
    parts.window.show()
    return parts


def step(parts: AppParts, seconds: float, after_tick: Callable[[], None] | None = None) -> None:
    """Let `seconds` pass, ticking at least once a second as the real timer does."""
    while seconds > 0:
        dt = min(1.0, seconds)
        parts.clock.advance(dt)
        seconds -= dt
        if parts.window.driver is not None:
            parts.window.driver.tick()
        if after_tick is not None:
            after_tick()
