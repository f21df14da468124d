"""CloudWatch alarm without ``TreatMissingData`` (the default, ``missing``, keeps alarms in
INSUFFICIENT_DATA or flips them on sparse metrics).

Only sparse metrics need the setting. Metrics a resource publishes every period while it runs
(EC2, RDS, ElastiCache, OpenSearch, EFS, ECS utilisation, NAT gateways, a load balancer's host
counts) have no gaps to treat, and AWS recommends the default for EC2 alarms that stop, reboot
or recover instances; alarms on ``AWS/DynamoDB`` ignore missing data whatever they say.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

CONTINUOUS_NAMESPACES = frozenset(
    {
        "AWS/EC2",
        "AWS/RDS",
        "AWS/DocDB",
        "AWS/Neptune",
        "AWS/ElastiCache",
        "AWS/ES",
        "AWS/EFS",
        "AWS/ECS",
        "AWS/NATGateway",
        "AWS/DynamoDB",  # alarms on it always ignore missing data
    }
)
CONTINUOUS_METRICS = {
    "AWS/ApplicationELB": frozenset({"HealthyHostCount", "UnHealthyHostCount"}),
    "AWS/NetworkELB": frozenset({"HealthyHostCount", "UnHealthyHostCount"}),
}


def _continuous(res: Resource) -> bool:
    namespace = render(res.properties.get("Namespace"))
    metric = render(res.properties.get("MetricName"))
    if namespace in CONTINUOUS_NAMESPACES:
        return True
    return metric in CONTINUOUS_METRICS.get(namespace or "", frozenset())


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("TreatMissingData") is None and not _continuous(res):
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
