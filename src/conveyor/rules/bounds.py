"""Per-file bounds on time and memory, reading and parsing included.

A file is checked under a wall-clock deadline and, in a worker process, under a memory ceiling,
so one hostile template costs a clear error naming it while the other files are still checked.

- Time: on the main thread an interval timer (SIGALRM) interrupts whatever runs at the deadline
  (YAML composition, a rule stuck on one resource) by raising ``Overtime``, a BaseException so no
  ``except Exception`` in a rule swallows it. Off the main thread (a library caller's thread)
  signals cannot be used; the engine's checks between resources still apply.
- Memory: ``RLIMIT_AS`` caps the address space the file may add to the process; an allocation
  past it raises ``MemoryError``. Only worker processes are capped (a cap in the caller's own
  process would also fail its other threads); the runner sends large files to one.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

try:
    import resource
except ImportError:  # not on Windows: memory is then unbounded
    resource = None  # type: ignore[assignment]

# Seconds one file may take, reading and parsing included. Input is capped at 10 MiB and the
# rules are linear, so a real template takes well under a second; this bounds what a bug or a
# shape nobody foresaw could cost.
TIME_LIMIT = 60.0
# MiB of memory one file may add to a worker process. A 10 MiB template with 100,000 resources
# needs about a tenth of it.
MEMORY_LIMIT_MIB = 2048
# The largest limits accepted: past them a deadline or an rlimit no longer fits the platform's
# types (time_t, C long), and no template needs an hour or a TiB.
MAX_TIME_LIMIT = 3600.0
MAX_MEMORY_LIMIT_MIB = 1 << 20
# The most worker processes --jobs may ask for. Each is a fork that may grow to --memory-limit;
# past the cores there is nothing to gain, and the largest CI runners have 64 to 96 cores, so a
# bigger number is a typo (--jobs 999999 forked one process per file).
MAX_JOBS = 128


def limits_problem(time_limit: float, memory_limit: int, jobs: int = 0) -> str | None:
    """What is wrong with the per-file limits or the number of worker processes, in the CLI's
    words; None when all are usable. A NaN fails every comparison, so it is refused too."""
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        return (
            f"--time-limit must be more than 0 and at most {MAX_TIME_LIMIT:g} seconds, not "
            f"{time_limit:g}: write for example --time-limit {TIME_LIMIT:g}"
        )
    if not 1 <= memory_limit <= MAX_MEMORY_LIMIT_MIB:
        return (
            f"--memory-limit must be from 1 to {MAX_MEMORY_LIMIT_MIB} MiB, not {memory_limit}: "
            f"write for example --memory-limit {MEMORY_LIMIT_MIB}"
        )
    if jobs > MAX_JOBS:
        return (
            f"--jobs must be at most {MAX_JOBS}, not {jobs}: write --jobs 0 for one process "
            f"per core, or a number up to {MAX_JOBS}"
        )
    return None


class Overtime(BaseException):
    """The file's deadline passed (a BaseException, like KeyboardInterrupt: not an error)."""


# Seconds the timer waits before it looks again when the deadline finds an import running.
_IMPORT_RETRY = 0.01


def _raise_overtime(signum: int, frame: FrameType | None) -> None:
    # Never inside an import: rules, patterns and parsers are imported when a check first
    # needs them, within the bound, and an exception raised in the import machinery can leave
    # a module half made in sys.modules (every later check of the process then failed with
    # "partially initialized module 'yaml'"). The import finishes, then the check stops.
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            signal.setitimer(signal.ITIMER_REAL, _IMPORT_RETRY)
            return
        frame = frame.f_back
    raise Overtime


@contextmanager
def time_bound(deadline: float) -> Iterator[None]:
    """Raise ``Overtime`` inside the block once ``time.monotonic()`` passes ``deadline``; no
    bound where SIGALRM cannot be handled (no setitimer, or a thread other than the main one:
    only the main thread may set a signal handler, signal.signal raises ValueError in any
    other; asked of signal.signal itself, not threading, whose import is 2 million
    instructions a check does without)."""
    armed = False
    if hasattr(signal, "setitimer"):
        with suppress(ValueError):
            previous = signal.signal(signal.SIGALRM, _raise_overtime)
            armed = True
    if not armed:
        yield
        return
    try:
        # setitimer(0) would disarm the timer: a deadline already past fires at once instead.
        signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-6))
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _address_space() -> int | None:
    """Bytes of address space the process maps now (Linux), or None where unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_bytes().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def memory_bound(mib: int) -> Iterator[None]:
    """Let the block map at most ``mib`` MiB more than the process maps now."""
    now = _address_space()
    if resource is None or now is None or mib <= 0:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = now + mib * 2**20
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
