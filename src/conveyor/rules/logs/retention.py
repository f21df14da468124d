"""Log group without retention: logs are kept (and billed) forever."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("RetentionInDays") is None:
        yield Hit(
            res.logical_id, "Properties", "log group has no RetentionInDays; logs never expire"
        )


RULE = Rule(
    id="CV034",
    title="Log group without retention",
    severity=Severity.MEDIUM,
    resource_types=("AWS::Logs::LogGroup",),
    failure_modes=("FM24",),
    why="S1, S2 and S5: log groups were created without retention and logs were kept forever.",
    fix_cloudformation="Set RetentionInDays (for example 30).",
    fix_cdk="logs.LogGroup(..., retention=logs.RetentionDays.ONE_MONTH)",
    fix_conveyor="retention: {log_days: 30} (the default).",
    check=check,
)
