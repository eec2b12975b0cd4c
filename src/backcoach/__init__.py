"""BackCoach: a desktop coach for lower-back routines for runners."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("backcoach")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
