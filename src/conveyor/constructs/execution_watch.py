"""A schedule that measures stuck executions (the watch_executions handler), for an alarm."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from conveyor.constructs.handler_function import FailedEvents, HandlerFunction
from conveyor.constructs.naming import Naming

NAMESPACE = "Conveyor"
METRIC = "StuckExecutions"


class ExecutionWatch(Construct):
    metric: cloudwatch.Metric

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        pipeline_name: str,
        stuck_minutes: int,
        key: kms.Key,
        log_retention_days: int,
        production: bool,
        failed_events: FailedEvents,
    ) -> None:
        super().__init__(scope, id)
        watcher = HandlerFunction(
            self,
            "Watcher",
            handler="watch_executions",
            naming=naming,
            env_name=None,
            key=key,
            log_retention_days=log_retention_days,
            production=production,
            environment={"PIPELINE_NAME": pipeline_name, "STUCK_MINUTES": str(stuck_minutes)},
            timeout=Duration.seconds(60),
            description=f"conveyor {naming.app}: measures executions running too long",
        )
        function = watcher.function
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codepipeline:ListPipelineExecutions"],
                resources=[
                    Stack.of(self).format_arn(service="codepipeline", resource=pipeline_name)
                ],
            )
        )
        # No cloudwatch:PutMetricData: the handler writes the count in embedded metric format
        # to its own log group, which CloudWatch turns into the metric below.
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format.html
        events.Rule(
            self,
            "Schedule",
            rule_name=naming.name("execution-watch"),
            schedule=events.Schedule.rate(Duration.minutes(5)),
            targets=[failed_events.target(function, retry_attempts=2)],
        )
        self.metric = cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=METRIC,
            dimensions_map={"PipelineName": pipeline_name},
            statistic="Maximum",
            period=Duration.minutes(5),
        )
