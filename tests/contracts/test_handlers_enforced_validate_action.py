# mypy: disable-error-code="import-untyped"
"""The pipeline's Validate action under enforced IAM (harness: test_handlers_enforced.py):
validate_http invoked by CodePipeline as a Lambda invoke action, with the action's own
UserParameters (its URL pointed at a real local server), as a user holding exactly the
synthesized policies of its function's role.

- A passing check reports PutJobSuccessResult.
- A failing check rolls the environment back the way the action's `rollback` says (ECS
  UpdateService to the previous task definition; in another account every kind acts there as
  its deploy role;
  a Lambda alias back to the previous version; CodeDeploy redeploying the previous revision)
  and reports PutJobFailureResult.
- Both write their decision to the idempotency table through Powertools (issue 17/2).
- A negative control: the same failing run with the rollback's permission taken out of the
  policy is refused, and the job says so.

Job results: https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html
Powertools' DynamoDB record (PutItem, conditional on no live record, then UpdateItem):
https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/#iam-permissions
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.obligations import _codedeploy_resources
from tests.contracts.test_handlers_enforced import (
    NOT_IN_MOTO,
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

    @property
    def rollback(self) -> dict[str, Any]:
        found: dict[str, Any] = self.parameters["rollback"]
        return found

    @property
    def kind(self) -> str:
        (kind,) = self.rollback
        return kind


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
# What each rollback needs to exist first: the deployed state, one release after another.

_PREVIOUS_REVISION = {
    "revisionType": "AppSpecContent",
    "appSpecContent": {"content": '{"version": "0.0", "Resources": []}'},
}


def _target_account(example: Example, target: dict[str, str]) -> str:
    role_arn = target.get("role_arn")
    return role_arn.split(":")[4] if role_arn else example.account


def _deploy_role_there(example: Example, target: dict[str, str]) -> None:
    """Another account's environment: its deploy role, with its synthesized policies, in that
    account (call inside MOTO_ACCOUNT_ID of that account)."""
    role_arn = target.get("role_arn")
    if not role_arn:
        return
    role = example.role(role_arn)
    iam = boto3.client("iam", region_name=example.region)
    name = role_arn.rsplit("/", 1)[1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(role.trust))
    for index, document in enumerate(role.policies):
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"role-policy-{index}",
            PolicyDocument=json.dumps(document),
        )


def _ecs_service(example: Example, target: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """A service on revision 2 of its family, revision 1 still ACTIVE; in the target's account
    (the deploy role's, for another account), with that role and its synthesized policies."""
    with monkeypatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", _target_account(example, target))
        _deploy_role_there(example, target)
        ecs = boto3.client("ecs", region_name=example.region)
        ecs.create_cluster(clusterName=target["cluster"])
        family = f"{target['service']}-task"
        container = {"name": "app", "image": "public.ecr.aws/nginx/nginx:1", "memory": 512}
        arns = [
            ecs.register_task_definition(family=family, containerDefinitions=[container])[
                "taskDefinition"
            ]["taskDefinitionArn"]
            for _ in range(2)
        ]
        ecs.create_service(
            cluster=target["cluster"],
            serviceName=target["service"],
            taskDefinition=arns[1],
            desiredCount=1,
        )
    return str(arns[0])


def _lambda_alias(example: Example, target: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The function with versions 1 and 2 published and the alias on 2, in the target's
    account (with its deploy role, for another account)."""
    with monkeypatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", _target_account(example, target))
        _deploy_role_there(example, target)
        return _published_twice(example, target)


def _published_twice(example: Example, target: dict[str, str]) -> str:
    iam = boto3.client("iam", region_name=example.region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="function-role", AssumeRolePolicyDocument=json.dumps(trust))
    lambda_ = boto3.client("lambda", region_name=example.region)
    for release in ("1", "2"):
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", f"def handler(event, context):\n    return {release}\n")
        if release == "1":
            lambda_.create_function(
                FunctionName=target["function"],
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="app.handler",
                Code={"ZipFile": code.getvalue()},
            )
        else:
            lambda_.update_function_code(FunctionName=target["function"], ZipFile=code.getvalue())
        lambda_.publish_version(FunctionName=target["function"])
    lambda_.create_alias(FunctionName=target["function"], Name=target["alias"], FunctionVersion="2")
    return "1"


def _codedeploy_release(
    example: Example, target: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's last deployment succeeded (the release under validation): the rollback
    deploys the revision before it again. Answered here, as moto's CodeDeploy keeps no
    previousRevision and has no StopDeployment. Another account's deploy role exists there."""
    with monkeypatch.context() as patch:
        patch.setenv("MOTO_ACCOUNT_ID", _target_account(example, target))
        _deploy_role_there(example, target)
    answers = {
        ("codedeploy", "GetDeploymentGroup"): {
            "deploymentGroupInfo": {
                "applicationName": target["application"],
                "deploymentGroupName": target["deployment_group"],
                "lastAttemptedDeployment": {"deploymentId": "d-RELEASE01", "status": "Succeeded"},
            }
        },
        ("codedeploy", "GetDeployment"): {
            "deploymentInfo": {
                "deploymentId": "d-RELEASE01",
                "status": "Succeeded",
                "creator": "user",
                "previousRevision": _PREVIOUS_REVISION,
            }
        },
        ("codedeploy", "CreateDeployment"): {"deploymentId": "d-ROLLBACK1"},
    }
    for call, answer in answers.items():
        monkeypatch.setitem(NOT_IN_MOTO, call, answer)


def _prepare_rollback(
    example: Example, validate: Validate, monkeypatch: pytest.MonkeyPatch
) -> str | None:
    """Creates the deployed state the rollback acts on; the revision it must return to."""
    target = validate.rollback[validate.kind]
    if validate.kind == "ecs":
        return _ecs_service(example, target, monkeypatch)
    if validate.kind == "lambda":
        return _lambda_alias(example, target, monkeypatch)
    _codedeploy_release(example, target, monkeypatch)
    return None


# ---------------------------------------------------------------------------------------------


def _run(
    example: Example,
    validate: Validate,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    rolls_back: bool,
    refuse: frozenset[str] = frozenset(),
) -> tuple[Recorder, str | None]:
    previous: list[str | None] = [None]

    def prepare(env: dict[str, str]) -> dict[str, Any]:
        if rolls_back:
            previous[0] = _prepare_rollback(example, validate, monkeypatch)
        return _job(validate, url)

    recorder = run_under_role_policy(
        example, validate.function, "validate_http", prepare, monkeypatch, refuse=refuse
    )
    return recorder, previous[0]


def _made(recorder: Recorder) -> list[tuple[str, str]]:
    return [(service, operation) for service, operation, _ in recorder.calls]


def _params(recorder: Recorder, service: str, operation: str) -> dict[str, Any]:
    (found,) = [p for s, o, p in recorder.calls if (s, o) == (service, operation)]
    return found


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


def _answered_resources(example: Example, validate: Validate) -> dict[tuple[str, str], str]:
    if validate.kind != "codedeploy":
        return {}
    target = validate.rollback["codedeploy"]
    group = _codedeploy_resources(
        example,
        _target_account(example, target),
        target["application"],
        target["deployment_group"],
    )["codedeploy-deployment-group"][0]
    return {
        ("codedeploy", operation): group
        for operation in ("GetDeploymentGroup", "GetDeployment", "CreateDeployment")
    }


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_a_passing_validate_action_reports_success_under_exactly_its_role_policy(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for validate in _validate_or_skip(example):
        with monkeypatch.context() as patch:
            recorder, _ = _run(example, validate, f"{server}/ok", patch, rolls_back=False)
        assert recorder.result["status"] == "succeeded", (validate.stage, recorder.result)
        made = _made(recorder)
        assert ("codepipeline", "PutJobSuccessResult") in made, made
        assert ("codepipeline", "PutJobFailureResult") not in made, made
        _assert_decision_recorded(recorder, validate)
        assert_answered_calls_allowed(example, validate.function, recorder)


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_a_failing_validate_action_rolls_back_under_exactly_its_role_policy(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for validate in _validate_or_skip(example):
        with monkeypatch.context() as patch:
            recorder, previous = _run(example, validate, f"{server}/error", patch, rolls_back=True)
        assert recorder.result["status"] == "failed", (validate.stage, recorder.result)
        made = _made(recorder)
        assert ("codepipeline", "PutJobFailureResult") in made, made
        assert "ROLLBACK FAILED" not in recorder.result["message"], recorder.result
        target = validate.rollback[validate.kind]
        if "role_arn" in target:  # another account: as its deploy role (issue 10)
            assume = _params(recorder, "sts", "AssumeRole")
            assert assume["RoleArn"] == target["role_arn"]
            role = example.role(validate.function.value("Role"))
            trusted = example.allows(role, "sts:AssumeRole", target["role_arn"])
            assert trusted, trusted.why
        if validate.kind == "ecs":
            update = _params(recorder, "ecs", "UpdateService")
            assert update["service"] == target["service"]
            assert update["taskDefinition"] == previous
        elif validate.kind == "lambda":
            update = _params(recorder, "lambda", "UpdateAlias")
            assert update["FunctionVersion"] == previous, update
        else:
            create = _params(recorder, "codedeploy", "CreateDeployment")
            assert create["revision"] == _PREVIOUS_REVISION
            assert create["deploymentGroupName"] == target["deployment_group"]
        _assert_decision_recorded(recorder, validate)
        assert_answered_calls_allowed(
            example,
            validate.function,
            recorder,
            _answered_resources(example, validate),
            assumed=(
                {validate.kind: example.role(target["role_arn"])} if "role_arn" in target else None
            ),
        )


# The call each rollback cannot do without.
ROLLBACK_ACTION = {
    "ecs": "ecs:UpdateService",
    "lambda": "lambda:UpdateAlias",
    "codedeploy": "codedeploy:CreateDeployment",
}


@pytest.mark.parametrize("example", ["validated-service", "lambda-canary"], indirect=True)
def test_the_harness_refuses_a_rollback_the_policy_does_not_allow(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: with the rollback's action taken out of the role's policy, the same
    failing run is refused by IAM, and the job's failure says the rollback failed."""
    validate = _validate_or_skip(example)[0]
    refused = ROLLBACK_ACTION[validate.kind]
    recorder, _ = _run(
        example,
        validate,
        f"{server}/error",
        monkeypatch,
        rolls_back=True,
        refuse=frozenset({refused}),
    )
    operation = refused.split(":")[1]
    # moto answers a refusal with its XML error body, whatever the protocol: the code botocore
    # reads is the HTTP status; the message names the refused action.
    assert [e for e in recorder.errors if e[1] == operation], recorder.errors
    assert recorder.result["status"] == "failed"
    message = recorder.result["message"]
    assert "ROLLBACK FAILED" in message, message
    assert f"not authorized to perform: {refused}" in message, message
    assert ("codepipeline", "PutJobFailureResult") in _made(recorder)
