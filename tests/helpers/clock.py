"""A fake monotonic clock for tests: time moves only when the test says so."""

from __future__ import annotations


class FakeClock:
    """A callable clock in float seconds; steps that are multiples of 1/1024 add up exactly."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        self.now += float(seconds)
