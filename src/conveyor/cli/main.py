"""Entry point of the `conveyor` command (the console script and `python -m conveyor`).

`conveyor check` on files, as CI and pre-commit hooks run it, is parsed here without typer
(conveyor.cli.fast_check): importing typer and click and building the command was a quarter of
`conveyor check plan.json`. Every other command line, help and usage errors included, goes to
the typer app in conveyor.cli.app, whose names (``app``, ``build_app``, ``COMMANDS``...) this
module still gives on first use.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import sys
from typing import Any


def __getattr__(name: str) -> Any:
    """The typer app's names (``app``, ``COMMANDS``, ``build_app``, ``command``...), imported
    from conveyor.cli.app on first use: the console script itself needs none of them."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from conveyor.cli import app

    return getattr(app, name)


def run() -> None:
    """Console-script entry point."""
    _hold_closed_streams()
    for stream in (sys.stdout, sys.stderr):
        # An output that is not UTF-8 (PYTHONIOENCODING=ascii, a POSIX locale with UTF-8 mode
        # off, a Windows redirect in cp1252) cannot write validate's check mark, the plan's box
        # lines or a name in another script: escape them rather than end in a traceback and
        # exit 1, the code `check` uses for findings.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        _check_or_app()
    except OSError as exc:
        # A full disk or a closed pipe on standard output: say so, instead of a traceback.
        if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EBADF):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"error: cannot write the output: {exc.strerror}\n")
        sys.exit(2)


def _hold_closed_streams() -> None:
    """Standard output or error closed when conveyor starts (`>&-`, `2>&-`, a daemon's child):
    Python sets sys.stdout or sys.stderr to None, and the first write was an AttributeError,
    reported as an internal error, or with standard error closed too, exit 1, the code for
    findings. Each closed descriptor is held open on /dev/null, so that no file opened later
    (the -o report) becomes standard output, and given a stream: standard error's writes are
    lost (the exit code still says what happened); standard output's fail with EBADF, as
    writing to the closed descriptor would, so `check` without -o says the report could not be
    written (exit 2), and `check -o FILE` never writes there at all."""
    for number, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        held = os.open(os.devnull, os.O_RDONLY if number == 1 else os.O_WRONLY)
        if held != number:
            os.dup2(held, number)
            os.close(held)
        setattr(sys, name, open(number, "w", encoding="utf-8", closefd=False))  # noqa: SIM115


def _check_or_app() -> None:
    try:
        from conveyor.cli.fast_check import parsed

        arguments = parsed(sys.argv[1:])
        if arguments is not None:
            from conveyor.cli.checking import run_check

            code = run_check(**arguments)
            # The interpreter's last garbage collection at exit walks every object the check
            # and its imports made: about 20M instructions of the 746M that `conveyor check
            # plan.json` took (benchmarks/count_check_process.py), where os._exit() saved 26M.
            # Frozen objects (the permanent generation) are not walked, and unlike os._exit()
            # everything else at exit still happens: standard output and error are flushed
            # (a closed pipe still reported), and atexit handlers run (multiprocessing's,
            # which would stop a worker left behind; a profiler's or coverage's). All it skips
            # is finalizers of objects in reference cycles: the report file is closed and the
            # workers are joined before run_check returns.
            gc.freeze()
            sys.exit(code)
    except KeyboardInterrupt:
        # Ctrl-C before or after the files' check (run_check answers it during the check):
        # the same line and code, never click's "Aborted!" or a traceback.
        from conveyor.cli.checking import INTERRUPTED, INTERRUPTED_MESSAGE

        sys.stderr.write(INTERRUPTED_MESSAGE + "\n")
        sys.exit(INTERRUPTED)
    from conveyor.cli.app import build_app

    # No command built yet: the group builds the one asked for, and lists the others'.
    build_app()()
