"""Lambda function whose log group is created implicitly (no retention, logs kept forever).

A function counts as covered when ``LoggingConfig.LogGroup`` is set, or an ``AWS::Logs::LogGroup``
or a ``Custom::LogRetention`` resource references it (``/aws/lambda/${Function}``), or a log
group's literal name is ``/aws/lambda/<FunctionName>``. CDK's own custom-resource provider
functions are skipped: their log groups are CDK's to manage.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.taggable import is_cdk_provider
from conveyor.rules.template import Resource

COVERING = ("AWS::Logs::LogGroup", "Custom::LogRetention")


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if is_cdk_provider(res) or get(res.properties, "LoggingConfig", "LogGroup") is not None:
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
