"""The Build stage's checks: tests and source scans beside the build, image scans after it,
then the scan gate (FM29, FM75)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Duration
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam

from conveyor.constructs import acknowledgements, check_buildspecs
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.constructs.handler_function import HandlerFunction
from conveyor.constructs.naming import camel
from conveyor.plan import SCANS_PER_GATE, gate_name

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def check_actions(
    pipeline: Pipeline,
    source: codepipeline.Artifact,
    logs: Any,
    projects: list[codebuild.IProject],
) -> list[codepipeline.IAction]:
    checks = pipeline.spec.checks
    found: list[codepipeline.IAction] = []
    image = {"IMAGE_URI": codebuild.BuildEnvironmentVariable(value="#{Build.IMAGE_URI}")}
    for suite in checks.tests:
        job = CodeBuildJob(
            pipeline,
            f"Test{camel(suite.name)}",
            name=pipeline.naming.name(f"test-{suite.name}"),
            description=f"conveyor test job {suite.name}",
            buildspec=check_buildspecs.test_buildspec(suite, pipeline.spec.build.runtimes),
            compute=suite.compute,
            timeout_minutes=suite.timeout_minutes,
            key=pipeline.store.key,
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
        job = CodeBuildJob(
            pipeline,
            f"Scan{camel(tool)}",
            name=pipeline.naming.name(f"scan-{tool}"),
            description=f"conveyor security scan: {tool}",
            buildspec=check_buildspecs.scan_buildspec(tool),
            compute="small",
            timeout_minutes=20,
            key=pipeline.store.key,
            log_group=logs,
        )
        if tool in check_buildspecs.IMAGE_SCANS and pipeline.repository is not None:
            pipeline.repository.grant_pull(job.project)
            pipeline._registry_users.append(job.project)
        projects.append(job.project)
        output = codepipeline.Artifact(f"Scan{camel(tool)}")
        scan_outputs.append(output)
        found.append(
            actions.CodeBuildAction(
                action_name=f"Scan-{tool}",
                project=job.project,
                input=source,
                outputs=[output],
                # Image scans read the image the build pushed; source scans run beside it.
                run_order=2 if tool in check_buildspecs.IMAGE_SCANS else 1,
                environment_variables=(image if tool in check_buildspecs.IMAGE_SCANS else None),
            )
        )
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
    for index in range(0, len(scan_outputs), SCANS_PER_GATE):
        chunk = scan_outputs[index : index + SCANS_PER_GATE]
        action_name = gate_name(index)
        pipeline._invocations.append(("Build", action_name, gate))
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
