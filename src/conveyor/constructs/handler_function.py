"""A conveyor handler (src/conveyor/handlers/<name>/) deployed as a Lambda function.

Every handler function gets the same asset (the whole handlers package) and its own handler
string, the AWS-managed Powertools layer at the version the handlers are tested with, and
Lambda's JSON log format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Aws, CfnParameter, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.naming import Naming
from conveyor.handlers import ASSET_EXCLUDE, ASSET_ROOT, POWERTOOLS_VERSION, handler_entrypoint

# The layer holds the Powertools version the handlers are tested with (pyproject.toml pins the
# same; tests/handlers/test_asset.py keeps them equal). AWS publishes each layer version's ARN as a
# public SSM parameter /aws/service/powertools/python/{arch}/{python_version}/{version}, so the
# layer is resolved in the deploying account's region at deploy time, with no account id here.
# https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/#using-ssm-parameter-store
# (version parameters for arm64/python3.11-3.12 were missing before the fix in
# aws-powertools/powertools-lambda-python#7695: pin a version published after it.)
POWERTOOLS_PARAMETER_ID = "PowertoolsLayerArn"


def powertools_layer_parameter_name() -> str:
    return (
        f"/aws/service/powertools/python/arm64/{defaults.HANDLER_RUNTIME.name}/{POWERTOOLS_VERSION}"
    )


def powertools_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one reference to the Powertools layer, through a CloudFormation parameter
    of SSM type (a user can point it at another published version without a code change)."""
    stack = Stack.of(scope)
    layer = stack.node.try_find_child("PowertoolsLayer")
    if layer is not None:
        return layer  # type: ignore[return-value]
    parameter = CfnParameter(
        stack,
        POWERTOOLS_PARAMETER_ID,
        type="AWS::SSM::Parameter::Value<String>",
        default=powertools_layer_parameter_name(),
        description=(
            "Public SSM parameter holding the ARN of the AWS-managed Powertools for AWS Lambda "
            f"(Python) layer, version {POWERTOOLS_VERSION}, used by conveyor's handlers"
        ),
    )
    return lambda_.LayerVersion.from_layer_version_arn(
        stack, "PowertoolsLayer", parameter.value_as_string
    )


def function_role(scope: Construct, logs: logs_.ILogGroup, *, description: str) -> iam.Role:
    """A function's own role, writing to its own log group only: CDK's default would attach
    AWSLambdaBasicExecutionRole, which may write to any log group (cdk-nag IAM4)."""
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    logs.grant_write(role)
    return role


def pipeline_event_environment(
    app: str, stage_environments: Mapping[str, str], deployment_groups: Mapping[str, str]
) -> dict[str, str]:
    """What handlers fed by pipeline and CodeDeploy events need to name the environment."""
    return {
        "APP_NAME": app,
        "STAGE_ENVIRONMENTS": json.dumps(dict(stage_environments), sort_keys=True),
        "DEPLOYMENT_GROUP_ENVIRONMENTS": json.dumps(dict(deployment_groups), sort_keys=True),
    }


class HandlerFunction(Construct):
    """Python 3.12 on Graviton, its own encrypted log group with retention (FM23, FM24)."""

    function: lambda_.Function

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        handler: str,
        naming: Naming,
        env_name: str | None,
        key: kms.Key,
        log_retention_days: int,
        production: bool,
        environment: Mapping[str, str],
        timeout: Duration,
        description: str,
        memory_mb: int = 256,
        vpc: ec2.IVpc | None = None,
    ) -> None:
        super().__init__(scope, id)
        name = naming.name(handler.replace("_", "-"), env_name)
        logs = defaults.log_group(
            self,
            "Logs",
            name=naming.path(f"handlers/{handler.replace('_', '-')}", env_name),
            key=key,
            retention_days=log_retention_days,
            production=production,
        )
        role = function_role(self, logs, description=f"conveyor handler {handler} ({name})")
        if vpc is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    # Lambda manages the ENIs of a function in a VPC; these EC2 actions support
                    # no resource-level permissions.
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description=description,
            runtime=defaults.HANDLER_RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_entrypoint(handler),
            code=lambda_.Code.from_asset(str(ASSET_ROOT), exclude=list(ASSET_EXCLUDE)),
            layers=[powertools_layer(self)],
            # Lambda's JSON log format: the application level reaches the handlers as
            # AWS_LAMBDA_LOG_LEVEL, which Powertools' Logger honours.
            # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            memory_size=memory_mb,
            role=role,
            timeout=timeout,
            environment=dict(sorted(environment.items())),
            log_group=logs,
            # Only validation runs in a VPC: blue/green hooks call the test listener, which
            # admits the VPC's NAT addresses (or, internal, its range), and an internal
            # service's validator its internal load balancer; both report out through the NAT
            # gateway of the private subnets.
            vpc=vpc,
            vpc_subnets=(
                ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if vpc else None
            ),
        )
        acknowledgements.key_grants(self)
        if vpc is not None:
            acknowledgements.acknowledge(
                role,
                "IAM5[Resource::*]",
                "the EC2 network-interface actions Lambda needs in a VPC support no "
                "resource-level permissions",
            )
        acknowledgements.acknowledge(
            self,
            "L1",
            f"pinned to {defaults.HANDLER_RUNTIME.name}, the runtime conveyor's handlers are "
            "written and tested for; it is in AWS standard support (FM65)",
        )


class FailedEvents(Construct):
    """Where EventBridge-invoked handlers keep the events they could not handle (FM109).

    EventBridge invokes Lambda asynchronously: if the function keeps failing (a bug, a hostile
    event, DynamoDB down), Lambda retries twice and then drops the event unless the function has
    an on-failure destination; if EventBridge cannot deliver at all, it drops the event unless
    the target has a dead-letter queue. Both go to one KMS-encrypted queue here, and an alarm
    tells the pipeline's primary topic as soon as anything lands in it.
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    """

    queue: sqs.Queue

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        topic: defaults.NoticeTopic,
        production: bool,
    ) -> None:
        super().__init__(scope, id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=naming.name("failed-events"),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            # SQS's longest retention: time to fix the cause and replay by hand.
            retention_period=Duration.days(14),
            enforce_ssl=True,
            removal_policy=defaults.removal_policy(production=production),
        )
        # EventBridge sends to an SSE-KMS dead-letter queue as its service principal; without
        # this key grant the events it could not deliver are dropped. (A statement of its own:
        # the key's "...ToPublish" statements are kept in step with topic publishers.)
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventsToKeepFailedEvents",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        acknowledgements.acknowledge(
            self.queue,
            "SQS3",
            "this queue is itself the dead-letter store of EventBridge targets and of Lambda "
            "on-failure destinations; nothing redrives from it automatically",
        )
        defaults.alarm(
            self,
            "Alarm",
            name=naming.name("failed-events"),
            description=(
                f"{naming.app}: an event for a conveyor handler (history, notices, watch) failed "
                f"and was kept in {naming.name('failed-events')}"
            ),
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            topic=topic,
        )
        self._kept: set[str] = set()

    def target(self, function: lambda_.Function, *, retry_attempts: int) -> targets.LambdaFunction:
        """An EventBridge target for `function` that keeps what fails, at either step."""
        if function.node.path not in self._kept:
            self._kept.add(function.node.path)
            function.configure_async_invoke(
                on_failure=destinations.SqsDestination(self.queue), retry_attempts=2
            )
        return targets.LambdaFunction(
            function, retry_attempts=retry_attempts, dead_letter_queue=self.queue
        )
