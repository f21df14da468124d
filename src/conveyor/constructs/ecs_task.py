"""What every ECS service kind conveyor creates shares: the network, the cluster, and the task.

A web service (ecs_service.FargateWebService), a backend, a worker and a scheduled job differ in
how they are reached and started; they all run the release's image in one Fargate task
definition with the same roles, logs, secrets and sidecars, in a VPC conveyor creates or an
existing one. This module builds those parts, in the caller's scope (the logical ids stay the
caller's: a construct between them would rename every resource and replace it on the next
release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import Annotations, Aws, CfnDeletionPolicy, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.naming import Naming
from conveyor.spec.models import CreateService, EcsDeploy, Sidecar
from conveyor.spec.refs import SECRET_REF

# The environment stack's parameter holding the image a release runs: the build's ECR image,
# pinned by digest (#{Build.IMAGE_URI}). The pattern refuses anything else, so no stack can ever
# run a placeholder or a mutable tag (FM110).
IMAGE_PARAMETER = "ImageUri"
# The pipeline execution that deploys a release (#{codepipeline.PipelineExecutionId}), as a
# label on the container. A new execution of an unchanged image (the same commit re-run after a
# failed validation rolled the service back to the previous revision) is then a new task
# definition, so the stack update redeploys instead of reporting "No updates are to be
# performed", which CodePipeline's CloudFormation action counts as success while the service
# stays on the previous release.
RELEASE_PARAMETER = "Release"
RELEASE_LABEL = "conveyor.release"
ECR_DIGEST_PATTERN = (
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$"
)
# A private ECR image (registry ACCOUNT.dkr.ecr.REGION.amazonaws.com), which Fargate pulls
# with the task's execution role; public.ecr.aws and other registries need no grant.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html
PRIVATE_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+)[:@]"
)

# The range of the VPC conveyor creates (CDK's default, written out): a literal, so the rules
# admitting it (an internal load balancer's) are literal too, which cdk-nag's EC23 can judge.
CREATED_VPC_CIDR = "10.0.0.0/16"


def task_role_name(naming: Naming, env_name: str) -> str:
    """The task role's name: the pipeline's CodeDeploy task definition and deploy role name it
    without a reference into the environment's stack."""
    return naming.name("task", env_name)


def execution_role_name(naming: Naming, env_name: str) -> str:
    return naming.name("task-exec", env_name)


def role_arn(name: str, account: str = Aws.ACCOUNT_ID) -> str:
    return f"arn:{Aws.PARTITION}:iam::{account}:role/{name}"


def network(
    scope: Construct,
    settings: CreateService,
    *,
    naming: Naming,
    env_name: str,
    key: kms.Key,
    retention: int,
    production: bool,
) -> ec2.IVpc:
    """The existing VPC the spec names, or one conveyor creates: two zones, public subnets,
    private ones with a NAT gateway unless the tasks run in public subnets, and flow logs of
    rejected traffic."""
    existing = settings.vpc
    if existing is not None:
        # CDK warns that imported subnets have no route table id; conveyor places tasks,
        # load balancers and functions in them and never reads or changes their routes.
        Annotations.of(scope).acknowledge_warning(
            "@aws-cdk/aws-ec2:noSubnetRouteTableId",
            "conveyor never reads the route tables of an existing VPC's subnets",
        )
        return ec2.Vpc.from_vpc_attributes(
            scope,
            "Vpc",
            vpc_id=existing.id,
            availability_zones=existing.availability_zones,
            public_subnet_ids=existing.public_subnets,
            private_subnet_ids=existing.private_subnets,
            vpc_cidr_block=existing.cidr,
        )
    vpc = ec2.Vpc(
        scope,
        "Vpc",
        vpc_name=naming.name("vpc", env_name),
        ip_addresses=ec2.IpAddresses.cidr(CREATED_VPC_CIDR),
        max_azs=2,
        # One NAT gateway (hourly plus per GB, https://aws.amazon.com/vpc/pricing/), or
        # none when the tasks run in public subnets: no private subnet then needs one.
        nat_gateways=settings.nat_gateways,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            *(
                [
                    ec2.SubnetConfiguration(
                        name="private",
                        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                        cidr_mask=22,
                    )
                ]
                if settings.placement == "private"
                else []
            ),
        ],
        restrict_default_security_group=False,
    )
    flow_logs = defaults.log_group(
        scope,
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


def vpc_cidr(settings: CreateService) -> str:
    """The service's VPC range: the existing VPC's (the spec requires it where a rule admits
    the VPC), or the one conveyor gives the VPC it creates."""
    if settings.vpc is not None:
        assert settings.vpc.cidr is not None
        return settings.vpc.cidr
    return CREATED_VPC_CIDR


def placement(settings: CreateService) -> dict[str, Any]:
    """Where the tasks run, as FargateService keyword arguments. private: subnets whose traffic
    out leaves through a NAT gateway. public: public subnets with a public IPv4 address per
    task, which is how a Fargate task there reaches ECR, CloudWatch Logs and Secrets Manager;
    its security group still admits only what the kind needs (CV122 reports a public task that
    admits more).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html"""
    public = settings.placement == "public"
    return {
        "vpc_subnets": ec2.SubnetSelection(
            subnet_type=(ec2.SubnetType.PUBLIC if public else ec2.SubnetType.PRIVATE_WITH_EGRESS)
        ),
        "assign_public_ip": public,
    }


def cluster(scope: Construct, vpc: ec2.IVpc, *, naming: Naming, env_name: str) -> ecs.Cluster:
    return ecs.Cluster(
        scope,
        "Cluster",
        vpc=vpc,
        cluster_name=naming.name("cluster", env_name),
        container_insights_v2=ecs.ContainerInsights.ENABLED,
    )


@dataclass(frozen=True)
class ServiceTask:
    """The task definition of a service, with what its kinds add to."""

    task: ecs.FargateTaskDefinition
    container: ecs.ContainerDefinition  # the one running the release's image
    execution_role: iam.IRole
    logs: logs_.ILogGroup

    @property
    def roles(self) -> list[iam.IRole]:
        """The roles the pipeline's deploy role may pass to ECS (task, then execution)."""
        return [self.task.task_role, self.execution_role]


def service_task(
    scope: Construct,
    *,
    naming: Naming,
    env_name: str,
    deploy: EcsDeploy,
    key: kms.Key,
    log_retention_days: int,
    production: bool,
    repository: ecr.IRepository,
    image: str,
    release: str | None,
    platform: str,
    port_mappings: list[ecs.PortMapping] | None,
) -> ServiceTask:
    """The Fargate task definition: named task and execution roles, the release's image as the
    service's container (`deploy.container`) with its environment, secrets and logs, and the
    sidecars."""
    settings = deploy.create
    assert settings is not None
    task = ecs.FargateTaskDefinition(
        scope,
        "Task",
        family=naming.name("task", env_name),
        # Named roles: CodeDeploy's task definition (written by the pipeline) names them.
        task_role=iam.Role(
            scope,
            "TaskRole",
            role_name=task_role_name(naming, env_name),
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        ),
        execution_role=iam.Role(
            scope,
            "ExecutionRole",
            role_name=execution_role_name(naming, env_name),
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        ),
        cpu=settings.cpu,
        memory_limit_mib=settings.memory,
        # The task runs on the architecture the image is built for.
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=cpu_architecture(platform),
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )
    # Each release replaces this task definition (a new ImageUri), and CloudFormation
    # deregisters a replaced one before the pipeline's Validate runs; ECS cannot move a
    # service back to an INACTIVE revision, so moving it back by hand needs the previous
    # release kept (the validation's own rollback, which needed it first, was removed in
    # issue 11: a stage rollback registers the last good release anew). The deletion
    # policy stays Delete: a failed first create leaves nothing.
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deregister-task-definition-v2.html
    task_resource = task.node.default_child
    assert isinstance(task_resource, ecs.CfnTaskDefinition)
    task_resource.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
    task_resource.cfn_options.deletion_policy = CfnDeletionPolicy.DELETE  # cfn-lint W3011
    app_logs = defaults.log_group(
        scope,
        "Logs",
        name=naming.path("service", env_name),
        key=key,
        retention_days=log_retention_days,
        production=production,
    )
    environment = {k: v for k, v in settings.env.items() if not SECRET_REF.match(v)}
    secrets = container_secrets(scope, settings.env)
    container = task.add_container(
        deploy.container,
        # The release's own image: the stack is created by the first release (FM110).
        image=ecs.ContainerImage.from_registry(image),
        port_mappings=port_mappings,
        logging=ecs.LogDriver.aws_logs(stream_prefix=deploy.container, log_group=app_logs),
        environment=dict(sorted(environment.items())),
        secrets=secrets,
        docker_labels={RELEASE_LABEL: release} if release is not None else None,
        health_check=container_health_check(settings.health_command),
    )
    for index, sidecar in enumerate(settings.sidecars):
        add_sidecar(scope, task, index, sidecar, app_logs)
    execution_role = task.obtain_execution_role()
    # The image comes in as a parameter; CDK grants pulls only for images it knows about, so
    # the execution role gets the application's repository explicitly (CDK-NOTES).
    repository.grant_pull(execution_role)
    acknowledgements.acknowledge(
        execution_role,
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
    return ServiceTask(task=task, container=container, execution_role=execution_role, logs=app_logs)


# How often ECS runs the health command and how many failures in a row mark the container
# UNHEALTHY; failures in the start period do not count, a success there marks it HEALTHY at once.
# ECS's defaults are 30 s, 5 s and 3, no start period; a shorter interval tells a deployment
# sooner whether its tasks are healthy (AWS's advice for the circuit breaker).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
# https://repost.aws/knowledge-center/ecs-deployment-roll-back-failure
HEALTH_INTERVAL_SECONDS = 10
HEALTH_TIMEOUT_SECONDS = 5
HEALTH_RETRIES = 3
HEALTH_START_PERIOD_SECONDS = 60


def container_health_check(command: list[str] | None) -> ecs.HealthCheck | None:
    """The container health check of the service's container (create.health_command): an
    UNHEALTHY task is replaced, and a deployment waits for its tasks to be HEALTHY; its circuit
    breaker fails and rolls back a deployment whose tasks never are.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"""
    if command is None:
        return None
    return ecs.HealthCheck(
        command=command,
        interval=Duration.seconds(HEALTH_INTERVAL_SECONDS),
        timeout=Duration.seconds(HEALTH_TIMEOUT_SECONDS),
        retries=HEALTH_RETRIES,
        start_period=Duration.seconds(HEALTH_START_PERIOD_SECONDS),
    )


def health_check_definition(command: list[str] | None) -> dict[str, Any]:
    """The same health check in a task definition document (CodeDeploy's taskdef.json)."""
    if command is None:
        return {}
    return {
        "healthCheck": {
            "command": command,
            "interval": HEALTH_INTERVAL_SECONDS,
            "timeout": HEALTH_TIMEOUT_SECONDS,
            "retries": HEALTH_RETRIES,
            "startPeriod": HEALTH_START_PERIOD_SECONDS,
        }
    }


def service_connect_logs(task: ServiceTask) -> ecs.LogDriver:
    """The Service Connect proxy ECS adds to each task logs to the service's log group under
    connect/, beside the service's own container.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectConfiguration.html"""
    return ecs.LogDriver.aws_logs(stream_prefix="connect", log_group=task.logs)


def add_sidecar(
    scope: Construct,
    task: ecs.FargateTaskDefinition,
    index: int,
    sidecar: Sidecar,
    logs: logs_.ILogGroup,
) -> None:
    """One extra container: the service's log group under its own stream prefix, its
    secrets granted to the execution role by the same code as the service container's,
    and a port mapping only when it listens (a load balancer targets the service's
    container, named by deploy.container)."""
    private = PRIVATE_ECR_IMAGE.match(sidecar.image)
    if private is not None:
        # Fargate pulls a private ECR image with the execution role; CDK grants nothing for an
        # image given by name, and without the grant every task fails with
        # CannotPullContainerError. (A repository of another account must also allow this
        # role in its repository policy.)
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
        account, region, name = private.group("account", "region", "repository")
        ecr.Repository.from_repository_attributes(
            scope,
            f"Sidecar{index}Repository",
            repository_arn=f"arn:{Aws.PARTITION}:ecr:{region}:{account}:repository/{name}",
            repository_name=name,
        ).grant_pull(task.obtain_execution_role())
    task.add_container(
        sidecar.name,
        image=ecs.ContainerImage.from_registry(sidecar.image),
        essential=sidecar.essential,
        port_mappings=(
            [ecs.PortMapping(container_port=sidecar.port)] if sidecar.port is not None else None
        ),
        logging=ecs.LogDriver.aws_logs(stream_prefix=sidecar.name, log_group=logs),
        environment=dict(sorted(sidecar.environment.items())),
        secrets=container_secrets(
            # By position: names that differ only in - and _ would share a camel-case id.
            Construct(scope, f"Sidecar{index}"),
            sidecar.secrets,
        )
        or None,
        cpu=sidecar.cpu,
        memory_limit_mib=sidecar.memory,
        command=sidecar.command,
    )


def container_secrets(scope: Construct, env: dict[str, str]) -> dict[str, ecs.Secret]:
    """The ssm:/secretsmanager: references of `env`, as ECS secrets (FM30)."""
    secrets: dict[str, ecs.Secret] = {}
    for name, value in sorted(env.items()):
        match = SECRET_REF.match(value)
        if match is None:
            continue
        if match.group("ssm"):
            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                scope, f"Parameter{name}", parameter_name=match.group("ssm")
            )
            secrets[name] = ecs.Secret.from_ssm_parameter(parameter)
        else:
            secret = secretsmanager.Secret.from_secret_name_v2(
                scope, f"Secret{name}", match.group("sm")
            )
            secrets[name] = ecs.Secret.from_secrets_manager(secret, match.group("key"))
    return secrets


def secret_arns_in(account: str, env: dict[str, str]) -> dict[str, str]:
    """The ssm:/secretsmanager: references of `env` as ARNs in `account` (a token: another
    account's parameter), in the same shape CDK gives them (container_secrets): a parameter's
    ARN, or a secret's partial ARN with `:key::` for a JSON key.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""
    where = f"arn:{Aws.PARTITION}:{{service}}:{Aws.REGION}:{account}:"
    found: dict[str, str] = {}
    for name, value in sorted(env.items()):
        match = SECRET_REF.match(value)
        if match is None:
            continue
        if match.group("ssm"):
            found[name] = where.format(service="ssm") + f"parameter{match.group('ssm')}"
        else:
            key = f":{match.group('key')}::" if match.group("key") else ""
            secret = f"secret:{match.group('sm')}{key}"
            found[name] = where.format(service="secretsmanager") + secret
    return found


def cpu_architecture(platform: str) -> ecs.CpuArchitecture:
    return ecs.CpuArchitecture.ARM64 if platform == "linux/arm64" else ecs.CpuArchitecture.X86_64


def autoscaling(
    service: ecs.FargateService,
    settings: CreateService,
    group: elbv2.ApplicationTargetGroup | None,
) -> None:
    """Target tracking on the task count between scaling.min and scaling.max. Scale-out
    reacts within a minute; scale-in waits five, so a short dip does not stop tasks that a
    returning load needs again (300 s is also Application Auto Scaling's default for ECS).
    `group`: the target group whose requests per target are tracked (a web service's, rolling).
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html
    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html"""
    scaling = settings.scaling
    if scaling is None:
        return
    capacity = service.auto_scale_task_count(min_capacity=scaling.min, max_capacity=scaling.max)
    cooldowns: dict[str, Any] = {
        "scale_out_cooldown": Duration.seconds(60),
        "scale_in_cooldown": Duration.minutes(5),
    }
    if scaling.cpu is not None:
        capacity.scale_on_cpu_utilization(
            "Cpu", target_utilization_percent=scaling.cpu, **cooldowns
        )
    if scaling.memory is not None:
        capacity.scale_on_memory_utilization(
            "Memory", target_utilization_percent=scaling.memory, **cooldowns
        )
    if scaling.requests_per_target is not None:
        assert group is not None  # the spec allows requests only where a target group serves
        capacity.scale_on_request_count(
            "Requests",
            requests_per_target=scaling.requests_per_target,
            target_group=group,
            **cooldowns,
        )
