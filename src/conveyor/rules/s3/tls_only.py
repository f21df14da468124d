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
from conveyor.rules.intrinsics import ref_target, render, truthy
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
        # get(condition, operator, "aws:SecureTransport"), inline: once per statement of
        # every bucket policy.
        keys = condition.get(operator)
        value = keys.get("aws:SecureTransport") if isinstance(keys, dict) else None
        if isinstance(value, list):
            value = value[0] if value else None
        if truthy(value) is False:
            return True
    return False


def _policies_by_bucket(
    ctx: Context,
) -> tuple[list[str], dict[str, list[int]], dict[str, list[int]]]:
    """Bucket policies by the bucket they name: the logical id a Ref names, and the rendered
    name (a literal, or a Sub/Join of parameters and pseudo parameters); positions in template
    order. Built once per template: a scan per bucket took time quadratic in the buckets."""
    policies = ctx.relations.of_type("AWS::S3::BucketPolicy")
    by_ref: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    for index, lid in enumerate(policies):
        target = ctx.template.resources[lid].properties.get("Bucket")
        ref = ref_target(target)
        if ref is not None:
            by_ref.setdefault(ref, []).append(index)
        name = render(target)
        if name is not None:
            by_name.setdefault(name, []).append(index)
    return policies, by_ref, by_name


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    """A policy naming this bucket (a Ref to it, or the same name written the same way)."""
    policies, by_ref, by_name = ctx.memo("CV006.policies", lambda: _policies_by_bucket(ctx))
    name = render(res.properties.get("BucketName"))
    naming = by_ref.get(res.logical_id, []) + (by_name.get(name, []) if name is not None else [])
    for index in sorted(set(naming)) if len(naming) > 1 else naming:
        policy = ctx.template.resources[policies[index]].properties
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
