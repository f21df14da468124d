"""CloudWatch alarm without ``TreatMissingData`` (the default, ``missing``, keeps alarms in
INSUFFICIENT_DATA or flips them on sparse metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("TreatMissingData") is None:
        yield Hit(res.logical_id, "Properties", "alarm has no TreatMissingData")


RULE = Rule(
    id="CV082",
    title="Alarm without TreatMissingData",
    severity=Severity.LOW,
    resource_types=("AWS::CloudWatch::Alarm",),
    failure_modes=("FM72",),
    why="S4: the alarm had no treatMissingData setting and raised false positives; the fix was "
    "treatMissingData: notBreaching.",
    fix_cloudformation="Set TreatMissingData: notBreaching (or breaching for heartbeat metrics).",
    fix_cdk="cloudwatch.Alarm(..., treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)",
    fix_conveyor="Nothing to write: conveyor's alarms set TreatMissingData.",
    check=check,
)
