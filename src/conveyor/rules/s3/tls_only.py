"""Bucket policy does not deny requests without TLS (``aws:SecureTransport``).

Relational, like cdk-nag's S3BucketSSLRequestsOnly: the bucket policies that point at a bucket
(through Ref, or the bucket's name written the same way: a literal, or a ``Fn::Sub``/``Fn::Join``
of the same parameters, as AWS's own compliant-bucket samples do) are looked up in the relations
index and one of them must hold a Deny statement on ``aws:SecureTransport`` false.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, ref_target, render, truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import statements
from conveyor.rules.template import Resource


def _denies_plain_http(stmt: dict[str, Any]) -> bool:
    if stmt.get("Effect") != "Deny":
        return False
    condition = stmt.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator in ("Bool", "BoolIfExists"):
        value = get(condition, operator, "aws:SecureTransport")
        if isinstance(value, list):
            value = value[0] if value else None
        if truthy(value) is False:
            return True
    return False


def _names_bucket(target: Any, res: Resource) -> bool:
    """The policy's Bucket is this bucket: a Ref to it, or the same name written the same way
    (a literal, or a Sub/Join of the same parameters and pseudo parameters)."""
    if ref_target(target) == res.logical_id:
        return True
    name = render(res.properties.get("BucketName"))
    return name is not None and render(target) == name


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for lid in ctx.relations.of_type("AWS::S3::BucketPolicy"):
        policy = ctx.template.resources[lid].properties
        if _names_bucket(policy.get("Bucket"), res):
            if any(_denies_plain_http(s) for _, s in statements(policy.get("PolicyDocument"))):
                return
            if not isinstance(policy.get("PolicyDocument"), dict):
                return  # document built by an intrinsic: cannot judge
    yield Hit(
        res.logical_id,
        "Properties",
        "no bucket policy denies requests without TLS (aws:SecureTransport false)",
    )


RULE = Rule(
    id="CV006",
    title="Bucket policy does not deny non-TLS requests",
    severity=Severity.MEDIUM,
    resource_types=("AWS::S3::Bucket",),
    failure_modes=("FM04",),
    why="S3: the payments pipeline had to encrypt data in transit; without a TLS-only bucket "
    "policy, plain-HTTP requests to the artifact bucket are accepted.",
    fix_cloudformation="Add an AWS::S3::BucketPolicy for the bucket with a statement Effect Deny, "
    "Principal '*', Action 's3:*', Resource the bucket and its objects, Condition "
    "Bool aws:SecureTransport 'false'.",
    fix_cdk="s3.Bucket(..., enforce_ssl=True)",
    fix_conveyor="Nothing to write: every bucket conveyor creates is TLS-only.",
    check=check,
)
