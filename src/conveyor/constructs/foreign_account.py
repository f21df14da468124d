"""An environment deployed into another AWS account than its pipeline's.

The environment's own stack (environment_stack.py) is deployed there by the pipeline, like any
other. What makes that possible is a one-time bootstrap stack in that account, deployed by
`conveyor deploy` (or `conveyor bootstrap`) before the pipeline's first run:
- a deploy role the pipeline's account may assume: CodePipeline runs the environment's
  CloudFormation actions (and an existing service's ECS deploy) as this role;
- a CloudFormation execution role, which only CloudFormation may assume, allowed what the
  environment stack's resource types need (cfn_permissions.py).
The pipeline's artifact bucket, key and image repository name those roles (and the account) in
their resource policies. Accounts are CloudFormation parameters defaulting to the spec's
values, so no template hard-codes the other's account (FM25).
https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aspects, Aws, CfnParameter, Fn, Stack
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.artifact_store import ArtifactStore
from conveyor.constructs.cloudformation_role import cloudformation_role, grant_ssm_parameters
from conveyor.constructs.ecs_service import (
    EcsTarget,
    ForeignArtifacts,
    artifact_bucket_name,
    deploy_role,
)
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.stacks import AccountStack, app_scope
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.spec.models import Environment, Spec

_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
]


def bootstrap_stack_name(naming: Naming, env: Environment) -> str:
    return naming.name("bootstrap", env.name)


class ForeignAccount:
    """The bootstrap stack in the environment's account, and the grants that connect it to the
    pipeline."""

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
        self.pipeline = pipeline
        self.label = camel(env.name)
        self.stack = AccountStack(
            app_scope(pipeline),
            bootstrap_stack_name(naming, env),
            env=CdkEnvironment(account=env.account, region=spec.pipeline_region),
            description=(
                f"conveyor {spec.app}: roles through which the pipeline deploys {env.name} "
                f"(account {env.account}); deploy once, before the pipeline's first run"
            ),
            termination_protection=env.is_production,
        )
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
        self.account = CfnParameter(
            pipeline,
            f"{self.label}AccountId",
            type="String",
            default=env.account,
            allowed_pattern=r"^\d{12}$",
            description=f"Account of the {env.name} environment",
        ).value_as_string
        self.deploy_role_name = naming.name("deploy", env.name)
        self.cloudformation_role_name = naming.name("cloudformation", env.name)

    def _artifacts(self) -> ForeignArtifacts:
        return ForeignArtifacts(
            app=self.spec.app, suffix=self.spec.suffix, pipeline_account=self.pipeline_account
        )

    def _role_arn(self, name: str) -> str:
        # Fn::Sub: CloudFormation reads an action's RoleArn as given (cfn-lint E3703 on Join).
        return Fn.sub(
            f"arn:${{AWS::Partition}}:iam::${{Account}}:role/{name}", {"Account": self.account}
        )

    def stack_roles(self, environment_stack: Stack) -> tuple[iam.IRole, iam.IRole]:
        """The deploy role (the pipeline's CloudFormation actions run as it) and the
        CloudFormation execution role, created in the bootstrap stack; returned as the
        pipeline sees them."""
        stack_arn = (
            f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"stack/{environment_stack.stack_name}/*"
        )
        execution = cloudformation_role(
            self.stack,
            "CloudFormationRole",
            naming=self.naming,
            env_name=self.env.name,
            stack=environment_stack,
            code_buckets=[],
            code_keys=[],
        )
        self._artifacts().grant_read(execution)
        deployer = iam.Role(
            self.stack,
            "DeployRole",
            role_name=self.deploy_role_name,
            assumed_by=iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.pipeline_account}:root"),
            description=f"conveyor {self.spec.app}: the pipeline deploys {self.env.name} as this",
        )
        # What CodePipeline's CloudFormation action calls, on this one stack.
        # https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role
        deployer.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "cloudformation:CreateStack",
                    "cloudformation:UpdateStack",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:CreateChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:ExecuteChangeSet",
                    "cloudformation:DeleteChangeSet",
                    "cloudformation:SetStackPolicy",
                    "cloudformation:ValidateTemplate",
                ],
                resources=[stack_arn],
            )
        )
        deployer.add_to_policy(
            iam.PolicyStatement(actions=["iam:PassRole"], resources=[execution.role_arn])
        )
        self._artifacts().grant_read(deployer)
        # The caller of CreateStack/CreateChangeSet resolves the SSM-typed template parameters.
        grant_ssm_parameters(deployer, environment_stack)
        self._deployer = deployer
        acknowledgements.acknowledge(
            deployer,
            f"IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:"
            f"<AWS::AccountId>:stack/{environment_stack.stack_name}/*]",
            "the environment's one stack; CloudFormation appends a generated id to a stack's ARN",
        )
        self._grant_pipeline_artifacts(self.deploy_role_name)
        self._grant_pipeline_artifacts(self.cloudformation_role_name)
        pipeline = self.pipeline
        return (
            iam.Role.from_role_arn(
                pipeline,
                f"DeployRole{self.label}",
                self._role_arn(self.deploy_role_name),
                mutable=False,
            ),
            iam.Role.from_role_arn(
                pipeline,
                f"CloudFormationRole{self.label}",
                self._role_arn(self.cloudformation_role_name),
                mutable=False,
            ),
        )

    def created_service_rollback(self, *, cluster: str, service: str) -> iam.IRole:
        """A service the environment's stack creates in this account: the pipeline's validation
        assumes the deploy role to roll it back there (rollback.py: DescribeServices,
        ListTaskDefinitions, UpdateService). Call after stack_roles; returns the deploy role as
        the pipeline sees it."""
        self._deployer.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeServices", "ecs:UpdateService"],
                resources=[
                    f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"service/{cluster}/{service}"
                ],
            )
        )
        self._deployer.add_to_policy(
            iam.PolicyStatement(actions=["ecs:ListTaskDefinitions"], resources=["*"])
        )
        acknowledgements.acknowledge(
            self._deployer,
            "IAM5[Resource::*]",
            "ecs:ListTaskDefinitions supports no resource-level permissions; the rollback may "
            "update only the environment's one service",
        )
        return iam.Role.from_role_arn(
            self.pipeline,
            f"RollbackRole{self.label}",
            self._role_arn(self.deploy_role_name),
            mutable=False,
        )

    def _grant_pipeline_artifacts(self, role_name: str) -> None:
        store = self._store
        reader = iam.ArnPrincipal(self._role_arn(role_name))
        sid = camel(role_name.replace(self.naming.app, "", 1))
        store.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}ReadsArtifacts",
                principals=[reader],
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                resources=[store.bucket.bucket_arn, store.bucket.arn_for_objects("*")],
            )
        )
        store.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{sid}DecryptsArtifacts",
                principals=[reader],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],  # in a key policy, "*" means this key
            )
        )

    def attach(self, store: ArtifactStore, repository: ecr.IRepository | None) -> None:
        """The pipeline's artifact store and image repository, which this account reads."""
        self._store = store
        if repository is not None:
            repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"{self.label}AccountPulls",
                    principals=[iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.account}:root")],
                    actions=_PULL_ACTIONS,
                )
            )

    def existing_service(
        self, target: EcsTarget, *, cluster: str, service: str
    ) -> tuple[EcsTarget, iam.IRole]:
        """An existing service in this account: the deploy role may also deploy and roll it
        back; returns the service as the pipeline's deploy action sees it, and the role."""
        deploy_role(
            self.stack,
            "ServiceDeployRole",
            target=target,
            artifacts=self._artifacts(),
            trust=iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.pipeline_account}:root"),
            role_name=self.naming.name("deploy-service", self.env.name),
            rollback=True,
        )
        role_name = self.naming.name("deploy-service", self.env.name)
        self._grant_pipeline_artifacts(role_name)
        pipeline = self.pipeline
        cluster_name = CfnParameter(
            pipeline,
            f"{self.label}ClusterName",
            type="String",
            default=cluster,
            description=f"ECS cluster of {self.env.name}, in its account",
        ).value_as_string
        service_name = CfnParameter(
            pipeline,
            f"{self.label}ServiceName",
            type="String",
            default=service,
            description=f"ECS service of {self.env.name}, in its account",
        ).value_as_string
        imported_cluster = ecs.Cluster.from_cluster_arn(
            pipeline,
            f"Cluster{self.label}",
            f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{self.account}:cluster/{cluster_name}",
        )
        seen = EcsTarget(
            service=ecs.FargateService.from_fargate_service_attributes(
                pipeline,
                f"Service{self.label}",
                cluster=imported_cluster,
                service_name=service_name,
            ),
            cluster_name=cluster_name,
            service_name=service_name,
            task_roles=None,
            url=None,
            strategy=target.strategy,
        )
        role = iam.Role.from_role_arn(
            pipeline, f"ServiceDeployRole{self.label}", self._role_arn(role_name), mutable=False
        )
        return seen, role


__all__ = ["ForeignAccount", "artifact_bucket_name", "bootstrap_stack_name"]
