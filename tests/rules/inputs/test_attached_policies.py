"""A bucket or topic policy's id, bucket and arn are the resource it attaches to, not names of
its own (the issue 13 review): taken as the policy's identities, a policy on a bucket outside
the input referenced itself (a false CV057 cycle, high, failing CI), and a policy listed before
its bucket in a state file took the bucket's name (a false CV006 beside the policy)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules import check_text

TLS_DENY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::legacy-logs/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
)
TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:legacy"
TOPIC_POLICY = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": TOPIC_ARN,
            }
        ]
    }
)


def _plan(*resources: dict[str, Any]) -> str:
    return json.dumps(
        {"format_version": "1.2", "planned_values": {"root_module": {"resources": resources}}}
    )


def _resource(rtype: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": f"{rtype}.{name}",
        "mode": "managed",
        "type": rtype,
        "name": name,
        "values": values,
    }


def _rules(text: str) -> set[tuple[str, str]]:
    result = check_text(text, name="plan.json")
    assert result.errors == []
    return {(f.rule, f.resource) for f in result.findings}


@pytest.mark.parametrize(
    "policy",
    [
        _resource("aws_s3_bucket_policy", "legacy", {"bucket": "legacy-logs", "policy": TLS_DENY}),
        _resource(
            "aws_s3_bucket_policy",
            "legacy",
            {"id": "legacy-logs", "bucket": "legacy-logs", "policy": TLS_DENY},
        ),
        _resource("aws_sns_topic_policy", "legacy", {"arn": TOPIC_ARN, "policy": TOPIC_POLICY}),
    ],
)
def test_a_policy_on_a_resource_outside_the_plan_is_no_cycle(policy: dict[str, Any]) -> None:
    assert "CV057" not in {rule for rule, _ in _rules(_plan(policy))}


def test_a_pulumi_bucket_policy_on_a_bucket_outside_the_stack_is_no_cycle() -> None:
    stack = {"urn": "urn:pulumi:dev::acme::pulumi:pulumi:Stack::acme-dev", "custom": False}
    stack["type"] = "pulumi:pulumi:Stack"
    policy = {
        "urn": "urn:pulumi:dev::acme::aws:s3/bucketPolicy:BucketPolicy::legacy",
        "custom": True,
        "id": "legacy-logs",
        "type": "aws:s3/bucketPolicy:BucketPolicy",
        "inputs": {"bucket": "legacy-logs", "policy": TLS_DENY},
        "outputs": {"bucket": "legacy-logs"},
        "dependencies": [],
        "propertyDependencies": {},
    }
    text = json.dumps({"version": 3, "deployment": {"resources": [stack, policy]}})
    result = check_text(text, name="stack.json")
    assert result.errors == []
    assert "CV057" not in {f.rule for f in result.findings}


@pytest.mark.parametrize("policy_first", [True, False])
def test_a_state_joins_the_policy_to_its_bucket_whichever_comes_first(policy_first: bool) -> None:
    policy = _resource(
        "aws_s3_bucket_policy",
        "p",
        {"id": "legacy-logs", "bucket": "legacy-logs", "policy": TLS_DENY},
    )
    bucket = _resource(
        "aws_s3_bucket",
        "b",
        {"id": "legacy-logs", "bucket": "legacy-logs", "arn": "arn:aws:s3:::legacy-logs"},
    )
    ordered = [policy, bucket] if policy_first else [bucket, policy]
    state = json.dumps({"format_version": "1.0", "values": {"root_module": {"resources": ordered}}})
    found = _rules(state)
    assert ("CV006", "aws_s3_bucket.b") not in found  # the TLS-deny policy is the bucket's
    assert "CV057" not in {rule for rule, _ in found}
    assert ("CV002", "aws_s3_bucket.b") in found  # the bucket itself is still judged
