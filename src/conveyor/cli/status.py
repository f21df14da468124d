"""`conveyor status`: the pipeline's latest executions, its stages, what each environment runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from conveyor.cli.aws import (
    Connection,
    EndpointOption,
    ProfileOption,
    RegionOption,
    calling_aws,
)
from conveyor.cli.output import console, escape
from conveyor.cli.validate import load_or_exit

if TYPE_CHECKING:
    from conveyor.operate.names import EnvironmentNames
    from conveyor.operate.status import EnvironmentStatus, PipelineStatus

# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
NEEDS = (
    "codepipeline:GetPipelineState, codepipeline:ListPipelineExecutions and "
    "codepipeline:GetPipelineExecution on the pipeline, cloudformation:DescribeStacks on "
    "the environments' stacks, and sts:AssumeRole on {app}-deploy-{env} for an environment in "
    "another account"
)
_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "Errored": "red",
    "Stopped": "yellow",
    "Stopping": "yellow",
    "Cancelled": "yellow",
    "Superseded": "yellow",
    "InProgress": "cyan",
}


def status(
    spec: Annotated[
        Path,
        typer.Option(
            "--spec", metavar="FILE", help="conveyor.yaml: gives the pipeline, stages and stacks."
        ),
    ] = Path("conveyor.yaml"),
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, max=100, metavar="N", help="Latest executions to list."),
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Show the pipeline's latest executions, each stage's state and what each environment runs.

    Per environment: the image digest (or Lambda code object) its stack was deployed with, its
    URL, its stack's state and the commit of the stage's latest run. Stages show their V2
    conditions (before entry, on success, on failure) as last evaluated. Read-only.

    Examples:

      conveyor status

      conveyor status --spec examples/payments.yaml --json | jq '.environments[].image'
    """
    loaded = load_or_exit(spec)
    from conveyor.operate import names
    from conveyor.operate.status import read_status

    pipeline = names.pipeline_name(loaded)
    connection = Connection(region or loaded.pipeline_region, profile, endpoint_url)
    with calling_aws(f"reading {pipeline}", needs=NEEDS):
        codepipeline = connection.client("codepipeline")
        cloudformation = connection.client("cloudformation")
    where = codepipeline.meta.region_name
    known = {
        "PipelineNotFoundException": (
            f"no pipeline {pipeline} in {where}: deploy it first (conveyor deploy "
            f"{spec}), or pass --region (and --profile) of the account it is in"
        ),
    }
    with (
        calling_aws(f"reading {pipeline}", needs=NEEDS, known=known),
        console.status(f"Reading {pipeline} …", spinner="dots"),
    ):
        found = read_status(
            codepipeline,
            cloudformation,
            pipeline,
            names.environments(loaded),
            limit=limit,
            other_account=_other_account(connection, where),
            in_region=_in_region(connection),
        )
    if as_json:
        typer.echo(json.dumps({"app": loaded.app, "region": where, **found.to_json()}, indent=2))
        return
    _print(found, where)


def _in_region(connection: Connection) -> Callable[[str], Any]:
    """An environment in another region (environments[].region): its stack read there, with
    the same credentials."""

    def client(region: str) -> Any:
        return replace(connection, region=region).client("cloudformation")

    return client


def _other_account(connection: Connection, region: str) -> Callable[[EnvironmentNames], Any]:
    """Another account's environment: its stack read through the role the pipeline deploys it
    as (operate/status.assumed_cloudformation)."""
    from conveyor.operate.status import assumed_cloudformation

    sts: list[Any] = []  # made on first use: a spec without such an environment needs none

    def client(credentials: Mapping[str, str]) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.Session(region_name=region, **credentials).client(
            "cloudformation", endpoint_url=connection.endpoint_url
        )

    def read(names: EnvironmentNames) -> Any:
        if not sts:
            sts.append(connection.client("sts"))
        return assumed_cloudformation(sts[0], names, client)

    return read


def _styled(value: str | None) -> str:
    if not value:
        return "-"
    style = _STYLE.get(value)
    return f"[{style}]{value}[/]" if style else value


def _short_release(environment: EnvironmentStatus) -> str:
    """`repository@sha256:0123456789ab` for an image; for code, the object key and the start
    of its version (`app-package.zip@3HL4kqtJlcpX`), which is what differs between releases."""
    if environment.image:
        repository, _, digest = environment.image.rpartition("@")
        name = repository.rsplit("/", 1)[-1]
        return f"{name}@{digest[:19]}" if digest else environment.image.rsplit("/", 1)[-1]
    if environment.code:
        key, _, version = environment.code.rsplit("/", 1)[-1].partition("?versionId=")
        return f"{key}@{version[:12]}" if version else key
    return "-"


def _last_run(environment: EnvironmentStatus) -> str:
    """The stage's latest run and its commit: what the environment runs when it succeeded."""
    run = environment.last_run
    if run is None or run.status is None:
        return "-"
    rolled = " (rollback)" if run.type == "ROLLBACK" else ""
    commit = f" {escape(environment.execution.headline)}" if environment.execution else ""
    return f"{_styled(run.status)}{rolled}{commit}"


def _print(found: PipelineStatus, region: str) -> None:
    from rich.table import Table

    version = f" (version {found.version})" if found.version is not None else ""
    console.print(f"Pipeline {escape(found.pipeline)}{version} in {escape(region)}")
    if found.executions:
        runs = Table(title=f"Latest {len(found.executions)} executions", title_justify="left")
        for column in ("Started (UTC)", "Execution", "Status", "Type", "Trigger", "Commit"):
            runs.add_column(column, overflow="fold" if column == "Commit" else "ellipsis")
        for execution in found.executions:
            runs.add_row(
                f"{execution.started:%Y-%m-%d %H:%M}" if execution.started else "-",
                execution.id,
                _styled(execution.status),
                execution.type
                + (f" of {execution.rollback_of[:8]}" if execution.rollback_of else ""),
                execution.trigger or "-",
                escape(execution.headline),
            )
        console.print(runs)
    stages = Table(title="Stages", title_justify="left")
    for column in ("Stage", "Latest run", "Execution", "Conditions"):
        stages.add_column(column)
    for stage in found.stages:
        conditions = ", ".join(
            f"{kind.replace('_', ' ')}: {_styled(state)}"
            for kind, state in stage.conditions.items()
        )
        kind = " (rollback)" if stage.type == "ROLLBACK" else ""
        stages.add_row(
            escape(stage.name),
            _styled(stage.status) + kind,
            stage.execution_id or "-",
            conditions or "-",
        )
    console.print(stages)
    envs = Table(title="Environments", title_justify="left")
    for column in ("Environment", "Stack", "Runs", "Last run", "URL", "Updated (UTC)"):
        envs.add_column(column, overflow="fold" if column in ("Runs", "URL") else "ellipsis")
    for env in found.environments:
        where = f" in {env.region}" if env.region else ""
        stack = (
            (
                f"in account {env.account}, not read: {env.not_read}"
                if env.account
                else env.not_read or "not read"
            )
            if env.stack_status is None
            else ("not deployed yet" if not env.deployed else env.stack_status) + where
        )
        envs.add_row(
            escape(env.name),
            escape(stack),
            escape(_short_release(env)),
            _last_run(env),
            escape(env.url or "-"),
            f"{env.updated:%Y-%m-%d %H:%M}" if env.updated else "-",
        )
    console.print(envs)
