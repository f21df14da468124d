"""ECR repository with mutable tags (the checkov ECRImmutableTags check, keyed on FM11)."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import UNKNOWN, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    values = possible(res.properties.get("ImageTagMutability"), ctx.params)
    if all(v is not UNKNOWN and v not in IMMUTABLE for v in values):
        yield Hit(
            res.logical_id,
            "Properties.ImageTagMutability"
            if "ImageTagMutability" in res.properties
            else "Properties",
            "image tags are mutable; a pushed tag can be overwritten after it was tested",
        )


RULE = Rule(
    id="CV022",
    title="ECR repository with mutable tags",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM11",),
    why="Best practice recorded with S1: with mutable tags, 'latest' or a commit tag can be "
    "overwritten, so production may run an image that was never tested.",
    fix_cloudformation="Set ImageTagMutability: IMMUTABLE and tag images by commit.",
    fix_cdk="ecr.Repository(..., image_tag_mutability=ecr.TagMutability.IMMUTABLE)",
    fix_conveyor="Nothing to write: conveyor's repositories are immutable and pushed by digest.",
    check=check,
)
