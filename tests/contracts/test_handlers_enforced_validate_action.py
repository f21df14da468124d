# mypy: disable-error-code="import-untyped"
"""The pipeline's Validate action under enforced IAM (harness: test_handlers_enforced.py):
validate_http invoked by CodePipeline as a Lambda invoke action, with the action's own
UserParameters (its URL pointed at a real local server), as a user holding exactly the
synthesized policies of its function's role.

- A passing check reports PutJobSuccessResult.
- A failing check reports PutJobFailureResult and nothing else: the stage's OnFailure ROLLBACK
  deploys the last good release again, so the validation rolls nothing back itself (issue 11;
  it used to move the ECS service, the Lambda alias or the CodeDeploy group, racing the
  stage's own rollback).
- Both write their decision to the idempotency table through Powertools (issue 17/2).
- A negative control: the same failing run with PutJobFailureResult taken out of the policy is
  refused by IAM.

Job results: https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html
Powertools' DynamoDB record (PutItem, conditional on no live record, then UpdateItem):
https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/#iam-permissions
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.test_handlers_enforced import (
    Recorder,
    assert_answered_calls_allowed,
    run_under_role_policy,
)
from tests.handlers.validate_http_servers import serve

JOB_ID = "33333333-abcd-3333-abcd-333333333333"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve() as origin:
        yield origin


@dataclass(frozen=True)
class Validate:
    stage: str
    function: Located
    parameters: dict[str, Any]


def validate_actions(example: Example) -> list[Validate]:
    """Every Validate action of the pipeline: a Lambda invoke of a validate_http function."""
    functions = {f.value("FunctionName"): f for f in example.of_type("AWS::Lambda::Function")}
    return [
        Validate(stage, functions[config["FunctionName"]], json.loads(config["UserParameters"]))
        for stage, action in example.actions()
        if action["Name"] == "Validate"
        and action["ActionTypeId"]["Provider"] == "Lambda"
        and (config := action["Configuration"])["FunctionName"] in functions
    ]


def _validate_or_skip(example: Example) -> list[Validate]:
    found = validate_actions(example)
    if not found:
        pytest.skip(f"{example.name} has no Validate action")
    return found


def _job(validate: Validate, url: str) -> dict[str, Any]:
    # One try and no waiting: the contract is the calls, not the retry schedule.
    parameters = dict(validate.parameters, url=url, retries=1, interval_seconds=1)
    parameters.pop("body_contains", None)
    configuration = {"FunctionName": validate.function.value("FunctionName")}
    configuration["UserParameters"] = json.dumps(parameters)
    return {
        "CodePipeline.job": {
            "id": JOB_ID,
            "accountId": "000000000000",
            "data": {"actionConfiguration": {"configuration": configuration}},
        }
    }


# ---------------------------------------------------------------------------------------------


def _run(
    example: Example,
    validate: Validate,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    refuse: frozenset[str] = frozenset(),
) -> Recorder:
    def prepare(env: dict[str, str]) -> dict[str, Any]:
        return _job(validate, url)

    return run_under_role_policy(
        example, validate.function, "validate_http", prepare, monkeypatch, refuse=refuse
    )


def _made(recorder: Recorder) -> list[tuple[str, str]]:
    return [(service, operation) for service, operation, _ in recorder.calls]


def _assert_decision_recorded(recorder: Recorder, validate: Validate) -> None:
    """Powertools wrote the job's decision to the idempotency table (issue 17/2)."""
    env = (validate.function.value("Environment") or {}).get("Variables", {})
    table = env["IDEMPOTENCY_TABLE_NAME"]
    writes = [
        operation
        for service, operation, params in recorder.calls
        if service == "dynamodb" and params.get("TableName") == table
    ]
    assert "PutItem" in writes, writes
    assert "UpdateItem" in writes, writes  # the outcome stored after the check


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_a_passing_validate_action_reports_success_under_exactly_its_role_policy(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for validate in _validate_or_skip(example):
        with monkeypatch.context() as patch:
            recorder = _run(example, validate, f"{server}/ok", patch)
        assert recorder.result["status"] == "succeeded", (validate.stage, recorder.result)
        made = _made(recorder)
        assert ("codepipeline", "PutJobSuccessResult") in made, made
        assert ("codepipeline", "PutJobFailureResult") not in made, made
        _assert_decision_recorded(recorder, validate)
        assert_answered_calls_allowed(example, validate.function, recorder)


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_a_failing_validate_action_only_fails_the_job_under_exactly_its_role_policy(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: no ECS, Lambda, CodeDeploy or STS call: the stage rolls back, not the check."""
    for validate in _validate_or_skip(example):
        assert "rollback" not in validate.parameters, validate.stage
        with monkeypatch.context() as patch:
            recorder = _run(example, validate, f"{server}/error", patch)
        assert recorder.result["status"] == "failed", (validate.stage, recorder.result)
        made = _made(recorder)
        assert ("codepipeline", "PutJobFailureResult") in made, made
        assert {service for service, _ in made} == {"codepipeline", "dynamodb"}, made
        _assert_decision_recorded(recorder, validate)
        assert_answered_calls_allowed(example, validate.function, recorder)


@pytest.mark.parametrize("example", ["validated-service", "lambda-other-account"], indirect=True)
def test_the_harness_refuses_a_call_the_policy_does_not_allow(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: with the decision's first write (the idempotency record) taken out of
    the role's policy, the same failing run is refused by IAM before anything is reported."""
    validate = _validate_or_skip(example)[0]
    with pytest.raises(Exception) as raised:
        _run(
            example,
            validate,
            f"{server}/error",
            monkeypatch,
            refuse=frozenset({"dynamodb:PutItem"}),
        )
    assert "PutItem" in str(raised.value) or "PutItem" in repr(raised.value.__cause__)
