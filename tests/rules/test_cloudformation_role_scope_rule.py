"""CV120 beyond its fixtures: the calls of the resource types a worker and a scheduled job add
(issue 15), and a service's scaling and alarms (issue 15 review), are judged like the rest, in
CloudFormation, Terraform and Pulumi."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from tests.rules.inputs.test_pulumi import export, preview, state
from tests.rules.inputs.test_terraform_coverage import fired as tf_fired
from tests.rules.inputs.test_terraform_coverage import state as tf_state

from conveyor.rules import check_text

ROLE = """
Resources:
  CloudFormationRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: cloudformation.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: schema-actions
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: {actions}
                Resource: {resource}
"""


def cv120(actions: str, resource: str) -> list[str]:
    text = textwrap.dedent(ROLE.format(actions=actions, resource=resource))
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV120"]


@pytest.mark.parametrize(
    "action",
    ["sqs:DeleteQueue", "sqs:SetQueueAttributes", "events:PutTargets", "events:DeleteRule"],
)
def test_a_queue_or_rule_call_on_every_resource_fires(action: str) -> None:
    """Another environment's worker queue deleted or its policy rewritten, its failed-run rule
    pointed elsewhere or deleted (sqs-api-permissions-reference.html: each names its queue)."""
    (message,) = cv120(f"[sqs:CreateQueue, {action}]", '"*"')
    assert action in message
    assert cv120(f"[{action.split(':')[0]}:*]", '"*"')
    every = "!Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*"
    if action.startswith("sqs:"):
        assert cv120(f"[{action}]", every)


def test_the_same_calls_on_the_stacks_own_queue_and_rule_do_not() -> None:
    own = (
        "[!Sub 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:thumbs-queue-prod', "
        "!Sub 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/thumbs-job-prod']"
    )
    actions = "[sqs:DeleteQueue, sqs:SetQueueAttributes, events:PutTargets, events:DeleteRule]"
    assert cv120(actions, own) == []
    # Creates and reads stay on "*".
    assert cv120("[sqs:CreateQueue, sqs:GetQueueAttributes, events:DescribeRule]", '"*"') == []


SCALING_AND_ALARMS = (
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:DeleteScalingPolicy",
    "cloudwatch:DeleteAlarms",
)


@pytest.mark.parametrize("action", SCALING_AND_ALARMS)
def test_a_scaling_or_alarm_delete_on_every_resource_fires(action: str) -> None:
    """Issue 15 review: another environment's scalable target deregistered, its scaling policy
    or its alarms deleted. Each names its target or alarm (list_awsapplicationautoscaling.html,
    list_amazoncloudwatch.html)."""
    (message,) = cv120(f"[application-autoscaling:RegisterScalableTarget, {action}]", '"*"')
    assert action in message
    assert cv120(f"[{action.split(':')[0]}:*]", '"*"')
    service = action.split(":")[0]
    kind = "alarm:*" if service == "cloudwatch" else "scalable-target/*"
    every = f"!Sub arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{kind}"
    assert cv120(f"[{action}]", every)


def test_the_same_calls_on_the_stacks_own_targets_and_alarms_do_not() -> None:
    """What conveyor writes: the targets by their tags, the alarms by name (its own and the
    ones target tracking creates for its service); creates and reads stay on '*'."""
    actions = "[" + ", ".join(SCALING_AND_ALARMS) + "]"
    own_alarms = (
        "[!Sub 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
        "orders-5xx-prod', !Sub 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
        "${AWS::AccountId}:alarm:TargetTracking-service/orders-cluster-prod/orders-service-prod-*']"
    )
    assert cv120(actions, own_alarms) == []
    tagged = textwrap.dedent(
        ROLE.format(
            actions="[application-autoscaling:DeregisterScalableTarget]",
            resource="!Sub arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:"
            "${AWS::AccountId}:scalable-target/*",
        )
    ) + textwrap.indent(
        "Condition: {StringEqualsIfExists: {aws:ResourceTag/Environment: prod}}\n", " " * 16
    )
    assert [f for f in check_text(tagged, name="t.yaml").findings if f.rule == "CV120"] == []
    reads = "[application-autoscaling:DescribeScalableTargets, cloudwatch:DescribeAlarms]"
    assert cv120(f"{reads[:-1]}, cloudwatch:PutMetricData]", '"*"') == []


def _statement(actions: list[str], resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }
    )


TRUST = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudformation.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
)


@pytest.mark.parametrize("action", SCALING_AND_ALARMS)
def test_terraform_a_cloudformation_role_s_scaling_and_alarm_deletes(action: str) -> None:
    def plan(resource: str) -> str:
        return tf_state(
            **{
                "aws_iam_role.cfn": {"name": "cfn", "assume_role_policy": TRUST},
                "aws_iam_role_policy.schema": {
                    "name": "schema",
                    "role": "cfn",
                    "policy": _statement([action], resource),
                },
            }
        )

    assert tf_fired("CV120", plan("*"))
    own = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-5xx-prod"
    assert tf_fired("CV120", plan(own)) == set()


@pytest.mark.parametrize("make", [export, preview])
@pytest.mark.parametrize("action", SCALING_AND_ALARMS)
def test_pulumi_a_cloudformation_role_s_scaling_and_alarm_deletes(action: str, make: Any) -> None:
    def stack(resource: str) -> set[str]:
        role = state(
            "aws:iam/role:Role",
            "cfn",
            {
                "name": "cfn",
                "assumeRolePolicy": TRUST,
                "inlinePolicies": [{"name": "schema", "policy": _statement([action], resource)}],
            },
        )
        text = make(role)
        return {
            f.resource for f in check_text(text, name="stack.json").findings if f.rule == "CV120"
        }

    assert stack("*") == {"cfn"}
    assert stack("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-5xx-prod") == set()


def test_a_repository_call_on_every_repository_fires_and_on_its_own_does_not() -> None:
    """Issue 10, another region's support stack: its CloudFormation role held the image
    repository's calls on '*' (the pipeline stack's role too), so updating it could delete the
    pipeline's repository or another app's, or open one's policy. Each names its repository."""
    (message,) = cv120(
        "[ecr:CreateRepository, ecr:DeleteRepository, ecr:SetRepositoryPolicy]", '"*"'
    )
    assert "ecr:DeleteRepository, ecr:SetRepositoryPolicy" in message
    every = "!Sub arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"
    assert cv120("[ecr:DeleteRepository]", every)
    own = "!Sub arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/atlas-images"
    assert cv120("[ecr:DeleteRepository, ecr:SetRepositoryPolicy]", own) == []
