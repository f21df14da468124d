"""Pipeline without a rule that sends its failures to SNS.

A pipeline is covered by an ``AWS::Events::Rule`` whose pattern has source ``aws.codepipeline``
(and, when it filters on state, ``FAILED``; when it filters on pipeline names, this pipeline)
and targets something, or by an ``AWS::CodeStarNotifications::NotificationRule`` on the
pipeline with a failed event. Limit: notifications defined in another stack are not visible;
suppress with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def _rule_covers(pattern: Any, pipeline: Resource, ctx: Context) -> bool:
    if not isinstance(pattern, dict) or "aws.codepipeline" not in as_list(pattern.get("source")):
        return False
    states = as_list(get(pattern, "detail", "state"))
    if states and "FAILED" not in states and not any(isinstance(s, dict) for s in states):
        return False
    names = get(pattern, "detail", "pipeline")
    if names is None:
        return True
    name = pipeline.properties.get("Name")
    return pipeline.logical_id in references(names) or name in as_list(names) or not as_list(names)


def covered(pipeline: Resource, ctx: Context) -> bool:
    for lid in ctx.relations.of_type("AWS::Events::Rule"):
        props = ctx.template.resources[lid].properties
        if props.get("Targets") and _rule_covers(props.get("EventPattern"), pipeline, ctx):
            return True
    for lid in ctx.relations.of_type("AWS::CodeStarNotifications::NotificationRule"):
        props = ctx.template.resources[lid].properties
        events = [str(e) for e in as_list(props.get("EventTypeIds"))]
        if pipeline.logical_id in references(props.get("Resource")) and any(
            "failed" in e for e in events
        ):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not covered(res, ctx):
        yield Hit(
            res.logical_id,
            "",
            "no EventBridge rule or notification rule sends this pipeline's failures anywhere",
        )


RULE = Rule(
    id="CV080",
    title="No failure notification for the pipeline",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM70",),
    why="S2 and S5: no CloudWatch Events rule sent build or pipeline failures to SNS; the team "
    "did not learn about failures.",
    fix_cloudformation="Add an AWS::Events::Rule with EventPattern {source: [aws.codepipeline], "
    "detail-type: [CodePipeline Pipeline Execution State Change], detail: {state: [FAILED], "
    "pipeline: [!Ref Pipeline]}} targeting an SNS topic.",
    fix_cdk="pipeline.on_state_change('Failed', target=targets.SnsTopic(topic), event_pattern="
    "events.EventPattern(detail={'state': ['FAILED']}))",
    fix_conveyor="notifications: {email: [...], on: [failed]}.",
    check=check,
)
