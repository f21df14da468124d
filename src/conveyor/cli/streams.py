"""Where commands print, without typer or click: whether a stream is a terminal, the shared
consoles (rich made only when something needs it), and a user error's line.

Its own module so that `conveyor check` on a file, parsed without typer (conveyor.cli.fast),
reports a usage error exactly as every other command does (conveyor.cli.output.fail) without
importing typer, click or rich for it.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conveyor.cli.console import PipeSafeConsole


def on_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal, read by a person at its width (not a pipe or a file).

    `_TYPER_FORCE_DISABLE_TERMINAL`, typer's switch for tests, counts as not a terminal.
    """
    if os.environ.get("_TYPER_FORCE_DISABLE_TERMINAL"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


# What makes rich treat any output as a terminal (colours through a pipe, as CI logs want).
TERMINAL_FORCED = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


class _Deferred:
    """A console made when first needed: rich (about a third of `conveyor --help`) is imported
    only by a command that prints through it, not by every command's import, and not at all
    for text printed off a terminal (a message, a warning, an error: what `validate`, scripts
    and CI print), which is markup's plain text (conveyor.cli.markup) written as rich would."""

    def __init__(self, *, stderr: bool = False, **options: Any) -> None:
        object.__setattr__(self, "_options", {"stderr": stderr, **options})
        object.__setattr__(self, "_stderr", stderr)
        object.__setattr__(self, "_console", None)

    def _made(self) -> Any:
        made = object.__getattribute__(self, "_console")
        if made is None:
            from conveyor.cli.console import PipeSafeConsole

            made = PipeSafeConsole(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_console", made)
        return made

    def print(self, *objects: Any, **options: Any) -> None:
        """rich's print; text off a terminal is written as its plain text, without rich."""
        text = self._plain(objects, options)
        if text is None:
            self._made().print(*objects, **options)
            return
        stream = sys.stderr if object.__getattribute__(self, "_stderr") else sys.stdout
        stream.write(text + "\n")
        stream.flush()

    def _plain(self, objects: tuple[Any, ...], options: dict[str, Any]) -> str | None:
        """What rich would print for `objects` off a terminal, or None if rich must print it:
        a console already made, a terminal (or one forced), a renderable or an option that
        is not plain text."""
        if object.__getattribute__(self, "_console") is not None:
            return None
        if set(options) - {"soft_wrap", "highlight"} or not all(
            isinstance(o, str) for o in objects
        ):
            return None
        stream = sys.stderr if object.__getattribute__(self, "_stderr") else sys.stdout
        if on_terminal(stream) or any(os.environ.get(v) for v in TERMINAL_FORCED):
            return None
        from conveyor.cli.markup import plain

        pieces = [plain(o) for o in objects]
        shown = [p for p in pieces if p is not None]
        return " ".join(shown) if len(shown) == len(pieces) else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._made(), name, value)


# Colour only on a terminal: rich checks isatty itself; NO_COLOR is honoured too. No emoji
# codes: a path or value with `:name:` in it is printed as written, not as an emoji.
console: PipeSafeConsole = _Deferred(highlight=False, emoji=False)  # type: ignore[assignment]
errors: PipeSafeConsole = _Deferred(stderr=True, highlight=False, emoji=False)  # type: ignore[assignment]


def escape(text: str) -> str:
    """rich.markup.escape (brackets in what users wrote stay text), without importing rich."""
    from conveyor.cli.markup import escape as markup_escape

    return markup_escape(text)


USER_ERROR = 2


def print_error(message: str, to: PipeSafeConsole | None = None) -> None:
    """Print a user-facing error on `to` (standard error's console): `error:` (bold red on a
    terminal) and `message` as text, not rich markup: it quotes what users wrote (paths, YAML
    values, `[team@example.com]`), and brackets there must neither vanish nor crash."""
    (errors if to is None else to).print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def echo_error(message: str) -> None:
    """`typer.echo(message, err=True)`, the same bytes, without importing typer or click when
    they cannot differ: click strips ANSI codes off a terminal and re-wraps an ASCII-only
    standard error as UTF-8; for ASCII text without an ESC neither changes a byte."""
    if not message.isascii() or "\x1b" in message:
        import typer

        typer.echo(message, err=True)
        return
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
