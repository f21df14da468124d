"""Policy documents written as JSON strings (issue 16 review). CloudFormation's ``Json``-typed
properties (a role's ``AssumeRolePolicyDocument``, a policy's ``PolicyDocument``, a key's
``KeyPolicy``) take an object or the same object as a JSON string; older templates (AWS's ECS
blue/green sample, the ECS reference architecture) write the string. The rules read both alike:
before, a string trust policy hid the role's trust from CV058 and CV111.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html"""

from __future__ import annotations

import json

import pytest
from tests.rules.test_precision_rules import corpus, found, needs_corpus

TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudformation.amazonaws.com"]},
            "Action": ["sts:AssumeRole"],
        }
    ]
}
POLICY = {"Statement": [{"Effect": "Allow", "Action": ["iam:*", "kms:*"], "Resource": "*"}]}


def _role(trust: object, policy: object) -> str:
    return json.dumps(
        {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": trust,
                        "Policies": [{"PolicyName": "root", "PolicyDocument": policy}],
                    },
                }
            }
        }
    )


@pytest.mark.parametrize(
    ("trust", "policy"),
    [
        (TRUST, POLICY),
        (json.dumps(TRUST), POLICY),
        (TRUST, json.dumps(POLICY)),
        (json.dumps(TRUST, indent=4), json.dumps(POLICY, indent=2)),
    ],
)
def test_a_json_string_policy_is_read_like_an_object(trust: object, policy: object) -> None:
    (finding,) = found(_role(trust, policy), "CV111")
    assert finding.resource == "Role"


@pytest.mark.parametrize("trust", ["{not json", "[]", '"text"'])
def test_a_string_that_is_no_policy_object_is_not_judged(trust: str) -> None:
    assert found(_role(trust, POLICY), "CV111") == []


@needs_corpus
def test_aws_ecs_blue_green_sample_cloudformation_role() -> None:
    # True: its CloudFormation role (trust written as a JSON string) may use iam:* and kms via
    # ecs/ec2... on '*'; iam:* lets any stack it deploys give any role any policy.
    pipeline = "aws-samples__ecs-blue-green-deployment/templates__deployment-pipeline.yaml"
    assert {f.resource for f in corpus(pipeline, "CV111")} == {"CloudFormationExecutionRole"}
