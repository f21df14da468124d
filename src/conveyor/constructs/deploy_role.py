"""The role of an ECS (or CodeDeploy-to-ECS) deploy action, scoped to the one service it
deploys, and how it reads the pipeline's artifacts: in the pipeline's own account
(LocalArtifacts) or from another account (ForeignArtifacts, foreign_account.py).

Pipeline side: the pipeline's environment stages and an environment's account's bootstrap
stack (foreign_account.py) make these roles; the environment's stack holds the service."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements
from conveyor.constructs.artifact_store import artifact_bucket_name
from conveyor.constructs.deployment_grants import grant_deployment
from conveyor.constructs.ecs_service import EcsTarget


def _arn(service: str, resource: str) -> str:
    # Pseudo parameters rather than Stack.format_arn: a stack with a concrete account (an
    # environment in another account) would get the account and region as literals (FM25).
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


def service_arn(scope: Construct, target: EcsTarget) -> str:
    return _arn("ecs", f"service/{target.cluster_name}/{target.service_name}")


@dataclass(frozen=True)
class LocalArtifacts:
    """The pipeline's artifact bucket and key, in the deploy role's own account."""

    bucket: s3.IBucket
    key: kms.IKey

    def grant_read(self, role: iam.Role) -> None:
        self.bucket.grant_read(role)
        self.key.grant_decrypt(role)
        acknowledgements.artifact_access(role, self.bucket)


@dataclass(frozen=True)
class ForeignArtifacts:
    """The pipeline's artifact bucket and key, seen from an environment in another account.

    The bucket's name is derived from the pipeline account (`artifact_bucket_name`); the key's
    id is random, so the role may decrypt with the pipeline account's keys only through S3.
    The pipeline's bucket and key policies name this role in turn.
    """

    app: str
    suffix: str
    pipeline_account: str  # a token: the environment stack's PipelineAccountId parameter

    def grant_package_read(self, role: iam.Role, key: str) -> None:
        """The environment's copy of the Lambda package in the pipeline's package store (its
        versions are the releases); Lambda reads it with CloudFormation's credentials, across
        accounts.
        https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"""
        bucket = artifact_bucket_name(
            self.app, self.suffix, self.pipeline_account, Aws.REGION, "packages"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}/{key}"],
            )
        )

    def grant_read(self, role: iam.Role) -> None:
        bucket = artifact_bucket_name(self.app, self.suffix, self.pipeline_account, Aws.REGION)
        bucket_arn = f"arn:{Aws.PARTITION}:s3:::{bucket}"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                resources=[bucket_arn, f"{bucket_arn}/*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=[f"arn:{Aws.PARTITION}:kms:{Aws.REGION}:{self.pipeline_account}:key/*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}},
            )
        )
        reason = (
            "read access to the pipeline account's artifact bucket, and decryption with that "
            "account's keys only through S3 (the key id is random, the bucket name is not)"
        )
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*"):
            acknowledgements.acknowledge(role, f"IAM5[Action::{action}]", reason)
        # How cdk-nag renders the parameter and pseudo parameters in finding ids.
        shown = artifact_bucket_name(self.app, self.suffix, "<PipelineAccountId>", "<AWS::Region>")
        acknowledgements.acknowledge(
            role, f"IAM5[Resource::arn:<AWS::Partition>:s3:::{shown}/*]", reason
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<PipelineAccountId>:key/*]",
            reason,
        )


def deploy_role(
    scope: Construct,
    id: str,
    *,
    target: EcsTarget,
    artifacts: LocalArtifacts | ForeignArtifacts,
    trust: iam.IPrincipal | None = None,
    role_name: str | None = None,
) -> iam.IRole:
    """The role of the ECS (or CodeDeploy-to-ECS) deploy action, scoped to one service.

    CDK's deploy actions grant ecs:* and iam:PassRole on "*" to whatever role they get (FM40).
    This role is handed over immutable, so those grants are dropped, and it carries only the
    statements below.
    """
    role = iam.Role(scope, id, assumed_by=trust or iam.AccountRootPrincipal(), role_name=role_name)
    group = target.deployment_group
    if group is not None:
        # CodeDeploy blue/green: the action registers the task definition and starts a
        # deployment of this one group; CDK would add iam:PassRole on "*" (FM40).
        grant_deployment(role, group)
    else:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeServices", "ecs:UpdateService"],
                resources=[service_arn(scope, target)],
            )
        )
    role.add_to_policy(
        # These two ECS actions support no resource-level permissions.
        iam.PolicyStatement(
            actions=["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"],
            resources=["*"],
        )
    )
    # The action registers a new task definition revision carrying the service's tags. ECS
    # authorizes tag-on-create separately: without ecs:TagResource, RegisterTaskDefinition is
    # refused and the first deploy fails. The condition allows tagging only while registering.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
    # https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html
    family = f"{target.task_family}:*" if target.task_family is not None else "*"
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["ecs:TagResource"],
            resources=[_arn("ecs", f"task-definition/{family}")],
            conditions={"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["ecs:DescribeTasks", "ecs:ListTasks"],
            resources=["*"],
            conditions={
                "ArnEquals": {"ecs:cluster": _arn("ecs", f"cluster/{target.cluster_name}")}
            },
        )
    )
    if target.task_roles is not None:
        pass_resources = [r.role_arn for r in target.task_roles]
    else:
        # An existing service: its roles are unknown, so PassRole is limited to ECS tasks.
        pass_resources = [f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/*"]
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=pass_resources,
            conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        )
    )
    artifacts.grant_read(role)
    if target.task_roles is None:
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]",
            "the existing service's task roles are defined outside conveyor; iam:PassRole is "
            "limited to passing them to ECS tasks by the iam:PassedToService condition",
        )
    acknowledgements.acknowledge(
        role,
        f"IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
        f"task-definition/{family}]",
        "ecs:TagResource on the service's task definition revisions, and only while "
        "registering them (ecs:CreateAction condition): revisions are numbered by ECS",
    )
    acknowledgements.acknowledge(
        role,
        "IAM5[Resource::*]",
        "ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition support no resource-level "
        "permissions; DescribeTasks/ListTasks are limited to the service's cluster by condition",
    )
    return role.without_policy_updates()
