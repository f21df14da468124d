"""ECS deploy targets: a Fargate web service conveyor creates, and what the pipeline knows of a
service it deploys to (EcsTarget). The pipeline's side of a deploy lives elsewhere: its action's
role in deploy_role.py, CodeDeploy's taskdef.json and appspec.yaml in stages/codedeploy_files.py,
an existing service in stages/environment_stacks.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
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
from conveyor.constructs.naming import Naming
from conveyor.spec.models import CreateService, EcsDeploy

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
