"""The one way commands report a user error (exit code 2), the shared console objects
(conveyor.cli.streams, where they live without typer), and the one way commands write a file a
user named (never through a link, never over a file without --force)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import NoReturn

import typer

from conveyor.cli.streams import USER_ERROR, print_error
from conveyor.cli.streams import console as console
from conveyor.cli.streams import errors as errors
from conveyor.cli.streams import escape as escape


def fail(message: str) -> NoReturn:
    """Print a user-facing error (file, key, what to write instead) and exit 2.

    The message is printed as text, not rich markup: it quotes what users wrote (paths, YAML
    values, `[team@example.com]`), and brackets there must neither vanish nor crash.
    """
    print_error(message, errors)
    raise typer.Exit(USER_ERROR)


def spec_path(value: str | Path) -> Path:
    """A conveyor.yaml path from the command line (typer's ``parser``), or exit 2 if empty.

    click would make ``''`` into ``Path('')``, which is ``.``: `validate ""` then reported the
    current directory ("." is a directory), naming a path the user never wrote.
    """
    if isinstance(value, Path):  # a default, already a path
        return value
    if value == "":
        fail("'' (an empty path) names no file; name the spec file, e.g. conveyor.yaml")
    return Path(value)


def output_path(value: str | Path) -> Path | None:
    """An -o FILE from the command line (typer's ``parser``): None for '-', standard output as
    in `conveyor check -o -`; exit 2 if empty (``Path('')`` would be ``.``)."""
    if isinstance(value, Path):
        return value
    if value == "":
        fail(
            "-o '' (an empty path) names no file; name a file, or leave -o out for standard output"
        )
    return None if value == "-" else Path(value)


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
    kind = not_a_regular_file(path)
    if kind is not None:
        # --force renames a new file over the old name: over a device or a pipe that deletes the
        # node itself (`-o /dev/null --force` as root), and over a directory it cannot work.
        fail(
            f"{path} is a {kind}, not a regular file; conveyor writes only regular files: {instead}"
        )
    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to replace it, or {instead}")


def not_a_regular_file(path: Path) -> str | None:
    """What stands at `path` when it is there and is no regular file (links not followed)."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


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
