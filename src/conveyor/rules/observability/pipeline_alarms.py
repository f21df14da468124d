"""Pipeline without alarms for failed or stuck executions.

Heuristic: some ``AWS::CloudWatch::Alarm`` must watch the pipeline: it references the pipeline,
or its metric (namespace, name, dimensions, metric math) mentions the pipeline's name or
"pipeline". CodePipeline has no built-in failure metric, so the alarm usually sits on a metric
fed by an EventBridge rule. Alarms in another stack are not visible.

Equivalent designs count too: an EventBridge rule (or a notification rule) that routes the
pipeline's FAILED executions to a target (the CV080 test), or an alarm on CodeBuild's
``FailedBuilds`` metric for a project the pipeline runs (or for every project, without a
``ProjectName`` dimension).
https://docs.aws.amazon.com/codebuild/latest/userguide/cloudwatch_metrics-codebuild.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.observability.failure_notifications import covered
from conveyor.rules.template import Resource


def _failed_builds_alarm(alarm: Resource, projects: set[str]) -> bool:
    props = alarm.properties
    if render(props.get("Namespace")) != "AWS/CodeBuild":
        return False
    if render(props.get("MetricName")) != "FailedBuilds":
        return False
    names = [
        d.get("Value") for d in as_list(props.get("Dimensions")) if get(d, "Name") == "ProjectName"
    ]
    return not names or any(ref_target(n) in projects for n in names)


def _pipeline_projects(pipeline: Resource, ctx: Context) -> set[str]:
    return {
        lid
        for lid in ctx.relations.refs_from.get(pipeline.logical_id, set())
        if ctx.relations.resource_type(lid) == "AWS::CodeBuild::Project"
    }


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if covered(res, ctx):
        return
    projects = _pipeline_projects(res, ctx)
    name = res.properties.get("Name")
    for lid in ctx.relations.of_type("AWS::CloudWatch::Alarm"):
        if res.logical_id in ctx.relations.refs_from.get(lid, set()):
            return
        if _failed_builds_alarm(ctx.template.resources[lid], projects):
            return
        text = json.dumps(ctx.template.resources[lid].properties, default=str).lower()
        if "pipeline" in text or (isinstance(name, str) and name.lower() in text):
            return
    yield Hit(
        res.logical_id,
        "",
        "no CloudWatch alarm watches this pipeline for failed or stuck executions",
    )


RULE = Rule(
    id="CV083",
    title="No alarms for failed or stuck pipeline executions",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM73",),
    why="S3: monitoring gaps; CloudWatch alarms for pipeline failures and stuck executions had "
    "to be added.",
    fix_cloudformation="Count failed executions with an EventBridge rule into a metric and "
    "alarm on it; alarm on executions in progress for longer than the expected duration.",
    fix_cdk="cloudwatch.Alarm(metric=cloudwatch.Metric(namespace='conveyor/pipelines', "
    "metric_name='FailedExecutions', dimensions_map={'PipelineName': pipeline.pipeline_name}), "
    "...)",
    fix_conveyor="Nothing to write: conveyor adds failed and stuck execution alarms.",
    check=check,
)
