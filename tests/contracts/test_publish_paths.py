"""Every publisher of every example reaches its SNS topic and the topic's KMS key.

Publishers: CloudWatch alarm actions, EventBridge rule targets, CodeStar notification rules
(each an AWS service principal acting for the resource), handler functions with a TOPIC_ARN and
manual approvals with a NotificationArn (each a role). An explicit topic policy replaces SNS's
default one, so a service must be allowed there; an encrypted topic needs the key policy to let
the publisher use the key: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from conveyor.rules.runtime_contracts import (
    ENCRYPTED_PUBLISH_NEEDS,
    PUBLISH_NEEDS,
    SERVICE_PUBLISHERS,
)
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.evaluator import Caller, Verdict, evaluate
from tests.contracts.model import Example, Role
from tests.contracts.obligations import handler_of


@dataclass(frozen=True)
class Publisher:
    what: str
    topic: str
    service: str = ""  # an AWS service principal publishing for `source_arn`
    source_arn: str = ""
    role: Role | None = None


def default_topic_policy(topic: str, account: str) -> dict[str, Any]:
    """SNS's default policy: principals of the owner account only.
    https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"""
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"],
                "Resource": topic,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ]
    }


def _topics(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str) and item.startswith("arn:aws:sns:")]


def publishers(example: Example) -> list[Publisher]:
    found: list[Publisher] = []
    for alarm in example.of_type("AWS::CloudWatch::Alarm"):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for topic in _topics(alarm.value(key) or []):
                service = SERVICE_PUBLISHERS["AWS::CloudWatch::Alarm"]
                found.append(Publisher(f"alarm {alarm.lid}", topic, service, alarm.arn))
    for rule in example.of_type("AWS::Events::Rule"):
        for target in rule.value("Targets") or []:
            for topic in _topics(target["Arn"]):
                found.append(
                    Publisher(
                        f"rule {rule.lid}", topic, SERVICE_PUBLISHERS["AWS::Events::Rule"], rule.arn
                    )
                )
    for rule in example.of_type("AWS::CodeStarNotifications::NotificationRule"):
        for target in rule.value("Targets") or []:
            for topic in _topics(target["TargetAddress"]):
                service = SERVICE_PUBLISHERS["AWS::CodeStarNotifications::NotificationRule"]
                found.append(Publisher(f"notification rule {rule.lid}", topic, service, rule.arn))
    for function in example.of_type("AWS::Lambda::Function"):
        env = (function.value("Environment") or {}).get("Variables", {})
        if handler_of(function) and "TOPIC_ARN" in env:
            role = example.role(function.value("Role"))
            found.append(
                Publisher(f"handler {function.value('FunctionName')}", env["TOPIC_ARN"], role=role)
            )
    pipeline_role = example.role(example.pipeline.value("RoleArn"))
    for stage, action in example.actions():
        for topic in _topics(action.get("Configuration", {}).get("NotificationArn")):
            role = example.role(action["RoleArn"]) if "RoleArn" in action else pipeline_role
            found.append(Publisher(f"approval {stage}/{action['Name']}", topic, role=role))
    return found


def topic_key(example: Example, topic: str) -> str | None:
    for located in example.of_type("AWS::SNS::Topic"):
        if located.arn == topic:
            key = located.value("KmsMasterKeyId")
            if not key or key.startswith("arn:"):
                return key or None
            return f"arn:aws:kms:{located.resolver.region}:{located.resolver.account}:{key}"
    raise LookupError(f"{example.name}: topic {topic} is not defined in its templates")


def refusals(example: Example, publisher: Publisher) -> list[str]:
    """What AWS would refuse along publisher -> topic -> key."""
    account = publisher.topic.split(":")[4]
    region = publisher.topic.split(":")[3]
    context = {"aws:SourceAccount": account, "AWS:SourceOwner": account}
    if publisher.source_arn:
        context["aws:SourceArn"] = publisher.source_arn
    key = topic_key(example, publisher.topic)
    steps: list[tuple[str, str, Verdict]] = []
    for need in PUBLISH_NEEDS:
        for action in need.actions:
            if publisher.role is not None:
                verdict = example.allows(publisher.role, action, publisher.topic, context)
            else:
                policy = example.topic_policy(publisher.topic) or default_topic_policy(
                    publisher.topic, account
                )
                caller = Caller(service=publisher.service)
                verdict = evaluate(
                    caller, action, publisher.topic, resource_policy=policy, context=context
                )
            steps.append((action, publisher.topic, verdict))
    for need in ENCRYPTED_PUBLISH_NEEDS if key else ():
        for action in need.actions:
            assert key is not None
            if key.endswith(":alias/aws/sns"):
                # The AWS managed key's policy admits no service principal, and cannot change.
                verdict = Verdict(publisher.role is not None, "alias/aws/sns admits no AWS service")
            elif publisher.role is not None:
                via_sns = {**context, "kms:ViaService": f"sns.{region}.amazonaws.com"}
                verdict = example.allows(publisher.role, action, key, via_sns)
            else:
                caller = Caller(service=publisher.service)
                verdict = evaluate(
                    caller,
                    action,
                    key,
                    resource_policy=example.key_policy(key),
                    key_policy=True,
                    context=context,
                )
            steps.append((action, key, verdict))
    return [
        f"{publisher.what}: {action} on {resource}: {v.why}"
        for action, resource, v in steps
        if not v
    ]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_every_publisher_reaches_its_topic_and_key(example: Example) -> None:
    found = publishers(example)
    assert any(p.service == "cloudwatch.amazonaws.com" for p in found), (
        f"{example.name}: no alarm publishes"
    )
    assert [r for p in found for r in refusals(example, p)] == []
