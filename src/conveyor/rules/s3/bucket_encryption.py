"""S3 bucket without a server-side encryption configuration.

S3 now encrypts new objects with SSE-S3 by default, but the seed incidents failed compliance
checks that read the template, and a template without ``BucketEncryption`` says nothing about
intent. Artifact buckets are held to a stricter standard by CV003.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("BucketEncryption") is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "bucket has no BucketEncryption; declare SSE-KMS (or at least AES256) explicitly",
        )


RULE = Rule(
    id="CV002",
    title="S3 bucket without server-side encryption",
    severity=Severity.MEDIUM,
    resource_types=("AWS::S3::Bucket",),
    failure_modes=("FM02",),
    why="S1, S2 and S3: buckets were created without encryption and failed compliance checks.",
    fix_cloudformation="Add BucketEncryption.ServerSideEncryptionConfiguration with "
    "SSEAlgorithm aws:kms and a KMSMasterKeyID (or AES256 for non-sensitive data).",
    fix_cdk="s3.Bucket(..., encryption=s3.BucketEncryption.KMS, encryption_key=key)",
    fix_conveyor="Nothing to write: conveyor encrypts every bucket with a customer KMS key.",
    check=check,
)
