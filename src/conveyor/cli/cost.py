"""`conveyor cost SPEC`: what the pipeline and what it creates cost a month, by service."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli.output import console, errors, fail, spec_path
from conveyor.cli.validate import load_or_exit


class Format(StrEnum):
    table = "table"
    json = "json"


def _price(value: float) -> str:
    # Per-GB-second prices are tiny; scientific notation would hide them from most readers.
    return f"{value:.10f}".rstrip("0").rstrip(".") if value < 0.001 else f"{value:g}"


# Upper bounds of the usage options: a finite value past them (1e308 executions a day) made
# every total infinite. Each is far above any real pipeline: one execution a minute; CodeBuild's
# longest build timeout (36 hours,
# https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html); a 100 GB image; a
# million LCUs.
MAX_DEPLOYS_PER_DAY = 1440.0
MAX_BUILD_MINUTES = 2160.0
MAX_IMAGE_MB = 100_000.0
MAX_LCU = 1_000_000.0


def cost(
    spec: Annotated[
        Path,
        typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", metavar="FORMAT", help="table or json.")
    ] = Format.table,
    deploys_per_day: Annotated[
        float,
        typer.Option(
            "--deploys-per-day",
            min=0.0,
            max=MAX_DEPLOYS_PER_DAY,
            metavar="N",
            help="Pipeline executions a day, through every stage.",
        ),
    ] = 5.0,
    pull_requests_per_day: Annotated[
        float,
        typer.Option(
            "--pull-requests-per-day",
            min=0.0,
            max=MAX_DEPLOYS_PER_DAY,
            metavar="N",
            help="Runs of the pull-request pipeline a day (source.github.pull_requests).",
        ),
    ] = 10.0,
    build_minutes: Annotated[
        float | None,
        typer.Option(
            "--build-minutes",
            min=0.0,
            max=MAX_BUILD_MINUTES,
            metavar="MINUTES",
            help="Minutes one build takes.",
            show_default="the plan's typical duration",
        ),
    ] = None,
    image_mb: Annotated[
        float,
        typer.Option(
            "--image-mb",
            min=0.0,
            max=MAX_IMAGE_MB,
            metavar="MB",
            help="Compressed size of one image.",
        ),
    ] = 250.0,
    lcu: Annotated[
        float,
        typer.Option(
            "--lcu",
            min=0.0,
            max=MAX_LCU,
            help="Load balancer capacity units per hour (traffic).",
        ),
    ] = 1.0,
    job_run_minutes: Annotated[
        float,
        typer.Option(
            "--job-run-minutes",
            min=0.0,
            max=MAX_BUILD_MINUTES,
            metavar="MINUTES",
            help="Minutes one run of a scheduled job (kind: job) lasts.",
        ),
    ] = 10.0,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Price region.", show_default="the spec's region"),
    ] = None,
    prices_file: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            metavar="FILE",
            help="Your own price file, shaped like conveyor's.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Estimate the monthly cost of the pipeline and what it creates, by service.

    List prices (dated; sources in docs/commands/cost.md) times usage assumptions: the
    options below, the spec's retention settings, and documented defaults. An estimate, not a
    quote: no free tiers, discounts, taxes or data transfer.

    Examples:

      conveyor cost conveyor.yaml

      conveyor cost conveyor.yaml --deploys-per-day 20 --build-minutes 8 --region eu-central-1

      conveyor cost conveyor.yaml --format json
    """
    from conveyor.cost.estimate import Usage, estimate
    from conveyor.cost.prices import Prices, PricesError
    from conveyor.plan import plan

    loaded = load_or_exit(spec)
    try:
        prices = Prices.from_file(prices_file) if prices_file else Prices.bundled()
    except PricesError as exc:
        fail(f"{exc} (--prices)")
    chosen_region = region or loaded.pipeline_region or prices.base_region
    if not prices.knows(chosen_region):
        errors.print(
            f"[yellow]![/] no prices for {chosen_region}; showing {prices.base_region} list prices",
            soft_wrap=True,
        )
    for option, value in (
        ("--deploys-per-day", deploys_per_day),
        ("--pull-requests-per-day", pull_requests_per_day),
        ("--build-minutes", build_minutes),
        ("--image-mb", image_mb),
        ("--lcu", lcu),
        ("--job-run-minutes", job_run_minutes),
    ):
        if value is not None and not math.isfinite(value):
            fail(f"{option} {value} is not a number of anything; give a finite value")
    usage = Usage(
        deploys_per_day=deploys_per_day,
        pull_request_runs_per_day=pull_requests_per_day,
        build_minutes=build_minutes,
        image_mb=image_mb,
        lcu_per_hour=lcu,
        job_run_minutes=job_run_minutes,
        artifact_days=loaded.retention.artifact_days,
        images_kept=loaded.retention.images,
        log_days=loaded.retention.log_days,
    )
    try:
        result = estimate(plan(loaded), usage, prices, chosen_region)
    except PricesError as exc:
        missing = str(exc).startswith("no price for")
        fail(
            f"{exc}: add it to {prices_file or 'the price file'}"
            if missing
            else f"{exc} (--prices)"
        )

    if fmt is Format.json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    from rich.table import Table

    table = Table(
        title=f"{result.app}: estimated monthly cost in {result.region} ({result.currency})",
        title_justify="left",
    )
    table.add_column("Service")
    table.add_column("What")
    table.add_column("Quantity", justify="right")
    table.add_column("Unit price", justify="right")
    table.add_column("Monthly", justify="right")
    by_service = result.by_service()
    for name in by_service:
        rows = [line for line in result.lines if line.service == name]
        for index, line in enumerate(rows):
            table.add_row(
                name if index == 0 else "",
                line.item,
                f"{line.quantity:,.4g} {line.unit}",
                _price(line.unit_price),
                f"{line.monthly:,.2f}",
            )
        table.add_row("", f"[bold]{name} total[/]", "", "", f"[bold]{by_service[name]:,.2f}[/]")
        table.add_section()
    table.add_row("[bold]Total[/]", "", "", "", f"[bold]{result.total:,.2f}[/]")
    console.print(table)
    for note in result.notes:
        console.print(f"  • {note}", soft_wrap=True)
