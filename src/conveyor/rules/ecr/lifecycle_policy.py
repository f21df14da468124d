"""ECR repository without a lifecycle policy."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if get(res.properties, "LifecyclePolicy", "LifecyclePolicyText") is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "repository has no lifecycle policy; images accumulate forever",
        )


RULE = Rule(
    id="CV020",
    title="ECR repository without lifecycle policy",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM10",),
    why="S1 and S2: the repository accumulated images indefinitely and storage cost grew.",
    fix_cloudformation="Set LifecyclePolicy.LifecyclePolicyText to a policy that keeps the last "
    "N tagged images and expires untagged ones after a day.",
    fix_cdk="repository.add_lifecycle_rule(max_image_count=10)",
    fix_conveyor="retention: {images: 10} (the default) in conveyor.yaml.",
    check=check,
)
