"""DynamoDB table without KMS encryption or point-in-time recovery.

A table holds the pipeline's state (deployment history, idempotency records): it should be
encrypted with a KMS key (``SSESpecification.SSEEnabled: true``, a customer key preferred; the
default AWS owned key cannot be audited or restricted) and recoverable
(``PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true``; without it a bad write
or a dropped item is gone). For ``AWS::DynamoDB::GlobalTable`` recovery is set per replica.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, definitely_not_true, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def _no_recovery(spec: Any, ctx: Context) -> bool:
    return definitely_not_true(get(spec, "PointInTimeRecoveryEnabled"), ctx.params)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    missing: list[str] = []
    if definitely_not_true(get(res.properties, "SSESpecification", "SSEEnabled"), ctx.params):
        missing.append("KMS encryption (SSESpecification.SSEEnabled)")
    if res.type == "AWS::DynamoDB::GlobalTable":
        replicas = res.properties.get("Replicas")
        if isinstance(replicas, list) and any(
            isinstance(r, dict) and _no_recovery(r.get("PointInTimeRecoverySpecification"), ctx)
            for r in as_list(replicas)
        ):
            missing.append("point-in-time recovery on every replica")
    elif _no_recovery(res.properties.get("PointInTimeRecoverySpecification"), ctx):
        missing.append("point-in-time recovery")
    if missing:
        yield Hit(
            res.logical_id,
            "Properties",
            f"table has no {' and no '.join(missing)}",
        )


RULE = Rule(
    id="CV014",
    title="DynamoDB table without KMS encryption or point-in-time recovery",
    severity=Severity.LOW,
    resource_types=("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
    failure_modes=("FM02", "FM05"),
    why="S3: data at rest had to be encrypted with customer keys; S2 and S4: the deployment "
    "history table is the record of who deployed what, and it was lost with no way back.",
    fix_cloudformation="Set SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: "
    "!Ref Key} and PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}.",
    fix_cdk="dynamodb.TableV2(..., encryption=dynamodb.TableEncryptionV2.customer_managed_key("
    "key), point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification("
    "point_in_time_recovery_enabled=True))",
    fix_conveyor="Nothing to write: conveyor's tables use a customer key and recovery.",
    check=check,
)
