"""Shared console objects and the one way commands report a user error (exit code 2)."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# Colour only on a terminal: rich checks isatty itself; NO_COLOR is honoured too.
console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

USER_ERROR = 2


def fail(message: str) -> NoReturn:
    """Print a user-facing error (file, key, what to write instead) and exit 2.

    The message is printed as text, not rich markup: it quotes what users wrote (paths, YAML
    values, `[team@example.com]`), and brackets there must neither vanish nor crash.
    """
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(USER_ERROR)
