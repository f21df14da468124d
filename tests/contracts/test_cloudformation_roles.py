"""Each environment stack's CloudFormation service role may make every call the resource
schemas list for the types in that stack's final template, judged by the policy evaluator."""

from __future__ import annotations

import json

import pytest

from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.naming import Naming
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example
from tests.contracts.obligations import stack_ssm_parameter_arns


def _stacks(example: Example) -> list[tuple[str, str, str]]:
    """(stack, its CloudFormation role's ARN, account) per environment."""
    spec = example.synthesized.spec
    naming = Naming(spec.app, spec.suffix)
    found = []
    for env in spec.environments:
        stack = naming.name(env.name)
        account = example.resolvers[stack].account
        role = f"arn:aws:iam::{account}:role/{naming.name('cloudformation', env.name)}"
        found.append((stack, role, account))
    return found


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_allows_what_the_schemas_need(example: Example) -> None:
    refused = []
    checked = 0
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        assert "cloudformation.amazonaws.com" in str(role.trust)
        template = example.synthesized.templates[stack]
        types = {r["Type"] for r in template["Resources"].values()}
        for kind in sorted(t for t in types if not t.startswith("Custom::")):
            for action in PERMISSIONS[kind]:
                # IAM calls act on the stack's roles, which CloudFormation names after it.
                resource = (
                    f"arn:aws:iam::{account}:role/{stack}-WebTaskRole-1A2B3C"
                    if action.startswith("iam:")
                    else "*"
                )
                checked += 1
                if not (verdict := example.allows(role, action, resource)):
                    refused.append(f"{stack} {kind} {action}: {verdict.why}")
    assert checked
    assert refused == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_cannot_touch_other_roles(example: Example) -> None:
    for _, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        other = f"arn:aws:iam::{account}:role/Admin"
        assert not example.allows(role, "iam:PassRole", other)
        assert not example.allows(role, "iam:PutRolePolicy", other)


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_may_resolve_the_stacks_ssm_parameters(example: Example) -> None:
    """F8: CloudFormation reads an SSM-typed template parameter (the validation hook's
    Powertools layer) with ssm:GetParameters on every create, update and change set; the
    caller's role needs it (CLOUDFORMATION_MODE_NEEDS, test_iam_sufficiency), and so may the
    stack's own role.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html
    """
    refused = []
    for stack, role_arn, account in _stacks(example):
        role = example.role(role_arn)
        for arn in stack_ssm_parameter_arns(example, stack, example.region, account):
            if not (verdict := example.allows(role, "ssm:GetParameters", arn)):
                refused.append(f"{stack} {arn}: {verdict.why}")
    assert refused == []


def _code_object(example: Example, stack: str, code: dict[str, str]) -> str:
    """The S3 object a function's code is read from; the release's own package (the
    CodeBucket/CodeKey parameters) is the object the pipeline's deploy action names."""
    bucket, key = code["S3Bucket"], code["S3Key"]
    if bucket.startswith("param-"):
        for _, action in example.actions():
            config = action.get("Configuration", {})
            if config.get("StackName") == stack and "ParameterOverrides" in config:
                overrides = json.loads(config["ParameterOverrides"])
                bucket, key = overrides["CodeBucket"], overrides["CodeKey"]
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_stack_role_may_read_every_function_s_code(example: Example) -> None:
    """Lambda reads a function's package with the caller's credentials, here CloudFormation's
    service role (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html):
    the hooks' code in the account's CDK bootstrap bucket, the release's package in the
    pipeline's package store (encrypted with its key). An environment in another account once
    got a role that could read neither (issue 10)."""
    refused = []
    for stack, role_arn, _ in _stacks(example):
        role = example.role(role_arn)
        for function in example.of_type("AWS::Lambda::Function"):
            if function.stack != stack or "S3Bucket" not in (function.value("Code") or {}):
                continue
            code = _code_object(example, stack, function.value("Code"))
            assert not code.startswith("arn:aws:s3:::param-"), code
            if not (verdict := example.allows(role, "s3:GetObject", code)):
                refused.append(f"{stack} {function.lid} {code}: {verdict.why}")
            if not code.startswith("arn:aws:s3:::cdk-"):  # the package: the pipeline's key
                via = {"kms:ViaService": f"s3.{example.region}.amazonaws.com"}
                key = example.artifact_key
                if not (verdict := example.allows(role, "kms:Decrypt", key, via)):
                    refused.append(f"{stack} {function.lid} artifact key: {verdict.why}")
    assert refused == []
