"""The release's mark, in an environment's stages: the MarkDeployed job that tags the image an
environment runs (`deployed-<env>`, so the repository's lifecycle keeps it) or copies the Lambda
package to the environment's own key (so the package store keeps it), and, in `Release-<env>`,
reads the gate's alarms again first (buildspec.gate_alarm_commands: why).

One CodeBuild project for images and one for packages, made on first use in the pipeline's
scope (their construct ids are the pipeline's: MarkDeployed, MarkDeployedPackage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam

from conveyor.constructs import acknowledgements, buildspec
from conveyor.constructs.deployed_images import DeployedImageMarker
from conveyor.constructs.deployed_packages import DeployedPackageMarker
from conveyor.constructs.naming import camel
from conveyor.constructs.regional_support import RegionalSupport
from conveyor.spec.models import Environment

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def deployed_package_namespace(env: str) -> str:
    """The namespace of a Lambda environment's MarkDeployed job: the version of the package
    copy its stack deploys (buildspec.DEPLOYED_VERSION)."""
    return f"Package{camel(env)}"


class ReleaseMarks:
    """The MarkDeployed actions of every environment, over one project per kind of release."""

    def __init__(self, pipeline: Pipeline, build_output: codepipeline.Artifact) -> None:
        self.pipeline = pipeline
        self.build_output = build_output
        self._image_marker: codebuild.IProject | None = None
        self._package_marker: codebuild.IProject | None = None

    def image(
        self,
        env_name: str,
        projects: list[codebuild.IProject],
        *,
        run_order: int,
        gate_alarms: Sequence[str] = (),
    ) -> codepipeline.IAction:
        """Beside the deploy, tag its image so the repository's lifecycle keeps it (an image
        that waits behind an approval while builds pile up would otherwise expire). In
        `Release-<env>` (`gate_alarms`), first fail if an alarm of the gate is in ALARM."""
        pipeline = self.pipeline
        assert pipeline.repository is not None  # ECS environments need build.docker
        if self._image_marker is None:
            self._image_marker = DeployedImageMarker(
                pipeline,
                "MarkDeployed",
                name=pipeline.naming.name("mark-deployed"),
                repository=pipeline.repository,
                key=pipeline.store.key,
                log_group=pipeline.log_group("MarkDeployedLogs", "mark-deployed"),
            ).project
            projects.append(self._image_marker)
        # An environment in another region keeps its region's copy of the image.
        region = next(
            (e.region for e in pipeline.spec.environments if e.name == env_name and e.region), ""
        )
        support = pipeline.regions.get(region)
        where: dict[str, codebuild.BuildEnvironmentVariable] = {}
        if support is not None:
            where[buildspec.IMAGE_REGION] = codebuild.BuildEnvironmentVariable(value=region)
            self._image_marker.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["ecr:BatchGetImage", "ecr:PutImage"],
                    resources=[support.repository_arn()],
                )
            )
        return actions.CodeBuildAction(
            action_name="MarkDeployed",
            project=self._image_marker,
            input=self.build_output,
            run_order=run_order,
            environment_variables={
                "IMAGE_URI": codebuild.BuildEnvironmentVariable(value="#{Build.IMAGE_URI}"),
                buildspec.DEPLOY_ENVIRONMENT: codebuild.BuildEnvironmentVariable(value=env_name),
                **where,
                **gate_alarm_variables(self._image_marker, gate_alarms),
            },
        )

    def package(
        self,
        env_name: str,
        projects: list[codebuild.IProject],
        *,
        run_order: int,
        exported: bool = True,
        gate_alarms: Sequence[str] = (),
    ) -> codepipeline.IAction:
        """Before the stack deploys, copy the release's package to the environment's own key
        (PackageStore); the action's variables carry the copy's version to the deploy. One
        action per environment exports them (a namespace is unique in a pipeline); another
        copy (`exported=False`, Release-<env>'s) only makes it current first, after reading
        the gate's alarms again (`gate_alarms`)."""
        pipeline = self.pipeline
        packages = pipeline.packages
        assert packages is not None  # Lambda environments have a package store
        if self._package_marker is None:
            marker = DeployedPackageMarker(
                pipeline,
                "MarkDeployedPackage",
                name=pipeline.naming.name("mark-deployed"),
                bucket=packages.bucket,
                package_key=packages.key,
                # The pipeline region's environments keep their copies here; another region's
                # in its own package store (regional_support.py).
                deployed_keys=[
                    packages.deployed_key(env.name)
                    for env in pipeline.spec.environments
                    if env.deploy.lambda_ is not None and self._region_support(env) is None
                ],
                key=pipeline.store.key,
                log_group=pipeline.log_group("MarkDeployedLogs", "mark-deployed"),
            )
            for env in pipeline.spec.environments:
                support = self._region_support(env)
                if env.deploy.lambda_ is None or support is None:
                    continue
                marker.add_regional_target(
                    bucket_arn=f"arn:{Aws.PARTITION}:s3:::{support.package_bucket_name}",
                    object_arn=support.package_object_arn(env.name),
                    key_statement=support.key_statement(["kms:Decrypt", "kms:GenerateDataKey"]),
                )
                acknowledgements.regional_package_key(marker.project, region=support.region)
            self._package_marker = marker.project
            projects.append(self._package_marker)
        env = next(e for e in pipeline.spec.environments if e.name == env_name)
        support = self._region_support(env)
        where: dict[str, codebuild.BuildEnvironmentVariable] = {}
        if support is not None:
            where = {
                buildspec.DEPLOYED_BUCKET: codebuild.BuildEnvironmentVariable(
                    value=support.package_bucket_name
                ),
                buildspec.DEPLOYED_REGION: codebuild.BuildEnvironmentVariable(value=support.region),
            }
        return actions.CodeBuildAction(
            action_name="MarkDeployed",
            project=self._package_marker,
            input=self.build_output,
            run_order=run_order,
            variables_namespace=deployed_package_namespace(env_name) if exported else None,
            environment_variables={
                buildspec.PACKAGE_VERSION: codebuild.BuildEnvironmentVariable(
                    value=f"#{{Build.{buildspec.PACKAGE_VERSION}}}"
                ),
                buildspec.DEPLOYED_KEY: codebuild.BuildEnvironmentVariable(
                    value=packages.deployed_key(env_name)
                ),
                **where,
                **gate_alarm_variables(self._package_marker, gate_alarms),
            },
        )

    def _region_support(self, env: Environment) -> RegionalSupport | None:
        """The support stack of `env`'s region, when that is not the pipeline's."""
        return self.pipeline.regions.get(env.region or "")


def gate_alarm_variables(
    project: codebuild.IProject, gate_alarms: Sequence[str]
) -> dict[str, codebuild.BuildEnvironmentVariable]:
    """What the MarkDeployed job of `Release-<env>` needs to read the gate's alarms again
    (buildspec.gate_alarm_commands: why): their names, and cloudwatch:DescribeAlarms on
    exactly those alarms, which the action supports per alarm ARN ("alarm*" resource type:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
    Only alarms in the pipeline's account: Spec.entry_alarms gives none for another's."""
    if not gate_alarms:
        return {}
    stack = Stack.of(project)
    project.add_to_role_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:DescribeAlarms"],
            resources=[
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
                for name in gate_alarms
            ],
        )
    )
    return {buildspec.GATE_ALARMS: codebuild.BuildEnvironmentVariable(value="\n".join(gate_alarms))}
