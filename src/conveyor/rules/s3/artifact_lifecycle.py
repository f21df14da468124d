"""Pipeline artifact bucket without lifecycle expiration of current and noncurrent versions.

Only buckets that a pipeline uses as its artifact store are judged (other buckets may keep data
on purpose). Noncurrent expiration is required only when versioning is or may be enabled.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, intrinsic_name, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.s3.artifact_bucket_kms import artifact_stores
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for store in artifact_stores(res):
        bucket = ctx.relations.target(store.get("Location"), "AWS::S3::Bucket")
        if bucket is None:
            continue
        props = ctx.template.resources[bucket].properties
        rules = get(props, "LifecycleConfiguration", "Rules")
        if intrinsic_name(props.get("LifecycleConfiguration")) or intrinsic_name(rules):
            continue
        enabled = [
            r for r in as_list(rules) if isinstance(r, dict) and r.get("Status") != "Disabled"
        ]
        current = any(
            r.get("ExpirationInDays") is not None or r.get("ExpirationDate") is not None
            for r in enabled
        )
        noncurrent = any(
            r.get("NoncurrentVersionExpirationInDays") is not None
            or r.get("NoncurrentVersionExpiration") is not None
            for r in enabled
        )
        versioned = any(
            v == "Enabled" or not isinstance(v, str)
            for v in possible(get(props, "VersioningConfiguration", "Status"), ctx.params)
            if v is not None
        )
        missing = []
        if not current:
            missing.append("expiration of current objects")
        if versioned and not noncurrent:
            missing.append("expiration of noncurrent versions")
        if missing:
            yield Hit(
                bucket,
                "Properties.LifecycleConfiguration" if rules is not None else "Properties",
                f"artifact bucket has no lifecycle rule for {' and '.join(missing)}; "
                "artifacts accumulate forever",
            )


RULE = Rule(
    id="CV005",
    title="Artifact bucket without lifecycle expiration",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM03",),
    why="S2: the versioned artifact bucket had no lifecycle rules; old artifacts accumulated "
    "indefinitely and storage cost grew.",
    fix_cloudformation="Add LifecycleConfiguration.Rules with Status Enabled, ExpirationInDays "
    "and (for versioned buckets) NoncurrentVersionExpiration.NoncurrentDays.",
    fix_cdk="bucket.add_lifecycle_rule(expiration=Duration.days(30), "
    "noncurrent_version_expiration=Duration.days(30))",
    fix_conveyor="retention: {artifact_days: 30} (the default) in conveyor.yaml.",
    check=check,
)
