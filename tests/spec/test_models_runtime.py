"""Spec keys and checks added for runtime defects (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.spec import SpecError, parse_spec

ROOT = Path(__file__).resolve().parents[2]
QUOTES = (ROOT / "examples" / "lambda-canary.yaml").read_text()


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def _architectures(text: str) -> list[str]:
    spec = parse_spec(text, "conveyor.yaml")
    return [e.deploy.lambda_.function.architecture for e in spec.environments if e.deploy.lambda_]


def test_lambda_architecture_defaults_to_arm64_and_accepts_x86_64() -> None:
    # staging leaves it out, prod writes it.
    assert QUOTES.count("architecture: arm64") == 1
    assert _architectures(QUOTES) == ["arm64", "arm64"]
    x86 = QUOTES.replace("architecture: arm64", "architecture: x86_64").replace(
        "package: function.zip}", "package: function.zip, architecture: x86_64}"
    )
    assert _architectures(x86) == ["x86_64", "x86_64"]
    assert "architecture" in _error(QUOTES.replace("architecture: arm64", "architecture: amd64"))


def test_one_build_means_one_architecture_and_runtime() -> None:
    """The package is built once and promoted: every environment must be able to run it."""
    text = QUOTES.replace("architecture: arm64", "architecture: x86_64")
    report = _error(text)
    assert "same runtime and architecture" in report
    assert "python3.12 arm64, python3.12 x86_64" in report


NATIVE = (ROOT / "examples" / "native-blue-green.yaml").read_text()


def test_native_blue_green_must_fit_the_ecs_action_timeout() -> None:
    """Defect 9: bake + shift + hook beyond the ECS deploy action's 60 minutes fails the stage
    while ECS still deploys; the spec refuses it, like Lambda's shift check."""
    parse_spec(NATIVE, "conveyor.yaml")  # 5 + 6 + 10 + 2 minutes
    assert "bake_minutes: 10" in NATIVE
    report = _error(NATIVE.replace("bake_minutes: 10", "bake_minutes: 50"))
    assert "up to 63 minutes" in report
    assert "timeout_minutes (60" in report
    assert "shorten minutes, bake_minutes or the validation retries" in report
    # Exactly at the limit is accepted; the deploy action's own timeout counts.
    parse_spec(NATIVE.replace("bake_minutes: 10", "bake_minutes: 47"), "conveyor.yaml")
    report = _error(
        NATIVE.replace("bake_minutes: 10", "bake_minutes: 10\n        timeout_minutes: 20")
    )
    assert "up to 23 minutes" in report
