"""Log group without a customer KMS key (``KmsKeyId``).

CloudWatch Logs encrypts at rest with a service key anyway: low severity, for teams whose
controls require customer keys on build and deployment logs.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("KmsKeyId") is None:
        yield Hit(res.logical_id, "Properties", "log group is not encrypted with a KMS key")


RULE = Rule(
    id="CV013",
    title="Log group not encrypted with a customer key",
    severity=Severity.LOW,
    resource_types=("AWS::Logs::LogGroup",),
    failure_modes=("FM08",),
    why="S3: encryption for CloudWatch logs was added after review.",
    fix_cloudformation="Set KmsKeyId to a KMS key ARN whose key policy allows "
    "logs.<region>.amazonaws.com with an encryption context on the log group ARN.",
    fix_cdk="logs.LogGroup(..., encryption_key=key) plus a key grant for the logs service "
    "principal",
    fix_conveyor="Nothing to write: conveyor's log groups use the stack's KMS key.",
    check=check,
)
