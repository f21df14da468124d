"""Pipeline artifact bucket not encrypted with a customer KMS key.

A bucket is an artifact bucket when a ``AWS::CodePipeline::Pipeline`` names it in
``ArtifactStore``/``ArtifactStores``. The pipeline's own ``EncryptionKey`` counts as the customer
key. Buckets named by a literal or parameter (not defined in this template) cannot be judged.

A bucket with a customer key is not enough: without ``EncryptionKey`` on the ArtifactStore,
CodePipeline encrypts the artifacts it writes with the AWS managed ``aws/s3`` key, which other
accounts and roles outside the pipeline's key policy cannot be granted; the pipeline is then
reported on its ArtifactStore.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-artifactstore.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def artifact_stores(pipeline: Resource) -> list[dict[str, Any]]:
    stores: list[dict[str, Any]] = []
    single = pipeline.properties.get("ArtifactStore")
    if isinstance(single, dict):
        stores.append(single)
    for item in as_list(pipeline.properties.get("ArtifactStores")):
        store = get(item, "ArtifactStore")
        if isinstance(store, dict):
            stores.append(store)
    return stores


def _store_path(res: Resource, index: int) -> str:
    if isinstance(res.properties.get("ArtifactStore"), dict):
        return "Properties.ArtifactStore"
    return f"Properties.ArtifactStores.{index}.ArtifactStore"


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for index, store in enumerate(artifact_stores(res)):
        bucket = ctx.relations.target(store.get("Location"), "AWS::S3::Bucket")
        if bucket is None or store.get("EncryptionKey") is not None:
            continue
        bucket_res = ctx.template.resources[bucket]
        rules = get(bucket_res.properties, "BucketEncryption", "ServerSideEncryptionConfiguration")
        if not isinstance(rules, list):
            if rules is None:
                yield _hit(bucket)
            continue
        kms = False
        for rule in rules:
            default = get(rule, "ServerSideEncryptionByDefault")
            algos = possible(get(default, "SSEAlgorithm"), ctx.params)
            if any(a in ("aws:kms", "aws:kms:dsse") for a in algos) and get(
                default, "KMSMasterKeyID"
            ):
                kms = True
            elif any(not isinstance(a, str) for a in algos):
                kms = True  # depends on a condition or parameter; do not guess
        if not kms:
            yield _hit(bucket)
        else:
            yield Hit(
                res.logical_id,
                _store_path(res, index),
                f"ArtifactStore has no EncryptionKey: CodePipeline encrypts artifacts with the AWS "
                f"managed aws/s3 key, not bucket {bucket}'s customer key",
            )


def _hit(bucket: str) -> Hit:
    return Hit(
        bucket,
        "Properties.BucketEncryption",
        "pipeline artifact bucket is not encrypted with a customer KMS key "
        "(and the pipeline's ArtifactStore has no EncryptionKey)",
    )


RULE = Rule(
    id="CV003",
    title="Artifact bucket not encrypted with a customer KMS key",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM02",),
    why="S2 and S3: artifacts (source, built images' metadata, task definitions) sat in a bucket "
    "without KMS encryption; the fix was a customer key per environment.",
    fix_cloudformation="Give the artifact bucket BucketEncryption with SSEAlgorithm aws:kms and "
    "KMSMasterKeyID pointing at an AWS::KMS::Key, and set ArtifactStore.EncryptionKey.",
    fix_cdk="s3.Bucket(..., encryption=s3.BucketEncryption.KMS, encryption_key=key) and "
    "codepipeline.Pipeline(..., artifact_bucket=bucket)",
    fix_conveyor="Nothing to write: conveyor's ArtifactStore uses its own rotated KMS key.",
    check=check,
)
