"""An environment deployed into another AWS account than its pipeline's.

The environment gets a stack of its own in that account, deployed before the pipeline's: its
resources, and a deploy role trusted by the pipeline's account. The pipeline's artifact bucket,
key and image repository name that role (and account) in their resource policies. Accounts are
CloudFormation parameters defaulting to the spec's values, so neither template hard-codes the
other's account (FM25).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aspects, Aws, CfnParameter, Stack
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns_subscriptions as sns_subscriptions
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.artifact_store import ArtifactStore
from conveyor.constructs.ecs_service import EcsTarget, ForeignArtifacts, deploy_role
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.stacks import AccountStack
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.spec.models import Environment, Spec

_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
]


class ForeignAccount:
    """The environment's stack, and the grants that connect it to the pipeline."""

    def __init__(
        self,
        pipeline: Construct,
        env: Environment,
        *,
        spec: Spec,
        naming: Naming,
        tags: Mapping[str, str],
    ) -> None:
        assert env.account is not None
        self.env = env
        self.spec = spec
        self.naming = naming
        app = pipeline.node.root
        assert isinstance(app, Construct)
        self.stack = AccountStack(
            app,
            naming.name(env.name),
            env=CdkEnvironment(account=env.account, region=spec.pipeline_region),
            description=f"conveyor {spec.app}: environment {env.name} (account {env.account})",
            termination_protection=env.is_production,
        )
        Stack.of(pipeline).add_dependency(self.stack)
        stack_tags = {**tags, defaults.TAG_ENVIRONMENT: env.name}
        apply_tags(self.stack, stack_tags)
        Aspects.of(self.stack).add(TagUnmanagedResources(stack_tags))
        self.pipeline_account = CfnParameter(
            self.stack,
            "PipelineAccountId",
            type="String",
            default=spec.account,
            allowed_pattern=r"^\d{12}$",
            description=f"Account of the {spec.app} pipeline that deploys here",
        ).value_as_string

    def repository(self, scope: Construct) -> ecr.IRepository:
        """The pipeline's image repository, seen from this account; the repository's own
        policy lets the account pull (see `connect`)."""
        name = self.naming.name("images")
        return ecr.Repository.from_repository_attributes(
            scope,
            "Images",
            repository_name=name,
            repository_arn=(
                f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:{self.pipeline_account}:repository/{name}"
            ),
        )

    def alarm_topic(
        self, scope: Construct, key: kms.Key, emails: Sequence[str]
    ) -> defaults.NoticeTopic:
        """Alarms notify topics in their own account: the primary audience again, here."""
        topic = defaults.encrypted_topic(
            scope, "AlarmTopic", name=self.naming.name("alarms", self.env.name), key=key
        )
        for email in emails:
            topic.add_subscription(sns_subscriptions.EmailSubscription(email))
        return topic

    def connect(
        self,
        pipeline: Construct,
        scope: Construct,
        target: EcsTarget,
        *,
        store: ArtifactStore,
        repository: ecr.IRepository | None,
        cluster: str,
        service: str,
    ) -> tuple[EcsTarget, iam.IRole]:
        """A deploy role in this account, trusted by the pipeline's; the artifact bucket, key
        and repository policies naming it; and the service as the pipeline's deploy action
        sees it. Returns that view of the service and the role, for the pipeline's actions."""
        env = self.env
        assert env.account is not None
        role_name = self.naming.name("deploy", env.name)
        deploy_role(
            scope,
            "DeployRole",
            target=target,
            artifacts=ForeignArtifacts(
                app=self.spec.app, suffix=self.spec.suffix, pipeline_account=self.pipeline_account
            ),
            trust=iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.pipeline_account}:root"),
            role_name=role_name,
            rollback=True,
        )
        label = camel(env.name)
        account = CfnParameter(
            pipeline,
            f"{label}AccountId",
            type="String",
            default=env.account,
            allowed_pattern=r"^\d{12}$",
            description=f"Account of the {env.name} environment",
        ).value_as_string
        role_arn = f"arn:{Aws.PARTITION}:iam::{account}:role/{role_name}"
        role = iam.Role.from_role_arn(pipeline, f"DeployRole{label}", role_arn, mutable=False)
        reader = iam.ArnPrincipal(role_arn)
        store.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Deploy{label}ReadsArtifacts",
                principals=[reader],
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                resources=[store.bucket.bucket_arn, store.bucket.arn_for_objects("*")],
            )
        )
        store.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Deploy{label}DecryptsArtifacts",
                principals=[reader],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],  # in a key policy, "*" means this key
            )
        )
        if repository is not None:
            repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"{label}AccountPulls",
                    principals=[iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{account}:root")],
                    actions=_PULL_ACTIONS,
                )
            )
        cluster_name = CfnParameter(
            pipeline,
            f"{label}ClusterName",
            type="String",
            default=cluster,
            description=f"ECS cluster of {env.name}, in its account",
        ).value_as_string
        service_name = CfnParameter(
            pipeline,
            f"{label}ServiceName",
            type="String",
            default=service,
            description=f"ECS service of {env.name}, in its account",
        ).value_as_string
        imported_cluster = ecs.Cluster.from_cluster_arn(
            pipeline,
            f"Cluster{label}",
            f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{account}:cluster/{cluster_name}",
        )
        seen = EcsTarget(
            service=ecs.FargateService.from_fargate_service_attributes(
                pipeline, f"Service{label}", cluster=imported_cluster, service_name=service_name
            ),
            cluster_name=cluster_name,
            service_name=service_name,
            task_roles=None,
            url=None,
            strategy=target.strategy,
        )
        return seen, role
