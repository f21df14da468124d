"""Stateful resource without an explicit DeletionPolicy and UpdateReplacePolicy.

Without them CloudFormation deletes (or fails to delete) data on stack deletion and on
replacement; writing both down makes the choice deliberate.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

STATEFUL = (
    "AWS::S3::Bucket",
    "AWS::ECR::Repository",
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::EFS::FileSystem",
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    missing = [p for p in ("DeletionPolicy", "UpdateReplacePolicy") if p not in res.data]
    if missing:
        yield Hit(
            res.logical_id,
            "",
            f"stateful {res.type} has no {' or '.join(missing)}; decide whether its data is "
            "retained or deleted with the stack",
        )


RULE = Rule(
    id="CV007",
    title="Stateful resource without explicit deletion and replace policy",
    severity=Severity.MEDIUM,
    resource_types=STATEFUL,
    failure_modes=("FM05",),
    why="S3, S4 and S5: buckets and repositories without removal policies blocked stack "
    "deletion or were left behind and collided with the next deploy.",
    fix_cloudformation="Set DeletionPolicy and UpdateReplacePolicy (Retain, Snapshot or Delete) "
    "on the resource.",
    fix_cdk="resource.apply_removal_policy(RemovalPolicy.RETAIN) (or DESTROY with "
    "auto_delete_objects=True / empty_on_delete=True)",
    fix_conveyor="Nothing to write: conveyor sets removal policies on every stateful resource.",
    check=check,
)
