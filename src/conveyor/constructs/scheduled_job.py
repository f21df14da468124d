"""A scheduled job (create.kind: job): a Fargate task EventBridge Scheduler runs on a schedule.

No ECS service and no load balancer: each run is one RunTask of the release's task definition.
A release is the environment stack's update with the new image (ecs_task.IMAGE_PARAMETER): it
registers a new task definition revision and points the schedule at it, so the next run starts
the new image; a run already going keeps the revision it started with (ECS never changes a
running task's definition). The replaced revision stays ACTIVE (ecs_task: UpdateReplacePolicy
Retain), so a run that starts while the stack update is still going cannot fail on an inactive
revision.

Failures are told two ways, both to the environment's alarm topic:
- a run that ECS refused to start (RunTask failed after the scheduler's retries) lands in the
  schedule's dead-letter queue, whose alarm fires (CV126: nothing else would show it);
- a run that started and failed (its container exited non-zero, or the task failed to start)
  is an "ECS Task State Change" event, which a rule turns into a notice.
ECS has no task timeout: a run that hangs runs until someone stops it (a stop is a failed run:
exit code 137). A job that must end in time bounds itself (e.g. `timeout 3600 …` in command).
https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults, ecs_task
from conveyor.constructs.chat import TopicTarget
from conveyor.constructs.naming import Naming
from conveyor.spec.models import EcsDeploy

# How long the scheduler keeps trying a run ECS refused (throttling, no Fargate capacity, no
# free address), and how often: a run an hour late is still the run, one a day late is the
# next one. Then the invocation goes to the dead-letter queue.
# https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html
RETRY_SECONDS = 3600
RETRY_ATTEMPTS = 10
# A dead-letter event waits the longest SQS keeps a message: two weeks to read why.
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-architecture.html
DEAD_LETTER_DAYS = 14


def schedule_name(naming: Naming, env_name: str) -> str:
    return naming.name("job", env_name)


def task_family(naming: Naming, env_name: str) -> str:
    """The task definition family every release of the job registers a revision of."""
    return naming.name("task", env_name)


# The exit codes of a container stopped with the task: 143 (SIGTERM, 128 + 15) when it ends on
# the stop signal, 137 (SIGKILL, 128 + 9) when it outlives the container's stop timeout. A
# sidecar exits so when the job's container ends the task, on every successful run.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout
STOPPED_WITH_TASK = (137, 143)
# The container reason ECS gives a container the kernel killed for its memory (exit code 137).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html
# https://repost.aws/knowledge-center/ecs-resolve-outofmemory-errors
OUT_OF_MEMORY = "OutOfMemoryError"


def failed_run_detail(
    cluster_arn: str, family: str, container: str, *, sidecars: bool
) -> dict[str, Any]:
    """The detail of "ECS Task State Change" for a run of this job that stopped unsuccessfully.

    RunTask without a group puts the task in the group "family:<family>" (the sample event's
    group), which tells the job's runs from other tasks of the cluster.

    Alone in its task, the job's container tells: it exited with a code other than 0, or the
    task never started (stopCode TaskFailedToStart: an image that cannot be pulled, a secret
    that cannot be read, so no exit code). A stop (StopTask, a Fargate retirement) ends it with
    143 or 137, a failed run too.

    With sidecars, EventBridge matches a field inside an array of objects against that field of
    every element (detail.containers[].exitCode), and cannot tie a name to its exit code: the
    job's 0 beside a sidecar's 143 (stopped with the task) would match "anything but 0" on every
    successful run. So a run is failed when:
    - a container exited with a code other than 0, 137 and 143 (the job's or an essential
      sidecar's crash: an exit that is no stop signal);
    - a container was killed for its memory (its reason starts "OutOfMemoryError"; its 137 is
      not the stop's);
    - the task stopped for another reason than an essential container's exit (stopCode
      TaskFailedToStart, UserInitiated, TerminationNotice, ...): the run did not end by itself.
    What is left untold: the job's own container ending on SIGTERM or SIGKILL from inside its
    task (not a stop, not its memory), which reads like a sidecar stopped with the task; a job
    that bounds itself ends with `timeout`'s 124, which is told. A non-essential sidecar that
    crashes (or exits 1 on SIGTERM) during a successful run is told: over-told, never under.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html#eb-filtering-complex-example-or
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (stopCode)
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html"""
    if sidecars:
        failed: list[dict[str, Any]] = [
            {"containers": {"exitCode": [{"anything-but": [0, *STOPPED_WITH_TASK]}]}},
            {"containers": {"reason": [{"prefix": OUT_OF_MEMORY}]}},
            {"stopCode": [{"anything-but": "EssentialContainerExited"}]},
        ]
    else:
        failed = [
            {"containers": {"name": [container], "exitCode": [{"anything-but": 0}]}},
            {"stopCode": ["TaskFailedToStart"]},
        ]
    return {
        "clusterArn": [cluster_arn],
        "group": [f"family:{family}"],
        "lastStatus": ["STOPPED"],
        "$or": failed,
    }


def failed_run_pattern(
    cluster_arn: str, family: str, container: str, *, sidecars: bool
) -> events.EventPattern:
    return events.EventPattern(
        source=["aws.ecs"],
        detail_type=["ECS Task State Change"],
        detail=failed_run_detail(cluster_arn, family, container, sidecars=sidecars),
    )


@dataclass(frozen=True)
class JobTarget:
    """What the pipeline and the judges need to know about a scheduled job."""

    cluster_name: str
    family: str
    schedule_name: str
    task_roles: list[iam.IRole]
    alarms: list[cloudwatch.IAlarm]


class ScheduledJob(Construct):
    """The network and cluster every kind shares (ecs_task), the task, the schedule with its
    role and dead-letter queue, and the failure notices."""

    target: JobTarget
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
        alarm_topic: defaults.NoticeTopic,
        release: str | None = None,
        platform: str = "linux/amd64",
    ) -> None:
        super().__init__(scope, id)
        settings = deploy.create
        assert settings is not None and settings.schedule is not None
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
        task = ecs_task.service_task(
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
            port_mappings=None,
        )
        if settings.command is not None:
            # The job's container is the task's first (ecs_task adds it before the sidecars).
            resource = task.task.node.default_child
            assert isinstance(resource, ecs.CfnTaskDefinition)
            resource.add_property_override("ContainerDefinitions.0.Command", settings.command)
        # Nothing connects to a job's tasks; they reach out (the image pull, logs, secrets and
        # whatever the job calls), through the NAT gateway or their public address.
        tasks_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=vpc,
            description="Tasks of the scheduled job: no inbound traffic",
            allow_all_outbound=True,
        )
        dead_letters = sqs.Queue(
            self,
            "FailedStarts",
            queue_name=naming.name("job-dlq", env_name),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(DEAD_LETTER_DAYS),
        )
        acknowledgements.acknowledge(
            dead_letters,
            "SQS3",
            "this queue is the schedule's dead-letter queue (Target.DeadLetterConfig): it "
            "receives the runs ECS refused to start, and has no dead-letter queue of its own",
        )
        role = self._scheduler_role(
            naming, env_name, cluster, task.task.family, task.roles, dead_letters
        )
        public = settings.placement == "public"
        subnets = vpc.select_subnets(
            subnet_type=ec2.SubnetType.PUBLIC if public else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )
        name = schedule_name(naming, env_name)
        schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=name,
            description=f"conveyor {naming.app}: the {env_name} job, {settings.schedule}",
            schedule_expression=settings.schedule,
            schedule_expression_timezone=settings.timezone or "UTC",
            # At the time the schedule says, not somewhere in a window after it.
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=cluster.cluster_arn,
                role_arn=role.role_arn,
                # prevents FM130: a run ECS refuses is kept, and its alarm tells of it (CV126).
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=dead_letters.queue_arn
                ),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=RETRY_SECONDS,
                    maximum_retry_attempts=RETRY_ATTEMPTS,
                ),
                ecs_parameters=scheduler.CfnSchedule.EcsParametersProperty(
                    # The revision this release registered: the stack update moves the
                    # schedule to it.
                    task_definition_arn=task.task.task_definition_arn,
                    launch_type="FARGATE",
                    platform_version="LATEST",
                    task_count=1,
                    network_configuration=scheduler.CfnSchedule.NetworkConfigurationProperty(
                        awsvpc_configuration=scheduler.CfnSchedule.AwsVpcConfigurationProperty(
                            subnets=subnets.subnet_ids,
                            security_groups=[tasks_group.security_group_id],
                            # A task in a public subnet reaches ECR and CloudWatch Logs through
                            # its own address (ecs_task.placement).
                            assign_public_ip="ENABLED" if public else "DISABLED",
                        )
                    ),
                    # The task carries the task definition's tags (the environment's).
                    propagate_tags="TASK_DEFINITION",
                    enable_ecs_managed_tags=True,
                ),
            ),
        )
        schedule.node.add_dependency(role)
        failed_starts = defaults.alarm(
            self,
            "FailedStartsAlarm",
            name=naming.name("job-dlq", env_name),
            description=(
                f"{naming.app} {env_name}: a scheduled run could not start (its RunTask error "
                f"is in the {dead_letters.queue_name} queue)"
            ),
            metric=dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            topic=alarm_topic,
        )
        self._failed_runs(naming, env_name, cluster, task.task.family, deploy, alarm_topic)
        self.target = JobTarget(
            cluster_name=cluster.cluster_name,
            family=task.task.family,
            schedule_name=name,
            task_roles=task.roles,
            alarms=[failed_starts],
        )

    def _scheduler_role(
        self,
        naming: Naming,
        env_name: str,
        cluster: ecs.Cluster,
        family: str,
        task_roles: list[iam.IRole],
        dead_letters: sqs.Queue,
    ) -> iam.Role:
        """The schedule's execution role: run this job's task definition revisions in this
        cluster, pass its two roles to ECS, tag the tasks it starts, and keep the runs it
        could not start. Trusted by EventBridge Scheduler for this account only (confused
        deputy: aws:SourceAccount).
        https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
        https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/CWE_IAM_role.html"""
        role = iam.Role(
            self,
            "SchedulerRole",
            role_name=naming.name("job-scheduler", env_name),
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            description=f"conveyor {naming.app}: EventBridge Scheduler runs the {env_name} job",
        )
        revisions = (
            f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:task-definition/{family}:*"
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=[revisions],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[r.role_arn for r in task_roles],
                conditions={"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        # Tags on the task at RunTask (propagate_tags) are a tag-on-create, authorized apart.
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:TagResource"],
                # The cluster by its conveyor name (ecs_task.cluster), a literal cdk-nag can
                # read in the acknowledgement below.
                resources=[
                    f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:task/"
                    f"{naming.name('cluster', env_name)}/*"
                ],
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        # The dead-letter event: sqs:SendMessage, and the queue's key to encrypt it.
        # https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
        dead_letters.grant_send_messages(role)
        reason = (
            "ecs:RunTask on the job's task definition family (revisions are numbered by ECS), "
            "in its cluster only (ecs:cluster condition); ecs:TagResource on the tasks of that "
            "cluster, only while RunTask creates them (ecs:CreateAction condition)"
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
            f"task-definition/{family}:*]",
            reason,
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/"
            f"{naming.name('cluster', env_name)}/*]",
            reason,
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Action::kms:GenerateDataKey*]",
            "the dead-letter queue's key, to encrypt the events it keeps (CDK's SQS grant)",
        )
        acknowledgements.acknowledge(
            role,
            "IAM5[Action::kms:ReEncrypt*]",
            "the dead-letter queue's key, to encrypt the events it keeps (CDK's SQS grant)",
        )
        return role

    def _failed_runs(
        self,
        naming: Naming,
        env_name: str,
        cluster: ecs.Cluster,
        family: str,
        deploy: EcsDeploy,
        topic: defaults.NoticeTopic,
    ) -> None:
        """A run that started and failed, as a notice on the environment's alarm topic."""
        sidecars = deploy.create.sidecars if deploy.create is not None else []
        rule = events.Rule(
            self,
            "FailedRuns",
            rule_name=naming.name("job-failed", env_name),
            description=f"conveyor {naming.app}: a run of the {env_name} job failed",
            event_pattern=failed_run_pattern(
                cluster.cluster_arn, family, deploy.container, sidecars=bool(sidecars)
            ),
        )
        # Each container's name, exit code and reason, by its place in the event (ECS does not
        # promise the task definition's order); a path the event lacks (no exit code: the
        # container never started) reads empty.
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
        containers = "".join(
            f"\nContainer {_field(f'$.detail.containers[{i}].name')}: exit code "
            f"{_field(f'$.detail.containers[{i}].exitCode')} "
            f"{_field(f'$.detail.containers[{i}].reason')}"
            for i in range(1 + len(sidecars))
        )
        message = events.RuleTargetInput.from_text(
            f"FAILED: {naming.app} {env_name}: a scheduled run of the job failed.\nTask: "
            f"{_field('$.detail.taskArn')}\nRevision: "
            f"{_field('$.detail.taskDefinitionArn')}\nStop code: "
            f"{_field('$.detail.stopCode')}\nReason: "
            f"{_field('$.detail.stoppedReason')}{containers}\nTime: "
            f"{events.EventField.time}\nLogs: the {naming.path('service', env_name)} log group"
        )
        rule.add_target(TopicTarget(topic, message))
        topic.allow_service("events.amazonaws.com", rule.rule_arn)


def _field(path: str) -> str:
    return events.EventField.from_path(path)
