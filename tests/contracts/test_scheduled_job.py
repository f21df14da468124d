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


def _stopped(
    example: Example, env: str = "prod", sample: str = "ecs-task-state", **detail: Any
) -> dict[str, Any]:
    """AWS's sample task event (or one of its sidecar variants), as a stopped run of the
    example's job in env (prod's task has an otel sidecar, staging's none)."""
    (schedule,) = [
        s for s in example.of_type("AWS::Scheduler::Schedule") if s.stack.endswith(f"-{env}")
    ]
    target = schedule.value("Target")
    revision = target["EcsParameters"]["TaskDefinitionArn"]
    event: dict[str, Any] = copy.deepcopy(SAMPLES[sample]["event"])
    event["detail"].update(
        clusterArn=target["Arn"],
        group="family:" + revision.split(":task-definition/")[1].split(":")[0],
        taskDefinitionArn=revision,
    )
    event["detail"]["containers"][0]["name"] = "app"
    event["detail"].update(detail)
    return event


def _failed_run_pattern(example: Example, env: str = "prod") -> dict[str, Any]:
    (rule,) = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack.endswith(f"-{env}") and "ECS Task State Change" in str(r.value("EventPattern"))
    ]
    pattern: dict[str, Any] = rule.value("EventPattern")
    return pattern


def _containers(example: Example, env: str) -> list[str]:
    (task,) = [
        t for t in example.of_type("AWS::ECS::TaskDefinition") if t.stack.endswith(f"-{env}")
    ]
    return [c["Name"] for c in task.value("ContainerDefinitions")]


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_example_has_a_job_with_a_sidecar_and_one_without(example: Example) -> None:
    """The tests below judge both patterns (scheduled_job.failed_run_detail)."""
    assert _containers(example, "prod") == ["app", "otel"]
    assert _containers(example, "staging") == ["app"]


@pytest.mark.parametrize("example", [JOB], indirect=True)
@pytest.mark.parametrize("env", ["prod", "staging"])
def test_a_failed_run_is_told_and_a_good_one_is_not(example: Example, env: str) -> None:
    pattern = _failed_run_pattern(example, env)
    assert matches(pattern, _stopped(example, env))  # exit code 1
    good = _stopped(example, env)
    good["detail"]["containers"][0]["exitCode"] = 0
    assert not matches(pattern, good)
    # A task that never started has no exit code: its stop code tells.
    never = _stopped(
        example, env, stopCode="TaskFailedToStart", stoppedReason="CannotPullContainer"
    )
    del never["detail"]["containers"][0]["exitCode"]
    assert matches(pattern, never)
    # Still running: not a failure yet.
    assert not matches(pattern, _stopped(example, env, lastStatus="RUNNING"))
    # A hung run someone stopped (StopTask): the job's container ends on SIGTERM.
    stopped = _stopped(example, env, stopCode="UserInitiated", stoppedReason="Task stopped")
    stopped["detail"]["containers"][0]["exitCode"] = 143
    assert matches(pattern, stopped)
    # The job's container killed for its memory (137 and ECS's reason).
    oom = _stopped(example, env)
    oom["detail"]["containers"][0].update(
        exitCode=137, reason="OutOfMemoryError: Container killed due to memory usage"
    )
    assert matches(pattern, oom)


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_a_job_with_a_sidecar_is_told_of_failed_runs_only(example: Example) -> None:
    """EventBridge matches detail.containers[].exitCode against every container's: the
    sidecar's 143 when the job's container ends the task is no failure (the reviewer's false
    FAILED on every successful run), the job's crash, its memory kill and a sidecar's crash
    are (tests/contracts/events/ecs-task-state-*.json)."""
    pattern = _failed_run_pattern(example, "prod")
    assert not matches(pattern, _stopped(example, sample="ecs-task-state-sidecar-stopped"))
    killed = _stopped(example, sample="ecs-task-state-sidecar-stopped")
    killed["detail"]["containers"][1]["exitCode"] = 137  # outlived its stop timeout
    assert not matches(pattern, killed)
    assert matches(pattern, _stopped(example, sample="ecs-task-state-out-of-memory"))
    assert matches(pattern, _stopped(example, sample="ecs-task-state-sidecar-crash"))
    crashed = _stopped(example, sample="ecs-task-state-sidecar-stopped")
    crashed["detail"]["containers"][0]["exitCode"] = 2
    assert matches(pattern, crashed)
    # A Fargate retirement stops the run before it ends: every container on SIGTERM.
    retired = _stopped(
        example, sample="ecs-task-state-sidecar-stopped", stopCode="TerminationNotice"
    )
    retired["detail"]["containers"][0]["exitCode"] = 143
    assert matches(pattern, retired)
    # What the pattern gives up (failed_run_detail's docstring): the job's own container
    # ending on a signal inside a task that stopped because of it reads like the sidecar.
    signal = _stopped(example, sample="ecs-task-state-sidecar-stopped")
    signal["detail"]["containers"][0]["exitCode"] = 143
    assert not matches(pattern, signal)


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_a_job_without_sidecars_keeps_its_exact_pattern(example: Example) -> None:
    """Alone in its task, the job's container's exit code is its own: any code but 0 tells,
    a signal exit too."""
    pattern = _failed_run_pattern(example, "staging")
    assert pattern["detail"]["$or"] == [
        {"containers": {"name": ["app"], "exitCode": [{"anything-but": 0}]}},
        {"stopCode": ["TaskFailedToStart"]},
    ]
    signal = _stopped(example, "staging")
    signal["detail"]["containers"][0]["exitCode"] = 143
    assert matches(pattern, signal)


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_notice_names_each_container_s_exit_code_and_reason(example: Example) -> None:
    (rule,) = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack.endswith("-prod") and "ECS Task State Change" in str(r.value("EventPattern"))
    ]
    (target,) = rule.value("Targets")
    paths = set(target["InputTransformer"]["InputPathsMap"].values())
    for index in (0, 1):
        for field in ("name", "exitCode", "reason"):
            assert f"$.detail.containers[{index}].{field}" in paths
    assert "$.detail.containers[2].name" not in paths


@pytest.mark.parametrize("example", [JOB], indirect=True)
def test_the_failure_rule_ignores_other_tasks(example: Example) -> None:
    pattern = _failed_run_pattern(example)
    assert not matches(pattern, _stopped(example, group="family:someone-else"))
    assert not matches(pattern, _stopped(example, group="service:reports-service-prod"))
    other_cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/other"
    assert not matches(pattern, _stopped(example, clusterArn=other_cluster))
