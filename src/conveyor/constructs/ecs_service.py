"""ECS deploy targets: a Fargate web service conveyor creates, or an existing service by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import ArnFormat, Aws, CfnParameter, Duration, Fn, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults, ecs_task
from conveyor.constructs.deployment_grants import grant_deployment
from conveyor.constructs.ecs_task import (
    container_secrets,
    execution_role_name,
    role_arn,
    secret_arns_in,
    task_role_name,
)
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import CreateService, Domain, EcsDeploy, Sidecar
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


# The test listener of blue/green deployments serves the new version before users get it.
TEST_PORT = 9000
CODEDEPLOY_IMAGE_PLACEHOLDER = "<IMAGE1_NAME>"


class FargateWebService(Construct):
    """VPC (or an existing one), cluster, ALB, and a Fargate service that deploys safely.

    rolling: circuit breaker with rollback, health-check grace period, full capacity during a
    rollout (prevents FM64). blue-green: two target groups, production and test listeners, a
    CodeDeploy deployment group with traffic shifting, alarms and automatic rollback (FM61).
    native-blue-green: the same shape driven by ECS's own blue/green strategy.
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
        vpc = ecs_task.network(
            self,
            settings,
            naming=naming,
            env_name=env_name,
            key=key,
            retention=log_retention_days,
            production=production,
        )
        self.vpc = vpc
        cluster = ecs_task.cluster(self, vpc, naming=naming, env_name=env_name)
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
        task = parts.task
        execution_role = parts.execution_role

        alb_group = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            description=(
                "Public entry to the load balancer"
                if settings.public
                else "Entry to the internal load balancer from the VPC"
            ),
        )
        service_group = ec2.SecurityGroup(
            self, "ServiceSecurityGroup", vpc=vpc, description="Tasks, reachable from the ALB only"
        )
        https = settings.https
        port = 443 if https else 80
        # An internal load balancer (public: false) admits the VPC's own range only.
        clients = (
            ec2.Peer.any_ipv4() if settings.public else ec2.Peer.ipv4(ecs_task.vpc_cidr(settings))
        )
        alb_group.add_ingress_rule(
            clients,
            ec2.Port.tcp(port),
            "Web entry point of the service" + ("" if settings.public else " inside the VPC"),
        )
        if https:
            alb_group.add_ingress_rule(clients, ec2.Port.tcp(80), "Plain HTTP, redirected to HTTPS")
        if settings.public:
            acknowledgements.acknowledge(
                alb_group,
                "EC23",
                "the load balancer is the service's public entry point; the tasks accept "
                "traffic from the load balancer only",
            )
        service_group.add_ingress_rule(
            alb_group, ec2.Port.tcp(settings.port), "Load balancer to the application port"
        )
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            # public: false: scheme internal, in the private subnets; its DNS name resolves to
            # private addresses, reachable from the VPC (and networks routed to it) only.
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme
            internet_facing=settings.public,
            load_balancer_name=naming.name("alb", env_name, max_length=32),
            security_group=alb_group,
            drop_invalid_header_fields=True,
            vpc_subnets=ec2.SubnetSelection(
                subnet_type=(
                    ec2.SubnetType.PUBLIC if settings.public else ec2.SubnetType.PRIVATE_WITH_EGRESS
                )
            ),
        )
        alb.log_access_logs(access_logs, prefix=f"alb/{naming.name('alb', env_name)}")
        certificates = self._certificates(settings, env_name) if https else None
        if https:
            # prevents FM115: port 80 answers with a permanent redirect to HTTPS, never the app.
            # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions
            alb.add_listener(
                "HttpRedirect",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,
                default_action=elbv2.ListenerAction.redirect(
                    protocol="HTTPS", port="443", permanent=True
                ),
            )
        if settings.domain is not None and settings.domain.hosted_zone_id is not None:
            self._alias_record(settings.domain, alb)
        protocol = elbv2.ApplicationProtocol.HTTPS if https else elbv2.ApplicationProtocol.HTTP
        scheme = "https" if https else "http"
        load_balancer_url = f"{scheme}://{alb.load_balancer_dns_name}"
        url = (
            f"https://{settings.domain.name}" if settings.domain is not None else load_balancer_url
        )
        # Without TLS (outside production, or production's reasoned opt-out) conveyor check
        # reports the plain HTTP listeners (CV105); the suppression carries the reason.
        plain_http_reason = (
            None
            if https
            else (
                settings.plain_http.reason
                if settings.plain_http is not None
                else f"{env_name} is not production and names no domain: plain HTTP is "
                "accepted outside production (conveyor.yaml create.domain serves HTTPS)"
            )
        )

        blue_green = deploy.strategy != "rolling"
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            service_name=naming.name("service", env_name),
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
            security_groups=[service_group],
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
            self._freeze_task_definition(service, task)
        health_check = elbv2.HealthCheck(
            path=settings.health_check_path,
            healthy_http_codes="200-399",
            interval=Duration.seconds(15),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )

        def target_group(name: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                self,
                name,
                vpc=vpc,
                port=settings.port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                target_type=elbv2.TargetType.IP,
                health_check=health_check,
                deregistration_delay=Duration.seconds(30),
            )

        alarms: list[cloudwatch.IAlarm] = []
        if not blue_green:
            listener = alb.add_listener(
                "Http" if not https else "Https",
                port=port,
                protocol=protocol,
                open=False,
                certificates=certificates,
                ssl_policy=defaults.TLS_POLICY if https else None,
            )
            _suppress_plain_http(listener, plain_http_reason)
            group = listener.add_targets(
                "App",
                port=settings.port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[service],
                deregistration_delay=Duration.seconds(30),
                health_check=health_check,
            )
            ecs_task.autoscaling(service, settings, group)
            # No ECS deployment alarms (DeploymentConfiguration.Alarms): the deployment judges
            # only the tasks it starts, through the circuit breaker (ECS_DEPLOYMENTS_WATCH:
            # why); the pipeline's bake watches these alarms after the release.
            alarms = self._alarms(naming, env_name, alb, [group], alarm_topic)
        else:
            blue, green = target_group("Blue"), target_group("Green")
            ecs_task.autoscaling(service, settings, None)
            # prevents FM61: production and test listener, two target groups.
            codedeploy_managed = deploy.strategy == "blue-green"
            # CodeDeploy swaps the listeners' default target groups; ECS's native blue/green
            # moves weights on listener rules, so its listeners default to a plain 404.
            production_listener = alb.add_listener(
                "Production",
                port=port,
                protocol=protocol,
                open=False,
                certificates=certificates,
                ssl_policy=defaults.TLS_POLICY if https else None,
                default_target_groups=[blue] if codedeploy_managed else None,
                default_action=(
                    None if codedeploy_managed else elbv2.ListenerAction.fixed_response(404)
                ),
            )
            test_listener = alb.add_listener(
                "Test",
                port=TEST_PORT,
                protocol=protocol,
                open=False,
                certificates=certificates,
                ssl_policy=defaults.TLS_POLICY if https else None,
                default_target_groups=[green] if codedeploy_managed else None,
                default_action=(
                    None if codedeploy_managed else elbv2.ListenerAction.fixed_response(404)
                ),
            )
            _suppress_plain_http(production_listener, plain_http_reason)
            _suppress_plain_http(test_listener, plain_http_reason)
            for cidr in self._test_cidrs(settings, vpc):
                # The test listener serves unreleased versions: never to the world (cdk-nag
                # EC23), only to the NAT addresses the validation hook calls from.
                alb_group.add_ingress_rule(
                    ec2.Peer.ipv4(cidr), ec2.Port.tcp(TEST_PORT), "Validation of the new version"
                )
            if deploy.strategy == "blue-green":
                service.attach_to_application_target_group(blue)
                # Target-group metrics need the groups attached to the load balancer first.
                alarms = self._alarms(naming, env_name, alb, [blue, green], alarm_topic)
                deployment_group = self._codedeploy(
                    naming,
                    env_name,
                    deploy,
                    service,
                    blue,
                    green,
                    production_listener,
                    test_listener,
                )
                hook_function = (
                    hook(self, vpc, f"{scheme}://{alb.load_balancer_dns_name}:{TEST_PORT}")
                    if hook
                    else None
                )
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
                self.target = EcsTarget(
                    service=service,
                    cluster_name=cluster.cluster_name,
                    service_name=service.service_name,
                    task_roles=[task.task_role, execution_role],
                    url=url,
                    load_balancer_url=load_balancer_url,
                    task_family=task.family,
                    strategy=deploy.strategy,
                    deployment_group=deployment_group,
                    alarms=alarms,
                )
                return
            # native-blue-green: ECS moves listener-rule weights between the target groups.
            production_rule = elbv2.ApplicationListenerRule(
                self,
                "ProductionRule",
                listener=production_listener,
                priority=1,
                conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
                action=elbv2.ListenerAction.weighted_forward(
                    [
                        elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                        elbv2.WeightedTargetGroup(target_group=green, weight=0),
                    ]
                ),
            )
            test_rule = elbv2.ApplicationListenerRule(
                self,
                "TestRule",
                listener=test_listener,
                priority=1,
                conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
                action=elbv2.ListenerAction.weighted_forward(
                    [
                        elbv2.WeightedTargetGroup(target_group=blue, weight=0),
                        elbv2.WeightedTargetGroup(target_group=green, weight=100),
                    ]
                ),
            )
            service.load_balancer_target(
                container_name=deploy.container,
                container_port=settings.port,
                alternate_target=ecs.AlternateTarget(
                    "Alternate",
                    alternate_target_group=green,
                    production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                        production_rule
                    ),
                    test_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                        test_rule
                    ),
                ),
            ).attach_to_application_target_group(blue)
            alarms = self._alarms(naming, env_name, alb, [blue, green], alarm_topic)
            if hook is not None:
                # The check runs against the test listener before production traffic moves; a
                # FAILED hook status rolls the deployment back (ECS reads the return value).
                native_hook = hook(
                    self, vpc, f"{scheme}://{alb.load_balancer_dns_name}:{TEST_PORT}"
                )
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

        self.target = EcsTarget(
            service=service,
            cluster_name=cluster.cluster_name,
            service_name=service.service_name,
            task_roles=[task.task_role, execution_role],
            url=url,
            load_balancer_url=load_balancer_url,
            task_family=task.family,
            strategy=deploy.strategy,
            alarms=alarms,
        )

    def _certificates(
        self, settings: CreateService, env_name: str
    ) -> list[elbv2.IListenerCertificate]:
        """The HTTPS listeners' certificate: the spec's by ARN, or one ACM issues for the
        domain once the validation record CloudFormation writes into the hosted zone resolves
        (ACM certificates are free; the stack waits for issuance).
        https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html"""
        domain = settings.domain
        arn = domain.certificate_arn if domain is not None else settings.certificate_arn
        if arn is not None:
            # A parameter, defaulting to the spec's ARN: the certificate lives in one account
            # and region, and the template stays deployable elsewhere (FM25).
            certificate = CfnParameter(
                self,
                "CertificateArn",
                type="String",
                default=arn,
                description=f"ACM certificate of the {env_name} load balancer",
            )
            return [
                acm.Certificate.from_certificate_arn(
                    self, "Certificate", certificate.value_as_string
                )
            ]
        assert domain is not None and domain.hosted_zone_id is not None
        zone = route53.HostedZone.from_hosted_zone_id(self, "Zone", domain.hosted_zone_id)
        issued = acm.Certificate(
            self,
            "Certificate",
            domain_name=domain.name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        return [elbv2.ListenerCertificate.from_certificate_manager(issued)]

    def _alias_record(self, domain: Domain, alb: elbv2.ApplicationLoadBalancer) -> None:
        """The domain's A record, an alias to the load balancer (alias queries to AWS
        resources are free). L1: the zone is known by id only, and CDK's record constructs
        need its name. https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html"""
        route53.CfnRecordSet(
            self,
            "AliasRecord",
            hosted_zone_id=domain.hosted_zone_id,
            name=domain.name,
            type="A",
            alias_target=route53.CfnRecordSet.AliasTargetProperty(
                dns_name=alb.load_balancer_dns_name,
                hosted_zone_id=alb.load_balancer_canonical_hosted_zone_id,
                evaluate_target_health=True,
            ),
        )

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

    def _test_cidrs(self, settings: CreateService, vpc: ec2.IVpc) -> list[str]:
        given = settings.test_cidrs
        if not settings.public:
            # An internal load balancer: the hook in the VPC calls it from a private address.
            return [*given, ecs_task.vpc_cidr(settings)]
        if given:
            return given
        # A VPC conveyor created: its NAT gateways' addresses, where in-VPC hooks call from.
        cidrs = []
        for subnet in vpc.public_subnets:
            eip = subnet.node.try_find_child("EIP")
            if isinstance(eip, ec2.CfnEIP):
                cidrs.append(Fn.join("", [eip.attr_public_ip, "/32"]))
        return cidrs

    def _alarms(
        self,
        naming: Naming,
        env_name: str,
        alb: elbv2.ApplicationLoadBalancer,
        groups: list[elbv2.ApplicationTargetGroup],
        topic: defaults.NoticeTopic,
    ) -> list[cloudwatch.IAlarm]:
        """5xx and unhealthy targets of the whole service: the pipeline's bake watches them
        after a release (ECS_DEPLOYMENTS_WATCH: why no deployment does)."""
        errors = defaults.alarm(
            self,
            "ServerErrors",
            name=naming.name("5xx", env_name),
            description=f"{naming.app} {env_name}: targets answer 5xx; watched after a release",
            metric=alb.metrics.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(1)
            ),
            threshold=5,
            topic=topic,
        )
        unhealthy = defaults.alarm(
            self,
            "UnhealthyHosts",
            name=naming.name("unhealthy", env_name),
            description=f"{naming.app} {env_name}: unhealthy targets; watched after a release",
            metric=cloudwatch.MathExpression(
                expression=" + ".join(f"u{i}" for i in range(len(groups))),
                using_metrics={
                    f"u{i}": g.metrics.unhealthy_host_count(period=Duration.minutes(1))
                    for i, g in enumerate(groups)
                },
                period=Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=2,
            topic=topic,
        )
        return [errors, unhealthy]

    def _codedeploy(
        self,
        naming: Naming,
        env_name: str,
        deploy: EcsDeploy,
        service: ecs.FargateService,
        blue: elbv2.ApplicationTargetGroup,
        green: elbv2.ApplicationTargetGroup,
        production: elbv2.ApplicationListener,
        test: elbv2.ApplicationListener,
    ) -> codedeploy.EcsDeploymentGroup:
        """The CodeDeploy group: traffic shifting, the validation hooks (appspec), and
        CodeDeploy's own rollback while it shifts: a failed hook, a failed or stopped
        deployment reroute production traffic to the original task set. No alarms
        (ECS_DEPLOYMENTS_WATCH: why), so no DEPLOYMENT_STOP_ON_ALARM."""
        name = naming.name("deploy", env_name)
        if deploy.traffic == "all-at-once":
            config: codedeploy.IEcsDeploymentConfig = codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
        else:
            routing = (
                codedeploy.TrafficRouting.time_based_canary(
                    interval=Duration.minutes(deploy.minutes), percentage=deploy.percent
                )
                if deploy.traffic == "canary"
                else codedeploy.TrafficRouting.time_based_linear(
                    interval=Duration.minutes(deploy.minutes), percentage=deploy.percent
                )
            )
            config = codedeploy.EcsDeploymentConfig(
                self,
                "DeploymentConfig",
                # Named: the pipeline's deploy role reads it by name (no cross-stack reference).
                deployment_config_name=deployment_config_name(naming, env_name),
                traffic_routing=routing,
            )
        group = codedeploy.EcsDeploymentGroup(
            self,
            "DeploymentGroup",
            application=codedeploy.EcsApplication(self, "Application", application_name=name),
            deployment_group_name=name,
            service=service,
            deployment_config=config,
            blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
                blue_target_group=blue,
                green_target_group=green,
                listener=production,
                test_listener=test,
                termination_wait_time=Duration.minutes(deploy.bake_minutes),
            ),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=False
            ),
        )
        resource = group.node.default_child
        assert isinstance(resource, codedeploy.CfnDeploymentGroup)
        resource.add_metadata(
            "conveyor",
            {
                "suppress": [
                    {
                        "rule": "CV073",
                        "reason": "no alarm can judge only the replacement task set (its target "
                        "group alternates between releases); an alarm on the service would stop "
                        "the pipeline's stage rollback while the bad release serves (CV112). "
                        "The validation hooks judge the new revision; the pipeline's bake "
                        "watches the service's alarms after the release",
                    }
                ]
            },
        )
        return group


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


def _suppress_plain_http(listener: elbv2.ApplicationListener, reason: str | None) -> None:
    """A plain HTTP listener conveyor creates on purpose, with the reason conveyor check shows
    (CV105): outside production, or production's plain_http opt-out."""
    if reason is None:
        return
    resource = listener.node.default_child
    assert isinstance(resource, elbv2.CfnListener)
    resource.add_metadata("conveyor", {"suppress": [{"rule": "CV105", "reason": reason}]})


def deployment_config_name(naming: Naming, env_name: str) -> str:
    return naming.name("traffic", env_name)


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
