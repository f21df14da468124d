"""The pull-request pipeline in `plan`, `diagram` and `cost` (issue 11): Source then the Build
stage's checks, nothing pushed, nothing deployed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.cost.estimate import Usage, estimate
from conveyor.cost.prices import Prices
from conveyor.diagram.mermaid import to_mermaid
from conveyor.plan import plan, pull_request_plan
from conveyor.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORDERS = EXAMPLES / "validated-service.yaml"


def test_the_pull_request_pipeline_builds_tests_and_scans_and_never_deploys() -> None:
    pulls = pull_request_plan(load_spec(ORDERS))
    assert pulls is not None
    assert pulls.pipeline == "orders-pr"
    assert (pulls.branches, pulls.events) == (("main",), ("OPEN", "UPDATED"))
    assert [s.name for s in pulls.stages] == ["Source", "Build"]
    build = pulls.stages[1]
    assert [(a.name, a.run_order) for a in build.actions] == [
        ("Build", 1),
        ("Scan-gitleaks", 1),
        ("Scan-trivy", 2),
        ("ScanGate", 3),
    ]
    kinds = {a.kind for s in pulls.stages for a in s.actions}
    assert kinds <= {"source", "build", "test", "scan", "gate"}
    assert not any("ECR" in use for s in pulls.stages for a in s.actions for use in a.uses)
    # The delivery pipeline's Build stage has the same actions, pushing to ECR.
    (main_build,) = [s for s in plan(load_spec(ORDERS)).stages if s.name == "Build"]
    assert [a.name for a in main_build.actions] == [a.name for a in build.actions]
    assert "ECR repository" in main_build.actions[0].uses


def test_specs_without_pull_requests_have_none() -> None:
    assert plan(load_spec(EXAMPLES / "payments.yaml")).pull_requests is None


def test_plan_command_shows_it_after_the_delivery_pipeline() -> None:
    result = CliRunner().invoke(app, ["plan", str(ORDERS)])
    assert result.exit_code == 0, result.output
    tail = result.output.split("Pull requests:", 1)[1]
    assert "pipeline orders-pr, started by pull requests into main, opened or updated" in tail
    assert "never deploys" in tail
    assert "Scan-trivy" in tail and "Deploy" not in tail


def test_plan_command_json_has_it() -> None:
    result = CliRunner().invoke(app, ["plan", str(ORDERS), "--format", "json"])
    assert result.exit_code == 0, result.output
    pulls = json.loads(result.output)["pull_requests"]
    assert pulls["pipeline"] == "orders-pr"
    assert pulls["deploys"] is False
    assert [s["name"] for s in pulls["stages"]] == ["Source", "Build"]
    payments = CliRunner().invoke(app, ["plan", str(EXAMPLES / "payments.yaml"), "-f", "json"])
    assert json.loads(payments.output)["pull_requests"] is None


def test_mermaid_draws_it_as_a_pipeline_of_its_own() -> None:
    text = to_mermaid(plan(load_spec(ORDERS)))
    assert 'subgraph PR["pipeline orders-pr: pull requests into main' in text
    assert "image archive (never pushed)" in text
    # No edge joins the two pipelines.
    assert not any("S" in line and "P0" in line and "-->" in line for line in text.splitlines())


def test_cost_counts_its_runs_action_minutes_and_build_minutes_and_key() -> None:
    spec = load_spec(ORDERS)
    prices = Prices.bundled()
    region = spec.pipeline_region or prices.base_region
    with_pulls = estimate(plan(spec), Usage(pull_request_runs_per_day=10), prices, region)
    lines = {line.item: line for line in with_pulls.lines}
    pipeline_line = lines["pull requests: V2 action minutes (8 per run x 300)"]
    # Source 0.2 -> 1, Build 3, gitleaks 1.5 -> 2, trivy 1, gate 0.2 -> 1: 8 billed minutes.
    assert pipeline_line.quantity == 8 * 300
    assert lines["pull requests, medium: 3 min per run x 300"].quantity == 900
    assert lines["pull requests, small: 2.5 min per run x 300"].quantity == 750
    none = estimate(plan(spec), Usage(pull_request_runs_per_day=0), prices, region)
    assert with_pulls.total > none.total
    stored = lines["pull-request artifacts kept 30 days"]
    assert stored.quantity == (100 + 250) / 1024 * 10 * 30  # artifacts + the image archive
    keys = {line.item: line.quantity for line in with_pulls.lines if line.service == "KMS"}
    assert keys["customer managed keys"] == 1 + 2 + 1  # pipeline, two services, pull requests


def test_cost_command_takes_pull_requests_per_day() -> None:
    result = CliRunner().invoke(
        app, ["cost", str(ORDERS), "--pull-requests-per-day", "2", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    items = [line["item"] for line in json.loads(result.output)["lines"]]
    assert "pull requests: V2 action minutes (8 per run x 60)" in items
