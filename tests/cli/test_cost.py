"""`conveyor cost` as a user runs it: the table, JSON for scripts, and every bad-input exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "web-service.yaml"
MINIMAL = ROOT / "examples" / "minimal.yaml"
runner = CliRunner()


def test_table_lists_services_and_total() -> None:
    result = runner.invoke(app, ["cost", str(EXAMPLE)], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    for service in ("CodePipeline", "CodeBuild", "Fargate", "Load balancer", "VPC", "Total"):
        assert service in result.output
    assert "eu-west-1" in result.output  # the spec's region
    assert "as of" in result.output


def test_json_is_scriptable_and_adds_up() -> None:
    result = runner.invoke(app, ["cost", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["region"] == "eu-west-1"
    assert data["usage"]["deploys_per_day"] == 5
    assert data["usage"]["executions_per_month"] == 150
    assert data["total_monthly"] == pytest.approx(sum(data["services"].values()), abs=0.05)
    assert data["services"]["Fargate"] > 0


def test_options_change_the_estimate() -> None:
    def total(*args: str) -> float:
        result = runner.invoke(app, ["cost", str(MINIMAL), "-f", "json", *args])
        assert result.exit_code == 0, result.output
        value: float = json.loads(result.stdout)["services"]["CodeBuild"]
        return value

    # Rounded to cents, so doubling may differ by one cent.
    assert total("--deploys-per-day", "10") == pytest.approx(2 * total(), abs=0.011)
    assert total("--build-minutes", "8") > total()


def test_existing_service_has_no_fargate_line() -> None:
    result = runner.invoke(app, ["cost", str(MINIMAL), "-f", "json"])
    data = json.loads(result.stdout)
    assert "Fargate" not in data["services"]
    assert any("existing services" in note for note in data["notes"])


def test_unknown_region_warns_and_uses_base_prices() -> None:
    result = runner.invoke(app, ["cost", str(MINIMAL), "--region", "mars-north-1"])
    assert result.exit_code == 0, result.output
    assert "no prices for mars-north-1" in result.output


def test_own_price_file(tmp_path: Path) -> None:
    bundled = json.loads((ROOT / "src/conveyor/cost/prices.json").read_text())
    prices = bundled["services"]["codebuild"]["prices"]
    for name in prices:
        prices[name] = 0.0
    # Only the build runs on medium compute (scans run on small): $1 a minute makes its minutes
    # visible: 3 minutes (the plan's medium build) x 5 deploys a day x 30 days.
    prices["minute.medium"] = 1.0
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps(bundled))
    result = runner.invoke(app, ["cost", str(MINIMAL), "-f", "json", "--prices", str(mine)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["services"]["CodeBuild"] == 450.0
    longer = runner.invoke(
        app, ["cost", str(MINIMAL), "-f", "json", "--prices", str(mine), "--build-minutes", "8"]
    )
    assert json.loads(longer.stdout)["services"]["CodeBuild"] == 1200.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ('{"services": {"codebuild": {"prices": {}}}}', "no price for codepipeline"),
    ],
)
def test_bad_price_file_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    mine = tmp_path / "prices.json"
    if content is not None:
        mine.write_text(content)
    result = runner.invoke(app, ["cost", str(MINIMAL), "--prices", str(mine)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_negative_usage_exits_2() -> None:
    result = runner.invoke(app, ["cost", str(MINIMAL), "--deploys-per-day", "-1"])
    assert result.exit_code == 2
    assert "--deploys-per-day" in result.output


@pytest.mark.parametrize(
    ("option", "value", "greatest"),
    [
        ("--deploys-per-day", "1e308", "1440"),
        ("--build-minutes", "1e308", "2160"),
        ("--image-mb", "1e12", "100000"),
        ("--lcu", "1e308", "1000000"),
    ],
)
def test_usage_past_any_real_pipeline_exits_2_not_an_infinite_estimate(
    option: str, value: str, greatest: str
) -> None:
    result = runner.invoke(app, ["cost", str(MINIMAL), option, value])
    assert result.exit_code == 2
    assert option in result.output and greatest in result.output
    assert "inf" not in result.output.replace("information", "")
    within = runner.invoke(app, ["cost", str(MINIMAL), option, greatest, "-f", "json"])
    assert within.exit_code == 0, within.output


def test_invalid_spec_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text("app: web\n")
    result = runner.invoke(app, ["cost", str(spec)])
    assert result.exit_code == 2


def test_the_documented_example_table_is_what_cost_prints() -> None:
    """docs/commands/cost.md shows `conveyor cost examples/web-service.yaml`; a price or model
    change that moves a number must move the page too."""
    import re

    result = runner.invoke(app, ["cost", str(EXAMPLE), "--format", "json"])
    data = json.loads(result.stdout)
    page = (ROOT / "docs" / "commands" / "cost.md").read_text()
    documented = dict(re.findall(r"^\| ([A-Za-z0-9 ]+) \| ([0-9.]+) \|$", page, re.M))
    assert documented == {k: f"{v:.2f}" for k, v in data["services"].items()}
    assert f"| **total** | **{data['total_monthly']:.2f}** |" in page


def test_the_documented_payments_network_saving_is_what_cost_prints(tmp_path: Path) -> None:
    """docs/commands/cost.md: payments before and after staging's placement: public (issue 15's
    closing note)."""
    payments = ROOT / "examples" / "payments.yaml"
    text = payments.read_text()
    private = "create: {port: 8080, health_check_path: /health, desired_count: 2}"
    assert text.count(private) == 1  # staging's service
    nat_free = tmp_path / "payments.yaml"
    nat_free.write_text(text.replace(private, private[:-1] + ", placement: public}"))
    page = (ROOT / "docs" / "commands" / "cost.md").read_text()
    for spec, label in ((payments, "both environments private"), (nat_free, "staging `placement")):
        data = json.loads(runner.invoke(app, ["cost", str(spec), "--format", "json"]).stdout)
        row = next(line for line in page.splitlines() if line.startswith(f"| {label}"))
        assert row.endswith(f"| {data['services']['VPC']:.2f} | {data['total_monthly']:.2f} |"), row


def test_a_scheduled_job_costs_its_runs_and_the_run_length_is_an_option() -> None:
    job = ROOT / "examples" / "scheduled-job.yaml"

    def fargate(*args: str) -> float:
        result = runner.invoke(app, ["cost", str(job), "--format", "json", *args])
        assert result.exit_code == 0, result.output
        services: dict[str, float] = json.loads(result.stdout)["services"]
        assert "Load balancer" not in services
        return services["Fargate"]

    # Twice as long a run, twice the Fargate bill (runs a month x minutes).
    assert fargate("--job-run-minutes", "20") == pytest.approx(2 * fargate(), abs=0.02)
    bad = runner.invoke(app, ["cost", str(job), "--job-run-minutes", "-1"])
    assert bad.exit_code == 2
