"""Bucket or repository deleted with the stack but nothing empties it first.

``DeletionPolicy: Delete`` on a bucket that still holds objects makes stack deletion fail
(DELETE_FAILED); an ECR repository with images likewise unless ``EmptyOnDelete`` is true. Any
custom resource that references the bucket (CDK's ``Custom::S3AutoDeleteObjects`` and the like)
is taken as the thing that empties it.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if "Delete" not in possible(res.deletion_policy, ctx.params):
        return
    if res.type == "AWS::ECR::Repository":
        if definitely_not_true(res.properties.get("EmptyOnDelete"), ctx.params):
            yield Hit(
                res.logical_id,
                "DeletionPolicy",
                "repository is deleted with the stack but EmptyOnDelete is not true; "
                "deletion fails while it holds images",
            )
        return
    emptiers = [
        r
        for r in ctx.relations.referrers(res.logical_id)
        if ctx.template.resources[r].type.startswith("Custom::")
        or ctx.template.resources[r].type == "AWS::CloudFormation::CustomResource"
    ]
    if not emptiers:
        yield Hit(
            res.logical_id,
            "DeletionPolicy",
            "bucket is deleted with the stack but nothing empties it; "
            "deletion fails while it holds objects",
        )


RULE = Rule(
    id="CV008",
    title="Non-empty bucket or repository blocks stack deletion",
    severity=Severity.MEDIUM,
    resource_types=("AWS::S3::Bucket", "AWS::ECR::Repository"),
    failure_modes=("FM05",),
    why="S4: the bucket could not be destroyed while it held objects and stack destruction "
    "failed; S5: missing removal policies left stacks stuck in deletion.",
    fix_cloudformation="Either DeletionPolicy Retain, or add a custom resource that empties the "
    "bucket on delete; for ECR set EmptyOnDelete: true.",
    fix_cdk="s3.Bucket(..., removal_policy=RemovalPolicy.DESTROY, auto_delete_objects=True); "
    "ecr.Repository(..., removal_policy=RemovalPolicy.DESTROY, empty_on_delete=True)",
    fix_conveyor="Nothing to write: conveyor pairs DESTROY with auto-delete/empty-on-delete.",
    check=check,
)
