"""Lambda runtimes and their deprecation dates: validate warns 180 days before a runtime's date
and refuses it from that date; every date is passed in, so these pass on any day."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from conveyor import lambda_runtimes
from conveyor.cli.main import app
from conveyor.spec import parse_spec
from conveyor.spec.models import LambdaFunction, LambdaRuntime
from conveyor.spec.readiness import blocking, concerns

ROOT = Path(__file__).resolve().parents[2]
QUOTES = (ROOT / "examples" / "lambda-canary.yaml").read_text()
NODE_22_ENDS = date(2027, 4, 30)
runner = CliRunner()


def _on(runtime: str) -> str:
    return QUOTES.replace("runtime: python3.12", f"runtime: {runtime}")


def _runtime_concerns(text: str, today: date) -> list[tuple[str, int | None, str, bool, bool]]:
    return [
        (c.path, c.problem(text).line, c.message, c.refused, c.blocks_deploy)
        for c in concerns(parse_spec(text), today)
        if c.path.endswith(".runtime")
    ]


def test_the_spec_offers_the_dated_runtimes_and_defaults_to_the_newest() -> None:
    assert get_args(LambdaRuntime) == lambda_runtimes.OFFERED
    # Every offered runtime has a date: none can go past its end unnoticed.
    assert all(r in lambda_runtimes.DEPRECATION_DATES for r in lambda_runtimes.OFFERED)
    assert "nodejs24.x" in lambda_runtimes.OFFERED and "python3.14" in lambda_runtimes.OFFERED
    assert LambdaFunction().runtime == "python3.14" == lambda_runtimes.newest("python")
    assert lambda_runtimes.newest("nodejs") == "nodejs24.x"
    newest_date = max(lambda_runtimes.DEPRECATION_DATES[r] for r in lambda_runtimes.OFFERED)
    assert lambda_runtimes.DEPRECATION_DATES["python3.14"] == newest_date


def test_no_concern_more_than_180_days_before_the_date() -> None:
    text = _on("nodejs22.x")
    assert _runtime_concerns(text, NODE_22_ENDS - timedelta(days=181)) == []


@pytest.mark.parametrize("days", [180, 1])
def test_a_warning_within_180_days_names_the_key_the_date_and_the_successor(days: int) -> None:
    text = _on("nodejs22.x")
    found = _runtime_concerns(text, NODE_22_ENDS - timedelta(days=days))
    unit = "day" if days == 1 else "days"
    message = (
        f"Lambda deprecates nodejs22.x on 2027-04-30, in {days} {unit}; from that date conveyor "
        "validate refuses it and conveyor check reports CV076: write runtime: nodejs24.x (and "
        "test the code on it)"
    )
    assert found == [
        ("environments[0].deploy.lambda.function.runtime", 25, message, False, False),
        ("environments[1].deploy.lambda.function.runtime", 41, message, False, False),
    ]


@pytest.mark.parametrize("after", [0, 400])
def test_from_the_date_on_the_runtime_is_refused(after: int) -> None:
    text = _on("python3.12")
    found = _runtime_concerns(text, date(2028, 10, 31) + timedelta(days=after))
    assert len(found) == 2
    path, line, message, refused, blocks = found[0]
    assert (path, line, refused, blocks) == (
        "environments[0].deploy.lambda.function.runtime",
        25,
        True,
        True,
    )
    assert message.startswith("Lambda deprecated python3.12 on 2028-10-31: ")
    assert message.endswith(
        "conveyor check reports CV076; write runtime: python3.14 (and test the code on it)"
    )
    spec = parse_spec(text)
    refusing = [c.path for c in blocking(spec, date(2028, 10, 31)) if c.check_rule == "CV076"]
    assert refusing == [path, path.replace("[0]", "[1]")]  # deploy refuses it too


def _validate(tmp_path: Path, text: str, today: str) -> tuple[int, str, str]:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text(text)
    result = runner.invoke(app, ["validate", str(spec)], env={"CONVEYOR_TODAY": today})
    return result.exit_code, result.stdout, result.stderr


def test_validate_warns_before_the_date_and_exits_0(tmp_path: Path) -> None:
    code, out, err = _validate(tmp_path, _on("nodejs22.x"), "2027-03-01")
    assert code == 0
    assert out.startswith("✓ ")
    key = "environments[0].deploy.lambda.function.runtime"
    assert (
        f"warning: {tmp_path / 'conveyor.yaml'}:25: {key}: "
        "Lambda deprecates nodejs22.x on 2027-04-30, in 60 days;" in err
    )


def test_validate_refuses_a_deprecated_runtime_with_exit_2(tmp_path: Path) -> None:
    code, out, err = _validate(tmp_path, _on("nodejs22.x"), "2027-04-30")
    assert code == 2
    assert "is valid" not in out
    key = "environments[0].deploy.lambda.function.runtime"
    assert (
        f"error: {tmp_path / 'conveyor.yaml'}:25: {key}: "
        "Lambda deprecated nodejs22.x on 2027-04-30:" in err
    )
    assert "write runtime: nodejs24.x" in err
    # The placeholders are still said, as warnings.
    assert "warning: " in err and "example connection ARN" in err


def test_a_spec_on_the_newest_runtimes_is_quiet_for_years(tmp_path: Path) -> None:
    for runtime in ("python3.14", "nodejs24.x"):
        assert _runtime_concerns(_on(runtime), date(2027, 4, 30)) == []


@pytest.mark.parametrize("command", [["validate", str(ROOT / "examples" / "minimal.yaml")]])
def test_a_conveyor_today_that_is_no_date_exits_2(command: list[str]) -> None:
    result = runner.invoke(app, command, env={"CONVEYOR_TODAY": "next tuesday"})
    assert result.exit_code == 2
    assert (
        "error: CONVEYOR_TODAY='next tuesday' is not a date: write it as YYYY-MM-DD, or unset "
        "it for today's date" in result.stderr
    )
    assert "Traceback" not in result.output


def test_check_refuses_a_conveyor_today_that_is_no_date() -> None:
    template = str(ROOT / "tests" / "rules" / "fixtures" / "CV076" / "good.yaml")
    result = runner.invoke(app, ["check", template], env={"CONVEYOR_TODAY": "2027-13-01"})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: CONVEYOR_TODAY='2027-13-01' is not a date")


def test_conveyors_own_handler_runtime_is_dated_and_warned_about_before_its_date() -> None:
    """The handlers conveyor deploys into every pipeline run on lambda_runtimes.HANDLERS:
    validate says when this conveyor is due for an upgrade, naming no key of the spec."""
    handlers_end = lambda_runtimes.DEPRECATION_DATES[lambda_runtimes.HANDLERS]
    spec = parse_spec(_on("python3.14"))
    assert [c for c in concerns(spec, handlers_end - timedelta(days=181)) if not c.path] == []
    (soon,) = [c for c in concerns(spec, handlers_end - timedelta(days=30)) if not c.path]
    assert soon.message.startswith("conveyor ")
    assert f"run on {lambda_runtimes.HANDLERS}, which Lambda deprecates on" in soon.message
    assert "upgrade conveyor" in soon.message
    assert (soon.blocks_deploy, soon.refused, soon.check_rule) == (False, False, None)
    assert (
        soon.problem(_on("python3.14"))
        .render("conveyor.yaml")
        .startswith("conveyor.yaml: conveyor ")
    )
    (past,) = [c for c in concerns(spec, handlers_end) if not c.path]
    assert (past.blocks_deploy, past.refused, past.check_rule) == (False, False, "CV076")
