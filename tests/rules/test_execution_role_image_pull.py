"""CV129: a task whose execution role pulls its private ECR image (Fargate, external and
managed instances) must be allowed ecr:GetAuthorizationToken on '*' and ecr:BatchGetImage and
ecr:GetDownloadUrlForLayer on the repository, by its policies, AWS's managed policy or the
repository's own policy; otherwise every task stops with CannotPullContainerError.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.rules.inputs.test_pulumi import export, preview, state, urn
from tests.rules.inputs.test_terraform_coverage import fired as tf_fired
from tests.rules.inputs.test_terraform_coverage import state as tf_state

from conveyor.rules import check_text

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOGIN = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
MIRROR = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mirror/envoy:v1.31.0"
MIRROR_ARN = "arn:aws:ecr:eu-west-1:111122223333:repository/mirror/envoy"
# How CDK writes an image of a repository it knows by ARN (ContainerImage.from_registry of a
# private ECR name keeps it literal; from_ecr_repository joins the URL suffix in).
CDK_IMAGE = {
    "Fn::Join": [
        "",
        ["111122223333.dkr.ecr.eu-west-1.", {"Ref": "AWS::URLSuffix"}, "/mirror/envoy:v1.31.0"],
    ]
}


def template(
    statements: list[dict[str, Any]] | None,
    image: Any = MIRROR,
    *,
    compatibilities: list[str] | None = None,
    execution_role: Any = "role",
    managed: list[Any] | None = None,
    repository: dict[str, Any] | None = None,
) -> str:
    role: dict[str, Any] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        },
    }
    if managed is not None:
        role["Properties"]["ManagedPolicyArns"] = managed
    resources: dict[str, Any] = {"Role": role}
    if statements is not None:
        resources["Policy"] = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "pull",
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": {"Statement": statements},
            },
        }
    if repository is not None:
        resources["Repository"] = {"Type": "AWS::ECR::Repository", "Properties": repository}
    task: dict[str, Any] = {
        "RequiresCompatibilities": ["FARGATE"] if compatibilities is None else compatibilities,
        "ContainerDefinitions": [{"Name": "envoy", "Image": image}],
    }
    if execution_role == "role":
        task["ExecutionRoleArn"] = {"Fn::GetAtt": ["Role", "Arn"]}
    elif execution_role is not None:
        task["ExecutionRoleArn"] = execution_role
    resources["Task"] = {"Type": "AWS::ECS::TaskDefinition", "Properties": task}
    return json.dumps(
        {
            "Parameters": {"RoleArn": {"Type": "String"}, "Image": {"Type": "String"}},
            "Resources": resources,
        }
    )


def found(text: str) -> list[str]:
    result = check_text(text, name="template.json")
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV129"]


def pull(resource: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": PULL, "Resource": resource}


@pytest.mark.parametrize(
    "statements",
    [
        [LOGIN, pull(MIRROR_ARN)],
        [LOGIN, pull("*")],
        [LOGIN, pull("arn:aws:ecr:eu-west-1:111122223333:repository/mirror/*")],
        [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
        [
            LOGIN,
            pull(
                {
                    "Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:111122223333:"
                    "repository/mirror/envoy"
                }
            ),
        ],
    ],
    ids=["exact", "star", "prefix", "ecr-star", "sub-partition"],
)
def test_a_role_allowed_to_pull_the_repository_is_not_reported(
    statements: list[dict[str, Any]],
) -> None:
    assert found(template(statements)) == []
    assert found(template(statements, CDK_IMAGE)) == []


@pytest.mark.parametrize(
    ("statements", "missing"),
    [
        ([LOGIN], "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer"),
        ([pull(MIRROR_ARN)], "ecr:GetAuthorizationToken"),
        # The token names no repository: a statement on the repository does not allow it.
        (
            [{"Effect": "Allow", "Action": "ecr:*", "Resource": MIRROR_ARN}],
            "ecr:GetAuthorizationToken",
        ),
        (
            [LOGIN, pull("arn:aws:ecr:eu-west-1:111122223333:repository/app")],
            "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer",
        ),
        (
            [LOGIN, pull("arn:aws:ecr:us-east-1:111122223333:repository/mirror/envoy")],
            "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer",
        ),
        ([], "ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer"),
    ],
    ids=["no-pull", "no-token", "token-on-repository", "other-repository", "other-region", "none"],
)
def test_a_role_not_allowed_every_pull_call_is_reported(
    statements: list[dict[str, Any]], missing: str
) -> None:
    for image in (MIRROR, CDK_IMAGE):
        (message,) = found(template(statements, image))
        assert "container envoy" in message
        assert f"execution role Role, which is not allowed {missing}:" in message
        assert "CannotPullContainerError" in message


def test_a_fargate_task_with_no_execution_role_is_reported() -> None:
    (message,) = found(template(None, execution_role=None))
    assert "no ExecutionRoleArn" in message
    assert "Fargate refuses to register it" in message
    assert found(template(None, execution_role={"Ref": "AWS::NoValue"}))


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
        "arn:aws:iam::111122223333:policy/platform-pull",  # customer managed: not visible
    ],
)
def test_a_managed_policy_that_allows_the_pull(arn: Any) -> None:
    assert found(template(None, managed=[arn])) == []


def test_an_aws_managed_policy_that_does_not_pull_leaves_it_reported() -> None:
    assert found(template(None, managed=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]))


def test_the_repository_of_the_template_judged_with_its_own_policy() -> None:
    """Within one account the repository's policy may allow the role what its own policies do
    not; the token still comes only from an IAM policy (repository-policies.html)."""
    image = {"Fn::Sub": "${Repository.RepositoryUri}:1.4.2"}
    admits = {
        "RepositoryPolicyText": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}},
                    "Action": PULL,
                }
            ]
        }
    }
    assert found(template([LOGIN], image, repository=admits)) == []
    (message,) = found(template([LOGIN], image, repository={}))
    assert "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on Repository" in message
    assert (
        found(template([LOGIN, pull({"Fn::GetAtt": ["Repository", "Arn"]})], image, repository={}))
        == []
    )
    other = pull(
        {
            "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:"
            "repository/${Other}"
        }
    )
    text = json.loads(template([LOGIN, other], image, repository={}))
    text["Resources"]["Other"] = {"Type": "AWS::ECR::Repository"}
    assert found(json.dumps(text))
    (message,) = found(template([], image, repository=admits))
    assert "ecr:GetAuthorizationToken" in message and "BatchGetImage" not in message


@pytest.mark.parametrize(
    ("kwargs", "image"),
    [
        ({"compatibilities": ["EC2"]}, MIRROR),  # the container instance role may pull
        ({"compatibilities": []}, MIRROR),  # EC2's when none is named
        ({"execution_role": {"Ref": "RoleArn"}}, MIRROR),  # another stack's role
        ({"execution_role": "arn:aws:iam::111122223333:role/shared"}, MIRROR),
        ({}, "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"),
        ({}, "envoyproxy/envoy:v1.31.0"),
        ({}, {"Ref": "Image"}),  # chosen at deploy time
        # Not an account (12 digits): no registry answers there, and conveyor grants nothing.
        ({}, "1234567890.dkr.ecr.us-west-2.amazonaws.com/reverse-proxy:revision_1"),
    ],
    ids=[
        "ec2",
        "no-compatibilities",
        "parameter-role",
        "literal-role",
        "ecr-public",
        "hub",
        "param-image",
        "not-an-account",
    ],
)
def test_what_cannot_be_judged_is_left_alone(kwargs: dict[str, Any], image: Any) -> None:
    assert found(template([], image, **kwargs)) == []


def test_external_and_managed_instances_pull_with_the_execution_role() -> None:
    assert found(template([], compatibilities=["EXTERNAL"]))
    assert found(template([], compatibilities=["EC2", "MANAGED_INSTANCES"]))


# ---- Terraform and Pulumi (aws_ecs_task_definition maps onto AWS::ECS::TaskDefinition) ----

ROLE_ARN = "arn:aws:iam::111122223333:role/exec"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def _terraform(role: dict[str, Any], execution_role_arn: str | None = ROLE_ARN) -> str:
    task: dict[str, Any] = {
        "family": "app",
        "requires_compatibilities": ["FARGATE"],
        "container_definitions": json.dumps([{"name": "envoy", "image": MIRROR}]),
    }
    if execution_role_arn is not None:
        task["execution_role_arn"] = execution_role_arn
    return tf_state(
        **{
            "aws_iam_role.exec": {"name": "exec", "arn": ROLE_ARN, "assume_role_policy": "{}"},
            "aws_ecs_task_definition.app": task,
            **role,
        }
    )


def test_terraform_reads_the_role_its_policies_and_attachments() -> None:
    logs = {
        "aws_iam_role_policy.logs": {
            "name": "logs",
            "role": "exec",
            "policy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}
            ),
        }
    }
    assert tf_fired("CV129", _terraform(logs)) == {"aws_ecs_task_definition.app"}
    assert tf_fired("CV129", _terraform({}, execution_role_arn=None)) == {
        "aws_ecs_task_definition.app"
    }
    attached = {
        "aws_iam_role_policy_attachment.exec": {"role": "exec", "policy_arn": EXECUTION_POLICY}
    }
    assert tf_fired("CV129", _terraform({**logs, **attached})) == set()
    # A role the plan does not hold: its policies cannot be seen.
    other = "arn:aws:iam::111122223333:role/elsewhere"
    assert tf_fired("CV129", _terraform(logs, execution_role_arn=other)) == set()


@pytest.mark.parametrize("make", [export, preview])
def test_pulumi_reads_the_execution_role_through_its_dependency(make: Any) -> None:
    role_urn = urn("aws:iam/role:Role", "exec")

    def stack(managed: list[str]) -> str:
        role = state(
            "aws:iam/role:Role",
            "exec",
            {"name": "exec", "assumeRolePolicy": "{}", "managedPolicyArns": managed},
            outputs={"arn": ROLE_ARN},
        )
        task = state(
            "aws:ecs/taskDefinition:TaskDefinition",
            "app",
            {
                "family": "app",
                "requiresCompatibilities": ["FARGATE"],
                "executionRoleArn": ROLE_ARN,
                "containerDefinitions": json.dumps([{"name": "envoy", "image": MIRROR}]),
            },
            {"executionRoleArn": [role_urn]},
        )
        text: str = make(role, task)
        return text

    def rules(text: str) -> set[tuple[str, str]]:
        return {(f.rule, f.resource) for f in check_text(text, name="stack.json").findings}

    assert ("CV129", "app") in rules(stack([]))
    assert "CV129" not in {rule for rule, _ in rules(stack([EXECUTION_POLICY]))}
