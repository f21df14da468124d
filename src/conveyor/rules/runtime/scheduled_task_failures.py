"""A schedule runs an ECS task and nothing keeps the runs that could not start.

EventBridge Scheduler (and a scheduled EventBridge rule) starts an ECS task by calling RunTask.
When that call fails (the task definition revision is no longer ACTIVE, the role cannot be
passed, the subnets have no free address, Fargate has no capacity, a throttle that outlasts the
retries), no task exists: no task state change event, no container log, no ECS metric ever
tells of the run. The scheduler retries for the retry policy's time (by default 185 attempts
over 24 hours) and then drops the invocation, unless the target has a dead-letter queue; the
dead-letter event then carries the error RunTask returned. A scheduled job that silently stops
running is found only when what it should have produced is missing.

Unlike CV099 (a function target, whose errors show in the function's own metrics), a schedule
is judged here: a RunTask that never started leaves nothing else behind.

Reported: an ``AWS::Scheduler::Schedule`` whose ``Target`` has ``EcsParameters`` and no
``DeadLetterConfig.Arn``, and an ``AWS::Events::Rule`` with a ``ScheduleExpression`` whose
target has ``EcsParameters`` and no ``DeadLetterConfig.Arn``. A task that starts and then fails
(a non-zero exit code) is not a failed invocation; its notice is a rule on "ECS Task State
Change" (what conveyor adds beside the queue), which this rule does not judge.

Sources:
- https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
- https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html
- https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

SCHEDULE = "AWS::Scheduler::Schedule"
RULE_TYPE = "AWS::Events::Rule"
MESSAGE = (
    "{what} starts an ECS task and has no dead-letter queue: a run ECS refuses to start "
    "(an inactive task definition, a role it cannot pass, no capacity or address) leaves no "
    "task, no log and no event, and the scheduler drops it after its retries"
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    del ctx
    props = res.properties
    if res.type == SCHEDULE:
        target = props.get("Target")
        if (
            isinstance(target, dict)
            and "EcsParameters" in target
            and get(target, "DeadLetterConfig", "Arn") is None
        ):
            yield Hit(res.logical_id, "Properties.Target", MESSAGE.format(what="the schedule"))
        return
    if "ScheduleExpression" not in props:
        return  # a rule on events: what it starts answers to the event, not to a clock
    for index, target in enumerate(as_list(props.get("Targets"))):
        if not isinstance(target, dict) or "EcsParameters" not in target:
            continue
        if get(target, "DeadLetterConfig", "Arn") is None:
            yield Hit(
                res.logical_id,
                f"Properties.Targets.{index}",
                MESSAGE.format(what="the scheduled rule"),
                key=str(target.get("Id", index)),
            )


RULE = Rule(
    id="CV126",
    title="Scheduled ECS task drops the runs that could not start",
    severity=Severity.MEDIUM,
    resource_types=(SCHEDULE, RULE_TYPE),
    failure_modes=("FM130",),
    why="Issue 15: conveyor's scheduled jobs (kind: job) run on EventBridge Scheduler; a job "
    "whose task definition, role or network stopped working would stop running with nothing "
    "in ECS to show it.",
    fix_cloudformation="Give the target a DeadLetterConfig: {Arn: <an encrypted standard SQS "
    "queue>} (the schedule's execution role needs sqs:SendMessage on it, and kms:GenerateDataKey "
    "and kms:Decrypt on its key) and alarm on the queue's ApproximateNumberOfMessagesVisible.",
    fix_cdk="scheduler.Schedule(target=scheduler_targets.EcsRunFargateTask(cluster, "
    "task_definition=task, dead_letter_queue=queue, retry_attempts=...)) or the L1 "
    "CfnSchedule Target.DeadLetterConfig",
    fix_conveyor="Nothing to write: a kind: job schedule has a dead-letter queue with an alarm "
    "on the environment's alarm topic.",
    check=check,
)
