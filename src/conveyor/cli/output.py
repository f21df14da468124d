"""Shared console objects, the one way commands report a user error (exit code 2), and the one
way they write a file a user named (never through a link, never over a file without --force)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape


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


# Colour only on a terminal: rich checks isatty itself; NO_COLOR is honoured too.
console = PipeSafeConsole(highlight=False)
errors = PipeSafeConsole(stderr=True, highlight=False)

USER_ERROR = 2


def fail(message: str) -> NoReturn:
    """Print a user-facing error (file, key, what to write instead) and exit 2.

    The message is printed as text, not rich markup: it quotes what users wrote (paths, YAML
    values, `[team@example.com]`), and brackets there must neither vanish nor crash.
    """
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(USER_ERROR)


def refuse_to_clobber(path: Path, *, force: bool, instead: str) -> None:
    """Exit 2 if writing `path` would follow a link, or replace a file without --force.

    A link where the file goes (even a dangling one) sends the write wherever it points, outside
    the repository or output directory: conveyor never writes through one, --force or not.
    """
    if path.is_symlink():
        fail(
            f"{path} is a symbolic link; conveyor never writes through links. Remove the link "
            f"or {instead}"
        )
    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to replace it, or {instead}")


def write_file(path: Path, data: str | bytes, *, force: bool, instead: str) -> None:
    """Write `path` as a new file (or, with `force`, a new file renamed over the old one)."""
    refuse_to_clobber(path, force=force, instead=instead)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            _replace(path, payload)
        else:
            _create(path, payload)
    except FileExistsError:  # a file or link appeared since the check
        refuse_to_clobber(path, force=False, instead=instead)
        raise
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}; {instead}")


def _create(path: Path, payload: bytes) -> None:
    # O_EXCL fails on any existing name, a dangling link included; O_NOFOLLOW is a second lock.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
    except OSError:
        path.unlink(missing_ok=True)
        raise


def _replace(path: Path, payload: bytes) -> None:
    # rename() replaces the name itself, never what a link there points to; the old file's
    # permissions carry over.
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
