"""A worker (create.kind: worker): a Fargate service with no load balancer that consumes an SQS
queue conveyor creates beside it.

The queue and its dead-letter queue are encrypted with the environment's own KMS key (FM76),
not SQS's managed encryption: the key policy, not only the queue policy, then says who may send
and read, and a producer in another account is admitted by both. That costs KMS requests (the
queue reuses a data key for 5 minutes per principal, so about one GenerateDataKey or Decrypt
call per producer and consumer every 5 minutes, $0.03 per 10,000) and asks each producer for
kms:GenerateDataKey and kms:Decrypt and each consumer for kms:Decrypt.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html

How a release is judged: there is no load balancer and no address to call, so the deployment
waits for the new tasks' container health check (create.health_command, required for a worker)
and its circuit breaker rolls back a release whose tasks never become healthy; the stack update
then fails and the pipeline's stage rolls back.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
A message the release cannot process goes to the dead-letter queue after max_receive_count
receives, and the alarm on it tells the environment's alarm topic. That alarm is not one the
pipeline's bake watches: it stays in ALARM until someone redrives or deletes the messages, so a
bake on it would roll back every later release, the fix included.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults, ecs_task
from conveyor.constructs.ecs_service import EcsTarget
from conveyor.constructs.naming import Naming
from conveyor.spec.models import (
    DEAD_LETTER_RETENTION_DAYS,
    QUEUE_ARN_VARIABLE,
    QUEUE_URL_VARIABLE,
    CreateService,
    EcsDeploy,
    WorkerQueue,
)

# What the worker's task role may do with its queue: receive, delete what it processed, extend
# the visibility of what it is still working on, and read the queue's attributes; not send or
# purge. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
QUEUE_URL_OUTPUT = "QueueUrl"
QUEUE_ARN_OUTPUT = "QueueArn"
QUEUE_KEY_OUTPUT = "QueueKeyArn"


def queue_name(naming: Naming, env_name: str) -> str:
    """The worker's queue, per app and environment (and suffix): no two environments share one."""
    return naming.name("queue", env_name, max_length=80)


def dead_letter_queue_name(naming: Naming, env_name: str) -> str:
    return naming.name("queue-dlq", env_name, max_length=80)


class WorkerService(Construct):
    """VPC (or an existing one), cluster, the queue and its dead-letter queue, and a Fargate
    service without a load balancer consuming the queue, rolling with a circuit breaker."""

    target: EcsTarget
    vpc: ec2.IVpc
    queue: sqs.Queue
    dead_letters: sqs.Queue

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
        alarm_topic: defaults.NoticeTopic,
        release: str | None = None,
        platform: str = "linux/amd64",
    ) -> None:
        super().__init__(scope, id)
        settings = deploy.create
        assert settings is not None
        queue_settings = settings.queue or WorkerQueue()
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
        self._queues(
            queue_settings, naming=naming, env_name=env_name, key=key, production=production
        )
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
            port_mappings=None,  # nothing connects to a worker
        )
        parts.container.add_environment(QUEUE_URL_VARIABLE, self.queue.queue_url)
        parts.container.add_environment(QUEUE_ARN_VARIABLE, self.queue.queue_arn)
        self._grant_consume(parts.task.task_role, key)
        group = ec2.SecurityGroup(
            self,
            "ServiceSecurityGroup",
            vpc=self.vpc,
            description="Worker tasks: no inbound traffic, out to SQS, ECR and logs",
        )
        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=parts.task,
            service_name=naming.name("service", env_name),
            # With scaling, no DesiredCount: a stack update would reset the count auto scaling
            # chose (as for a web service).
            desired_count=settings.desired_count if settings.scaling is None else None,
            # Full capacity keeps consuming while the new tasks start (FM64).
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            security_groups=[group],
            **ecs_task.placement(settings),
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        self._autoscaling(service, settings, naming=naming, env_name=env_name)
        self._dead_letter_alarm(naming, env_name, alarm_topic)
        self.target = EcsTarget(
            service=service,
            cluster_name=cluster.cluster_name,
            service_name=service.service_name,
            task_roles=parts.roles,
            url=None,
            task_family=parts.task.family,
            strategy="rolling",
        )

    def _queues(
        self,
        settings: WorkerQueue,
        *,
        naming: Naming,
        env_name: str,
        key: kms.Key,
        production: bool,
    ) -> None:
        """The queue and its dead-letter queue: KMS-encrypted with the environment's key and
        TLS only (a queue policy denying requests without aws:SecureTransport). The dead-letter
        queue keeps messages SQS's longest, 14 days, counted from their first enqueue.
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html"""
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=dead_letter_queue_name(naming, env_name),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            retention_period=Duration.days(DEAD_LETTER_RETENTION_DAYS),
            enforce_ssl=True,
            removal_policy=defaults.removal_policy(production=production),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name(naming, env_name),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            retention_period=Duration.days(settings.retention_days),
            visibility_timeout=Duration.seconds(settings.visibility_timeout_seconds),
            # Long polling by default (a receive that names no wait time waits up to 20 s for a
            # message): fewer empty receives, each a billed request, and no false empty answers.
            # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
            receive_message_wait_time=Duration.seconds(20),
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=settings.max_receive_count
            ),
            removal_policy=defaults.removal_policy(production=production),
        )
        acknowledgements.acknowledge(
            self.dead_letters,
            "SQS3",
            "this queue is itself the worker queue's dead-letter queue; its alarm tells the "
            "environment's alarm topic and nothing redrives from it automatically",
        )
        for arn in settings.producers:
            self._admit_producer(arn, key)

    def _admit_producer(self, role_arn: str, key: kms.Key) -> None:
        """A producer role may send (not receive) and encrypt through SQS: sqs:SendMessage in
        the queue policy, kms:GenerateDataKey and kms:Decrypt in the key policy, limited to
        requests SQS makes (kms:ViaService). The role must exist when the stack deploys: IAM
        refuses a policy naming a role that does not.
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"""
        principal = iam.ArnPrincipal(role_arn)
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[self.queue.queue_arn],
            )
        )
        stack = self.queue.stack
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "StringEquals": {"kms:ViaService": f"sqs.{stack.region}.amazonaws.com"}
                },
            )
        )

    def _grant_consume(self, role: iam.IRole, key: kms.Key) -> None:
        """Consume only (CONSUME_ACTIONS), and decrypt what it receives."""
        self.queue.grant(role, *CONSUME_ACTIONS)
        key.grant_decrypt(role)

    def _autoscaling(
        self,
        service: ecs.FargateService,
        settings: CreateService,
        *,
        naming: Naming,
        env_name: str,
    ) -> None:
        """Target tracking on the backlog per task: the queue's visible messages divided by
        the service's running tasks (Container Insights' RunningTaskCount, on in the cluster),
        kept near scaling.messages_per_task, as AWS's metric math example for ECS; CDK's
        target tracking takes single metrics only, so the policy is written as CloudFormation.
        The minimum is at least one task: a worker at zero would start no task in a
        deployment (nothing for the health check to judge) and divide by no running task.
        https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html"""
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
        if scaling.messages_per_task is None:
            return
        target = capacity.node.find_child("Target")
        assert isinstance(target, appscaling.ScalableTarget)
        query = appscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty
        stat = appscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty
        metric = appscaling.CfnScalingPolicy.TargetTrackingMetricProperty
        dimension = appscaling.CfnScalingPolicy.TargetTrackingMetricDimensionProperty
        appscaling.CfnScalingPolicy(
            self,
            "Backlog",
            policy_name=naming.name("backlog", env_name),
            policy_type="TargetTrackingScaling",
            scaling_target_id=target.scalable_target_id,
            target_tracking_scaling_policy_configuration=(
                appscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                    target_value=scaling.messages_per_task,
                    scale_out_cooldown=60,
                    scale_in_cooldown=300,
                    customized_metric_specification=appscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                        metrics=[
                            query(
                                id="m1",
                                label="Messages waiting in the queue",
                                return_data=False,
                                metric_stat=stat(
                                    stat="Sum",
                                    metric=metric(
                                        namespace="AWS/SQS",
                                        metric_name="ApproximateNumberOfMessagesVisible",
                                        dimensions=[
                                            dimension(name="QueueName", value=self.queue.queue_name)
                                        ],
                                    ),
                                ),
                            ),
                            query(
                                id="m2",
                                label="Running tasks of the worker",
                                return_data=False,
                                metric_stat=stat(
                                    stat="Average",
                                    metric=metric(
                                        namespace="ECS/ContainerInsights",
                                        metric_name="RunningTaskCount",
                                        dimensions=[
                                            dimension(
                                                name="ClusterName",
                                                value=service.cluster.cluster_name,
                                            ),
                                            dimension(
                                                name="ServiceName", value=service.service_name
                                            ),
                                        ],
                                    ),
                                ),
                            ),
                            query(
                                id="e1",
                                label="Backlog per task",
                                expression="m1 / m2",
                                return_data=True,
                            ),
                        ]
                    ),
                )
            ),
        )

    def _dead_letter_alarm(
        self, naming: Naming, env_name: str, topic: defaults.NoticeTopic
    ) -> cloudwatch.Alarm:
        """Any message in the dead-letter queue tells the environment's alarm topic (whose
        policy admits CloudWatch: defaults.alarm). ApproximateNumberOfMessagesVisible, not
        NumberOfMessagesSent, which does not count messages a redrive policy moves.
        https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"""
        return defaults.alarm(
            self,
            "DeadLetterAlarm",
            name=naming.name("dlq", env_name),
            description=(
                f"{naming.app} {env_name}: the worker could not process a message "
                f"{dead_letter_queue_name(naming, env_name)} now holds (inspect, then redrive)"
            ),
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            topic=topic,
        )
