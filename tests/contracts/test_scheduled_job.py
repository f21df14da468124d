"""A scheduled job (create.kind: job) at run time: the scheduler's role may start exactly this
job's task and keep the runs it could not start, judged by the policy evaluator; the failure
rule fires for a failed run of this job and for nothing else, judged on AWS's sample event by
the event-pattern matcher (tests/contracts/test_event_patterns.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.contracts.model import Example
from tests.contracts.obligations import Obligation, schedule_obligations
from tests.contracts.test_event_patterns import SAMPLES, matches

JOB = "scheduled-job"


def refused(example: Example, obligations: list[Obligation]) -> list[str]:
    return [
        f"{o} -> {verdict.why}"
        for o in obligations
        if not (verdict := example.allows(o.role, o.action, o.resource, dict(o.context)))
    ]


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_scheduler_role_may_do_what_the_scheduler_does(example: Example) -> None:
    obligations = schedule_obligations(example)
    actions = {o.action for o in obligations}
    assert actions == {
        "ecs:RunTask",
        "iam:PassRole",
        "ecs:TagResource",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
    # Both environments: staging and prod each have their schedule.
    assert len({o.why for o in obligations}) == 2
    assert refused(example, obligations) == []


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_scheduler_role_may_start_no_other_task(example: Example) -> None:
    """Least privilege, evaluated: another family, another cluster, another role, and tagging
    outside RunTask are refused."""
    (staging, *_) = [o for o in schedule_obligations(example) if o.action == "ecs:RunTask"]
    family_arn = staging.resource
    other_family = family_arn.replace(":task-definition/", ":task-definition/other-")
    assert not example.allows(staging.role, "ecs:RunTask", other_family, dict(staging.context))
    other_cluster = {**dict(staging.context), "ecs:cluster": "arn:aws:ecs:eu-west-1:1:cluster/x"}
    assert not example.allows(staging.role, "ecs:RunTask", family_arn, other_cluster)
    pass_role = next(o for o in schedule_obligations(example) if o.action == "iam:PassRole")
    admin = pass_role.resource.rsplit("/", 1)[0] + "/admin"
    assert not example.allows(pass_role.role, "iam:PassRole", admin, dict(pass_role.context))
    tag = next(o for o in schedule_obligations(example) if o.action == "ecs:TagResource")
    outside = {"ecs:CreateAction": "RegisterTaskDefinition"}
    assert not example.allows(tag.role, "ecs:TagResource", tag.resource, outside)


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_only_eventbridge_scheduler_of_this_account_assumes_the_role(example: Example) -> None:
    for schedule in example.of_type("AWS::Scheduler::Schedule"):
        role = example.role(schedule.value("Target")["RoleArn"])
        (statement,) = role.trust["Statement"]
        assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": role.account}}


def _stopped(example: Example, **detail: Any) -> dict[str, Any]:
    """AWS's sample task event, as a stopped run of the example's prod job."""
    (schedule,) = [
        s for s in example.of_type("AWS::Scheduler::Schedule") if s.stack.endswith("-prod")
    ]
    target = schedule.value("Target")
    revision = target["EcsParameters"]["TaskDefinitionArn"]
    event: dict[str, Any] = copy.deepcopy(SAMPLES["ecs-task-state"]["event"])
    event["detail"].update(
        clusterArn=target["Arn"],
        group="family:" + revision.split(":task-definition/")[1].split(":")[0],
        taskDefinitionArn=revision,
    )
    event["detail"]["containers"][0]["name"] = "app"
    event["detail"].update(detail)
    return event


def _failed_run_pattern(example: Example) -> dict[str, Any]:
    (rule,) = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack.endswith("-prod") and "ECS Task State Change" in str(r.value("EventPattern"))
    ]
    pattern: dict[str, Any] = rule.value("EventPattern")
    return pattern


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_a_failed_run_is_told_and_a_good_one_is_not(example: Example) -> None:
    pattern = _failed_run_pattern(example)
    assert matches(pattern, _stopped(example))  # exit code 1
    good = _stopped(example)
    good["detail"]["containers"][0]["exitCode"] = 0
    assert not matches(pattern, good)
    # A task that never started has no exit code: its stop code tells.
    never = _stopped(example, stopCode="TaskFailedToStart", stoppedReason="CannotPullContainer")
    del never["detail"]["containers"][0]["exitCode"]
    assert matches(pattern, never)
    # Still running: not a failure yet.
    assert not matches(pattern, _stopped(example, lastStatus="RUNNING"))
    # A sidecar's non-zero exit with the job's container at 0: told too (EventBridge flattens
    # the containers array; scheduled_job.failed_run_pattern says so).
    sidecar = copy.deepcopy(good)
    sidecar["detail"]["containers"].append({"name": "otel", "exitCode": 143})
    assert matches(pattern, sidecar)


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_failure_rule_ignores_other_tasks(example: Example) -> None:
    pattern = _failed_run_pattern(example)
    assert not matches(pattern, _stopped(example, group="family:someone-else"))
    assert not matches(pattern, _stopped(example, group="service:reports-service-prod"))
    other_cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/other"
    assert not matches(pattern, _stopped(example, clusterArn=other_cluster))
