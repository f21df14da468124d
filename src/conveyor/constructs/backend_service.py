"""A backend service (create.kind: backend): a Fargate service with no load balancer, reached by
name through ECS Service Connect by the services of its Cloud Map namespace.

Who can reach it: a Service Connect name resolves only inside the tasks of ECS services that
joined the namespace (their Service Connect proxy answers it), in any cluster and VPC of the
region; the connection itself goes from the client's proxy to the backend task's address, so
the network must route between them and the backend's security group admit the client. The
VPC conveyor creates per app and environment holds only this service, so its clients are the
services of other specs that run in the same existing VPC (create.vpc) or in networks routed
to it (connect.client_cidrs), and join the namespace (their create.connect.namespace).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/interconnecting-services.html

How a release is judged: no load balancer checks the new tasks, so the container health check
(create.health_command, required) does. A rolling deployment completes when its tasks are
healthy, and its circuit breaker fails and rolls back a deployment whose tasks do not start or
never become healthy; the CloudFormation update the pipeline's Deploy-<env> runs waits for
that, and fails with it.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from conveyor.constructs import ecs_task
from conveyor.constructs.ecs_service import EcsTarget
from conveyor.constructs.naming import Naming
from conveyor.spec.models import Connect, EcsDeploy

# The task definition's name for the service's port, which Service Connect publishes.
PORT_NAME = "app"
# The stack output other specs' services name to join the namespace this stack creates.
NAMESPACE_OUTPUT = "ConnectNamespace"
# The stack output with the name and port clients call.
ENDPOINT_OUTPUT = "ConnectEndpoint"


def namespace_name(naming: Naming, env_name: str) -> str:
    """The HTTP namespace a backend gets when it names none: {app}-{env}[-suffix]."""
    return naming.name(env_name)


class FargateBackendService(Construct):
    """VPC (or an existing one), cluster, a Service Connect namespace (or an existing one), and
    a Fargate service published in it by name, deployed by rolling updates with the circuit
    breaker's rollback."""

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
        repository: ecr.IRepository,
        image: str,
        release: str | None = None,
        platform: str = "linux/amd64",
    ) -> None:
        super().__init__(scope, id)
        settings = deploy.create
        assert settings is not None and settings.kind == "backend"
        assert deploy.strategy == "rolling"  # the spec refuses the others for a backend
        connect = settings.connect or Connect()
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
            # Service Connect publishes a named port mapping of the task definition.
            port_mappings=[ecs.PortMapping(container_port=settings.port, name=PORT_NAME)],
        )
        group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=vpc,
            description="Tasks, reachable by Service Connect clients in the network",
        )
        # In awsvpc mode the server-side proxy listens on the container's port, which the
        # clients' proxies connect to: that port, from the VPC's range and the listed ones.
        # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
        for cidr in [ecs_task.vpc_cidr(settings), *connect.client_cidrs]:
            group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(settings.port), "Service Connect clients"
            )
        if connect.namespace is not None:
            namespace = connect.namespace
        else:
            created = servicediscovery.HttpNamespace(
                self,
                "Namespace",
                name=namespace_name(naming, env_name),
                description=f"conveyor {naming.app}: Service Connect names of {env_name}",
            )
            namespace = created.namespace_arn
            CfnOutput(scope, NAMESPACE_OUTPUT, value=created.namespace_arn)
        name = connect.name or naming.app
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=parts.task,
            service_name=naming.name("service", env_name),
            # With scaling, no DesiredCount: a stack update would reset the count auto scaling
            # chose (CreateService.scaling).
            desired_count=settings.desired_count if settings.scaling is None else None,
            # Full capacity stays up while new tasks start (FM64).
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            security_groups=[group],
            **ecs_task.placement(settings),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
            service_connect_configuration=ecs.ServiceConnectProps(
                namespace=namespace,
                services=[
                    ecs.ServiceConnectService(
                        port_mapping_name=PORT_NAME,
                        # The Cloud Map service's name, unique in the namespace (the default,
                        # the port's name, would collide with the next backend's).
                        discovery_name=name,
                        dns_name=name,
                        port=settings.port,
                    )
                ],
                log_driver=ecs_task.service_connect_logs(parts),
            ),
        )
        ecs_task.autoscaling(service, settings, None)
        CfnOutput(scope, ENDPOINT_OUTPUT, value=f"{name}:{settings.port}")
        self.target = EcsTarget(
            service=service,
            cluster_name=cluster.cluster_name,
            service_name=service.service_name,
            task_roles=parts.roles,
            url=None,
            task_family=parts.task.family,
            strategy=deploy.strategy,
        )
