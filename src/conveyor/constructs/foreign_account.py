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
from typing import TYPE_CHECKING

from aws_cdk import Aspects, Aws, CfnParameter, Fn
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.artifact_store import (
    ArtifactStore,
    PackageStore,
    artifact_bucket_name,
    deployed_package_key,
)
from conveyor.constructs.cloudformation_role import (
    CDK_ASSET_BUCKET,
    CDK_ASSET_FINDING,
    CDK_ASSET_REASON,
    cloudformation_role,
    grant_ssm_parameters,
)
from conveyor.constructs.deploy_role import ForeignArtifacts, deploy_role
from conveyor.constructs.ecs_codedeploy import deployment_config_name
from conveyor.constructs.ecs_service import EcsTarget
from conveyor.constructs.ecs_task import execution_role_name, role_arn, task_role_name
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.stacks import AccountStack, app_scope
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.spec.models import Environment, Spec

if TYPE_CHECKING:
    from conveyor.constructs.environment_stack import EnvironmentStack

_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
]


# The detail-type of CodeDeploy's deployment events.
# https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html
DEPLOYMENT_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
# The detail-type of ECS's service deployment events.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
ECS_DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"


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
        self._group: codedeploy.IEcsDeploymentGroup | None = None
        # The events role, the pipeline's bus and the sources its policy admits, once forwarded.
        self._forwarding: (
            tuple[iam.Role, events.IEventBus, events.CfnEventBusPolicy, list[str]] | None
        ) = None
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

    def stack_roles(self, environment_stack: EnvironmentStack) -> tuple[iam.IRole, iam.IRole]:
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
            tags=environment_stack.resource_tags,
            # The validation hook's code (CodeDeploy and ECS blue/green hooks run here), which
            # the UpdatePipeline stage publishes into this account's CDK bootstrap bucket
            # through its file-publishing role (`conveyor bootstrap --account` trusts the
            # pipeline's account with it): a zip, no Docker.
            code_buckets=[CDK_ASSET_BUCKET.format(account=Aws.ACCOUNT_ID, region=Aws.REGION)],
            code_keys=["*"],
        )
        acknowledgements.acknowledge(execution, CDK_ASSET_FINDING, CDK_ASSET_REASON)
        self._artifacts().grant_read(execution)
        if self.env.deploy.lambda_ is not None:
            self._artifacts().grant_package_read(
                execution, deployed_package_key(self.naming, self.env.name)
            )
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

    def _deployment_group(self, group: str) -> codedeploy.IEcsDeploymentGroup:
        """The environment stack's CodeDeploy group, by conveyor's names (the application is
        named after its one group), seen from this account's bootstrap stack."""
        if self._group is not None:
            return self._group
        traffic = self.env.deploy.ecs.traffic if self.env.deploy.ecs else "all-at-once"
        config: codedeploy.IEcsDeploymentConfig = (
            codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
            if traffic == "all-at-once"
            else codedeploy.EcsDeploymentConfig.from_ecs_deployment_config_name(
                self.stack, "DeploymentConfig", deployment_config_name(self.naming, self.env.name)
            )
        )
        self._group = codedeploy.EcsDeploymentGroup.from_ecs_deployment_group_attributes(
            self.stack,
            "DeploymentGroup",
            application=codedeploy.EcsApplication.from_ecs_application_name(
                self.stack, "Application", group
            ),
            deployment_group_name=group,
            deployment_config=config,
        )
        return self._group

    def codedeploy_action_role(self, *, cluster: str, service: str, group: str) -> iam.IRole:
        """CodeDeploy blue/green of a service the environment's stack creates here: the role of
        the pipeline's CodeDeployToECS action, in this account (the deployment group, its
        application and the service's roles are here). It reads taskdef.json and appspec.yaml
        from the pipeline's artifact bucket (whose policies name it), registers the task
        definition, passes the task's two roles to ECS, and starts and follows a deployment of
        the one group. Cross-account actions take a role in the target account:
        https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html
        What the action calls:
        https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECSbluegreen.html
        """
        stack = self.stack
        naming, env_name = self.naming, self.env.name
        target = EcsTarget(
            service=ecs.BaseService.from_service_arn_with_cluster(
                stack,
                "BlueGreenService",
                f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:service/{cluster}/{service}",
            ),
            cluster_name=cluster,
            service_name=service,
            task_roles=[
                iam.Role.from_role_arn(
                    stack, "TaskRole", role_arn(task_role_name(naming, env_name)), mutable=False
                ),
                iam.Role.from_role_arn(
                    stack,
                    "TaskExecutionRole",
                    role_arn(execution_role_name(naming, env_name)),
                    mutable=False,
                ),
            ],
            url=None,
            task_family=naming.name("task", env_name),
            strategy="blue-green",
            deployment_group=self._deployment_group(group),
        )
        role_name = naming.name("codedeploy", env_name)
        deploy_role(
            stack,
            "CodeDeployRole",
            target=target,
            artifacts=self._artifacts(),
            trust=iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.pipeline_account}:root"),
            role_name=role_name,
        )
        self._grant_pipeline_artifacts(role_name)
        return iam.Role.from_role_arn(
            self.pipeline, f"CodeDeployRole{self.label}", self._role_arn(role_name), mutable=False
        )

    def forward_deployment_events(self, *, application: str) -> None:
        """CodeDeploy tells of its deployments here on this account's default event bus; the
        pipeline's history and rollback notices listen on the pipeline account's. A rule here
        forwards the state changes of the environment's one application there (source
        aws.codedeploy). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
        """
        self._forward(
            "DeploymentEvents",
            rule_name=self.naming.name("deployment-events", self.env.name),
            what="CodeDeploy deployments",
            pattern=events.EventPattern(
                source=["aws.codedeploy"],
                detail_type=[DEPLOYMENT_STATE_CHANGE],
                detail={"application": [application]},
            ),
        )

    def forward_service_events(self, *, cluster: str, service: str) -> None:
        """ECS tells of a rolling or native blue/green service's deployments (and the rollback
        of a failed one) on this account's default bus; the pipeline's ECS rollback notice
        listens on the pipeline account's. A rule here forwards the one service's deployment
        state changes there (source aws.ecs); `seen_service_arn` is its ARN in those events.
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
        """
        self._forward(
            "ServiceDeploymentEvents",
            rule_name=self.naming.name("service-events", self.env.name),
            what="ECS service deployments",
            pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=[ECS_DEPLOYMENT_STATE_CHANGE],
                resources=[
                    f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"service/{cluster}/{service}"
                ],
            ),
        )

    def seen_service_arn(self, *, cluster: str, service: str) -> str:
        """The ARN of the environment's service, in its account, as the pipeline's stack writes
        it (the account by the pipeline stack's parameter): the resource of its forwarded
        events."""
        return f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{self.account}:service/{cluster}/{service}"

    def _forward(self, id: str, *, rule_name: str, what: str, pattern: events.EventPattern) -> None:
        """A rule here that puts the events of `pattern` on the pipeline account's default bus,
        as a role only EventBridge may assume; the pipeline account's bus admits exactly the
        forwarded sources from this account (one statement per environment, listing each).
        Events keep their source, detail, resources and account, so the pipeline's own rules
        match them unchanged.
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-example-policy-cross-account-custom-bus-source.html
        """
        stack = self.stack
        if self._forwarding is None:
            pipeline_bus = (
                f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{self.pipeline_account}:event-bus/default"
            )
            role = iam.Role(
                stack,
                "DeploymentEventsRole",
                assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                description=(
                    f"conveyor {self.spec.app}: forwards {self.env.name}'s deployment events to "
                    "the pipeline's account"
                ),
            )
            bus = events.EventBus.from_event_bus_arn(stack, "PipelineBus", pipeline_bus)
            policy = events.CfnEventBusPolicy(
                self.pipeline,
                f"{self.label}DeploymentEvents",
                event_bus_name="default",
                statement_id=self.naming.name("deployment-events", self.env.name),
                statement={
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{Aws.PARTITION}:iam::{self.account}:root"},
                    "Action": "events:PutEvents",
                    "Resource": (
                        f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}"
                        ":event-bus/default"
                    ),
                    "Condition": {"ForAllValues:StringEquals": {"events:source": []}},
                },
            )
            self._forwarding = (role, bus, policy, [])
        role, bus, policy, sources = self._forwarding
        assert pattern.source is not None
        sources.extend(s for s in pattern.source if s not in sources)
        # Every source forwarded so far (the statement was handed to CDK when created).
        policy.add_property_override(
            "Statement.Condition.ForAllValues:StringEquals.events:source", sorted(sources)
        )
        rule = events.Rule(
            stack,
            id,
            rule_name=rule_name,
            description=(
                f"conveyor {self.spec.app}: {self.env.name}'s {what}, to the pipeline "
                "account's history and notices"
            ),
            event_pattern=pattern,
        )
        rule.add_target(targets.EventBus(bus, role=role))

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

    def attach(
        self,
        store: ArtifactStore,
        repository: ecr.IRepository | None,
        packages: PackageStore | None = None,
    ) -> None:
        """The pipeline's artifact store, image repository and Lambda package store, which
        this account reads."""
        self._store = store
        if packages is not None and self.env.deploy.lambda_ is not None:
            # CloudFormation there creates the function from the environment's copy of the
            # package (with the artifact key, whose policy names this role:
            # _grant_pipeline_artifacts).
            packages.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"{self.label}ReadsPackages",
                    principals=[iam.ArnPrincipal(self._role_arn(self.cloudformation_role_name))],
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[
                        packages.bucket.arn_for_objects(packages.deployed_key(self.env.name))
                    ],
                )
            )
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
        """An existing service in this account: the deploy role there deploys it (a stage
        rollback deploys the last good release again, with the same role); returns the service
        as the pipeline's deploy action sees it, and the role."""
        deploy_role(
            self.stack,
            "ServiceDeployRole",
            target=target,
            artifacts=self._artifacts(),
            trust=iam.ArnPrincipal(f"arn:{Aws.PARTITION}:iam::{self.pipeline_account}:root"),
            role_name=self.naming.name("deploy-service", self.env.name),
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
