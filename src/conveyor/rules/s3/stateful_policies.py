"""Stateful resource without an explicit DeletionPolicy and UpdateReplacePolicy.

Without them CloudFormation deletes (or fails to delete) data on stack deletion and on
replacement; writing both down makes the choice deliberate. A Lambda function's own log group
(named ``/aws/lambda/...`` or set as a function's ``LoggingConfig.LogGroup``) is passed over:
deleting it with its function is what everyone expects, and what the default does.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, ref_target, render
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


FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Serverless::Function")


def _function_log_group(res: Resource, ctx: Context) -> bool:
    if res.type != "AWS::Logs::LogGroup":
        return False
    name = render(res.properties.get("LogGroupName"))
    if name is not None and name.startswith("/aws/lambda/"):
        return True
    return any(
        ref_target(get(ctx.template.resources[lid].properties, "LoggingConfig", "LogGroup"))
        == res.logical_id
        for lid in ctx.relations.referrers(res.logical_id, *FUNCTION_TYPES)
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if _function_log_group(res, ctx):
        return
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
