"""CV120 beyond its fixtures: the calls of the resource types a worker and a scheduled job add
(issue 15) are judged like the rest."""

from __future__ import annotations

import textwrap

import pytest

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
