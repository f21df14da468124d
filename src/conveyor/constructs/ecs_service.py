"""ECS deploy targets: a Fargate web service conveyor creates, or an existing service by name."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm

from constructs import Construct
from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.naming import Naming
from conveyor.spec.models import CreateService, ExistingVpc
from conveyor.spec.refs import SECRET_REF

# The service must exist before the pipeline has built anything, so it starts from a public
# placeholder that answers 200 on every path at the port named by WHOAMI_PORT_NUMBER. The first
# pipeline run replaces it with the application's image (by digest).
PLACEHOLDER_IMAGE = "traefik/whoami:v1.10"
PLACEHOLDER_PORT_VARIABLE = "WHOAMI_PORT_NUMBER"


class EcsTarget:
    """What a deploy action and a deploy role need to know about a service."""

    def __init__(
        self,
        *,
        service: ecs.IBaseService,
        cluster_name: str,
        service_name: str,
        task_roles: list[iam.IRole] | None,
        url: str | None,
    ) -> None:
        self.service = service
        self.cluster_name = cluster_name
        self.service_name = service_name
        self.task_roles = task_roles  # None: an existing service whose roles conveyor can't see
        self.url = url


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


class FargateWebService(Construct):
    """VPC (or an existing one), cluster, ALB, and a Fargate service that rolls safely.

    prevents FM64: deployment circuit breaker with rollback, a health-check grace period and
    min/max healthy percent that keep full capacity during a rollout.
    """

    target: EcsTarget

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        env_name: str,
        settings: CreateService,
        container_name: str,
        key: kms.Key,
        log_retention_days: int,
        production: bool,
        access_logs: s3.IBucket,
        repository: ecr.IRepository,
    ) -> None:
        super().__init__(scope, id)
        vpc = self._vpc(
            settings.vpc,
            naming=naming,
            env_name=env_name,
            key=key,
            retention=log_retention_days,
            production=production,
        )
        cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=naming.name("cluster", env_name),
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            family=naming.name("task", env_name),
            cpu=settings.cpu,
            memory_limit_mib=settings.memory,
        )
        app_logs = defaults.log_group(
            self,
            "Logs",
            name=naming.path("service", env_name),
            key=key,
            retention_days=log_retention_days,
            production=production,
        )
        environment = {k: v for k, v in settings.env.items() if not SECRET_REF.match(v)}
        environment[PLACEHOLDER_PORT_VARIABLE] = str(settings.port)
        task.add_container(
            container_name,
            image=ecs.ContainerImage.from_registry(PLACEHOLDER_IMAGE),
            port_mappings=[ecs.PortMapping(container_port=settings.port)],
            logging=ecs.LogDriver.aws_logs(stream_prefix=container_name, log_group=app_logs),
            environment=dict(sorted(environment.items())),
            secrets=self._secrets(settings.env),
            readonly_root_filesystem=False,
        )
        # The pipeline later switches the task to the ECR image; the execution role must be able
        # to pull it, which CDK grants only for images it knows about (CDK-NOTES).
        repository.grant_pull(task.obtain_execution_role())
        acknowledgements.acknowledge(
            task.obtain_execution_role(),
            "IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are "
            "limited to the application's repository",
        )
        acknowledgements.acknowledge(
            task,
            "ECS2",
            "only non-secret settings: conveyor.yaml refuses secrets in env (FM30) and passes "
            "ssm:/secretsmanager: references as ECS secrets",
        )

        alb_group = ec2.SecurityGroup(
            self, "AlbSecurityGroup", vpc=vpc, description="Public entry to the load balancer"
        )
        service_group = ec2.SecurityGroup(
            self, "ServiceSecurityGroup", vpc=vpc, description="Tasks, reachable from the ALB only"
        )
        https = settings.certificate_arn is not None
        alb_group.add_ingress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443 if https else 80),
            "Public web entry point of the service",
        )
        acknowledgements.acknowledge(
            alb_group,
            "EC23",
            "the load balancer is the service's public entry point; the tasks accept traffic "
            "from the load balancer only",
        )
        service_group.add_ingress_rule(
            alb_group, ec2.Port.tcp(settings.port), "Load balancer to the application port"
        )
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            load_balancer_name=naming.name("alb", env_name, max_length=32),
            security_group=alb_group,
            drop_invalid_header_fields=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        )
        alb.log_access_logs(access_logs, prefix=f"alb/{naming.name('alb', env_name)}")

        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            service_name=naming.name("service", env_name),
            desired_count=settings.desired_count,
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=Duration.seconds(60),
            security_groups=[service_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        if https:
            assert settings.certificate_arn is not None
            listener = alb.add_listener(
                "Https",
                port=443,
                open=False,
                certificates=[
                    acm.Certificate.from_certificate_arn(
                        self, "Certificate", settings.certificate_arn
                    )
                ],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            )
        else:
            listener = alb.add_listener("Http", port=80, open=False)
        listener.add_targets(
            "App",
            port=settings.port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[service],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=settings.health_check_path,
                healthy_http_codes="200-399",
                interval=Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        scheme = "https" if https else "http"
        self.load_balancer = alb
        self.target = EcsTarget(
            service=service,
            cluster_name=cluster.cluster_name,
            service_name=service.service_name,
            task_roles=[task.task_role, task.obtain_execution_role()],
            url=f"{scheme}://{alb.load_balancer_dns_name}",
        )

    def _vpc(
        self,
        existing: ExistingVpc | None,
        *,
        naming: Naming,
        env_name: str,
        key: kms.Key,
        retention: int,
        production: bool,
    ) -> ec2.IVpc:
        if existing is not None:
            return ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=existing.id,
                availability_zones=existing.availability_zones,
                public_subnet_ids=existing.public_subnets,
                private_subnet_ids=existing.private_subnets,
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=naming.name("vpc", env_name),
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            restrict_default_security_group=False,
        )
        flow_logs = defaults.log_group(
            self,
            "FlowLogs",
            name=naming.path("vpc-flow-logs", env_name),
            key=key,
            retention_days=retention,
            production=production,
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return vpc

    def _secrets(self, env: dict[str, str]) -> dict[str, ecs.Secret]:
        secrets: dict[str, ecs.Secret] = {}
        for name, value in sorted(env.items()):
            match = SECRET_REF.match(value)
            if match is None:
                continue
            if match.group("ssm"):
                parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                    self, f"Parameter{name}", parameter_name=match.group("ssm")
                )
                secrets[name] = ecs.Secret.from_ssm_parameter(parameter)
            else:
                secret = secretsmanager.Secret.from_secret_name_v2(
                    self, f"Secret{name}", match.group("sm")
                )
                secrets[name] = ecs.Secret.from_secrets_manager(secret, match.group("key"))
        return secrets


def service_arn(scope: Construct, target: EcsTarget) -> str:
    return Stack.of(scope).format_arn(
        service="ecs",
        resource="service",
        resource_name=f"{target.cluster_name}/{target.service_name}",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def deploy_role(
    scope: Construct,
    id: str,
    *,
    target: EcsTarget,
    artifacts: s3.IBucket,
    key: kms.IKey,
) -> iam.IRole:
    """The role of the ECS deploy action, scoped to one service.

    CDK's EcsDeployAction grants ecs:* and iam:PassRole on "*" to whatever role it gets (FM40).
    This role is handed over immutable, so those grants are dropped, and it carries only the
    statements below.
    """
    stack = Stack.of(scope)
    role = iam.Role(scope, id, assumed_by=iam.AccountRootPrincipal())
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
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["ecs:DescribeTasks", "ecs:ListTasks"],
            resources=["*"],
            conditions={
                "ArnEquals": {
                    "ecs:cluster": stack.format_arn(
                        service="ecs", resource="cluster", resource_name=target.cluster_name
                    )
                }
            },
        )
    )
    if target.task_roles is not None:
        pass_resources = [r.role_arn for r in target.task_roles]
    else:
        # An existing service: its roles are unknown, so PassRole is limited to ECS tasks.
        pass_resources = [
            stack.format_arn(service="iam", region="", resource="role", resource_name="*")
        ]
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=pass_resources,
            conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        )
    )
    artifacts.grant_read(role)
    key.grant_decrypt(role)
    acknowledgements.artifact_access(role, artifacts)
    if target.task_roles is None:
        partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
        acknowledgements.acknowledge(
            role,
            f"IAM5[Resource::arn:{partition}:iam::<AWS::AccountId>:role/*]",
            "the existing service's task roles are defined outside conveyor; iam:PassRole is "
            "limited to passing them to ECS tasks by the iam:PassedToService condition",
        )
    acknowledgements.acknowledge(
        role,
        "IAM5[Resource::*]",
        "ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition support no resource-level "
        "permissions; DescribeTasks/ListTasks are limited to the service's cluster by condition",
    )
    return role.without_policy_updates()
