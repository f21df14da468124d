"""SNS topic without server-side encryption (``KmsMasterKeyId``)."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("KmsMasterKeyId") is None:
        yield Hit(res.logical_id, "Properties", "SNS topic is not encrypted (no KmsMasterKeyId)")


RULE = Rule(
    id="CV012",
    title="SNS topic not encrypted",
    severity=Severity.MEDIUM,
    resource_types=("AWS::SNS::Topic",),
    failure_modes=("FM08",),
    why="S3: encryption was added to SNS topics and CloudWatch logs after review; "
    "notifications carry pipeline and deployment details.",
    fix_cloudformation="Set KmsMasterKeyId to a customer KMS key (grant events.amazonaws.com "
    "and the publishers kms:GenerateDataKey* and kms:Decrypt on it).",
    fix_cdk="sns.Topic(..., master_key=key)",
    fix_conveyor="Nothing to write: conveyor's Notifications topic is KMS-encrypted.",
    check=check,
)
