"""A stage's V2 conditions in CDK: the plan's conditions (conveyor.plan, spec-only data, which
`conveyor plan` and the diagram show) turned into StageProps arguments, so what the pipeline
does and what the plan says cannot drift apart.
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam

from conveyor.plan import Condition, Stage

_RESULTS = {
    "FAIL": codepipeline.Result.FAIL,
    "ROLLBACK": codepipeline.Result.ROLLBACK,
    "RETRY": codepipeline.Result.RETRY,
}
_RETRY_MODES = {
    "FAILED_ACTIONS": codepipeline.RetryMode.FAILED_ACTIONS,
    "ALL_ACTIONS": codepipeline.RetryMode.ALL_ACTIONS,
}


def stage_conditions(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """`before_entry`, `on_success` and `on_failure` arguments of one StageProps."""
    found: dict[str, Any] = {}
    for kind in ("before_entry", "on_success"):
        chosen = [c for c in conditions if c.kind == kind]
        if chosen:
            found[kind] = codepipeline.Conditions(
                conditions=[
                    codepipeline.Condition(result=_RESULTS[c.result], rules=_rules(c))
                    for c in chosen
                ]
            )
    failure = [c for c in conditions if c.kind == "on_failure"]
    if failure:
        (condition,) = failure  # one OnFailure per stage
        found["on_failure"] = codepipeline.FailureConditions(
            result=_RESULTS[condition.result],
            retry_mode=_RETRY_MODES[condition.retry_mode] if condition.retry_mode else None,
            conditions=(
                [codepipeline.Condition(result=_RESULTS[condition.result], rules=_rules(condition))]
                if condition.rules
                else None
            ),
        )
    return found


def _rules(condition: Condition) -> list[codepipeline.Rule]:
    return [
        codepipeline.Rule(
            name=rule.name,
            provider=rule.provider,
            version="1",
            configuration=dict(rule.configuration),
            region=rule.region,
        )
        for rule in condition.rules
    ]


def grant_alarm_reads(pipeline: codepipeline.Pipeline, stages: Iterable[Stage]) -> None:
    """The CloudWatchAlarm rules of the gates and bakes read their alarms with the pipeline
    role: cloudwatch:DescribeAlarms on exactly those alarms (a narrower scope than `*`
    reads metric alarms, not composite ones).
    https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html"""
    # (region, name): an environment in another region has its alarms there.
    names = sorted(
        {
            (rule.region or "", dict(rule.configuration)["AlarmName"])
            for stage in stages
            for condition in stage.conditions
            for rule in condition.rules
            if rule.provider == "CloudWatchAlarm"
        }
    )
    if not names:
        return
    stack = Stack.of(pipeline)
    pipeline.role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:DescribeAlarms"],
            resources=[
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    region=region or None,
                )
                for region, name in names
            ],
        )
    )
