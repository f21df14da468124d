"""Entry point of the `conveyor` command.

Each command lives in its own module and is registered here. Commands that do not synthesize
(`--help`, `validate`, `check`) must not import aws_cdk: importing it starts Node and costs
seconds, so only `synth` imports the pipeline, and only inside its function.
"""

from __future__ import annotations

import errno
import inspect
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from conveyor import __version__
from conveyor.cli import check as check_command
from conveyor.cli import cost as cost_command
from conveyor.cli import deploy as deploy_command
from conveyor.cli import diagram as diagram_command
from conveyor.cli import history as history_command
from conveyor.cli import init as init_command
from conveyor.cli import plan as plan_command
from conveyor.cli import rollback as rollback_command
from conveyor.cli import schema as schema_command
from conveyor.cli import status as status_command
from conveyor.cli import synth as synth_command
from conveyor.cli import validate as validate_command
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


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"conveyor {__version__}")
        raise typer.Exit()


@app.callback()
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


COMMANDS: dict[str, Callable[..., None]] = {
    "validate": validate_command.validate,
    "synth": synth_command.synth,
    "plan": plan_command.plan,
    "check": check_command.check,
    "schema": schema_command.schema,
    "init": init_command.init,
    "diagram": diagram_command.diagram,
    "cost": cost_command.cost,
    "deploy": deploy_command.deploy,
    "diff": deploy_command.diff,
    "destroy": deploy_command.destroy,
    "bootstrap": deploy_command.bootstrap,
    "history": history_command.history,
    "status": status_command.status,
    "rollback": rollback_command.rollback,
}
for name, function in COMMANDS.items():
    app.command(name, help=unwrapped(function.__doc__), cls=_Command)(function)


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except OSError as exc:
        # A full disk or a closed pipe on standard output: say so, instead of a traceback.
        if exc.errno not in (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"error: cannot write the output: {exc.strerror}\n")
        sys.exit(2)
