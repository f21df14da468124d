"""`conveyor rollback ENV`: roll an environment's stage back to its last good execution."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.aws import (
    Connection,
    EndpointOption,
    ProfileOption,
    RegionOption,
    calling_aws,
)
from conveyor.cli.output import console, escape, fail
from conveyor.cli.validate import load_or_exit, today_or_exit

if TYPE_CHECKING:
    from conveyor.operate.executions import Execution
    from conveyor.operate.rollback import RollbackPlan

# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_RollbackStage.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html
NEEDS = (
    "codepipeline:GetPipelineState, codepipeline:ListPipelineExecutions, "
    "codepipeline:GetPipelineExecution and codepipeline:RollbackStage on the pipeline"
)


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def known_errors(pipeline: str, region: str, stage: str) -> dict[str, str]:
    """What RollbackStage's and the reads' own errors mean here."""
    return {
        "PipelineNotFoundException": (
            f"no pipeline {pipeline} in {region}: deploy it first (conveyor deploy), or pass "
            "--region (and --profile) of the account it is in"
        ),
        "StageNotFoundException": (
            f"the deployed pipeline {pipeline} has no stage {stage}: push the change that added "
            "the environment (the pipeline updates itself) or run conveyor deploy"
        ),
        "PipelineExecutionNotFoundException": (
            f"no such execution in {pipeline}: `conveyor status` lists the recent ones"
        ),
        "ConflictException": (
            f"{pipeline} is busy with {stage} (a run or a rollback in progress): wait for it to "
            "finish and retry"
        ),
        "UnableToRollbackStageException": (
            f"AWS cannot roll {stage} back to that execution: the pipeline changed since it ran, "
            "the stage is running, or it did not succeed in the stage"
        ),
        "PipelineExecutionOutdatedException": (
            "the pipeline was updated after that execution: AWS rolls back only to executions of "
            "the current pipeline structure; release the old commit instead (revert and push)"
        ),
    }


def _describe(execution: Execution | None) -> str:
    if execution is None:
        return "unknown"
    started = f", started {execution.started:%Y-%m-%d %H:%M} UTC" if execution.started else ""
    return f"{execution.id} ({execution.headline}{started})"


def rollback(
    environment: Annotated[
        str, typer.Argument(help="Environment to roll back (its name in conveyor.yaml).")
    ],
    spec: Annotated[
        Path,
        typer.Option(
            "--spec", metavar="FILE", help="conveyor.yaml: gives the pipeline and its stages."
        ),
    ] = Path("conveyor.yaml"),
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="EXECUTION_ID",
            help="Execution to roll back to (it must have succeeded in the stage).",
            show_default="the last good one before what runs now",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")
    ] = False,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Roll an environment back to its last good release (CodePipeline RollbackStage).

    CodePipeline runs the environment's stage again with the artifacts and variables of an
    earlier execution that succeeded there: by default the newest one before the release the
    stage runs now. It asks first; scripts pass --yes. AWS accepts only executions of the
    pipeline's current version (a pipeline change since then needs a revert and push instead);
    details in docs/commands/rollback.md.

    Examples:

      conveyor rollback prod

      conveyor rollback staging --to 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d --yes
    """
    loaded = load_or_exit(spec)
    from conveyor.operate import names

    envs = {env.name: env for env in names.environments(loaded)}
    if environment not in envs:
        fail(f"{spec}: environments has no {environment!r}; roll back one of: {', '.join(envs)}")
    pipeline = names.pipeline_name(loaded)
    stage = envs[environment].stage
    if not yes and not _on_terminal():
        fail(
            f"rolling back {environment} changes what it runs and needs confirmation: run it on "
            "a terminal, or pass --yes"
        )
    today = today_or_exit()
    from conveyor.operate import rollback as stage_rollback

    connection = Connection(region or loaded.pipeline_region, profile, endpoint_url)
    with calling_aws(f"reading {pipeline}", needs=NEEDS):
        client = connection.client("codepipeline")
    known = known_errors(pipeline, client.meta.region_name, stage)
    with calling_aws(f"reading {pipeline}", needs=NEEDS, known=known):
        try:
            with console.status(f"Finding what {stage} can roll back to …", spinner="dots"):
                planned = stage_rollback.plan(
                    client,
                    pipeline,
                    stage,
                    to=to,
                    artifact_days=loaded.retention.artifact_days,
                    today=today,
                )
        except stage_rollback.RollbackError as exc:
            fail(str(exc))
    _show(planned, environment)
    if not yes and not typer.confirm(f"Roll {environment} back?"):
        console.print("Nothing rolled back.")
        raise typer.Exit(1)
    with calling_aws(f"rolling back {stage}", needs=NEEDS, known=known):
        started = stage_rollback.start(client, planned)
    console.print(
        f"[green]✓[/] rolling {escape(environment)} back: execution {escape(started)} redeploys "
        f"{escape(planned.target.id)}. Follow it with `conveyor status`.",
        soft_wrap=True,
    )


def _show(planned: RollbackPlan, environment: str) -> None:
    latest = planned.latest
    now = (
        _describe(planned.live)
        if planned.live is not None
        else f"unknown: its last run {latest.execution_id} {latest.status}"
    )
    console.print(
        f"Pipeline {escape(planned.pipeline)}, stage {escape(planned.stage)}:\n"
        f"  {escape(environment)} runs  {escape(now)}\n"
        f"  roll back to  {escape(_describe(planned.target))}",
        soft_wrap=True,
    )
