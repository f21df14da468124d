"""The one place that maps a conveyor spec onto constructs. Read top to bottom, it is the
pipeline's list of stages: what every stage shares, Source, UpdatePipeline, each environment's
stack, Build (with the checks), then each environment's stages in order, then what watches the
pipeline. Each step is one call into the module of its stage kind (conveyor.stages).

Two kinds of stack come out: this construct's own (the pipeline stack: pipeline, builds,
artifact store, image repository, history, notices, shared handlers), the only one
`conveyor deploy` touches, and one stack per environment, which the pipeline deploys.

Every construct is created in this construct's scope, with the ids and in the order it always
had: the stage modules take the pipeline as their scope, never a construct of their own, so
the templates' logical ids do not depend on where the code lives."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, CfnParameter
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import defaults, feature_flags
from conveyor.constructs.artifact_store import ArtifactStore, PackageStore
from conveyor.constructs.dependencies import wait_for_role_policies
from conveyor.constructs.handler_function import FailedEvents
from conveyor.constructs.idempotency_table import IdempotencyTable
from conveyor.constructs.naming import Naming, camel
from conveyor.constructs.notifications import Notifications
from conveyor.constructs.regional_support import RegionalSupport
from conveyor.plan import plan
from conveyor.spec.models import Spec
from conveyor.stages import findings, resources, watch
from conveyor.stages import source as source_stage
from conveyor.stages.build import build_stage
from conveyor.stages.conditions import grant_alarm_reads
from conveyor.stages.environment import environment_stages, grant_stack_actions
from conveyor.stages.environment_stacks import environment_parts
from conveyor.stages.pull_request import PullRequestPipeline, pull_request_pipeline
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

    # What every stage shares (stages/resources.py).
    store: ArtifactStore
    packages: PackageStore | None
    repository: ecr.IRepository | None
    regions: dict[str, RegionalSupport]
    region_parameters: dict[str, CfnParameter]
    idempotency: IdempotencyTable
    notifications: Notifications
    failed_events: FailedEvents
    # The S3 source's bucket (source: {s3: ...}), which the source stage creates.
    source_bucket: s3.Bucket
    # The GitHub source's connection (its stack parameter), which the source stage creates.
    connection_arn: str
    commit_id: str | None
    pull_requests: PullRequestPipeline | None

    def __init__(self, scope: Construct, id: str, *, spec: Spec, self_update: bool = False) -> None:
        super().__init__(scope, id)
        feature_flags.apply_recommended(self)
        self.spec = spec
        self.naming = Naming(spec.app, spec.suffix)
        # Shared pipeline resources hold production images and history as soon as any
        # environment is production, so they follow the strictest environment (FM05).
        self.production = any(env.is_production for env in spec.environments)
        self.base_tags, shared_tags = resources.tag(self)

        # --- what every stage shares: storage, other regions' stores, who gets told ----------
        access_logs, self.store, self.packages, self.repository = resources.storage(self)
        self.regions, self.region_parameters = resources.other_regions(self)
        self.idempotency, self.notifications, self.failed_events = resources.notices(self)
        self.acknowledged = findings.Acknowledged()
        # Alarms in another account notify these addresses through a topic there.
        self.primary_emails = next(iter(spec.notifications.all_audiences().values())).email

        # --- Source, then UpdatePipeline (stages/source.py, stages/self_update.py) -----------
        self.source_output = codepipeline.Artifact("Source")
        source_action, self.commit_id, triggers = source_stage.source_action(
            self, self.store, self.source_output, access_logs
        )
        self.self_update = self._update_pipeline(shared_tags) if self_update else None

        # --- each environment's stack, beside this one (stages/environment_stacks.py) --------
        parts = [environment_parts(self, env) for env in spec.environments]
        self.environment_stacks = [part.stack for part in parts]

        # --- Build and its checks, then each environment's stages, in order ------------------
        planned = {stage.name: stage for stage in plan(spec).stages}
        build = build_stage(self, parts, planned["Build"])
        self.marks = ReleaseMarks(self, build.output)
        projects = build.projects
        stages = [
            codepipeline.StageProps(stage_name="Source", actions=[source_action]),
            *([self.self_update.stage] if self.self_update else []),
            build.stage,
            *environment_stages(self, parts, planned, build.templates, build.output, projects),
        ]
        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=self.naming.name("pipeline"),
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

        # --- what the pipeline's roles may do, and what its judges are told -----------------
        grant_alarm_reads(self.pipeline, planned.values())
        resources.regional_artifact_stores(self, parts)
        grant_stack_actions(self.pipeline, spec, parts)
        wait_for_role_policies(
            self.pipeline, [p for p in self.node.find_all() if isinstance(p, codebuild.Project)]
        )
        if spec.source.s3 is not None:
            source_stage.trigger_on_upload(self, spec.source.s3.key)
        findings.explain(self, parts, projects)

        # --- what watches it: history, notices, alarms; the pull-request pipeline ------------
        watch.history_and_notices(self, parts, projects)
        watch.alarms(self, projects)
        self.pull_requests = pull_request_pipeline(self, access_logs)
        self._outputs()
        if self.self_update:
            self.self_update.finish(self.pipeline)  # last: it reads what the stack holds

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

    def _update_pipeline(self, tags: dict[str, str]) -> UpdatePipeline:
        return UpdatePipeline(
            self,
            "UpdatePipeline",
            spec=self.spec,
            naming=self.naming,
            source=self.source_output,
            key=self.store.key,
            log_group=self.log_group("UpdatePipelineLogs", "update-pipeline"),
            tags=tags,
            # Each other region's support stack, updated before the pipeline's own.
            regions=list(self.regions.values()),
        )

    def approval_topic(self) -> Any:
        return (self.notifications.topics_for("approval-needed") or [self.notifications.primary])[0]

    def _outputs(self) -> None:
        """What a person or script needs after `conveyor deploy` (FM82)."""
        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline_name)
        for name, topic in self.notifications.topics.items():
            CfnOutput(self, f"TopicArn{camel(name)}", value=topic.topic_arn)
        CfnOutput(self, "ArtifactBucketName", value=self.store.bucket.bucket_name)
        CfnOutput(self, "DeploymentTableName", value=self.naming.name("deployments"))
        if self.repository is not None:
            CfnOutput(self, "ImageRepositoryUri", value=self.repository.repository_uri)
