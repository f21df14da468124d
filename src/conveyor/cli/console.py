"""rich's console for what conveyor prints: never wrapped through a pipe or into a file.

Its own module because importing rich costs about a third of `conveyor --help`: the commands
reach it through conveyor.cli.output, which makes a console only when something is printed.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from rich.console import Console, ConsoleDimensions


class PipeSafeConsole(Console):
    """rich's console, except that output through a pipe or into a file is never wrapped.

    On a terminal rich wraps at the terminal's width, as a reader expects. Anywhere else it would
    break lines at 80 columns, so a long path split a message in two: users grep and parse what
    conveyor prints, and a checkout under a long directory made `validate`'s "is valid" land on
    another line. Off a terminal the width is unbounded (tables take their natural width) and
    text is printed as soft-wrapped (one message, one line).
    """

    _UNBOUNDED = 100_000

    @property
    def size(self) -> ConsoleDimensions:
        dimensions = super().size
        if self.is_terminal:
            return dimensions
        return ConsoleDimensions(self._UNBOUNDED, dimensions.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = True
        super().print(*objects, soft_wrap=soft_wrap, **options)


class ReportConsole(PipeSafeConsole):
    """The pipe-safe console, except that a closed pipe is an error to report (exit 2), not
    rich's exit 1, the code for findings (`conveyor check dir | head -1` under pipefail)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
