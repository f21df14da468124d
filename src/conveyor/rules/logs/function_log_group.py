"""Lambda function whose log group is created implicitly (no retention, logs kept forever).

A function counts as covered when ``LoggingConfig.LogGroup`` is set, or an ``AWS::Logs::LogGroup``
or a ``Custom::LogRetention`` resource references it (``/aws/lambda/${Function}``), or a log
group's literal name is ``/aws/lambda/<FunctionName>``. CDK's own custom-resource provider
functions are skipped: their log groups are CDK's to manage. So are Lambda@Edge functions (a
role trusting ``edgelambda.amazonaws.com``, or a version a CloudFront distribution associates):
they log to ``/aws/lambda/us-east-1.<name>`` in every Region where they run, groups a template in
one Region cannot create.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, ref_target, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.taggable import is_cdk_provider
from conveyor.rules.template import Resource

COVERING = ("AWS::Logs::LogGroup", "Custom::LogRetention")


EDGE_PRINCIPAL = "edgelambda.amazonaws.com"


def _at_edge(res: Resource, ctx: Context) -> bool:
    role = ctx.resource(ctx.relations.role_of(res.logical_id, "Role"))
    if role is not None and EDGE_PRINCIPAL in ctx.text(role.logical_id):
        return True
    for lid in ctx.relations.of_type("AWS::CloudFront::Distribution"):
        associated = references(ctx.template.resources[lid].properties)
        if res.logical_id in associated:
            return True
        for version in ctx.relations.referrers(res.logical_id, "AWS::Lambda::Version"):
            function = ctx.template.resources[version].properties.get("FunctionName")
            if version in associated and ref_target(function) == res.logical_id:
                return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if is_cdk_provider(res) or get(res.properties, "LoggingConfig", "LogGroup") is not None:
        return
    if _at_edge(res, ctx):
        return
    if ctx.relations.referrers(res.logical_id, *COVERING):
        return
    name = res.properties.get("FunctionName")
    if isinstance(name, str):
        for lid in ctx.relations.of_type("AWS::Logs::LogGroup"):
            if ctx.template.resources[lid].properties.get("LogGroupName") == f"/aws/lambda/{name}":
                return
    yield Hit(
        res.logical_id,
        "Properties",
        "function logs go to a log group Lambda creates itself, without retention",
    )


RULE = Rule(
    id="CV035",
    title="Lambda function without a managed log group",
    severity=Severity.LOW,
    resource_types=("AWS::Lambda::Function",),
    failure_modes=("FM24",),
    why="S1, S2 and S5: log groups created on first use had no retention; logs were kept forever.",
    fix_cloudformation="Create an AWS::Logs::LogGroup with RetentionInDays and set the "
    "function's LoggingConfig.LogGroup to it.",
    fix_cdk="lambda_.Function(..., log_group=logs.LogGroup(self, 'Logs', retention=...))",
    fix_conveyor="Nothing to write: conveyor's handlers get their own log groups.",
    check=check,
)
