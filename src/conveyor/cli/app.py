"""The `conveyor` command as a typer app (conveyor.cli.main runs it).

Each command lives in its own module and is registered here. Commands that do not synthesize
(`--help`, `validate`, `check`) must not import aws_cdk: importing it starts Node and costs
seconds, so only `synth` imports the pipeline, and only inside its function.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from functools import cache
from typing import Annotated, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from conveyor import __version__
from conveyor.cli.coercion import PlainCommand
from conveyor.cli.help import PipeSafeHelp


class _Group(PipeSafeHelp, TyperGroup):
    """typer's group, with help that survives pipes, a `--help` flag that reads False, not None,
    when not given, and each command built when it is first asked for.

    typer coerces a flag's value through a pydantic TypeAdapter unless the value already is a
    bool, so `conveyor check --help` imported pydantic (a third of its start-up) only to learn
    that the group's own `--help` was absent. With False as its default the flag is skipped.

    Until a command is asked for, the group holds its summary from _COMMANDS: `conveyor --help`
    lists every command without importing their modules or building their click objects (a
    fifth of its start-up), a misspelt command still gets "did you mean", and `conveyor NAME`
    builds NAME alone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        for name, entry in _COMMANDS.items():
            self.commands.setdefault(name, _Summary(name=name, help=entry.summary))

    def get_help_option(self, ctx: Any) -> Any:  # typer's own types live in its private _click
        option = super().get_help_option(ctx)
        if option is not None:
            option.default = False
        return option

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = self.commands.get(cmd_name)
        if isinstance(found, _Summary) and not self._listing:
            found = self.commands[cmd_name] = _built(cmd_name)
        return found

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The command list needs each command's summary only, not the command.
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


class _Summary(TyperCommand):
    """A command not built yet: its name and summary, enough to list it in the group's help."""


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


class _Entry(NamedTuple):
    module: str  # in conveyor.cli
    function: str
    summary: str  # the first paragraph of the function's docstring (a test keeps them equal)


# Each command's module, function and summary. A command's module is imported only when that
# command runs (or the whole app is asked for, as tests do): `conveyor --help` lists the
# summaries, and `conveyor check` on one file, as pre-commit hooks run it, loads neither rich
# nor the other commands' modules.
_COMMANDS: dict[str, _Entry] = {
    "validate": _Entry(
        "validate",
        "validate",
        "Check a conveyor.yaml and explain every problem with its line (no AWS, no CDK).",
    ),
    "synth": _Entry(
        "synth",
        "synth",
        "Synthesize conveyor.yaml into CloudFormation templates (a CDK cloud assembly).",
    ),
    "plan": _Entry(
        "plan",
        "plan",
        "Show the pipeline's stages in order, its parallel actions, and how long it takes.",
    ),
    "check": _Entry(
        "check",
        "check",
        "Check CloudFormation templates (JSON/YAML, CDK output) for pipeline failure modes.",
    ),
    "schema": _Entry(
        "schema",
        "schema",
        "Print the JSON Schema of conveyor.yaml (completion and validation in editors).",
    ),
    "init": _Entry(
        "init", "init", "Look at a repository and write a commented conveyor.yaml that validates."
    ),
    "diagram": _Entry(
        "diagram",
        "diagram",
        "Draw the pipeline: stages, parallel actions, approvals, environments, AWS resources.",
    ),
    "cost": _Entry(
        "cost", "cost", "Estimate the monthly cost of the pipeline and what it creates, by service."
    ),
    "deploy": _Entry(
        "deploy",
        "deploy",
        "Create or update the pipeline stack (AWS CDK CLI deploy); the pipeline does the rest.",
    ),
    "diff": _Entry(
        "deploy",
        "diff",
        "Show what the next release changes: the pipeline stack, then each environment's stack.",
    ),
    "destroy": _Entry(
        "deploy",
        "destroy",
        "Delete the pipeline's stack (AWS CDK CLI destroy), after confirmation.",
    ),
    "bootstrap": _Entry(
        "deploy",
        "bootstrap",
        "Prepare an AWS account for conveyor, once per account and region (AWS CDK bootstrap).",
    ),
    "history": _Entry(
        "history",
        "history",
        "Recent deployments and the four DORA metrics, read from the deployment history table.",
    ),
    "status": _Entry(
        "status",
        "status",
        "Show the pipeline's latest executions, each stage's state and what each environment runs.",
    ),
    "migrate": _Entry(
        "migrate",
        "migrate",
        "Turn an AWS Copilot workspace into conveyor.yaml files, one per service, naming what "
        "was not carried over.",
    ),
    "rollback": _Entry(
        "rollback",
        "rollback",
        "Roll an environment back to its last good release (CodePipeline RollbackStage).",
    ),
}


def command(name: str) -> Callable[..., None]:
    entry = _COMMANDS[name]
    found: Callable[..., None] = getattr(
        importlib.import_module(f"conveyor.cli.{entry.module}"), entry.function
    )
    return found


def _register(app: typer.Typer, name: str) -> None:
    function = command(name)
    app.command(name, help=unwrapped(function.__doc__), cls=_Command)(function)


def _built(name: str) -> Any:
    """The click command `name`, built on its own as build_app would build it."""
    single = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode="rich"
    )
    _register(single, name)
    return typer.main.get_command(single)


def build_app(names: Iterable[str] = ()) -> typer.Typer:
    """The `conveyor` app with the commands ``names`` built (in that order); the others are
    built when asked for."""
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
        _register(app, name)
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
