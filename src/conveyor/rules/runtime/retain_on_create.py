"""Named resource retained even when its own creation fails.

``DeletionPolicy: Retain`` keeps a resource when its stack's first deployment fails and rolls
back. With a fixed physical name (``BucketName``, ``TableName``, ``RepositoryName``, ...) the
retained resource then blocks every retry: CloudFormation fails with "already exists" until
someone deletes it by hand. ``RetainExceptOnCreate`` keeps the protection for later updates and
deletes, and deletes what a failed create made. Resources without a fixed name get a new
generated name on retry and are not reported.

Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
("RetainExceptOnCreate")
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
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


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    name_property = NAME_PROPERTIES[res.type]
    if res.properties.get(name_property) is None:
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
