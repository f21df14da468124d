"""EventBridge invokes a function asynchronously and nothing keeps the events it fails on.

EventBridge invokes Lambda targets asynchronously: when the function fails (a bug, a timeout,
a throttle that outlasts the retries), Lambda retries twice and then drops the event unless the
function has an on-failure destination or a dead-letter queue; when EventBridge itself cannot
deliver, it drops the event unless the target has a ``DeadLetterConfig``. For a deployment
recorder or a notifier that means a deployment missing from history or a failure nobody hears
of. Reported: a rule target that is a function (``Fn::GetAtt`` Arn, ``Ref`` to a version or
alias) in this template, with no ``DeadLetterConfig`` on the target and no
``AWS::Lambda::EventInvokeConfig`` with ``DestinationConfig.OnFailure`` or function-level
``DeadLetterConfig`` for that function. A rule that only runs on a schedule
(``ScheduleExpression``, no ``EventPattern``) is passed over: its events carry nothing but the
time, and the next tick repeats the work, so a kept copy has nothing to replay (a function that
keeps failing shows in its ``Errors`` metric).

Sources:
- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
- https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def _function_of(value: object, ctx: Context) -> str | None:
    lid = ref_target(value)
    res = ctx.resource(lid)
    if res is None:
        return None
    if res.type in FUNCTION_TYPES:
        return res.logical_id
    if res.type in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        inner = ctx.resource(ref_target(res.properties.get("FunctionName")))
        return inner.logical_id if inner is not None and inner.type in FUNCTION_TYPES else None
    return None


def _keeps_failures(function: str, ctx: Context) -> bool:
    res = ctx.template.resources[function]
    if get(res.properties, "DeadLetterConfig", "TargetArn") is not None:
        return True
    if get(res.properties, "EventInvokeConfig", "DestinationConfig", "OnFailure") is not None:
        return True  # SAM
    for lid in ctx.relations.of_type("AWS::Lambda::EventInvokeConfig"):
        config = ctx.template.resources[lid].properties
        if _function_of(config.get("FunctionName"), ctx) == function and (
            get(config, "DestinationConfig", "OnFailure", "Destination") is not None
        ):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if "ScheduleExpression" in res.properties and "EventPattern" not in res.properties:
        return
    for index, target in enumerate(as_list(res.properties.get("Targets"))):
        if not isinstance(target, dict):
            continue
        function = _function_of(target.get("Arn"), ctx)
        if function is None or get(target, "DeadLetterConfig", "Arn") is not None:
            continue
        if _keeps_failures(function, ctx):
            continue
        yield Hit(
            res.logical_id,
            f"Properties.Targets.{index}",
            f"the rule invokes {function} asynchronously, and neither the target (no "
            "DeadLetterConfig) nor the function (no on-failure destination or dead-letter "
            "queue) keeps the events it fails on; they are dropped after two retries",
        )


RULE = Rule(
    id="CV099",
    title="EventBridge target function drops the events it fails on",
    severity=Severity.MEDIUM,
    resource_types=("AWS::Events::Rule",),
    failure_modes=("FM109",),
    why="conveyor's own review (2026-12): a commit message crashed the history recorder and the "
    "notifier; Lambda retried twice and the deployment record and its notice were gone.",
    fix_cloudformation="Give the target a DeadLetterConfig (an encrypted SQS queue with a "
    "policy admitting events.amazonaws.com) and the function an AWS::Lambda::EventInvokeConfig "
    "with DestinationConfig.OnFailure; alarm on the queue's depth.",
    fix_cdk="targets.LambdaFunction(fn, dead_letter_queue=queue) and "
    "fn.configure_async_invoke(on_failure=destinations.SqsDestination(queue))",
    fix_conveyor="Nothing to write: conveyor keeps failed events in a queue with an alarm.",
    check=check,
)
