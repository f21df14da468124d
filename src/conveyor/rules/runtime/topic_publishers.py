"""SNS topic shuts out the services that publish to it (or its key does).

Relational. The publishers of a topic are found through references to it: CloudWatch alarm
actions (``cloudwatch.amazonaws.com``), EventBridge rule targets (``events.amazonaws.com``),
CodeStar notification rule targets (``codestar-notifications.amazonaws.com``) and S3 bucket
notifications (``s3.amazonaws.com``). Each must be allowed ``sns:Publish``:

- An ``AWS::SNS::TopicPolicy`` replaces the topic's default policy, so once one exists it must
  hold an Allow for each publishing service (a TLS-only Deny alone refuses everyone).
- With no topic policy, SNS's default policy admits the owner account, which covers CloudWatch
  alarms; EventBridge, CodeStar Notifications and S3 still need a statement on the topic.
- On an encrypted topic the key must let each publishing service use it
  (``kms:GenerateDataKey*`` and ``kms:Decrypt``). The AWS managed key ``alias/aws/sns`` cannot:
  its key policy cannot be changed.

Conditions on Allow statements (``aws:SourceAccount``, ``aws:SourceArn``) are assumed to be met;
Deny statements with conditions (the TLS-only Deny) are assumed not to apply to the service.
A policy document or key built by an intrinsic that cannot be read is not judged.

Sources:
- https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
  ("the topic's access policy must allow CloudWatch to publish")
- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
- https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
- https://docs.aws.amazon.com/dtconsole/latest/userguide/set-up-sns.html (CodeStar Notifications)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import service_allowed
from conveyor.rules.template import Resource

CLOUDWATCH = "cloudwatch.amazonaws.com"
EVENTS = "events.amazonaws.com"
CODESTAR = "codestar-notifications.amazonaws.com"
S3 = "s3.amazonaws.com"
# Services SNS's default topic policy admits (through the owner account's AWS:SourceOwner).
DEFAULT_POLICY_ADMITS = frozenset({CLOUDWATCH})
KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _targets(value: Any, topic: str) -> bool:
    return any(ref_target(item) == topic for item in as_list(value))


def publishers(topic: str, ctx: Context) -> dict[str, str]:
    """Publishing service principal -> the first resource that publishes through it."""
    found: dict[str, str] = {}
    for lid in ctx.relations.referrers(topic):
        res = ctx.template.resources[lid]
        props = res.properties
        if res.type == "AWS::CloudWatch::Alarm" and any(
            _targets(props.get(key), topic)
            for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
        ):
            found.setdefault(CLOUDWATCH, lid)
        elif res.type == "AWS::Events::Rule" and any(
            isinstance(t, dict) and ref_target(t.get("Arn")) == topic
            for t in as_list(props.get("Targets"))
        ):
            found.setdefault(EVENTS, lid)
        elif res.type == "AWS::CodeStarNotifications::NotificationRule" and any(
            isinstance(t, dict) and ref_target(t.get("TargetAddress")) == topic
            for t in as_list(props.get("Targets"))
        ):
            found.setdefault(CODESTAR, lid)
        elif res.type == "AWS::S3::Bucket" and any(
            isinstance(c, dict) and ref_target(c.get("Topic")) == topic
            for c in as_list(get(props, "NotificationConfiguration", "TopicConfigurations"))
        ):
            found.setdefault(S3, lid)
    return found


def _topic_policies(topic: str, ctx: Context) -> list[Resource]:
    return [
        ctx.template.resources[lid]
        for lid in ctx.relations.referrers(topic, "AWS::SNS::TopicPolicy")
        if _targets(ctx.template.resources[lid].properties.get("Topics"), topic)
    ]


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    found = publishers(res.logical_id, ctx)
    if not found:
        return
    policies = _topic_policies(res.logical_id, ctx)
    for service, publisher in sorted(found.items()):
        if policies:
            verdicts = [
                service_allowed(p.properties.get("PolicyDocument"), service, ("sns:Publish",))
                for p in policies
            ]
            if None in verdicts or any(verdicts):
                continue
            yield Hit(
                res.logical_id,
                "Properties",
                f"{publisher} publishes through {service}, but the topic policy "
                f"{policies[0].logical_id} does not allow it sns:Publish; an explicit topic "
                "policy replaces SNS's default, so these notices are silently dropped",
                key=service,
            )
        elif service not in DEFAULT_POLICY_ADMITS:
            yield Hit(
                res.logical_id,
                "Properties",
                f"{publisher} publishes through {service}, but no topic policy allows it "
                "sns:Publish; the notices are silently dropped",
                key=service,
            )
    yield from _check_key(res, ctx, found)


def _check_key(res: Resource, ctx: Context, found: dict[str, str]) -> Iterator[Hit]:
    value = res.properties.get("KmsMasterKeyId")
    if value is None:
        return
    text = render(value) if not isinstance(value, str) else value
    if text is not None and text.endswith("alias/aws/sns"):
        services = ", ".join(sorted(found))
        yield Hit(
            res.logical_id,
            "Properties.KmsMasterKeyId",
            f"the topic is encrypted with the AWS managed key alias/aws/sns, whose policy "
            f"cannot admit {services}; their notices are dropped",
        )
        return
    key = ctx.relations.target(value, "AWS::KMS::Key")
    if key is None:
        return  # a key defined elsewhere: not visible here
    document = ctx.template.resources[key].properties.get("KeyPolicy")
    for service, publisher in sorted(found.items()):
        if service_allowed(document, service, KEY_ACTIONS) is False:
            yield Hit(
                res.logical_id,
                "Properties.KmsMasterKeyId",
                f"{publisher} publishes through {service}, but the topic's key {key} does not "
                f"allow it {' and '.join(KEY_ACTIONS)}; SNS refuses the encrypted publish",
                key=service,
            )


RULE = Rule(
    id="CV094",
    title="SNS topic or its key shuts out the services that publish to it",
    severity=Severity.HIGH,
    resource_types=("AWS::SNS::Topic",),
    failure_modes=("FM101",),
    why="conveyor's own review (2026-12): every topic policy held only the TLS-only Deny, which "
    "replaced SNS's default policy; CloudWatch alarms were refused sns:Publish and no alarm "
    "notice was ever delivered.",
    fix_cloudformation="In the topic policy, Allow sns:Publish to each publishing service "
    "(cloudwatch.amazonaws.com, events.amazonaws.com, ...) with aws:SourceAccount or "
    "aws:SourceArn conditions; in the key policy, Allow the same services kms:GenerateDataKey* "
    "and kms:Decrypt.",
    fix_cdk="topic.add_to_resource_policy(iam.PolicyStatement(principals=[iam.ServicePrincipal("
    "'cloudwatch.amazonaws.com')], actions=['sns:Publish'], resources=[topic.topic_arn], "
    "conditions=...)) and key.grant(...) for the same principal",
    fix_conveyor="Nothing to write: conveyor admits every publisher of its topics.",
    check=check,
)
