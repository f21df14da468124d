"""The Build stage: the build, its checks (tests and source scans beside the build, image scans
after it, then the scan gate: FM29, FM75) and, without the UpdatePipeline stage, the Synth job
that writes the environments' templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from conveyor.constructs import acknowledgements, buildspec, check_buildspecs
from conveyor.constructs.build_project import BuildProject
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.constructs.handler_function import HandlerFunction
from conveyor.constructs.naming import camel
from conveyor.constructs.synth_job import SynthJob
from conveyor.plan import SCANS_PER_GATE, gate_name
from conveyor.plan import Stage as PlannedStage
from conveyor.spec.models import PULL_REQUEST_NAME
from conveyor.stages.conditions import stage_conditions
from conveyor.stages.self_update import (
    conveyor_requirement,
    grant_asset_publishing,
    grant_foreign_asset_publishing,
)

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline
    from conveyor.stages.environment import EnvironmentParts


def check_actions(
    pipeline: Pipeline,
    source: codepipeline.Artifact,
    logs: Any,
    projects: list[codebuild.IProject],
    *,
    pull_request: PullRequestChecks | None = None,
) -> list[codepipeline.IAction]:
    """The test and scan jobs and the scan gate of the Build stage. For the pull-request
    pipeline (`pull_request`), the same checks as their own projects: under its scope, named
    `{app}-pr-...`, encrypted with its key, and scanning the image archive its build wrote
    instead of a pushed image (no registry access at all)."""
    checks = pipeline.spec.checks
    scope: Construct = pull_request.scope if pull_request is not None else pipeline
    key = pull_request.key if pull_request is not None else pipeline.store.key
    prefix = f"{PULL_REQUEST_NAME}-" if pull_request is not None else ""
    invocations = (
        pull_request.invocations if pull_request is not None else pipeline.acknowledged.invocations
    )
    archive = (
        pull_request.build_output
        if pull_request is not None and pipeline.spec.build.docker is not None
        else None
    )
    found: list[codepipeline.IAction] = []
    image = {"IMAGE_URI": codebuild.BuildEnvironmentVariable(value="#{Build.IMAGE_URI}")}
    for suite in checks.tests:
        job = CodeBuildJob(
            scope,
            f"Test{camel(suite.name)}",
            name=pipeline.naming.name(f"{prefix}test-{suite.name}"),
            description=f"conveyor test job {suite.name}",
            buildspec=check_buildspecs.test_buildspec(suite, pipeline.spec.build.runtimes),
            compute=suite.compute,
            timeout_minutes=suite.timeout_minutes,
            key=key,
            log_group=logs,
        )
        projects.append(job.project)
        found.append(
            actions.CodeBuildAction(
                action_name=f"Test-{suite.name}", project=job.project, input=source, run_order=1
            )
        )
    scans = pipeline.spec.scans
    if not scans.tools:
        return found
    scan_outputs: list[codepipeline.Artifact] = []
    for tool in scans.tools:
        image_scan = tool in check_buildspecs.IMAGE_SCANS
        job = CodeBuildJob(
            scope,
            f"Scan{camel(tool)}",
            name=pipeline.naming.name(f"{prefix}scan-{tool}"),
            description=f"conveyor security scan: {tool}",
            buildspec=check_buildspecs.scan_buildspec(
                tool, image_archive=buildspec.IMAGE_ARCHIVE if archive is not None else None
            ),
            compute="small",
            timeout_minutes=20,
            key=key,
            log_group=logs,
        )
        if image_scan and pull_request is None and pipeline.repository is not None:
            pipeline.repository.grant_pull(job.project)
            pipeline.acknowledged.registry_users.append(job.project)
        projects.append(job.project)
        output = codepipeline.Artifact(f"Scan{camel(tool)}")
        scan_outputs.append(output)
        found.append(
            actions.CodeBuildAction(
                action_name=f"Scan-{tool}",
                project=job.project,
                # A pull request's image scans read the archive its build wrote.
                input=archive if image_scan and archive is not None else source,
                outputs=[output],
                # Image scans read the image the build pushed; source scans run beside it.
                run_order=2 if image_scan else 1,
                environment_variables=(image if image_scan and pull_request is None else None),
            )
        )
    gate = scan_gate(pipeline)
    for index in range(0, len(scan_outputs), SCANS_PER_GATE):
        chunk = scan_outputs[index : index + SCANS_PER_GATE]
        action_name = gate_name(index)
        invocations.append(("Build", action_name, gate))
        found.append(
            actions.LambdaInvokeAction(
                action_name=action_name,
                lambda_=gate,
                inputs=[source, *chunk],
                # Each scan output must hold a report: a scan that wrote none blocks.
                user_parameters={
                    "fail_on": scans.fail_on,
                    "scans": [output.artifact_name for output in chunk],
                },
                run_order=3 if set(scans.tools) & check_buildspecs.IMAGE_SCANS else 2,
            )
        )
    return found


@dataclass(frozen=True)
class PullRequestChecks:
    """Where the pull-request pipeline's checks live: its construct, its key, the Lambda
    invocations to acknowledge on its pipeline, and its build's output (the image archive)."""

    scope: Construct
    key: kms.IKey
    invocations: list[tuple[str, str, lambda_.IFunction]]
    build_output: codepipeline.Artifact


def scan_gate(pipeline: Pipeline) -> lambda_.IFunction:
    """The scan gate, one function for both pipelines: it reads each job's artifacts with the
    credentials CodePipeline hands it in the job (scoped to that pipeline's store), so it holds
    no access to either store itself."""
    existing = pipeline.node.try_find_child("ScanGate")
    if existing is not None:
        assert isinstance(existing, HandlerFunction)
        return existing.function
    gate_function = HandlerFunction(
        pipeline,
        "ScanGate",
        handler="scan_gate",
        naming=pipeline.naming,
        env_name=None,
        key=pipeline.store.key,
        log_retention_days=pipeline.spec.retention.log_days,
        production=pipeline.production,
        environment={"APP_NAME": pipeline.spec.app},
        timeout=Duration.minutes(5),
        description=f"conveyor {pipeline.spec.app}: stops the pipeline on scan findings",
        # scan_gate's MEMORY_MB, which its report and findings limits were measured against
        # (benchmarks/scan_gate_memory.py); a synth test keeps the two equal.
        memory_mb=512,
    )
    gate = gate_function.function
    acknowledgements.acknowledge(
        gate_function,
        "IAM5[Resource::*]",
        "codepipeline:PutJobSuccessResult/PutJobFailureResult/GetJobDetails support no "
        "resource-level permissions",
    )
    gate.add_to_role_policy(
        iam.PolicyStatement(actions=["codepipeline:GetJobDetails"], resources=["*"])
    )
    topic_arn = pipeline.notifications.grant_scan_findings(gate)
    if topic_arn is not None:
        gate.add_environment("SECURITY_TOPIC_ARN", topic_arn)
    return gate


@dataclass(frozen=True)
class BuildStage:
    """The Build stage, and what the stages after it read: the build's output (the image's
    digest or the package, and the files CodeDeploy reads), the environments' templates, and
    every CodeBuild project so far (each environment's stages add theirs)."""

    stage: codepipeline.StageProps
    output: codepipeline.Artifact
    templates: codepipeline.Artifact
    projects: list[codebuild.IProject]


def build_stage(
    pipeline: Pipeline, parts: Sequence[EnvironmentParts], planned: PlannedStage
) -> BuildStage:
    """The build, with the tests and source scans beside it, the image scans after it and the
    scan gate last (FM29, FM75); without the UpdatePipeline stage, the Synth job too."""
    spec, source = pipeline.spec, pipeline.source_output
    logs = pipeline.log_group("BuildLogs", "build")
    container = next((e.deploy.ecs.container for e in spec.environments if e.deploy.ecs), "app")
    build = BuildProject(
        pipeline,
        "Build",
        name=pipeline.naming.name("build"),
        build=spec.build,
        key=pipeline.store.key,
        log_group=logs,
        repository=pipeline.repository,
        container_name=container,
        deploy_files={k: v for p in parts for k, v in p.deploy_files.items()},
        # The spec gives every Lambda environment the same runtime and architecture.
        function=next(
            (e.deploy.lambda_.function for e in spec.environments if e.deploy.lambda_), None
        ),
        packages=(pipeline.packages.bucket, pipeline.packages.key) if pipeline.packages else None,
        replicas=[
            (support.repository_uri(), support.repository_arn())
            for support in pipeline.regions.values()
        ],
    )
    output = codepipeline.Artifact("Build")
    commit_variables = (
        {"COMMIT_ID": codebuild.BuildEnvironmentVariable(value=pipeline.commit_id)}
        if pipeline.commit_id is not None
        else None
    )
    build_actions: list[codepipeline.IAction] = [
        actions.CodeBuildAction(
            action_name="Build",
            project=build.project,
            input=source,
            outputs=[output],
            variables_namespace="Build",
            environment_variables=commit_variables,
            run_order=1,
        )
    ]
    projects: list[codebuild.IProject] = [build.project]
    if pipeline.repository is not None:
        pipeline.acknowledged.registry_users.append(build.project)
    build_actions += check_actions(pipeline, source, logs, projects)
    if pipeline.self_update:
        projects.append(pipeline.self_update.project)
        templates = pipeline.self_update.synth_output
    else:
        templates = _synth(pipeline, logs, build_actions, projects)
    stage = codepipeline.StageProps(
        stage_name="Build",
        actions=build_actions,
        # Failed actions retry once on their own (conveyor.plan: why here only).
        **stage_conditions(planned.conditions),
    )
    return BuildStage(stage=stage, output=output, templates=templates, projects=projects)


def _synth(
    pipeline: Pipeline,
    logs: Any,
    build_actions: list[codepipeline.IAction],
    projects: list[codebuild.IProject],
) -> codepipeline.Artifact:
    """Without the UpdatePipeline stage (a Pipeline in your own CDK app): the templates of
    this revision, from `conveyor synth` of its conveyor.yaml in the Build stage."""
    job = SynthJob(
        pipeline,
        "Synth",
        name=pipeline.naming.name("synth"),
        requirement=conveyor_requirement(pipeline.spec),
        spec_file=pipeline.spec.self_update.spec,
        key=pipeline.store.key,
        log_group=logs,
    )
    grant_asset_publishing(job.role, pipeline, pipeline.spec)
    grant_foreign_asset_publishing(job.role, pipeline, pipeline, pipeline.spec)
    projects.append(job.project)
    output = codepipeline.Artifact("Synth")
    build_actions.append(
        actions.CodeBuildAction(
            action_name="Synth",
            project=job.project,
            input=pipeline.source_output,
            outputs=[output],
            run_order=1,
        )
    )
    return output
