"""Symmetric KMS key without automatic rotation.

Asymmetric and HMAC keys (``KeySpec`` other than ``SYMMETRIC_DEFAULT``) cannot rotate and are
not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    spec = res.properties.get("KeySpec")
    if spec is not None and "SYMMETRIC_DEFAULT" not in possible(spec, ctx.params):
        return
    if definitely_not_true(res.properties.get("EnableKeyRotation"), ctx.params):
        yield Hit(
            res.logical_id,
            "Properties.EnableKeyRotation"
            if "EnableKeyRotation" in res.properties
            else "Properties",
            "KMS key does not rotate (EnableKeyRotation is not true)",
        )


RULE = Rule(
    id="CV010",
    title="KMS key without rotation",
    severity=Severity.HIGH,
    resource_types=("AWS::KMS::Key",),
    failure_modes=("FM07",),
    why="S3: per-environment customer keys were required for the payments pipeline; a key that "
    "never rotates fails that control (and CDK's default pipeline key does not rotate).",
    fix_cloudformation="Set EnableKeyRotation: true on the AWS::KMS::Key.",
    fix_cdk="kms.Key(..., enable_key_rotation=True)",
    fix_conveyor="Nothing to write: every key conveyor creates rotates.",
    check=check,
)
