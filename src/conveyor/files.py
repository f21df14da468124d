"""Read a file a user named without hanging on it or reading more than a limit.

`Path.read_bytes()` blocks forever opening a FIFO nobody writes to, and reads `/dev/zero` until
memory runs out; size checks on `stat()` miss both (they report 0 bytes).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_bounded(path: Path, limit: int) -> bytes:
    """At most `limit + 1` bytes of `path` (one more than allowed, so callers can tell "too big").

    Opening is non-blocking, so a FIFO without a writer reads as empty instead of hanging.
    Raises OSError, IsADirectoryError for a directory.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        # Blocking again for the read itself: a pipe with a writer delivers all it has.
        os.set_blocking(fd, True)
        return handle.read(limit + 1)


def is_fifo(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(path.stat().st_mode)
    except (OSError, ValueError):
        return False
