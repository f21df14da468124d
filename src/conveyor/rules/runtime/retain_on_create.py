"""Named resource retained even when its own creation fails.

``DeletionPolicy: Retain`` keeps a resource when its stack's first deployment fails and rolls
back. With a fixed physical name (``BucketName``, ``TableName``, ``RepositoryName``, ...) the
retained resource then blocks every retry: CloudFormation fails with "already exists" until
someone deletes it by hand. ``RetainExceptOnCreate`` keeps the protection for later updates and
deletes, and deletes what a failed create made. Resources without a fixed name get a new
generated name on retry and are not reported, and neither are names made new by every create: a
name built from ``AWS::StackId`` (a stack whose first deployment failed must be deleted, and its
replacement has another id; AWS Solutions Constructs names log groups so), or from a resource of
this template whose own name is generated or made so (a custom resource's id, a function named
by its stack id).

Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
("RetainExceptOnCreate")
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name, possible, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

# The property that fixes each type's physical name.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::CodeCommit::Repository": "RepositoryName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::CodeBuild::ReportGroup": "Name",
}


# Types whose Ref may be a fixed name though they are not reported themselves.
OTHER_NAMED: dict[str, str] = {"AWS::Serverless::Function": "FunctionName"}


def _mentions_stack_id(value: object) -> bool:
    stack: list[object] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("Ref") == "AWS::StackId" or (
                intrinsic_name(node) == "Fn::Sub" and "AWS::StackId" in str(node["Fn::Sub"])
            ):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _new_every_create(name: object, ctx: Context, depth: int = 0) -> bool:
    """Whether the name differs on each creation of the stack."""
    if depth > 5:
        return False
    if _mentions_stack_id(name):
        return True
    for lid in references(name):
        other = ctx.resource(lid)
        if other is None:
            continue  # a parameter: the same value on the retry
        if other.type.startswith("Custom::") or other.type == "AWS::CloudFormation::CustomResource":
            return True  # the provider's id for what this create made
        prop = NAME_PROPERTIES.get(other.type) or OTHER_NAMED.get(other.type)
        if prop is None:
            continue  # cannot tell what its Ref returns: keep the finding
        own = other.properties.get(prop)
        if own is None or _new_every_create(own, ctx, depth + 1):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    name_property = NAME_PROPERTIES[res.type]
    name = res.properties.get(name_property)
    if name is None or _new_every_create(name, ctx):
        return
    if "Retain" not in possible(res.deletion_policy, ctx.params):
        return
    yield Hit(
        res.logical_id,
        "DeletionPolicy",
        f"retained with a fixed {name_property}: if the stack's first deployment fails, the "
        "resource survives the rollback and every retry fails with 'already exists'; use "
        "RetainExceptOnCreate",
    )


RULE = Rule(
    id="CV095",
    title="Named resource retained when its creation fails",
    severity=Severity.MEDIUM,
    resource_types=tuple(NAME_PROPERTIES),
    failure_modes=("FM103",),
    why="conveyor's own review (2026-12): named buckets, tables and repositories with "
    "DeletionPolicy Retain survived a rolled-back first deployment and blocked every retry.",
    fix_cloudformation="DeletionPolicy: RetainExceptOnCreate (and UpdateReplacePolicy: Retain).",
    fix_cdk="resource.apply_removal_policy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)",
    fix_conveyor="Nothing to write: conveyor retains with RetainExceptOnCreate.",
    check=check,
)
