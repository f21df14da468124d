"""`conveyor history`: recent deployments and the four DORA metrics from the history table."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.output import console, errors, fail
from conveyor.cli.validate import load_or_exit

if TYPE_CHECKING:
    from conveyor.history.dora import Metrics
    from conveyor.history.records import Deployment

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_OUTCOME_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "ROLLED_BACK": "red",
    "IN_PROGRESS": "cyan",
    "STOPPED": "yellow",
}


class Format(StrEnum):
    table = "table"
    json = "json"


def parse_since(value: str, now: datetime) -> datetime:
    """`30d`, `12h`, `2w`, `90m`, or an ISO date/time (UTC when no zone is given)."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    if match:
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:
            raise typer.BadParameter(
                f"{value!r} reaches before the year 1; a history is at most a few years long",
                param_hint="--since",
            ) from None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a duration (30d, 12h, 2w, 90m) nor a date (2026-03-01)",
            param_hint="--since",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def table_name(app: str, suffix: str = "") -> str:
    """The name conveyor gives the table: `{app}-deployments[-{suffix}]` (constructs/naming)."""
    return f"{app}-deployments" + (f"-{suffix}" if suffix else "")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _start(since: str, now: datetime) -> datetime:
    start = parse_since(since, now)
    if start >= now:
        fail(f"--since {since} is in the future; give a past date or a duration like 30d")
    return start


def _target(
    app_name: str | None,
    environments: list[str] | None,
    spec: Path | None,
    table: str | None,
    region: str | None,
) -> tuple[str, str, list[str], str | None]:
    """App, table, environments and region: from the options, then the spec."""
    suffix = ""
    chosen_region = region
    chosen_envs = list(environments or [])
    if spec is None and app_name is None and Path("conveyor.yaml").is_file():
        spec = Path("conveyor.yaml")
    if spec is not None:
        loaded = load_or_exit(spec)
        app_name = app_name or loaded.app
        suffix = loaded.suffix
        chosen_region = chosen_region or loaded.pipeline_region
        chosen_envs = chosen_envs or [env.name for env in loaded.environments]
    if app_name is None:
        fail("which application? pass --app NAME or --spec conveyor.yaml, or try --demo")
    return app_name, table or table_name(app_name, suffix), chosen_envs, chosen_region


def history(
    app_name: Annotated[
        str | None,
        typer.Option("--app", help="Application name.", show_default="from --spec"),
    ] = None,
    environments: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            metavar="NAME",
            help="Environment (repeat). Without one: all, by a slower Scan.",
            show_default="the spec's environments",
        ),
    ] = None,
    since: Annotated[
        str,
        typer.Option(
            "--since", metavar="WINDOW", help="Window: 30d, 12h, 2w, or a date like 2026-03-01."
        ),
    ] = "30d",
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            metavar="FILE",
            help="conveyor.yaml: gives app, environments, table and region.",
            show_default="./conveyor.yaml if present",
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option("--table", help="History table name.", show_default="{app}-deployments"),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="AWS region.", show_default="spec, then AWS_REGION"),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, metavar="N", help="Recent deployments to list.")
    ] = 20,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")
    ] = Format.table,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            metavar="URL",
            help="DynamoDB endpoint of a local stack (DynamoDB Local, LocalStack), "
            "e.g. http://localhost:8000.",
            show_default="AWS's",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Show a bundled sample history instead (no AWS, no credentials)."
        ),
    ] = False,
) -> None:
    """Recent deployments and the four DORA metrics, read from the deployment history table.

    Deployment frequency, lead time (commit to deploy end), change failure rate and time to
    restore, per environment; definitions in docs/commands/history.md.
    Needs AWS credentials that may read the table (dynamodb:Query on it and its index).

    Examples:

      conveyor history --demo

      conveyor history --spec conveyor.yaml

      conveyor history --app payments --env prod --since 90d

      conveyor history --spec conveyor.yaml --format json | jq .environments.prod
    """
    if demo:
        where = {
            "--app": app_name,
            "--spec": spec,
            "--table": table,
            "--region": region,
            "--endpoint-url": endpoint_url,
        }
        given = [flag for flag, value in where.items() if value is not None]
        if given:
            fail(f"--demo shows the bundled sample; drop {', '.join(given)}")
        from conveyor.history import demo as sample
        from conveyor.history.reader import deployments_from_items

        items, now = sample.sample()
        start = _start(since, now)
        app_name, chosen_table = sample.APP, "the bundled sample (--demo)"
        chosen_envs = list(environments or sample.ENVIRONMENTS)
        deployments = [
            d for d in deployments_from_items(items, start) if d.environment in chosen_envs
        ]
        scanned = False
    else:
        now = datetime.now(UTC)
        start = _start(since, now)
        app_name, chosen_table, chosen_envs, chosen_region = _target(
            app_name, environments, spec, table, region
        )
        with console.status(f"Reading {chosen_table} …", spinner="dots"):
            deployments, scanned = _read(
                chosen_table, app_name, chosen_envs, start, chosen_region, endpoint_url
            )

    from conveyor.history.dora import metrics

    window_days = (now - start).total_seconds() / 86400
    envs = chosen_envs or sorted({d.environment for d in deployments})
    results = [
        metrics(env, [d for d in deployments if d.environment == env], window_days) for env in envs
    ]
    recent = sorted(deployments, key=lambda d: d.started_at or start, reverse=True)[:limit]

    if scanned:
        errors.print(
            "[yellow]![/] no environment given: read the table with a Scan; pass --env or "
            "--spec to query only what you need",
            soft_wrap=True,
        )
    if fmt is Format.json:
        typer.echo(
            json.dumps(
                {
                    "app": app_name,
                    "table": chosen_table,
                    "since": start.isoformat(),
                    "window_days": round(window_days, 3),
                    "environments": {m.environment: m.to_json() for m in results},
                    "deployments": [d.to_json() for d in recent],
                },
                indent=2,
            )
        )
        return
    window = f"since {start:%Y-%m-%d %H:%M} UTC ({window_days:.0f} days)"
    _print(app_name, chosen_table, window, recent, results, total=len(deployments))
    if demo:
        console.print(
            "  This is conveyor's bundled sample. For your pipeline's history: "
            "conveyor history --spec conveyor.yaml (AWS credentials that may read the table)."
        )


def _read(
    table: str,
    app: str,
    environments: list[str],
    since: datetime,
    region: str | None,
    endpoint_url: str | None,
) -> tuple[list[Deployment], bool]:
    import boto3  # type: ignore[import-untyped]
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    from conveyor.history.reader import read_deployments
    from conveyor.history.records import TIME_INDEX

    try:
        client = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)
        deployments, stats = read_deployments(client, table, app, environments or None, since)
    except NoRegionError:
        fail("no AWS region: pass --region eu-west-1, set AWS_REGION, or use --spec")
    except NoCredentialsError:
        fail(
            "no AWS credentials: set AWS_PROFILE (or run `aws sso login`) with access to "
            f"dynamodb:Query on {table}"
        )
    except EndpointConnectionError as exc:
        fail(f"cannot reach DynamoDB ({exc}); check the network and --region")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        where = client.meta.region_name
        if code == "ResourceNotFoundException":
            fail(
                f"no table {table} in {where}: deploy the pipeline first (conveyor deploy), "
                "or pass --table NAME / --region REGION"
            )
        if code in {"AccessDeniedException", "UnrecognizedClientException"} or "Token" in code:
            fail(
                f"AWS refused to read {table} ({code}: {error.get('Message', '')}); the "
                f"credentials need dynamodb:Query on the table and its index "
                f"({table}/index/{TIME_INDEX}), and dynamodb:Scan without --env"
            )
        fail(f"reading {table} failed: {code}: {error.get('Message', exc)}")
    except BotoCoreError as exc:
        fail(f"reading {table} failed: {exc}")
    return deployments, stats.scanned


def _print(
    app: str,
    table: str,
    window: str,
    recent: list[Deployment],
    results: list[Metrics],
    *,
    total: int,
) -> None:
    from rich.table import Table

    if not total:
        console.print(f"No deployments of {app} in {table} {window}.", soft_wrap=True)
        return
    listing = Table(
        title=f"{app}: latest {len(recent)} of {total} deployments", title_justify="left"
    )
    for column in ("Started (UTC)", "Env", "Outcome", "Took", "Lead time", "Commit", "By"):
        listing.add_column(column, overflow="fold" if column == "Commit" else "ellipsis")
    for d in recent:
        took = (d.ended_at - d.started_at).total_seconds() if d.ended_at and d.started_at else None
        outcome = d.outcome + (
            " (rolled back)" if d.rolled_back and d.outcome != "ROLLED_BACK" else ""
        )
        style = _OUTCOME_STYLE.get(d.outcome, "")
        commit = (d.commit or "")[:8]
        if d.commit_message:
            commit += " " + d.commit_message.splitlines()[0][:50]
        listing.add_row(
            d.started_at.strftime("%Y-%m-%d %H:%M") if d.started_at else "-",
            d.environment,
            f"[{style}]{outcome}[/]" if style else outcome,
            _duration(took),
            _duration(d.lead_time_seconds),
            commit or "-",
            (d.triggered_by or "-").rsplit("/", 1)[-1],
        )
    console.print(listing)

    dora = Table(title=f"DORA metrics {window}", title_justify="left")
    dora.add_column("Environment")
    dora.add_column("Deployment frequency", justify="right")
    dora.add_column("Lead time (median)", justify="right")
    dora.add_column("Change failure rate", justify="right")
    dora.add_column("Time to restore (median)", justify="right")
    for m in results:
        rate = "-" if m.change_failure_rate is None else f"{m.change_failure_rate:.0%}"
        dora.add_row(
            m.environment,
            f"{m.per_day:.2f}/day ({m.deployments})",
            _duration(m.lead_time_seconds),
            f"{rate} ({m.failures} failed)",
            _duration(m.restore_seconds) + (f" ({m.restores})" if m.restores else ""),
        )
    console.print(dora)
    measured = sum(m.deployments for m in results)
    from_commit = sum(m.lead_times_from_commit for m in results)
    if from_commit < measured:
        console.print(
            f"  Lead time runs from the commit for {from_commit} of {measured} deployments; "
            "where the commit time is unknown, from the pipeline execution's start.",
            soft_wrap=True,
        )
    rolled = [d for d in recent if d.rolled_back and d.rollback_by]
    if rolled:
        console.print(
            "  Rolled back by "
            + ", ".join(sorted({d.rollback_by or "" for d in rolled}))
            + ": time to restore ends when the rollback finished.",
            soft_wrap=True,
        )
