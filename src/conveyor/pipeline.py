"""The one place that maps a conveyor spec onto constructs. Read top to bottom, it is the
pipeline: storage, who gets told, source, the environments' stacks, build, checks, then each
environment in order (its stack deployed by CloudFormation, approval on a change set for
production, validation), then history and alarms.

Two kinds of stack come out: this construct's own (the pipeline stack: pipeline, builds,
artifact store, image repository, history, notices, shared handlers), the only one
`conveyor deploy` touches, and one stack per environment, which the pipeline deploys."""

from __future__ import annotations

from typing import Any

from aws_cdk import (
    CfnOutput,
    CfnResource,
    Duration,
    Stack,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import (
    acknowledgements,
    defaults,
    feature_flags,
)
from conveyor.constructs.dependencies import wait_for_role_policies
from conveyor.constructs.deployment_history import DeploymentHistory
from conveyor.constructs.execution_watch import ExecutionWatch
from conveyor.constructs.naming import Naming, camel
from conveyor.plan import plan, prepare_stage_names
from conveyor.spec.models import Spec
from conveyor.stages import build as build_stage
from conveyor.stages import resources
from conveyor.stages import source as source_stage
from conveyor.stages.conditions import grant_alarm_reads
from conveyor.stages.environment import (
    alarm_validated_deploys,
    environment_stages,
    grant_stack_actions,
    stage_name,
)
from conveyor.stages.environment_stacks import environment_parts
from conveyor.stages.pull_request import PullRequestPipeline
from conveyor.stages.release import ReleaseMarks
from conveyor.stages.self_update import UpdatePipeline


class Pipeline(Construct):
    """A complete delivery pipeline for one application, inside any CDK stack.

    >>> Pipeline(stack, "Delivery", spec=load_spec("conveyor.yaml"))

    It also adds one stack per environment to the app (or Stage) holding `scope`, named
    `{app}-{env}[-{suffix}]` (`environment_stacks`): the pipeline deploys them with
    CloudFormation actions, so deploy only the stack holding this construct yourself. The
    pipeline reads their templates from the UpdatePipeline stage's Synth artifact, or (without
    it) from a Synth action in the Build stage running `conveyor synth` on the repository's
    conveyor.yaml: keep the spec you pass here in the repository as conveyor.yaml.

    `self_update`: an UpdatePipeline stage after Source synthesizes conveyor.yaml from the source
    revision and updates this stack (`conveyor synth` turns it on; a stack in your own CDK app is
    not what `conveyor synth` writes, so there it stays off).
    """

    # The S3 source's bucket (source: {s3: ...}), which the source stage creates.
    source_bucket: s3.Bucket
    # The GitHub source's connection (its stack parameter), which the source stage creates.
    connection_arn: str

    def __init__(self, scope: Construct, id: str, *, spec: Spec, self_update: bool = False) -> None:
        super().__init__(scope, id)
        feature_flags.apply_recommended(self)
        self.spec = spec
        self.naming = naming = Naming(spec.app, spec.suffix)
        # Shared pipeline resources hold production images and history as soon as any
        # environment is production, so they follow the strictest environment (FM05).
        self.production = production = any(env.is_production for env in spec.environments)
        retention = spec.retention.log_days
        self.base_tags, shared_tags = resources.tag(self)

        # --- what every stage shares: storage, other regions' stores, who gets told ----------
        access_logs, self.store, self.packages, self.repository = resources.storage(self)
        store = self.store
        self.regions, self.region_parameters = resources.other_regions(self)
        # CodeBuild projects that log in to ECR (and so need ecr:GetAuthorizationToken on "*").
        self._registry_users: list[codebuild.IProject] = []
        # (stage, action, function) of each Lambda invoke action, for cdk-nag acknowledgements.
        self._invocations: list[tuple[str, str, lambda_.IFunction]] = []
        # (stage, action, function name) of the Validate actions that invoke an environment
        # stack's in-VPC validator by name (an internal service).
        self._vpc_invocations: list[tuple[str, str, str]] = []
        self.idempotency, self.notifications, self.failed_events = resources.notices(self)
        notifications = self.notifications
        # Alarms in another account notify these addresses through a topic there.
        self.primary_emails = next(iter(spec.notifications.all_audiences().values())).email

        # --- source --------------------------------------------------------------------------
        source_output = codepipeline.Artifact("Source")
        self.source_output = source_output
        source_action, commit_id, triggers = source_stage.source_action(
            self, store, source_output, access_logs
        )
        self.commit_id = commit_id
        self.self_update = (
            UpdatePipeline(
                self,
                "UpdatePipeline",
                spec=spec,
                naming=naming,
                source=source_output,
                key=store.key,
                log_group=self.log_group("UpdatePipelineLogs", "update-pipeline"),
                tags=shared_tags,
            )
            if self_update
            else None
        )

        # --- each environment's stack, beside this one ----------------------------------------
        parts = [environment_parts(self, env) for env in spec.environments]
        self.environment_stacks = [part.stack for part in parts]

        # --- Build and its checks, then each environment's stages, in order ------------------
        planned = {stage.name: stage for stage in plan(spec).stages}
        build = build_stage.build_stage(self, parts, planned["Build"])
        build_output = build.output
        self.marks = ReleaseMarks(self, build_output)
        projects = build.projects
        templates = build.templates
        stages = [
            codepipeline.StageProps(stage_name="Source", actions=[source_action]),
            *([self.self_update.stage] if self.self_update else []),
            build.stage,
            *environment_stages(self, parts, planned, templates, build_output, projects),
        ]

        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=naming.name("pipeline"),
            pipeline_type=codepipeline.PipelineType.V2,
            # CDK takes either the pipeline's bucket or one per region, the pipeline's included.
            **resources.artifact_buckets(self),
            cross_account_keys=False,
            # The new definition takes over after UpdatePipeline (stages/self_update.py).
            restart_execution_on_update=self.self_update is not None,
            # Never PARALLEL: it disables stage rollback (the spec refuses it).
            execution_mode=codepipeline.ExecutionMode[spec.pipeline.execution_mode.upper()],
            stages=stages,
            triggers=triggers,
        )
        grant_alarm_reads(self.pipeline, planned.values())
        resources.regional_artifact_stores(self, parts)
        grant_stack_actions(self.pipeline, spec, parts)
        wait_for_role_policies(
            self.pipeline, [p for p in self.node.find_all() if isinstance(p, codebuild.Project)]
        )
        if spec.source.s3 is not None:
            source_stage.trigger_on_upload(self, spec.source.s3.key)
        # What conveyor check cannot tell from the pipeline's template, computed with reasons.
        suppress = []
        validated_by_alarms = alarm_validated_deploys(parts)
        if validated_by_alarms is not None:
            suppress.append({"rule": "CV074", "reason": validated_by_alarms})
        declared = _declared_not_production(spec)
        if declared is not None:
            suppress.append({"rule": "CV086", "reason": declared})
        restricted = _restricted_tags(spec)
        if restricted is not None:
            suppress.append({"rule": "CV119", "reason": restricted})
        if suppress:
            pipeline_resource = self.pipeline.node.default_child
            assert isinstance(pipeline_resource, CfnResource)
            pipeline_resource.add_metadata("conveyor", {"suppress": suppress})
        acknowledgements.artifact_access(self.pipeline, store.bucket)
        for part in parts:
            acknowledgements.stack_deploy_actions(
                self.pipeline, part.stack.stack_name, region=part.region
            )
        for stage, action, function in self._invocations:
            acknowledgements.lambda_invoke_action(
                self.pipeline.node.find_child(stage).node.find_child(action), function
            )
        for stage, action, name in self._vpc_invocations:
            acknowledgements.vpc_validator_invocation(
                self.pipeline.node.find_child(stage).node.find_child(action), name
            )
        for project in projects:
            acknowledgements.artifact_access(project, store.bucket)
            acknowledgements.build_project(
                project,
                Stack.of(self).resolve(Stack.of(self).get_logical_id(project.node.default_child)),  # type: ignore[arg-type]
                uses_registry=any(project is user for user in self._registry_users),
            )

        # --- history, notices, alarms --------------------------------------------------------
        stage_environments = {stage_name(p.env.name): p.env.name for p in parts}
        # The names conveyor gives the groups (literals, not tokens: they are sorted into
        # event patterns and environment variables, which must not depend on token order).
        groups = {p.group_name: p.env.name for p in parts if p.uses_codedeploy}
        # Those in another region: their events are forwarded here, their deployments read there.
        group_regions = {p.group_name: p.region for p in parts if p.uses_codedeploy and p.region}
        DeploymentHistory(
            self,
            "History",
            naming=naming,
            key=store.key,
            production=production,
            log_retention_days=retention,
            pipeline_name=self.pipeline.pipeline_name,
            stage_environments=stage_environments,
            deployment_groups=groups,
            failed_events=self.failed_events,
            deployment_regions=group_regions,
        )
        # A notice names the environment of its Approve-/Release- stage too (an approval notice
        # says which environment waits); the history records only the stage that deploys.
        noticed_stages = dict(stage_environments)
        for p in parts:
            for prepare in prepare_stage_names(spec, p.env):
                noticed_stages[prepare] = p.env.name
        notifications.watch(
            pipeline_name=self.pipeline.pipeline_name,
            project_names=[p.project_name for p in projects],
            stage_environments=noticed_stages,
            deployment_groups=groups,
            log_retention_days=retention,
            production=production,
            idempotency=self.idempotency,
            failed_events=self.failed_events,
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
        self._alarms(projects)

        # --- pull requests: a second pipeline that builds, tests and scans, never deploys ----
        self.pull_requests: PullRequestPipeline | None = None
        github = spec.source.github
        if github is not None and github.pull_requests is not None:
            self.pull_requests = PullRequestPipeline(
                self, "PullRequests", access_logs=access_logs, production=production
            )
            notifications.watch_pull_requests(
                pipeline_name=self.pull_requests.pipeline.pipeline_name,
                project_names=[p.project_name for p in self.pull_requests.projects],
            )

        # --- outputs (FM82) ------------------------------------------------------------------
        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline_name)
        for name, topic in notifications.topics.items():
            CfnOutput(self, f"TopicArn{camel(name)}", value=topic.topic_arn)
        CfnOutput(self, "ArtifactBucketName", value=store.bucket.bucket_name)
        CfnOutput(self, "DeploymentTableName", value=naming.name("deployments"))
        if self.repository is not None:
            CfnOutput(self, "ImageRepositoryUri", value=self.repository.repository_uri)
        if self.self_update:
            self.self_update.finish(self.pipeline)  # last: it reads what the stack holds

    # --- helpers, in the order the constructor uses them ---------------------------------------

    def log_group(
        self, id: str, kind: str, env: str | None = None, *, key: kms.Key | None = None
    ) -> Any:
        return defaults.log_group(
            self,
            id,
            name=self.naming.path(kind, env),
            key=key or self.store.key,
            retention_days=self.spec.retention.log_days,
            production=self.production,
        )

    def approval_topic(self) -> Any:
        return (self.notifications.topics_for("approval-needed") or [self.notifications.primary])[0]

    def _alarms(self, projects: list[codebuild.IProject]) -> None:
        """prevents FM73: failed and stuck executions, failed builds, each to the primary topic."""
        naming = self.naming
        topic = self.notifications.primary
        pipeline_name = self.pipeline.pipeline_name
        defaults.alarm(
            self,
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
            self,
            "ExecutionWatch",
            naming=naming,
            pipeline_name=pipeline_name,
            stuck_minutes=self.spec.alarms.stuck_minutes,
            key=self.store.key,
            log_retention_days=self.spec.retention.log_days,
            production=self.production,
            failed_events=self.failed_events,
        )
        defaults.alarm(
            self,
            "PipelineStuckAlarm",
            name=naming.name("pipeline-stuck"),
            description=(
                f"{naming.app}: an execution has run longer than "
                f"{self.spec.alarms.stuck_minutes} minutes"
            ),
            metric=watch.metric,
            threshold=1,
            topic=topic,
        )
        for index, project in enumerate(projects):
            defaults.alarm(
                self,
                f"BuildFailedAlarm{index}",
                name=f"{project.project_name}-failed"
                if False
                else naming.name(f"build-failed-{index}"),
                description=f"{naming.app}: a CodeBuild job of the pipeline failed",
                metric=project.metric_failed_builds(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                topic=topic,
            )


def _declared_not_production(spec: Spec) -> str | None:
    """Why CV086 may be suppressed on the pipeline: environments conveyor.yaml declares
    production: false, whose names (live, prod-...) CV086's name heuristic reads as production.
    Only when every environment that is production has an approval, so the suppression can
    hide nothing true."""
    declared = [env.name for env in spec.environments if env.production is False]
    if not declared or any(
        env.is_production and not env.needs_approval for env in spec.environments
    ):
        return None
    return (
        f"{', '.join(declared)}: production: false in conveyor.yaml; every production "
        "environment of this pipeline has a manual approval"
    )


def _restricted_tags(spec: Spec) -> str | None:
    """Why CV119 may be suppressed on the pipeline: conveyor.yaml says how the repository
    restricts who may create the tags that release (source.github.tag_creation), which no
    template shows. Without that statement the finding stays, and `conveyor validate` warns."""
    github = spec.source.github
    if github is None or not github.tags or github.tag_creation is None:
        return None
    return f"tags {', '.join(github.tags)}: {github.tag_creation} (source.github.tag_creation)"
