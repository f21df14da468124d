"""`conveyor plan SPEC`: the stages and actions in order, what runs in parallel, and the
critical-path estimate until each environment serves a new version."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from conveyor.cli.output import console, spec_path
from conveyor.cli.validate import load_or_exit

if TYPE_CHECKING:
    from conveyor.plan import Plan, Stage


class Format(StrEnum):
    text = "text"
    json = "json"


def _stage_json(stage: Stage) -> dict[str, Any]:
    return {
        "name": stage.name,
        "environment": stage.environment,
        # Only for an environment in another region than the pipeline's.
        **({"region": stage.region} if stage.region else {}),
        "minutes": round(stage.minutes, 2),
        "conditions": [
            {
                "kind": c.kind,
                "result": c.result,
                "retry_mode": c.retry_mode,
                "rules": [
                    {
                        "name": r.name,
                        "provider": r.provider,
                        "configuration": dict(r.configuration),
                    }
                    for r in c.rules
                ],
                "summary": c.describe(),
            }
            for c in stage.conditions
        ],
        "waves": [
            [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "provider": a.provider,
                    "run_order": a.run_order,
                    "minutes": round(a.minutes, 2),
                    "uses": list(a.uses),
                }
                for a in wave
            ]
            for wave in stage.waves()
        ],
    }


def _as_json(result: Plan) -> dict[str, Any]:
    environments = [s.environment for s in result.stages if s.environment]
    pulls = result.pull_requests
    return {
        "app": result.app,
        "stages": [_stage_json(stage) for stage in result.stages],
        "minutes_until_serving": {
            env: round(result.minutes_until_serving(env), 2) for env in environments if env
        },
        "minutes_total": round(result.minutes, 2),
        "pull_requests": (
            {
                "pipeline": pulls.pipeline,
                "branches": list(pulls.branches),
                "events": list(pulls.events),
                "deploys": False,
                "stages": [_stage_json(stage) for stage in pulls.stages],
                "minutes_total": round(pulls.minutes, 2),
            }
            if pulls is not None
            else None
        ),
    }


def _print_stage(number: int, stage: Stage) -> None:
    where = f"  (in {stage.region})" if stage.region else ""
    console.print(f"\n[bold]{number}. {stage.name}[/]  ~{stage.minutes:.1f} min{where}")
    for condition in stage.conditions:
        if condition.kind == "before_entry":
            console.print(f"   ◆ {condition.describe()}", highlight=False)
    for wave in stage.waves():
        parallel = len(wave) > 1
        for action in wave:
            marker = "║" if parallel else "│"
            took = "person" if action.kind == "approval" else f"{action.minutes:.1f} min"
            console.print(
                f"   {marker} {action.name:<20} {action.provider:<26} {took:>8}",
                highlight=False,
            )
        if parallel:
            console.print(f"     ({len(wave)} actions in parallel)", style="dim")
    for condition in stage.conditions:
        if condition.kind != "before_entry":
            console.print(f"   ◆ {condition.describe()}", highlight=False)


def plan(
    spec: Annotated[
        Path,
        typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", metavar="FORMAT", help="text or json.")
    ] = Format.text,
) -> None:
    """Show the pipeline's stages in order, its parallel actions, and how long it takes.

    The estimate adds, stage by stage, the slowest action of each parallel wave; approvals
    count zero. "Serving" is the moment an environment answers with the new version: for
    blue/green and canary deployments, before the traffic shift and bake time finish. Defaults
    per action are in docs/commands/plan.md; replace them under `estimates:` in conveyor.yaml.

    Examples:

      conveyor plan examples/payments.yaml

      conveyor plan conveyor.yaml --format json
    """
    from conveyor.plan import plan as make_plan

    result = make_plan(load_or_exit(spec))
    if fmt is Format.json:
        console.print_json(json.dumps(_as_json(result)))
        return
    console.print(f"[bold]{result.app}[/]: {len(result.stages)} stages")
    for number, stage in enumerate(result.stages, 1):
        _print_stage(number, stage)
    console.print()
    # A scheduled job serves nothing: its release is deployed, and its next run starts it.
    jobs = {s.environment for s in result.services if s.runs_per_month is not None}
    # An environment has one to three stages (Approve-, Release-, then Deploy-<env>).
    for environment in dict.fromkeys(s.environment for s in result.stages if s.environment):
        serving = result.minutes_until_serving(environment)
        approved = any(
            a.kind == "approval"
            for s in result.stages
            if s.environment == environment
            for a in s.actions
        )
        what = (
            "'s next scheduled run starts the new version; deployed after"
            if environment in jobs
            else " serves the new version after"
        )
        console.print(
            f"{environment}{what} ~{serving:.1f} min"
            + (" (plus approval wait)" if approved else "")
        )
    console.print(f"whole pipeline, bake and traffic shifts included: ~{result.minutes:.1f} min")
    pulls = result.pull_requests
    if pulls is not None:
        console.print(
            f"\n[bold]Pull requests[/]: pipeline {pulls.pipeline}, started by "
            f"{pulls.describe()}; builds, tests and scans, never deploys "
            f"(~{pulls.minutes:.1f} min)",
            highlight=False,
        )
        for number, stage in enumerate(pulls.stages, 1):
            _print_stage(number, stage)
