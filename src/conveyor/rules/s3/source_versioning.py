"""S3 bucket a pipeline's S3 source action reads, without versioning.

CodePipeline's S3 source action tracks the object's version: on a bucket without
``VersioningConfiguration: {Status: Enabled}`` the action fails and the pipeline never starts.
Only buckets defined in this template (named in ``S3Bucket`` by Ref or by their literal name)
are judged; a bucket whose versioning is decided by a condition or parameter is not.
https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource


def _bucket(named: object, ctx: Context) -> Resource | None:
    lid = ctx.relations.target(named, "AWS::S3::Bucket")
    if lid is not None:
        return ctx.template.resources[lid]
    if isinstance(named, str):
        for other in ctx.relations.of_type("AWS::S3::Bucket"):
            res = ctx.template.resources[other]
            if res.properties.get("BucketName") == named:
                return res
    return None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for action in actions(res):
        if action.category != "Source" or action.provider != "S3" or action.owner != "AWS":
            continue
        bucket = _bucket(action.configuration.get("S3Bucket"), ctx)
        if bucket is None:
            continue
        status = possible(get(bucket.properties, "VersioningConfiguration", "Status"), ctx.params)
        if "Enabled" in status or any(not isinstance(s, str) for s in status if s is not None):
            continue
        yield Hit(
            res.logical_id,
            action.path,
            f"S3 source action {action.name!r} reads bucket {bucket.logical_id}, which is not "
            "versioned; the source action fails",
        )


RULE = Rule(
    id="CV015",
    title="S3 source bucket without versioning",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM52",),
    why="S3: the pipeline had to accept S3 as a source instead of CodeCommit; an S3 source "
    "bucket without versioning makes the source action fail.",
    fix_cloudformation="Set VersioningConfiguration: {Status: Enabled} on the source bucket.",
    fix_cdk="s3.Bucket(..., versioned=True)",
    fix_conveyor="Nothing to write: conveyor versions the S3 source buckets it creates.",
    check=check,
)
