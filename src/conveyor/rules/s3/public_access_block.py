"""S3 bucket without all four public-access-block settings true.

A bucket is judged by its own ``PublicAccessBlockConfiguration``; an account-level block is not
visible in a template, so a bucket relying on it alone is still reported. Medium, not high: S3
turns all four settings on for every new bucket since April 2023, so a bucket that leaves the
configuration out is blocked today; the finding asks the template to say so, so that no later
change or older account can open it.
https://aws.amazon.com/about-aws/whats-new/2022/12/amazon-s3-automatically-enable-block-public-access-disable-access-control-lists-buckets-april-2023/
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, intrinsic_name
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

SETTINGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    block = res.properties.get("PublicAccessBlockConfiguration")
    if block is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "bucket has no PublicAccessBlockConfiguration; S3 blocks public access on new "
            "buckets by default, but write all four settings true so no change can open it",
        )
        return
    if not isinstance(block, dict):
        return  # Fn::If or a Ref: decided at deploy time
    off = [s for s in SETTINGS if definitely_not_true(block.get(s), ctx.params)]
    if off and intrinsic_name(block) is None:
        yield Hit(
            res.logical_id,
            "Properties.PublicAccessBlockConfiguration",
            f"public access block leaves {', '.join(off)} off; all four settings must be true",
        )


RULE = Rule(
    id="CV001",
    title="S3 bucket does not block all public access",
    severity=Severity.MEDIUM,
    resource_types=("AWS::S3::Bucket",),
    failure_modes=("FM01",),
    why="S1 and S2: the artifact bucket was created without a public access block and a "
    "security scan flagged it as publicly accessible; pipeline artifacts hold source and images.",
    fix_cloudformation="Set PublicAccessBlockConfiguration with BlockPublicAcls, "
    "BlockPublicPolicy, IgnorePublicAcls and RestrictPublicBuckets all true.",
    fix_cdk="s3.Bucket(..., block_public_access=s3.BlockPublicAccess.BLOCK_ALL)",
    fix_conveyor="Nothing to write: every bucket conveyor creates blocks all public access.",
    check=check,
)
