"""Entry point of the `conveyor` command.

Each command lives in its own module and is registered here. Commands that do not synthesize
(`--help`, `validate`, `check`) must not import aws_cdk: importing it starts Node and costs
seconds, so only `synth` imports the pipeline, and only inside its function.
"""

from __future__ import annotations

import errno
import os
import sys

import typer

from conveyor.cli import check as check_command
from conveyor.cli import cost as cost_command
from conveyor.cli import deploy as deploy_command
from conveyor.cli import diagram as diagram_command
from conveyor.cli import history as history_command
from conveyor.cli import init as init_command
from conveyor.cli import plan as plan_command
from conveyor.cli import schema as schema_command
from conveyor.cli import synth as synth_command
from conveyor.cli import validate as validate_command

app = typer.Typer(
    name="conveyor",
    help=(
        "Secure AWS delivery pipelines from a short conveyor.yaml, "
        "and a checker for the mistakes hand-written pipelines make."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

app.command("validate")(validate_command.validate)
app.command("synth")(synth_command.synth)
app.command("plan")(plan_command.plan)
app.command("check")(check_command.check)
app.command("schema")(schema_command.schema)
app.command("init")(init_command.init)
app.command("diagram")(diagram_command.diagram)
app.command("cost")(cost_command.cost)
app.command("deploy")(deploy_command.deploy)
app.command("diff")(deploy_command.diff)
app.command("destroy")(deploy_command.destroy)
app.command("history")(history_command.history)


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
