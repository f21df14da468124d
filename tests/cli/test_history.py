"""`conveyor history` as a user runs it, against moto: tables, JSON, and every error path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from conveyor.cli.history import parse_since, table_name
from conveyor.cli.main import app
from tests.history.generate import START, create_table, history_items, load

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
SINCE = ["--since", "2025-12-01"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "web-deployments")
        load(client, "web-deployments", history_items("web", 40, environments=("prod",)))
        yield client


def test_table_output_lists_deployments_and_dora_metrics(aws: Any) -> None:
    # No width set: output that is not a terminal is never wrapped, whatever COLUMNS says.
    result = runner.invoke(app, ["history", "--app", "web", "--env", "prod", *SINCE])
    assert result.exit_code == 0, result.output
    assert "latest 20 of 40 deployments" in result.output
    assert "DORA metrics" in result.output
    assert "Deployment frequency" in result.output and "Change failure rate" in result.output
    assert "change 39" in result.output  # newest first


def test_json_output_with_spec_derived_table_and_region(aws: Any) -> None:
    result = runner.invoke(
        app,
        ["history", "--spec", str(ROOT / "examples" / "web-service.yaml"), *SINCE, "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["table"] == "web-deployments"
    prod = data["environments"]["prod"]
    assert prod["deployments"] + prod["failures"] == 40
    assert 0 <= prod["change_failure_rate"] <= 1
    assert prod["lead_time_seconds"] > 0
    assert len(data["deployments"]) == 20
    assert data["deployments"][0]["commit_message"] == "change 39"


def test_no_deployments_in_the_window(aws: Any) -> None:
    result = runner.invoke(app, ["history", "--app", "web", "--env", "prod", "--since", "1d"])
    assert result.exit_code == 0, result.output
    assert "No deployments of web" in result.output


def test_scan_without_environment_says_so(aws: Any) -> None:
    result = runner.invoke(app, ["history", "--app", "web", *SINCE])
    assert result.exit_code == 0, result.output
    assert "Scan" in result.output
    assert "prod" in result.output


def test_missing_table_exits_2(aws: Any) -> None:
    result = runner.invoke(app, ["history", "--app", "shop", "--env", "prod"])
    assert result.exit_code == 2
    assert "no table shop-deployments in eu-west-1" in result.output
    assert "--table" in result.output


def test_no_credentials_exits_2(no_credentials: None) -> None:
    result = runner.invoke(
        app, ["history", "--app", "web", "--env", "prod", "--region", "eu-west-1"]
    )
    assert result.exit_code == 2
    assert "no AWS credentials" in result.output


def test_no_region_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    result = runner.invoke(app, ["history", "--app", "web", "--env", "prod"])
    assert result.exit_code == 2
    assert "no AWS region" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "prod"], "pass --app NAME or --spec"),
        (["--app", "web", "--since", "soon"], "--since"),
        (["--app", "web", "--since", "2999-01-01"], "in the future"),
        (["--spec", "missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_input_exits_2(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no conveyor.yaml to fall back on
    result = runner.invoke(app, ["history", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_since_and_table_name_helpers() -> None:
    assert parse_since("2d", START) == START - timedelta(days=2)
    assert parse_since("3w", START) == START - timedelta(weeks=3)
    assert parse_since("2026-03-01", START).isoformat() == "2026-03-01T00:00:00+00:00"
    assert table_name("web") == "web-deployments"
    assert table_name("web", "pr-7") == "web-deployments-pr-7"


def test_says_where_lead_time_starts_and_who_rolled_back(aws: Any) -> None:
    # No width set: output that is not a terminal is never wrapped (conveyor.cli.console).
    create_table(aws, "old-deployments")
    load(aws, "old-deployments", history_items("old", 10, environments=("prod",), legacy=True))
    aws.put_item(
        TableName="old-deployments",
        Item={
            "pk": {"S": "old#prod"},
            "sk": {"S": "ffffffff-0000-4000-8000-000000000000"},
            "outcome": {"S": "ROLLED_BACK"},
            "started_at": {"S": "2026-01-05T00:00:00.000000Z"},
            "ended_at": {"S": "2026-01-05T00:09:00.000000Z"},
            "rolled_back": {"BOOL": True},
            "rollback_by": {"S": "validation"},
            "rolled_back_at": {"S": "2026-01-05T00:08:00.000000Z"},
        },
    )

    result = runner.invoke(app, ["history", "--app", "old", "--env", "prod", *SINCE])

    assert result.exit_code == 0, result.output
    assert "Lead time runs from the commit for 0 of" in result.output
    assert "Rolled back by validation" in result.output
    data = json.loads(
        runner.invoke(
            app, ["history", "--app", "old", "--env", "prod", *SINCE, "-f", "json"]
        ).stdout
    )
    rolled = data["deployments"][0]
    assert (rolled["rollback_by"], rolled["rolled_back_at"]) == (
        "validation",
        "2026-01-05T00:08:00.000000Z",
    )
    assert data["deployments"][1]["lead_time_from"] == "pipeline start"


# --- the bundled sample (--demo) and local stacks (--endpoint-url) ------------------------------


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, no config, no region: what a first-time user has."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.chdir(tmp_path)  # no ./conveyor.yaml


def test_demo_shows_the_table_and_dora_metrics_without_aws(no_aws: None) -> None:
    result = runner.invoke(app, ["history", "--demo"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "payments: latest 20 of 88 deployments"
    assert "│ 2026-11-25 21:10 │ staging │ ROLLED_BACK │ 13 min │ 7.7 h" in lines[4]
    assert "DORA metrics since 2026-10-26 21:23 UTC (30 days)" in result.stdout
    staging = next(line for line in lines if line.startswith("│ staging "))
    assert staging.split("│")[2:6] == [
        "        1.37/day (41) ",
        "              6.0 h ",
        "      13% (6 failed) ",
        "                5.0 h (5) ",
    ]
    assert "This is conveyor's bundled sample" in result.stdout


def test_demo_as_json_with_a_window_and_an_environment(no_aws: None) -> None:
    result = runner.invoke(
        app, ["history", "--demo", "--env", "prod", "--since", "7d", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["app"], data["since"], data["window_days"]) == (
        "payments",
        "2026-11-18T21:23:00+00:00",
        7.0,
    )
    assert list(data["environments"]) == ["prod"]
    assert data["environments"]["prod"]["deployments"] == 7
    assert {d["environment"] for d in data["deployments"]} == {"prod"}


def test_demo_refuses_options_that_name_a_real_table(no_aws: None) -> None:
    result = runner.invoke(app, ["history", "--demo", "--app", "web", "--region", "eu-west-1"])
    assert result.exit_code == 2
    assert "--demo shows the bundled sample; drop --app, --region" in result.output


def test_without_an_app_the_error_points_at_the_demo(no_aws: None) -> None:
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 2
    assert "pass --app NAME or --spec conveyor.yaml, or try --demo" in result.output


def test_the_bundled_sample_is_what_the_generator_writes() -> None:
    from importlib.resources import files

    from tests.history.generate import demo_items

    bundled = json.loads(files("conveyor.history").joinpath("demo.json").read_text())
    assert bundled == demo_items(), (
        "python -m tests.history.generate > src/conveyor/history/demo.json"
    )


def test_endpoint_url_is_where_the_table_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on the discard port: the error names the endpoint that was used.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    result = runner.invoke(
        app,
        [
            "history",
            "--app",
            "web",
            "--env",
            "prod",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2
    assert (
        'cannot reach DynamoDB (Could not connect to the endpoint URL: "http://127.0.0.1:9/")'
        in (result.output)
    )
