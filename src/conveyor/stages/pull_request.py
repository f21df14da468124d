"""The pull-request pipeline, `{app}-pr[-{suffix}]`: Source (a pull-request trigger) then one
Build stage with the build, the tests and the scans of the main pipeline's Build stage, and
nothing after it. It never deploys.

Who can run code here: anyone who can open a pull request against the repository (on a public
repository, anyone at all), since the build, the tests and the scan tools run the pull request's
own files. AWS's advice for such builds: no automatic pull-request builds from untrusted
contributors without controls, because their code runs with the build's credentials and
variables (https://aws.amazon.com/blogs/security/implementing-defense-security-for-aws-codebuild-pipelines/).
So nothing here is shared with the main pipeline that a build could turn into a release or a
leak:

- Its own artifact bucket and KMS key. CodeBuild projects with output artifacts are granted
  writes on the whole artifact bucket (CDK's CodeBuildAction grants the project's role
  s3:PutObject on `<bucket>/*`, as the synthesized template shows); a build in the main store
  could replace an artifact a later stage of a running release deploys (the Synth artifact
  holds the environment stacks' templates). The main store's key is in no policy here
  (tests/contracts/test_pull_request_contract.py).
- Its own CodeBuild projects (and so roles and build caches): a project's local cache is kept
  on the build host between that project's builds; a shared one would hand a pull request's
  cached dependencies to a release build.
  https://docs.aws.amazon.com/codebuild/latest/userguide/build-caching.html#caching-local
- No registry access at all: the image is built into an archive in the pipeline's own artifact
  (image scans read it there), never pushed, and the layer cache is neither read from nor
  written to the repository the release builds use (a written cache poisons releases).
- None of the build's secrets: no registry login, and a spec whose build.env holds a secret
  is refused with pull_requests (Spec._check_pull_requests).
- No deploy permission: no CloudFormation, ECS, CodeDeploy or Lambda deploy action, no
  iam:PassRole, no UpdatePipeline; the stage list is Source, Build.
- The scan gate function is shared: it reads each job's artifacts with the temporary
  credentials CodePipeline puts in that job (the job's own pipeline's store), and holds no
  store access itself. https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_JobData.html

Executions run PARALLEL: one pull request's run never waits for, or supersedes, another's;
PARALLEL takes away only stage rollback, which nothing here uses.
https://docs.aws.amazon.com/codepipeline/latest/userguide/execution-modes.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements, buildspec, defaults
from conveyor.constructs.artifact_store import ArtifactStore
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.constructs.dependencies import wait_for_role_policies
from conveyor.plan import pull_request_plan
from conveyor.spec.models import PULL_REQUEST_NAME
from conveyor.spec.refs import is_secret_ref
from conveyor.stages import build as build_stage
from conveyor.stages import source as source_stage
from conveyor.stages.conditions import stage_conditions

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


class PullRequestPipeline(Construct):
    """The second pipeline of a spec with `source.github.pull_requests`."""

    pipeline: codepipeline.Pipeline
    projects: list[codebuild.IProject]

    def __init__(
        self, scope: Pipeline, id: str, *, access_logs: s3.IBucket, production: bool
    ) -> None:
        super().__init__(scope, id)
        spec, naming = scope.spec, scope.naming
        self.store = store = ArtifactStore(
            self,
            "Artifacts",
            naming=naming,
            scope_name=PULL_REQUEST_NAME,
            production=production,
            expire_days=spec.retention.artifact_days,
            access_logs=access_logs,
        )
        defaults.allow_logs_to_use_key(store.key, log_group_prefix=naming.path(PULL_REQUEST_NAME))
        logs = defaults.log_group(
            self,
            "Logs",
            name=naming.path(PULL_REQUEST_NAME, "build"),
            key=store.key,
            retention_days=spec.retention.log_days,
            production=production,
        )

        source_output = codepipeline.Artifact("Source")
        source_action, triggers = source_stage.pull_request_source(scope, source_output)

        build = spec.build
        function = next(
            (e.deploy.lambda_.function for e in spec.environments if e.deploy.lambda_), None
        )
        # The build's plain variables only (Spec refuses secrets with pull_requests); the
        # check is repeated here so that no later spec change can hand one over silently.
        variables = {k: v for k, v in build.env.items() if not is_secret_ref(v)}
        if function is not None:
            variables.update(
                buildspec.lambda_build_variables(function.runtime, function.architecture)
            )
        job = CodeBuildJob(
            self,
            "Build",
            name=naming.name(f"{PULL_REQUEST_NAME}-build"),
            description=f"conveyor pull-request build for {spec.app}: builds, never pushes",
            buildspec=buildspec.build_spec(
                build,
                package=function.package if function is not None else None,
                push=False,
            ),
            compute=build.compute,
            timeout_minutes=build.timeout_minutes,
            key=store.key,
            log_group=logs,
            privileged=build.docker is not None,
            variables=variables,
        )
        build_output = codepipeline.Artifact("Build")
        projects: list[codebuild.IProject] = [job.project]
        self.projects = projects
        invocations: list[tuple[str, str, lambda_.IFunction]] = []
        build_actions: list[codepipeline.IAction] = [
            actions.CodeBuildAction(
                action_name="Build",
                project=job.project,
                input=source_output,
                outputs=[build_output],
                run_order=1,
            )
        ]
        build_actions += build_stage.check_actions(
            scope,
            source_output,
            logs,
            projects,
            pull_request=build_stage.PullRequestChecks(
                scope=self, key=store.key, invocations=invocations, build_output=build_output
            ),
        )
        planned_pipeline = pull_request_plan(spec)
        assert planned_pipeline is not None  # Pipeline builds this only with pull_requests
        planned = {stage.name: stage for stage in planned_pipeline.stages}
        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_name=naming.name(PULL_REQUEST_NAME),
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=store.bucket,
            cross_account_keys=False,
            restart_execution_on_update=False,
            execution_mode=codepipeline.ExecutionMode.PARALLEL,
            stages=[
                codepipeline.StageProps(stage_name="Source", actions=[source_action]),
                codepipeline.StageProps(
                    stage_name="Build",
                    actions=build_actions,
                    **stage_conditions(planned["Build"].conditions),
                ),
            ],
            triggers=triggers,
        )

        wait_for_role_policies(self.pipeline, projects)
        acknowledgements.artifact_access(self.pipeline, store.bucket)
        for stage, action, function_ in invocations:
            acknowledgements.lambda_invoke_action(
                self.pipeline.node.find_child(stage).node.find_child(action), function_
            )
        stack = Stack.of(self)
        for project in projects:
            acknowledgements.artifact_access(project, store.bucket)
            acknowledgements.build_project(
                project,
                stack.resolve(stack.get_logical_id(project.node.default_child)),  # type: ignore[arg-type]
                uses_registry=False,
            )
        CfnOutput(scope, "PullRequestPipelineName", value=self.pipeline.pipeline_name)


def pull_request_pipeline(
    pipeline: Pipeline, access_logs: s3.IBucket
) -> PullRequestPipeline | None:
    """The second pipeline of a spec with `source.github.pull_requests`, and its notices."""
    github = pipeline.spec.source.github
    if github is None or github.pull_requests is None:
        return None
    found = PullRequestPipeline(
        pipeline, "PullRequests", access_logs=access_logs, production=pipeline.production
    )
    pipeline.notifications.watch_pull_requests(
        pipeline_name=found.pipeline.pipeline_name,
        project_names=[p.project_name for p in found.projects],
    )
    return found
