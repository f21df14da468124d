"""Deployment history: who deployed what, where, when, and how it ended (FM74).

A DynamoDB table and the record_deployment handler, fed by EventBridge with the pipeline's
execution and stage events and CodeDeploy's deployment events. The table name and the grant come
from here, never by hand (FM66).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.handler_function import (
    FailedEvents,
    HandlerFunction,
    pipeline_event_environment,
)
from conveyor.constructs.naming import Naming
from conveyor.history.records import TIME_INDEX


class DeploymentHistory(Construct):
    table: dynamodb.TableV2
    recorder: lambda_.Function

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        production: bool,
        log_retention_days: int,
        pipeline_name: str,
        stage_environments: Mapping[str, str],
        deployment_groups: Mapping[str, str],
        failed_events: FailedEvents,
        deployment_regions: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.table = defaults.table(
            self,
            "Table",
            name=naming.name("deployments"),
            key=key,
            production=production,
            # Layout shared with the recorder and `conveyor history`: pk "{app}#{environment}",
            # sk the pipeline execution id (or "codedeploy#{deployment id}").
            partition_key="pk",
            sort_key="sk",
            # The same partitions in start order: a DORA window is a key condition that reads
            # only the items inside it, never a whole environment's history.
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=TIME_INDEX,
                    partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
                    sort_key=dynamodb.Attribute(
                        name="started_at", type=dynamodb.AttributeType.STRING
                    ),
                )
            ],
        )
        self.recorder = HandlerFunction(
            self,
            "Recorder",
            handler="record_deployment",
            naming=naming,
            env_name=None,
            key=key,
            log_retention_days=log_retention_days,
            production=production,
            environment={
                "DEPLOYMENT_TABLE_NAME": self.table.table_name,  # prevents FM66
                **pipeline_event_environment(naming.app, stage_environments, deployment_groups),
            },
            timeout=Duration.seconds(30),
            description=f"conveyor {naming.app}: records deployments into the history table",
        ).function
        # The recorder calls UpdateItem on the table and Query on its start-order index (a
        # stage rollback looks up the releases it replaced): CDK's grant_read_write_data would
        # add every read and every index (`/index/*`).
        self.recorder.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[self.table.table_arn])
        )
        self.recorder.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{self.table.table_arn}/index/{TIME_INDEX}"],
            )
        )
        key.grant_encrypt_decrypt(self.recorder)
        grant_pipeline_reads(self.recorder, pipeline_name)
        if deployment_groups:
            grant_deployment_reads(
                self.recorder, groups=sorted(deployment_groups), regions=deployment_regions
            )

        pipeline_events = events.Rule(
            self,
            "PipelineEvents",
            rule_name=naming.name("history-pipeline"),
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=[
                    "CodePipeline Pipeline Execution State Change",
                    "CodePipeline Stage Execution State Change",
                ],
                detail={"pipeline": [pipeline_name]},
            ),
        )
        pipeline_events.add_target(failed_events.target(self.recorder, retry_attempts=8))
        if deployment_groups:
            deploy_events = events.Rule(
                self,
                "DeploymentEvents",
                rule_name=naming.name("history-deployments"),
                event_pattern=events.EventPattern(
                    source=["aws.codedeploy"],
                    detail_type=["CodeDeploy Deployment State-change Notification"],
                    # conveyor names each CodeDeploy application after its one group.
                    detail={"application": sorted(deployment_groups)},
                ),
            )
            deploy_events.add_target(failed_events.target(self.recorder, retry_attempts=8))


def grant_pipeline_reads(function: lambda_.IFunction, pipeline_name: str) -> None:
    """What the recorder and notifier read to enrich events (commit, trigger, digest)."""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["codepipeline:GetPipelineExecution", "codepipeline:ListActionExecutions"],
            resources=[stack.format_arn(service="codepipeline", resource=pipeline_name)],
        )
    )


def grant_deployment_reads(
    function: lambda_.IFunction,
    *,
    groups: Sequence[str],
    regions: Mapping[str, str] | None = None,
) -> None:
    """codedeploy:GetDeployment on the pipeline's deployment groups, each in its region
    (`regions`: those of environments in another region, whose forwarded events the handler
    looks up there). conveyor names each CodeDeploy application after its single deployment
    group."""
    stack = Stack.of(function)
    regions = regions or {}
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["codedeploy:GetDeployment"],
            resources=[
                stack.format_arn(
                    service="codedeploy",
                    resource="deploymentgroup",
                    resource_name=f"{group}/{group}",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    region=regions.get(group),
                )
                for group in groups
            ],
        )
    )


def stage_names(environments: Sequence[str]) -> dict[str, str]:
    return {f"Deploy-{env}": env for env in environments}
