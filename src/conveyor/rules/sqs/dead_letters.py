"""SQS queue whose failed messages vanish unseen: a consumed queue with no dead-letter queue, or
a dead-letter queue no alarm watches.

A consumer that cannot process a message (a bug, a message it cannot parse) lets it become
visible again after the visibility timeout, and receives it again, until the queue's retention
period deletes it: without a redrive policy the message is retried for days and then lost, and
nothing says so. With a redrive policy, SQS moves a message received ``maxReceiveCount`` times
to the dead-letter queue, where it waits to be inspected and redriven; but SQS does not tell
anyone, and the dead-letter queue deletes it in turn when its retention period ends (for a
standard queue counted from the message's first enqueue). AWS's guidance is an alarm on the
dead-letter queue's ``ApproximateNumberOfMessagesVisible``; ``NumberOfMessagesSent`` does not
count messages moved there by a redrive policy.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/dead-letter-queues-alarms-cloudwatch.html

Judged, in one template:

- a queue is *consumed* when a Lambda event source mapping or an EventBridge pipe reads it, or
  an IAM policy of the template allows ``sqs:ReceiveMessage`` on it by reference; such a queue
  needs a ``RedrivePolicy`` (unless it is itself a dead-letter queue: redriving a dead-letter
  queue into another hides the failure one step further);
- a queue is a *dead-letter queue* when another queue's or an SNS subscription's
  ``RedrivePolicy``, a Lambda function's ``DeadLetterConfig``, an on-failure destination, or an
  EventBridge rule's or schedule's target ``DeadLetterConfig`` names it; it needs an
  ``AWS::CloudWatch::Alarm`` with an action on one of its SQS metrics (a metric of namespace
  ``AWS/SQS`` whose ``QueueName`` dimension references it, directly or in a metric math query).

Not judged: consumers and alarms of another stack (a queue whose consumer is elsewhere is not
reported), a ``RedrivePolicy`` written as a JSON string (its target is a literal ARN, read as
present). On Terraform plans and Pulumi exports, aws_sqs_queue (redrive_policy),
aws_lambda_event_source_mapping, IAM policies and aws_cloudwatch_metric_alarm (dimensions) are
mapped; pipes, SNS subscriptions' redrive policies and metric math alarms are not yet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import statement_allows, statements
from conveyor.rules.template import Resource

QUEUE = "AWS::SQS::Queue"
ALARM = "AWS::CloudWatch::Alarm"
POLICY_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::Role",
)


def _redrive_target(value: Any) -> Any:
    """The deadLetterTargetArn of a RedrivePolicy, written as a mapping or as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return get(value, "deadLetterTargetArn")


def _names(value: Any, queue: str) -> bool:
    return ref_target(value) == queue


def dead_letter_source(queue: str, ctx: Context) -> str | None:
    """The first resource that sends its failures to `queue`, if any."""
    for lid in ctx.relations.referrers(queue):
        res = ctx.template.resources[lid]
        props = res.properties
        kind = res.type
        if kind in (QUEUE, "AWS::SNS::Subscription"):
            found = _names(_redrive_target(props.get("RedrivePolicy")), queue)
        elif kind == "AWS::Lambda::Function":
            found = _names(get(props, "DeadLetterConfig", "TargetArn"), queue)
        elif kind in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
            found = _names(get(props, "DestinationConfig", "OnFailure", "Destination"), queue)
        elif kind == "AWS::Events::Rule":
            found = any(
                _names(get(target, "DeadLetterConfig", "Arn"), queue)
                for target in as_list(props.get("Targets"))
            )
        elif kind == "AWS::Scheduler::Schedule":
            found = _names(get(props, "Target", "DeadLetterConfig", "Arn"), queue)
        else:
            found = False
        if found:
            return lid
    return None


def _documents(res: Resource) -> list[Any]:
    if res.type == "AWS::IAM::Role":
        return [get(p, "PolicyDocument") for p in as_list(res.properties.get("Policies"))]
    return [res.properties.get("PolicyDocument")]


def consumer(queue: str, ctx: Context) -> str | None:
    """The first resource of the template that reads `queue`'s messages, if any."""
    for lid in ctx.relations.referrers(queue):
        res = ctx.template.resources[lid]
        props = res.properties
        if res.type == "AWS::Lambda::EventSourceMapping" and _names(
            props.get("EventSourceArn"), queue
        ):
            return lid
        if res.type == "AWS::Pipes::Pipe" and _names(props.get("Source"), queue):
            return lid
        if res.type in POLICY_TYPES:
            for document in _documents(res):
                for _, stmt in statements(document):
                    if statement_allows(stmt, "sqs:ReceiveMessage") and any(
                        _names(item, queue) for item in as_list(stmt.get("Resource"))
                    ):
                        return lid
    return None


def _metric_of(stat: Any, queue: str) -> bool:
    if get(stat, "Namespace") != "AWS/SQS":
        return False
    return any(
        get(d, "Name") == "QueueName" and _names(get(d, "Value"), queue)
        for d in as_list(get(stat, "Dimensions"))
    )


def watched(queue: str, ctx: Context) -> bool:
    """Whether an alarm with an action watches one of `queue`'s SQS metrics."""
    for lid in ctx.relations.referrers(queue, ALARM):
        props = ctx.template.resources[lid].properties
        if not as_list(props.get("AlarmActions")):
            continue
        if _metric_of(props, queue) or any(
            _metric_of(get(query, "MetricStat", "Metric"), queue)
            for query in as_list(props.get("Metrics"))
        ):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    queue = res.logical_id
    source = dead_letter_source(queue, ctx)
    if source is not None:
        if not watched(queue, ctx):
            yield Hit(
                queue,
                "Properties",
                f"{source} sends the messages it could not deliver or process to this "
                "dead-letter queue, and no alarm watches it (ApproximateNumberOfMessagesVisible "
                "with an alarm action): failures pile up unseen until its retention period "
                "deletes them",
            )
        return
    reader = consumer(queue, ctx)
    if reader is not None and res.properties.get("RedrivePolicy") is None:
        yield Hit(
            queue,
            "Properties",
            f"{reader} consumes this queue, which has no dead-letter queue (RedrivePolicy): a "
            "message its consumer cannot process is received again after every visibility "
            "timeout until the retention period deletes it, unseen",
        )


RULE = Rule(
    id="CV125",
    title="SQS queue whose failed messages vanish unseen (no dead-letter queue, or no alarm on it)",
    severity=Severity.MEDIUM,
    resource_types=(QUEUE,),
    failure_modes=("FM129",),
    why="issue 15 (worker services): a worker's queue needs a dead-letter queue and an alarm on "
    "it, or a message the release cannot process is retried until its retention ends and "
    "deleted, with nobody told. AWS: sqs-dead-letter-queues.html, "
    "dead-letter-queues-alarms-cloudwatch.html.",
    fix_cloudformation="Give the consumed queue a RedrivePolicy {deadLetterTargetArn: !GetAtt "
    "DeadLetters.Arn, maxReceiveCount: 5} to a queue with MessageRetentionPeriod 1209600 (14 "
    "days, longer than the source's), and an AWS::CloudWatch::Alarm on AWS/SQS "
    "ApproximateNumberOfMessagesVisible (QueueName: !GetAtt DeadLetters.QueueName, Maximum, "
    ">= 1) with AlarmActions to a topic that CloudWatch may publish to.",
    fix_cdk="sqs.Queue(..., dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5))"
    "; cloudwatch.Alarm(..., metric=dlq.metric_approximate_number_of_messages_visible(), "
    "threshold=1).add_alarm_action(cloudwatch_actions.SnsAction(topic))",
    fix_conveyor="Nothing to write: a worker's queue (create.kind: worker) has a dead-letter "
    "queue whose alarm notifies the environment's alarm topic.",
    check=check,
)
