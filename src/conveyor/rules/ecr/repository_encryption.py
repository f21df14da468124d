"""ECR repository without an explicit encryption configuration.

ECR always encrypts at rest with AES256, so this is low severity: the finding asks for the
intent to be written down and, for sensitive images, a customer KMS key.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("EncryptionConfiguration") is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "repository has no EncryptionConfiguration; declare KMS (or AES256) explicitly",
        )


RULE = Rule(
    id="CV004",
    title="ECR repository without explicit encryption",
    severity=Severity.LOW,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM02",),
    why="S1: the ECR repository was created without an encryption setting and failed a "
    "compliance check.",
    fix_cloudformation="Set EncryptionConfiguration: {EncryptionType: KMS, KmsKey: <key arn>}.",
    fix_cdk="ecr.Repository(..., encryption=ecr.RepositoryEncryption.KMS, encryption_key=key)",
    fix_conveyor="Nothing to write: conveyor's ImageRepository sets KMS encryption.",
    check=check,
)
