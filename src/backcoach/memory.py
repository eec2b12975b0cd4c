"""Keep BackCoach's resident memory down once a session is over (glibc on Linux).

glibc keeps the heap that a session used (illustration frames, the summary page, speech
buffers) for reuse, so a window left open on the summary or home screen for hours would
keep it resident. malloc_trim returns the free part; measured on a whole session, about
7 MB of 112 MB.

glibc also gives each thread that allocates while the others' arenas are busy an arena of
its own (up to 8 per core), and an arena keeps some of its pages for good. The voice's
threads (speech worker, watchdog, QtMultimedia's sample loaders and audio) are few and
rarely busy together, so they share: `limit_malloc_arenas`, called when the voice loads.
Measured after a whole session with aplay playback, same sitting, 5 runs each: 86.6 MB
against 87.2 MB (every limited run below every unlimited one); with QtMultimedia the
difference is within the noise (104.9 against 105.0 MB). Elsewhere (other C libraries,
Windows, macOS) both do nothing.
"""

from __future__ import annotations

import sys
from functools import cache

M_ARENA_MAX = -8  # mallopt's parameter numbers, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 128 * 1024  # glibc's starting value


@cache
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only once the voice loads or a session is over: start-up does not need it

    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, libc's among them
        trim, mallopt = libc.malloc_trim, libc.mallopt
    except (OSError, AttributeError):  # musl and others have neither
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return libc


def release_free_memory() -> bool:
    """Return free heap memory to the system; True if the C library could be asked."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def fix_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Keep glibc's mmap threshold where it starts; True if glibc took it.

    glibc raises the threshold each time a block above it is freed (up to 32 MB), so after
    the first phrase's sound buffer or picture is freed, later ones of that size come from
    the heap, where what is freed in between pins them in place. Fixed, every block above
    128 kB is a mapping of its own, returned whole when freed. Measured with the QPixmapCache
    clear that now follows a session: 81.1 -> 80.7 MB after a session, 2 alternating runs."""
    libc = _libc()
    return libc is not None and libc.mallopt(M_MMAP_THRESHOLD, size) == 1


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let threads created from now on share the malloc arenas that exist (at least `arenas`)
    instead of each getting one; True if glibc took it. Best called before the voice's
    threads start: once glibc has more than 8 arenas its limit is fixed."""
    libc = _libc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1
