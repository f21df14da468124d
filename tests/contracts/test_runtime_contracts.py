"""The table of runtime contracts is well-formed: every entry names real-looking IAM actions,
a resource kind the contracts resolve, and the AWS page it comes from."""

from __future__ import annotations

import re

import pytest

from conveyor.rules import runtime_contracts as contracts
from conveyor.rules.runtime_contracts import Need

AWS_PAGE = re.compile(r"^https://docs\.aws\.amazon\.com/[\w/.-]+\.html(#[\w-]+)?$")
IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
RESOLVED_KINDS = {
    "*",
    "artifact-objects",
    "artifact-bucket",
    "artifact-key",
    "ecs-service",
    "ecs-task-definition",
    "task-roles",
    "codebuild-project",
    "lambda-function",
    "approval-topic",
    "connection",
    "codecommit-repository",
    "source-bucket",
    "source-object",
    "ecr-repository",
    "log-group",
    "ssm-parameter",
    "codedeploy-application",
    "codedeploy-deployment-group",
    "codedeploy-config",
    "deployment-table",
    "deployment-table-index",
    "idempotency-table",
    "topic",
    "topic-key",
    "pipeline",
    "action-role",
    "cloudformation-stack",
    "cloudformation-role",
    "package-object",
    "package-bucket",
    "deployed-packages",
    "gate-alarms",
}


def every_need() -> list[Need]:
    return [
        *(need for needs in contracts.PIPELINE_ACTION_NEEDS.values() for need in needs),
        contracts.PIPELINE_ASSUMES_ACTION_ROLES,
        *contracts.CODEBUILD_PROJECT_NEEDS,
        *contracts.READ_ARTIFACTS,
        *contracts.WRITE_ARTIFACTS,
        *(need for kind in contracts.BUILDSPEC_COMMAND_KINDS for need in kind.needs),
        *(need for handler in contracts.HANDLER_CONTRACTS for need in handler.needs),
        *contracts.PUBLISH_NEEDS,
        *contracts.ENCRYPTED_PUBLISH_NEEDS,
    ]


@pytest.mark.parametrize("need", every_need(), ids=lambda need: f"{need.actions[0]}@{need.on}")
def test_every_need_is_sourced_and_resolvable(need: Need) -> None:
    assert AWS_PAGE.match(need.source), need.source
    assert need.on in RESOLVED_KINDS
    assert need.actions and all(IAM_ACTION.match(action) for action in need.actions)
    assert all(IAM_ACTION.match(key) or ":" in key for key, _ in need.context)


def test_action_types_are_category_owner_provider() -> None:
    for action_type in contracts.PIPELINE_ACTION_NEEDS:
        category, owner, provider = action_type.split("/")
        assert category in {"Source", "Build", "Test", "Deploy", "Approval", "Invoke"}
        assert owner == "AWS" and provider


# One command of each kind as conveyor's buildspecs write it, and one it must not match.
COMMANDS = {
    "s3-put-package": (
        'aws s3api put-object --bucket "$PACKAGE_BUCKET" --key k --body f',
        "aws s3api get-object --bucket b --key k f",
    ),
    "s3-head-package": (
        'aws s3api head-object --bucket "$PACKAGE_BUCKET" --key k',
        "aws s3api get-object --bucket b --key k f",
    ),
    "s3-list-package-versions": (
        'aws s3api list-object-versions --bucket "$PACKAGE_BUCKET" --prefix k',
        "aws s3api list-objects-v2 --bucket b",
    ),
    "s3-copy-package": (
        'aws s3api copy-object --bucket b --key k --copy-source "b/k?versionId=v"',
        "aws s3 cp s3://b/k s3://b/l",
    ),
    "cloudwatch-describe-gate-alarms": (
        'aws cloudwatch describe-alarms --alarm-names "${NAMES[@]}" --query q',
        "aws cloudwatch describe-alarm-history --alarm-name a",
    ),
    "ecr-login": (
        'aws ecr get-login-password --region "$AWS_REGION" | docker login',
        "aws ecr help",
    ),
    "docker-push": ("docker buildx build --tag x --push .", "docker buildx build --tag x ."),
    "registry-cache": ('--cache-from "type=registry,ref=r:buildcache"', "--cache-from type=local"),
    "ecr-describe-images": ("aws ecr describe-images --repository-name r", "aws ecr list-images"),
    "ssm-parameters": ("aws ssm get-parameters --names a", "aws ssm put-parameter"),
    "lambda-get-alias": ("aws lambda get-alias --function-name f", "aws lambda list-aliases"),
    "lambda-update-code": ("aws lambda update-function-code --publish", "aws lambda get-function"),
    "lambda-wait-version": ("aws lambda wait published-version-active", "aws lambda wait x"),
    "codedeploy-create-deployment": ("aws deploy create-deployment", "aws deploy list-deployments"),
    "codedeploy-get-deployment": (
        "aws deploy get-deployment --deployment-id d",
        "aws deploy get-deployment-group",
    ),
}


@pytest.mark.parametrize("kind", contracts.BUILDSPEC_COMMAND_KINDS, ids=lambda kind: kind.name)
def test_each_command_kind_recognises_its_command_only(kind: contracts.CommandKind) -> None:
    matching, other = COMMANDS[kind.name]
    assert kind.occurs_in(matching)
    assert not kind.occurs_in(other)


def test_handlers_are_recognised_by_their_function_names() -> None:
    names = {
        "web-scan-gate": "scan_gate",
        "web-validate-http-prod": "validate_http",
        "payments-validate-http-prod-hook": "validate_http_hook",
        "web-record-deployment": "record_deployment",
        "web-notify-team": "notify",
        "web-watch-executions": "watch_executions",
    }
    for function, handler in names.items():
        # The first contract whose pattern matches wins, as in tests/contracts/obligations.py.
        first = next(
            c.name for c in contracts.HANDLER_CONTRACTS if re.search(c.function_name, function)
        )
        assert first == handler, function


def test_every_service_publisher_is_an_aws_service_principal() -> None:
    for principal in contracts.SERVICE_PUBLISHERS.values():
        assert principal.endswith(".amazonaws.com")
    assert contracts.CLI_SERVICE_PREFIX == {"deploy": "codedeploy", "s3api": "s3"}
