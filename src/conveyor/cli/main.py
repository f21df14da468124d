"""Entry point of the `conveyor` command.

Each command lives in its own module and is registered here. Commands that do not synthesize
(`--help`, `validate`, `check`) must not import aws_cdk: importing it starts Node and costs
seconds, so only `synth` imports the pipeline, and only inside its function.
"""

from __future__ import annotations

import errno
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from conveyor import __version__
from conveyor.cli.coercion import PlainCommand
from conveyor.cli.help import PipeSafeHelp


class _Group(PipeSafeHelp, TyperGroup):
    """typer's group, with help that survives pipes, and a `--help` flag that reads False, not
    None, when not given.

    typer coerces a flag's value through a pydantic TypeAdapter unless the value already is a
    bool, so `conveyor check --help` imported pydantic (a third of its start-up) only to learn
    that the group's own `--help` was absent. With False as its default the flag is skipped.
    """

    def get_help_option(self, ctx: Any) -> Any:  # typer's own types live in its private _click
        option = super().get_help_option(ctx)
        if option is not None:
            option.default = False
        return option


class _Command(PipeSafeHelp, PlainCommand):
    """A command: plain-typed values converted without pydantic, help that survives pipes."""


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"conveyor {__version__}")
        raise typer.Exit()


def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print conveyor's version and exit.",
        ),
    ] = False,
) -> None:
    """Options that come before the command (the app's help is the Typer's own)."""


def unwrapped(text: str | None) -> str:
    """A docstring as help: its paragraphs (split at blank lines) each on one line.

    Docstrings are wrapped at 100 columns in the source; rich keeps those line breaks in every
    paragraph after the first and wraps again at the terminal's width, so the help came out
    ragged (a line of 80, then one of 20). Examples are paragraphs of their own, kept apart.
    """
    paragraphs = inspect.cleandoc(text or "").split("\n\n")
    return "\n\n".join(_one_line(p) for p in paragraphs)


def _one_line(paragraph: str) -> str:
    indent = paragraph[: len(paragraph) - len(paragraph.lstrip(" "))]  # examples stay indented
    return indent + " ".join(line.strip() for line in paragraph.splitlines())


# Each command's module and function. A command's module is imported only when that command
# runs (or the whole app is asked for: `conveyor --help`, tests): `conveyor check` on one file,
# as pre-commit hooks run it, then loads neither rich nor the other commands' modules.
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "validate"),
    "synth": ("synth", "synth"),
    "plan": ("plan", "plan"),
    "check": ("check", "check"),
    "schema": ("schema", "schema"),
    "init": ("init", "init"),
    "diagram": ("diagram", "diagram"),
    "cost": ("cost", "cost"),
    "deploy": ("deploy", "deploy"),
    "diff": ("deploy", "diff"),
    "destroy": ("deploy", "destroy"),
    "bootstrap": ("deploy", "bootstrap"),
    "history": ("history", "history"),
    "status": ("status", "status"),
    "rollback": ("rollback", "rollback"),
}


def command(name: str) -> Callable[..., None]:
    module, function = _COMMANDS[name]
    found: Callable[..., None] = getattr(
        importlib.import_module(f"conveyor.cli.{module}"), function
    )
    return found


def build_app(names: Iterable[str]) -> typer.Typer:
    """The `conveyor` app with the commands ``names`` (in that order)."""
    app = typer.Typer(
        cls=_Group,
        name="conveyor",
        help=(
            "Secure AWS delivery pipelines from a short conveyor.yaml, "
            "and a checker for the mistakes hand-written pipelines make."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
        # Subcommands inherit the names: `conveyor check -h` works too.
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_options)
    for name in names:
        function = command(name)
        app.command(name, help=unwrapped(function.__doc__), cls=_Command)(function)
    return app


@cache
def full_app() -> typer.Typer:
    """The app with every command: what `conveyor --help` lists."""
    return build_app(_COMMANDS)


def __getattr__(name: str) -> Any:
    """``app`` (every command) and ``COMMANDS`` (name to function), built on first use."""
    if name == "app":
        return full_app()
    if name == "COMMANDS":
        return {n: command(n) for n in _COMMANDS}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    # Only the command asked for; anything else (no command, `--help`, `--version`, a misspelt
    # command that click suggests a name for) gets every command.
    app = build_app(args[:1]) if args and args[0] in _COMMANDS else full_app()
    try:
        app()
    except OSError as exc:
        # A full disk or a closed pipe on standard output: say so, instead of a traceback.
        if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"error: cannot write the output: {exc.strerror}\n")
        sys.exit(2)
