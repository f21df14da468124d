"""ECS deploy targets: a Fargate web service conveyor creates, or an existing service by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import (
    acknowledgements,
    defaults,
    ecs_codedeploy,
    ecs_task,
    service_alarms,
    web_entry,
)
from conveyor.constructs.deployment_grants import grant_deployment

# Imported by name from here by the pipeline's environment stages and foreign_account.
from conveyor.constructs.ecs_codedeploy import deployment_config_name as deployment_config_name
from conveyor.constructs.ecs_task import (
    container_secrets,
    execution_role_name,
    role_arn,
    secret_arns_in,
    task_role_name,
)
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import CreateService, EcsDeploy, Sidecar
from conveyor.spec.refs import SECRET_REF

# ECS_DEPLOYMENTS_WATCH: what an ECS deployment watches, and why not the service's alarms.
# Every environment stage rolls back on failure (and production on its bake's alarms): the
# stage rollback runs the stage's deploy again with the last good release, while the bad
# release still serves. https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html
# An alarm a deployment watches must therefore measure the revision that deployment brings,
# or it stops the rollback and returns traffic to the bad release:
# - CodeDeploy stops a deployment when one of its alarms is activated and, with
#   DEPLOYMENT_STOP_ON_ALARM, reroutes traffic to the original task set, which in a rollback
#   is the bad release. https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
#   https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-ecs.html
# - ECS fails a deployment "when any of the alarms move to the ALARM state" and rolls the
#   service back "to the last deployment that completed successfully", the bad release.
#   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html
#   (An alarm already in ALARM when a deployment starts is not monitored for it, AWS Copilot's
#   documentation says, so a rollback the bake started passes; one a failed validation started,
#   alarms quiet, is turned back by the bad tasks' own 5xx while they drain.)
#   https://aws.github.io/copilot-cli/docs/manifest/lb-web-service/#deployment-rollback-alarms
# The load balancer's metrics cannot tell revisions apart: a rolling deployment's old and new
# tasks share one target group, and a blue/green replacement task set uses whichever target
# group the previous release did not (Application Load Balancer metrics have LoadBalancer and
# TargetGroup dimensions, no listener one).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
# So ECS deployments judge the new revision by what only it can fail: the circuit breaker
# (its tasks do not start or stay unhealthy) and the validation hooks (the test listener, then
# production traffic). The service's alarms are the pipeline's: its OnSuccess bake watches
# them after the release and rolls the stage back, which CodePipeline owns.


@dataclass
class EcsTarget:
    """What the pipeline needs to know about a service it deploys to."""

    service: ecs.IBaseService
    cluster_name: str
    service_name: str
    task_roles: list[iam.IRole] | None  # None: an existing service whose roles are unknown
    url: str | None
    task_family: str | None = None  # None: an existing service whose task family is unknown
    # The load balancer's own address (the url is the domain's when the service has one).
    load_balancer_url: str | None = None
    strategy: str = "rolling"
    deployment_group: codedeploy.IEcsDeploymentGroup | None = None
    alarms: list[cloudwatch.IAlarm] = field(default_factory=list)


def existing_service(scope: Construct, id: str, *, cluster: str, service: str) -> EcsTarget:
    """A service created elsewhere, referenced by name through its ARN (account and region come
    from the stack, never literals: FM25)."""
    stack = Stack.of(scope)
    arn = stack.format_arn(
        service="ecs",
        resource="service",
        resource_name=f"{cluster}/{service}",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    imported = ecs.BaseService.from_service_arn_with_cluster(scope, id, arn)
    return EcsTarget(
        service=imported, cluster_name=cluster, service_name=service, task_roles=None, url=None
    )


CODEDEPLOY_IMAGE_PLACEHOLDER = "<IMAGE1_NAME>"


class FargateWebService(Construct):
    """VPC (or an existing one), cluster, ALB, and a Fargate service that deploys safely.

    rolling: circuit breaker with rollback, health-check grace period, full capacity during a
    rollout (prevents FM64). blue-green: two target groups, production and test listeners, a
    CodeDeploy deployment group with traffic shifting, alarms and automatic rollback (FM61).
    native-blue-green: the same shape driven by ECS's own blue/green strategy.

    The constructor reads as the list of what a web service is made of; the parts a backend
    and a worker share live in ecs_task (network, cluster, task definition, scaling), the load
    balancer with its security groups, TLS and listeners in web_entry, the CodeDeploy group in
    ecs_codedeploy, the alarms in service_alarms. Each part is created in this construct's
    scope and in the order it always was: construct ids and their order of creation decide
    the synthesized template, and moving one would change every created service's template.
    """

    target: EcsTarget
    vpc: ec2.IVpc

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        env_name: str,
        deploy: EcsDeploy,
        key: kms.Key,
        log_retention_days: int,
        production: bool,
        access_logs: s3.IBucket,
        repository: ecr.IRepository,
        image: str,
        alarm_topic: defaults.NoticeTopic,
        release: str | None = None,
        platform: str = "linux/amd64",
        hook: Callable[[Construct, ec2.IVpc, str], lambda_.IFunction] | None = None,
    ) -> None:
        super().__init__(scope, id)
        settings = deploy.create
        assert settings is not None
        if not settings.hook_in_vpc:
            # No NAT gateway, no private subnets: a hook in the VPC could reach neither the test
            # listener nor CodeDeploy (CreateService.hook_in_vpc); the pipeline's validation
            # after the deploy judges the release instead.
            hook = None
        self._naming = naming
        self._env = env_name
        self._deploy = deploy
        self._settings = settings
        self._alarm_topic = alarm_topic
        # Network, cluster and task are what a web service shares with a backend and a worker.
        self.vpc = ecs_task.network(
            self,
            settings,
            naming=naming,
            env_name=env_name,
            key=key,
            retention=log_retention_days,
            production=production,
        )
        cluster = ecs_task.cluster(self, self.vpc, naming=naming, env_name=env_name)
        parts = ecs_task.service_task(
            self,
            naming=naming,
            env_name=env_name,
            deploy=deploy,
            key=key,
            log_retention_days=log_retention_days,
            production=production,
            repository=repository,
            image=image,
            release=release,
            platform=platform,
            port_mappings=[ecs.PortMapping(container_port=settings.port)],
        )
        entry = web_entry.web_entry(
            self,
            settings,
            vpc=self.vpc,
            naming=naming,
            env_name=env_name,
            access_logs=access_logs,
        )
        service = self._service(cluster, parts, entry)
        alarms, deployment_group = self._traffic(service, entry, hook)
        self.target = EcsTarget(
            service=service,
            cluster_name=cluster.cluster_name,
            service_name=service.service_name,
            task_roles=[parts.task.task_role, parts.execution_role],
            url=entry.url,
            load_balancer_url=entry.load_balancer_url,
            task_family=parts.task.family,
            strategy=deploy.strategy,
            deployment_group=deployment_group,
            alarms=alarms,
        )

    def _service(
        self, cluster: ecs.Cluster, parts: ecs_task.ServiceTask, entry: web_entry.WebEntry
    ) -> ecs.FargateService:
        """The ECS service and its deployment configuration; no load balancer attached yet
        (each strategy attaches its own target groups)."""
        deploy, settings = self._deploy, self._settings
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=parts.task,
            service_name=self._naming.name("service", self._env),
            # With scaling, no DesiredCount: a stack update would reset the count auto scaling
            # chose; ECS starts the service at one task and the scalable target's minimum
            # takes over (CreateService.scaling).
            desired_count=settings.desired_count if settings.scaling is None else None,
            # Full capacity stays up while new tasks start (FM64); blue/green keeps two sets.
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=(
                ecs.DeploymentCircuitBreaker(enable=True, rollback=True)
                if deploy.strategy != "blue-green"
                else None
            ),
            health_check_grace_period=Duration.seconds(60),
            security_groups=[entry.service_group],
            **ecs_task.placement(settings),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
            deployment_controller=(
                ecs.DeploymentController(type=ecs.DeploymentControllerType.CODE_DEPLOY)
                if deploy.strategy == "blue-green"
                else None
            ),
            **self._native_strategy(deploy),
            **_connect_client(settings, parts),
        )
        if deploy.strategy == "blue-green":
            self._freeze_task_definition(service, parts.task)
        return service

    def _traffic(
        self,
        service: ecs.FargateService,
        entry: web_entry.WebEntry,
        hook: Callable[[Construct, ec2.IVpc, str], lambda_.IFunction] | None,
    ) -> tuple[list[cloudwatch.IAlarm], codedeploy.IEcsDeploymentGroup | None]:
        """The strategy decides the listeners, the target groups, what validates a release
        and what rolls it back; the alarms are the pipeline's bake's (ECS_DEPLOYMENTS_WATCH)."""
        if self._deploy.strategy == "rolling":
            return self._rolling(service, entry), None
        if self._deploy.strategy == "blue-green":
            return self._codedeploy_blue_green(service, entry, hook)
        return self._native_blue_green(service, entry, hook), None

    def _alarms(
        self, entry: web_entry.WebEntry, groups: list[elbv2.ApplicationTargetGroup]
    ) -> list[cloudwatch.IAlarm]:
        # Target-group metrics need the groups attached to the load balancer first: the
        # strategies call this after attaching the service.
        return service_alarms.load_balancer_alarms(
            self,
            naming=self._naming,
            env_name=self._env,
            alb=entry.alb,
            groups=groups,
            topic=self._alarm_topic,
        )

    def _health_check(self) -> elbv2.HealthCheck:
        return elbv2.HealthCheck(
            path=self._settings.health_check_path,
            healthy_http_codes="200-399",
            interval=Duration.seconds(15),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )

    def _rolling(
        self, service: ecs.FargateService, entry: web_entry.WebEntry
    ) -> list[cloudwatch.IAlarm]:
        """rolling: one listener, one target group; ECS replaces tasks behind it."""
        listener = entry.listener("Https" if entry.https else "Http", port=entry.port)
        group = listener.add_targets(
            "App",
            port=self._settings.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service],
            deregistration_delay=Duration.seconds(30),
            health_check=self._health_check(),
        )
        ecs_task.autoscaling(service, self._settings, group)
        # No ECS deployment alarms (DeploymentConfiguration.Alarms): the deployment judges
        # only the tasks it starts, through the circuit breaker (ECS_DEPLOYMENTS_WATCH:
        # why); the pipeline's bake watches these alarms after the release.
        return self._alarms(entry, [group])

    def _two_target_groups(
        self, service: ecs.FargateService, entry: web_entry.WebEntry
    ) -> web_entry.BlueGreenListeners:
        """prevents FM61: production and test listener, two target groups. CodeDeploy swaps
        the listeners' default target groups; ECS's native blue/green moves weights on listener
        rules, so its listeners default to a plain 404."""
        health_check = self._health_check()

        def target_group(name: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                self,
                name,
                vpc=self.vpc,
                port=self._settings.port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                target_type=elbv2.TargetType.IP,
                health_check=health_check,
                deregistration_delay=Duration.seconds(30),
            )

        blue, green = target_group("Blue"), target_group("Green")
        ecs_task.autoscaling(service, self._settings, None)
        codedeploy_managed = self._deploy.strategy == "blue-green"
        production = entry.listener(
            "Production",
            port=entry.port,
            default_target_groups=[blue] if codedeploy_managed else None,
            default_action=None if codedeploy_managed else elbv2.ListenerAction.fixed_response(404),
        )
        test = entry.listener(
            "Test",
            port=web_entry.TEST_PORT,
            default_target_groups=[green] if codedeploy_managed else None,
            default_action=None if codedeploy_managed else elbv2.ListenerAction.fixed_response(404),
        )
        web_entry.admit_validation(entry, self._settings, self.vpc)
        return web_entry.BlueGreenListeners(
            blue=blue, green=green, production=production, test=test
        )

    def _codedeploy_blue_green(
        self,
        service: ecs.FargateService,
        entry: web_entry.WebEntry,
        hook: Callable[[Construct, ec2.IVpc, str], lambda_.IFunction] | None,
    ) -> tuple[list[cloudwatch.IAlarm], codedeploy.EcsDeploymentGroup]:
        """blue-green: CodeDeploy shifts traffic between the target groups; the pipeline's
        CodeDeployToECS action starts each release (the stack cannot: _freeze_task_definition)."""
        sets = self._two_target_groups(service, entry)
        service.attach_to_application_target_group(sets.blue)
        alarms = self._alarms(entry, [sets.blue, sets.green])
        deployment_group = ecs_codedeploy.deployment_group(
            self,
            naming=self._naming,
            env_name=self._env,
            deploy=self._deploy,
            service=service,
            sets=sets,
        )
        hook_function = hook(self, self.vpc, entry.test_url) if hook else None
        if hook_function is not None:
            hook_function.grant_invoke(deployment_group.role)
            acknowledgements.function_versions(
                deployment_group,
                hook_function,
                "CodeDeploy may invoke this deployment's own validation hook",
            )
        acknowledgements.acknowledge(
            deployment_group,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]",
            "AWS's managed role policy for CodeDeploy on ECS, the documented least "
            "privilege for that service (FM42)",
        )
        return alarms, deployment_group

    def _native_blue_green(
        self,
        service: ecs.FargateService,
        entry: web_entry.WebEntry,
        hook: Callable[[Construct, ec2.IVpc, str], lambda_.IFunction] | None,
    ) -> list[cloudwatch.IAlarm]:
        """native-blue-green: ECS moves listener-rule weights between the target groups."""
        sets = self._two_target_groups(service, entry)
        production_rule = _weighted_rule(self, "ProductionRule", sets.production, sets, blue=100)
        test_rule = _weighted_rule(self, "TestRule", sets.test, sets, blue=0)
        service.load_balancer_target(
            container_name=self._deploy.container,
            container_port=self._settings.port,
            alternate_target=ecs.AlternateTarget(
                "Alternate",
                alternate_target_group=sets.green,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                    production_rule
                ),
                test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(test_rule),
            ),
        ).attach_to_application_target_group(sets.blue)
        alarms = self._alarms(entry, [sets.blue, sets.green])
        if hook is not None:
            # The check runs against the test listener before production traffic moves; a
            # FAILED hook status rolls the deployment back (ECS reads the return value).
            native_hook = hook(self, self.vpc, entry.test_url)
            service.add_lifecycle_hook(
                ecs.DeploymentLifecycleLambdaTarget(
                    native_hook,
                    "ValidationHook",
                    lifecycle_stages=[ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
                )
            )
            acknowledgements.function_versions(
                self, native_hook, "ECS may invoke this deployment's own validation hook"
            )
        acknowledgements.acknowledge(
            service,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "AmazonECSInfrastructureRolePolicyForLoadBalancers]",
            "AWS's managed policy for the role ECS uses to move listener-rule weights during "
            "its native blue/green deployments",
        )
        # No deployment alarms here either (ECS_DEPLOYMENTS_WATCH): the validation hook and
        # the circuit breaker judge the new revision; the pipeline's bake, the environment.
        return alarms

    @staticmethod
    def _freeze_task_definition(service: ecs.FargateService, task: ecs.TaskDefinition) -> None:
        """Under the CODE_DEPLOY controller CloudFormation cannot change a service's task
        definition: an update that tries fails the stack ("Unable to update task definition on
        services with a CODE_DEPLOY deployment controller").
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ecs-service.html
        So the service names its task family, not a revision: ECS starts it on the family's
        latest ACTIVE revision, the one this stack registers on create (with the first
        release's image), and the property never changes again. Later images and task sizes
        reach the service through the CodeDeploy action's taskdef.json; the stack's own task
        definition may change without touching the service.
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
        """
        resource = service.node.default_child
        assert isinstance(resource, ecs.CfnService)
        resource.add_property_override("TaskDefinition", task.family)
        task_resource = task.node.default_child
        assert isinstance(task_resource, ecs.CfnTaskDefinition)
        resource.add_resource_dependency(task_resource)

    @staticmethod
    def _native_strategy(deploy: EcsDeploy) -> dict[str, Any]:
        if deploy.strategy != "native-blue-green":
            return {}
        shift = ecs.TrafficShiftConfig(
            step_percent=deploy.percent, step_bake_time=Duration.minutes(deploy.minutes)
        )
        strategy = {
            "all-at-once": ecs.DeploymentStrategy.BLUE_GREEN,
            "canary": ecs.DeploymentStrategy.CANARY,
            "linear": ecs.DeploymentStrategy.LINEAR,
        }[deploy.traffic]
        options: dict[str, Any] = {
            "deployment_strategy": strategy,
            "bake_time": Duration.minutes(deploy.bake_minutes),
        }
        if deploy.traffic == "canary":
            options["canary_configuration"] = shift
        elif deploy.traffic == "linear":
            options["linear_configuration"] = shift
        return options


def _connect_client(settings: CreateService, parts: ecs_task.ServiceTask) -> dict[str, Any]:
    """create.connect on a web service: its tasks join the namespace as Service Connect
    clients (no endpoint of their own), so its backends' names resolve in them.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectConfiguration.html"""
    if settings.connect is None:
        return {}
    return {
        "service_connect_configuration": ecs.ServiceConnectProps(
            namespace=settings.connect.namespace,
            log_driver=ecs_task.service_connect_logs(parts),
        )
    }


def _weighted_rule(
    scope: Construct,
    id: str,
    listener: elbv2.ApplicationListener,
    sets: web_entry.BlueGreenListeners,
    *,
    blue: int,
) -> elbv2.ApplicationListenerRule:
    """A listener rule ECS's native blue/green moves weights on (the listener's default action
    stays a 404): production starts on blue, the test listener on green."""
    return elbv2.ApplicationListenerRule(
        scope,
        id,
        listener=listener,
        priority=1,
        conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
        action=elbv2.ListenerAction.weighted_forward(
            [
                elbv2.WeightedTargetGroup(target_group=sets.blue, weight=blue),
                elbv2.WeightedTargetGroup(target_group=sets.green, weight=100 - blue),
            ]
        ),
    )


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


def artifact_bucket_name(
    app: str, suffix: str, account: str, region: str, kind: str = "artifacts"
) -> str:
    """The artifact (or package) bucket's name when environments in other accounts must know
    it; "packages" is shorter than "artifacts", so the spec's length check covers both."""
    name = f"{app}-{kind}-{account}-{region}"
    return f"{name}-{suffix}" if suffix else name


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


def codedeploy_task_definition(
    scope: Construct,
    *,
    naming: Naming,
    env_name: str,
    deploy: EcsDeploy,
    platform: str,
    account: str | None = None,
) -> str:
    """taskdef.json for CodeDeploy, derived from the spec the environment stack is made from.

    Once CodeDeploy controls a service, CloudFormation cannot change its task definition
    (CDK-NOTES): every release (and every change of cpu, memory or settings) registers this
    document with the new image. It names the environment's resources by their conveyor names,
    never by reference, so the pipeline stack does not depend on the environment's.
    `account`: the environment's account when it is not the pipeline's (a template parameter),
    where its roles and secrets live.
    """
    settings = deploy.create
    assert settings is not None
    stack = Stack.of(scope)
    environment = {k: v for k, v in settings.env.items() if not SECRET_REF.match(v)}
    secret_arns = (
        {
            k: v.arn
            for k, v in container_secrets(
                Construct(scope, f"Secrets{camel(env_name)}"), settings.env
            ).items()
        }
        if account is None
        else secret_arns_in(account, settings.env)
    )
    container = deploy.container
    log_options = {
        "awslogs-group": naming.path("service", env_name),
        "awslogs-region": stack.region,
    }
    sidecars = [
        _sidecar_definition(
            sidecar,
            log_options,
            {
                k: v.arn
                for k, v in container_secrets(
                    Construct(scope, f"Sidecar{index}Secrets{camel(env_name)}"), sidecar.secrets
                ).items()
            }
            if account is None
            else secret_arns_in(account, sidecar.secrets),
        )
        for index, sidecar in enumerate(settings.sidecars)
    ]
    document = {
        "family": naming.name("task", env_name),
        "cpu": str(settings.cpu),
        "memory": str(settings.memory),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        # Every revision CodeDeploy registers runs on the platform the image is built for.
        "runtimePlatform": {
            "cpuArchitecture": "ARM64" if platform == "linux/arm64" else "X86_64",
            "operatingSystemFamily": "LINUX",
        },
        "executionRoleArn": role_arn(
            execution_role_name(naming, env_name), account or Aws.ACCOUNT_ID
        ),
        "taskRoleArn": role_arn(task_role_name(naming, env_name), account or Aws.ACCOUNT_ID),
        "containerDefinitions": [
            {
                "name": container,
                "image": CODEDEPLOY_IMAGE_PLACEHOLDER,
                "essential": True,
                "portMappings": [{"containerPort": settings.port, "protocol": "tcp"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {**log_options, "awslogs-stream-prefix": container},
                },
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secret_arns.items())],
                # Every release registers this document: a health check missing here would
                # vanish with the first blue/green release.
                **ecs_task.health_check_definition(settings.health_command),
            },
            *sidecars,
        ],
    }
    return stack.to_json_string(document)


def _sidecar_definition(
    sidecar: Sidecar, log_options: dict[str, str], secret_arns: dict[str, str]
) -> dict[str, Any]:
    """A sidecar in CodeDeploy's taskdef.json, as ecs_task.add_sidecar makes it for
    CloudFormation: every release registers this document, so a sidecar missing here would
    vanish with the first blue/green release."""
    definition: dict[str, Any] = {
        "name": sidecar.name,
        "image": sidecar.image,
        "essential": sidecar.essential,
        "portMappings": (
            [{"containerPort": sidecar.port, "protocol": "tcp"}] if sidecar.port is not None else []
        ),
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {**log_options, "awslogs-stream-prefix": sidecar.name},
        },
        "environment": [{"name": k, "value": v} for k, v in sorted(sidecar.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secret_arns.items())],
    }
    if sidecar.cpu is not None:
        definition["cpu"] = sidecar.cpu
    if sidecar.memory is not None:
        definition["memory"] = sidecar.memory
    if sidecar.command is not None:
        definition["command"] = sidecar.command
    return definition


def codedeploy_app_spec(scope: Construct, *, container: str, port: int, hook: str | None) -> str:
    """appspec.yaml (JSON is YAML) for CodeDeploy; `hook` is the validation function's name."""
    document: dict[str, Any] = {
        # A string: CodeDeploy's AppSpec version is "0.0", and JSON's 0.0 is the number 0.
        # https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-version.html
        "version": "0.0",
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": "<TASK_DEFINITION>",
                        "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port},
                    },
                }
            }
        ],
    }
    if hook is not None:
        # The same check before and after production traffic: a bad version is rolled back
        # by CodeDeploy before users see it, or right after. AppSpec hooks name functions.
        # https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
        document["Hooks"] = [{"AfterAllowTestTraffic": hook}, {"AfterAllowTraffic": hook}]
    return Stack.of(scope).to_json_string(document)
