"""BackCoach: a desktop coach for lower-back routines for runners."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`backcoach.__version__`, read from the package metadata (its one source) on first use.

    Lazy because importlib.metadata costs tens of milliseconds of start-up that the home
    screen does not need.
    """
    if name != "__version__":
        raise AttributeError(f"module 'backcoach' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("backcoach")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
