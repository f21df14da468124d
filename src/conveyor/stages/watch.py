"""Once the pipeline exists, what watches it: the deployment history, the notices (executions,
approvals, builds, CodeDeploy deployments, ECS rollbacks), and the alarms on failed and stuck
executions and failed builds (FM73), each to the primary topic. Made in the pipeline's scope
(their construct ids are the pipeline's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild

from conveyor.constructs import defaults
from conveyor.constructs.deployment_history import DeploymentHistory
from conveyor.constructs.execution_watch import ExecutionWatch
from conveyor.plan import prepare_stage_names
from conveyor.stages.environment import EnvironmentParts, stage_name

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def history_and_notices(
    pipeline: Pipeline,
    parts: Sequence[EnvironmentParts],
    projects: Sequence[codebuild.IProject],
) -> None:
    """The history records each deploy stage's outcome; the notices tell each audience."""
    spec, retention = pipeline.spec, pipeline.spec.retention.log_days
    pipeline_name = pipeline.pipeline.pipeline_name
    stage_environments = {stage_name(p.env.name): p.env.name for p in parts}
    # The names conveyor gives the groups (literals, not tokens: they are sorted into
    # event patterns and environment variables, which must not depend on token order).
    groups = {p.group_name: p.env.name for p in parts if p.uses_codedeploy}
    # Those in another region: their events are forwarded here, their deployments read there.
    group_regions = {p.group_name: p.region for p in parts if p.uses_codedeploy and p.region}
    DeploymentHistory(
        pipeline,
        "History",
        naming=pipeline.naming,
        key=pipeline.store.key,
        production=pipeline.production,
        log_retention_days=retention,
        pipeline_name=pipeline_name,
        stage_environments=stage_environments,
        deployment_groups=groups,
        failed_events=pipeline.failed_events,
        deployment_regions=group_regions,
    )
    # A notice names the environment of its Approve-/Release- stage too (an approval notice
    # says which environment waits); the history records only the stage that deploys.
    noticed_stages = dict(stage_environments)
    for p in parts:
        for prepare in prepare_stage_names(spec, p.env):
            noticed_stages[prepare] = p.env.name
    notifications = pipeline.notifications
    notifications.watch(
        pipeline_name=pipeline_name,
        project_names=[p.project_name for p in projects],
        stage_environments=noticed_stages,
        deployment_groups=groups,
        log_retention_days=retention,
        production=pipeline.production,
        idempotency=pipeline.idempotency,
        failed_events=pipeline.failed_events,
        deployment_regions=group_regions,
        # The approval notice summarizes the environment's change set (issue 10). Not for a
        # stack in another account: the change set is there, out of the notifier's reach
        # (its notice still names the describe-change-set command).
        change_sets={
            f"Approve-{p.env.name}": (p.stack.stack_name, p.region)
            for p in parts
            if p.env.needs_approval and p.stack_roles is None
        },
    )
    # Services ECS itself rolls back (rolling with the circuit breaker, native blue/green);
    # a service in another account by its ARN there (its events are forwarded here).
    notifications.watch_ecs_rollbacks(
        {
            (p.foreign_service_arn or p.service_arn()): p.env.name
            for p in parts
            if p.has_service and not p.codedeploy_ecs
        }
    )


def alarms(pipeline: Pipeline, projects: Sequence[codebuild.IProject]) -> None:
    """prevents FM73: failed and stuck executions, failed builds, each to the primary topic."""
    spec, naming = pipeline.spec, pipeline.naming
    topic = pipeline.notifications.primary
    pipeline_name = pipeline.pipeline.pipeline_name
    defaults.alarm(
        pipeline,
        "PipelineFailedAlarm",
        name=naming.name("pipeline-failed"),
        description=f"{naming.app}: a pipeline execution failed",
        metric=cloudwatch.Metric(
            namespace="AWS/CodePipeline",
            metric_name="FailedPipelineExecutions",
            dimensions_map={"PipelineName": pipeline_name},
            statistic="Sum",
            period=Duration.minutes(5),
        ),
        threshold=1,
        topic=topic,
    )
    watch = ExecutionWatch(
        pipeline,
        "ExecutionWatch",
        naming=naming,
        pipeline_name=pipeline_name,
        stuck_minutes=spec.alarms.stuck_minutes,
        key=pipeline.store.key,
        log_retention_days=spec.retention.log_days,
        production=pipeline.production,
        failed_events=pipeline.failed_events,
    )
    defaults.alarm(
        pipeline,
        "PipelineStuckAlarm",
        name=naming.name("pipeline-stuck"),
        description=(
            f"{naming.app}: an execution has run longer than {spec.alarms.stuck_minutes} minutes"
        ),
        metric=watch.metric,
        threshold=1,
        topic=topic,
    )
    for index, project in enumerate(projects):
        defaults.alarm(
            pipeline,
            f"BuildFailedAlarm{index}",
            name=naming.name(f"build-failed-{index}"),
            description=f"{naming.app}: a CodeBuild job of the pipeline failed",
            metric=project.metric_failed_builds(period=Duration.minutes(5), statistic="Sum"),
            threshold=1,
            topic=topic,
        )
