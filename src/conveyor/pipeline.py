"""The one place that maps a conveyor spec onto constructs. Read top to bottom, it is the
pipeline: storage, source, build, then each environment in order, then who gets told."""

from __future__ import annotations

from aws_cdk import Aspects, CfnOutput, Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_s3 as s3

from constructs import Construct
from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.artifact_store import AccessLogBucket, ArtifactStore
from conveyor.constructs.build_project import BuildProject
from conveyor.constructs.ecs_service import (
    EcsTarget,
    FargateWebService,
    deploy_role,
    existing_service,
)
from conveyor.constructs.image_repository import ImageRepository
from conveyor.constructs.naming import Naming
from conveyor.constructs.notifications import Notifications
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.spec.models import Environment, Spec

SHARED_ENVIRONMENT = "shared"


class Pipeline(Construct):
    """A complete delivery pipeline for one application, inside any CDK stack.

    >>> Pipeline(stack, "Delivery", spec=load_spec("conveyor.yaml"))
    """

    def __init__(self, scope: Construct, id: str, *, spec: Spec) -> None:
        super().__init__(scope, id)
        self.spec = spec
        naming = Naming(spec.app, spec.suffix)
        # Shared pipeline resources hold production images and history as soon as any
        # environment is production, so they follow the strictest environment (FM05).
        production = any(env.is_production for env in spec.environments)
        base_tags = {
            defaults.TAG_APP: spec.app,
            defaults.TAG_OWNER: spec.owner,
            defaults.TAG_MANAGED_BY: defaults.MANAGED_BY,
            **spec.tags,
        }
        apply_tags(self, {**base_tags, defaults.TAG_ENVIRONMENT: SHARED_ENVIRONMENT})
        Aspects.of(Stack.of(self)).add(
            TagUnmanagedResources({**base_tags, defaults.TAG_ENVIRONMENT: SHARED_ENVIRONMENT})
        )

        # --- storage -------------------------------------------------------------------------
        access_logs = AccessLogBucket(
            self, "AccessLogs", production=production, expire_days=max(90, spec.retention.log_days)
        ).bucket
        store = ArtifactStore(
            self,
            "Artifacts",
            naming=naming,
            scope_name="pipeline",
            production=production,
            expire_days=spec.retention.artifact_days,
            access_logs=access_logs,
        )
        defaults.allow_logs_to_use_key(store.key, log_group_prefix=naming.path(""))
        repository = None
        if spec.build.docker is not None:
            repository = ImageRepository(
                self,
                "Images",
                naming=naming,
                key=store.key,
                keep_images=spec.retention.images,
                production=production,
            ).repository
        notifications = Notifications(
            self, "Notifications", naming=naming, key=store.key, emails=spec.notifications.email
        )

        # --- source --------------------------------------------------------------------------
        source_output = codepipeline.Artifact("Source")
        source_action, commit_id, triggers = self._source(naming, store, source_output)

        # --- build ---------------------------------------------------------------------------
        build_logs = defaults.log_group(
            self,
            "BuildLogs",
            name=naming.path("build"),
            key=store.key,
            retention_days=spec.retention.log_days,
            production=production,
        )
        container_name = next(
            (env.deploy.ecs.container for env in spec.environments if env.deploy.ecs), "app"
        )
        build = BuildProject(
            self,
            "Build",
            name=naming.name("build"),
            build=spec.build,
            key=store.key,
            log_group=build_logs,
            repository=repository,
            container_name=container_name,
        )
        build_output = codepipeline.Artifact("Build")
        build_action = actions.CodeBuildAction(
            action_name="Build",
            project=build.project,
            input=source_output,
            outputs=[build_output],
            variables_namespace="Build",
            environment_variables=(
                {"COMMIT_ID": _plain(commit_id)} if commit_id is not None else None
            ),
        )

        stages = [
            codepipeline.StageProps(stage_name="Source", actions=[source_action]),
            codepipeline.StageProps(stage_name="Build", actions=[build_action]),
        ]

        # --- environments, in order ----------------------------------------------------------
        self.targets: dict[str, EcsTarget] = {}
        for env in spec.environments:
            target = self._environment_target(env, naming, access_logs, repository)
            self.targets[env.name] = target
            stage_actions: list[codepipeline.IAction] = []
            if env.approval:
                stage_actions.append(
                    actions.ManualApprovalAction(
                        action_name="Approve",
                        notification_topic=notifications.topic,
                        additional_information=f"Deploy {spec.app} to {env.name}?",
                        run_order=1,
                    )
                )
            ecs_deploy = env.deploy.ecs
            assert ecs_deploy is not None
            stage_actions.append(
                actions.EcsDeployAction(
                    action_name="Deploy",
                    service=target.service,
                    input=build_output,
                    deployment_timeout=Duration.minutes(ecs_deploy.timeout_minutes),
                    role=deploy_role(
                        self,
                        f"DeployRole{_camel(env.name)}",
                        target=target,
                        artifacts=store.bucket,
                        key=store.key,
                    ),
                    run_order=2,
                )
            )
            stages.append(
                codepipeline.StageProps(stage_name=f"Deploy-{env.name}", actions=stage_actions)
            )

        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=naming.name("pipeline"),
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=store.bucket,
            cross_account_keys=False,
            restart_execution_on_update=False,
            execution_mode=codepipeline.ExecutionMode.QUEUED,
            stages=stages,
            triggers=triggers,
        )
        if spec.source.s3 is not None:
            self._trigger_on_upload(naming, spec.source.s3.key)
        acknowledgements.artifact_access(self.pipeline, store.bucket)
        acknowledgements.artifact_access(build.project, store.bucket)
        acknowledgements.build_project(
            build.project,
            Stack.of(self).resolve(
                Stack.of(self).get_logical_id(build.project.node.default_child)  # type: ignore[arg-type]
            ),
            pushes_images=repository is not None,
        )

        # --- who gets told -------------------------------------------------------------------
        notifications.watch(
            naming=naming,
            on=spec.notifications.on,
            pipeline=self.pipeline,
            projects=[build.project],
        )

        # --- outputs (FM82) ------------------------------------------------------------------
        CfnOutput(self, "PipelineName", value=self.pipeline.pipeline_name)
        CfnOutput(self, "NotificationTopicArn", value=notifications.topic.topic_arn)
        CfnOutput(self, "ArtifactBucketName", value=store.bucket.bucket_name)
        if repository is not None:
            CfnOutput(self, "ImageRepositoryUri", value=repository.repository_uri)
        for name, target in self.targets.items():
            CfnOutput(self, f"ServiceName{_camel(name)}", value=target.service_name)
            if target.url is not None:
                CfnOutput(self, f"Url{_camel(name)}", value=target.url)

    def _source(
        self, naming: Naming, store: ArtifactStore, output: codepipeline.Artifact
    ) -> tuple[codepipeline.IAction, str | None, list[codepipeline.TriggerProps] | None]:
        """The source action, the variable holding the commit id, and the pipeline triggers."""
        source = self.spec.source
        if source.github is not None:
            owner, repo = source.github.repo.split("/", 1)
            action = actions.CodeStarConnectionsSourceAction(
                action_name="Source",
                connection_arn=source.github.connection,
                owner=owner,
                repo=repo,
                branch=source.github.branch,
                output=output,
                # prevents FM51: the V2 pipeline trigger below starts runs; no webhook to register.
                trigger_on_push=False,
                variables_namespace="Source",
            )
            trigger = codepipeline.TriggerProps(
                provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
                git_configuration=codepipeline.GitConfiguration(
                    source_action=action,
                    push_filter=[
                        codepipeline.GitPushFilter(branches_includes=[source.github.branch])
                    ],
                ),
            )
            return action, action.variables.commit_id, [trigger]
        if source.codecommit is not None:
            # prevents FM52: an existing repository, by name; conveyor never creates one.
            repository = codecommit.Repository.from_repository_name(
                self, "SourceRepository", source.codecommit.repository
            )
            cc_action = actions.CodeCommitSourceAction(
                action_name="Source",
                repository=repository,
                branch=source.codecommit.branch,
                output=output,
                trigger=actions.CodeCommitTrigger.EVENTS,
                variables_namespace="Source",
            )
            return cc_action, cc_action.variables.commit_id, None
        assert source.s3 is not None
        self.source_bucket = defaults.secure_bucket(
            self,
            "SourceBucket",
            key=store.key,
            production=any(e.is_production for e in self.spec.environments),
            expire_days=max(30, self.spec.retention.artifact_days),
            access_logs=None,
            event_bridge=True,
        )
        CfnOutput(self, "SourceBucketName", value=self.source_bucket.bucket_name)
        s3_action = actions.S3SourceAction(
            action_name="Source",
            bucket=self.source_bucket,
            bucket_key=source.s3.key,
            output=output,
            # EventBridge notifications from the bucket start the pipeline (see
            # _trigger_on_upload): no polling, and no CloudTrail trail required.
            trigger=actions.S3Trigger.NONE,
            variables_namespace="Source",
        )
        return s3_action, None, None

    def _trigger_on_upload(self, naming: Naming, key: str) -> None:
        events.Rule(
            self,
            "SourceUploaded",
            rule_name=naming.name("source-uploaded"),
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.source_bucket.bucket_name]},
                    "object": {"key": [key]},
                },
            ),
            targets=[events_targets.CodePipeline(self.pipeline)],
        )

    def _environment_target(
        self,
        env: Environment,
        naming: Naming,
        access_logs: s3.IBucket,
        repository: ecr.IRepository | None,
    ) -> EcsTarget:
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        scope = Construct(self, f"Env{_camel(env.name)}")
        apply_tags(scope, {defaults.TAG_ENVIRONMENT: env.name})
        if ecs_deploy.create is None:
            assert ecs_deploy.cluster is not None and ecs_deploy.service is not None
            return existing_service(
                scope, "Service", cluster=ecs_deploy.cluster, service=ecs_deploy.service
            )
        if repository is None:  # the spec validator requires build.docker for ecs targets
            raise ValueError("an ecs deploy needs build.docker")
        # prevents FM76: each environment's data is encrypted with its own key.
        key = defaults.encryption_key(
            scope,
            "Key",
            alias=naming.name("key", env.name),
            description=f"conveyor {naming.app}: {env.name} logs",
            production=env.is_production,
        )
        defaults.allow_logs_to_use_key(key, log_group_prefix=naming.path(""))
        return FargateWebService(
            scope,
            "Web",
            naming=naming,
            env_name=env.name,
            settings=ecs_deploy.create,
            container_name=ecs_deploy.container,
            key=key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            access_logs=access_logs,
            repository=repository,
        ).target


def _plain(value: str) -> codebuild.BuildEnvironmentVariable:
    return codebuild.BuildEnvironmentVariable(value=value)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
