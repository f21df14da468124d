"""One CodeBuild project with conveyor's defaults: every build, test, scan and deploy job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.spec.refs import SECRET_REF


class CodeBuildJob(Construct):
    project: codebuild.PipelineProject

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        description: str,
        buildspec: Mapping[str, Any],
        compute: str,
        timeout_minutes: int,
        key: kms.IKey,
        log_group: logs.ILogGroup,
        privileged: bool = False,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.project = codebuild.PipelineProject(
            self,
            "Project",
            project_name=name,
            description=description,
            environment=codebuild.BuildEnvironment(
                build_image=defaults.BUILD_IMAGE,  # prevents FM21
                compute_type=defaults.COMPUTE_TYPES[compute],
                # prevents FM20: the Docker daemon needs privileged mode, and nothing else gets it.
                privileged=privileged,
            ),
            environment_variables={
                key_: variable(value) for key_, value in sorted((variables or {}).items())
            },
            build_spec=codebuild.BuildSpec.from_object(dict(buildspec)),
            timeout=Duration.minutes(timeout_minutes),  # prevents FM22
            queued_timeout=Duration.minutes(60),
            encryption_key=key,
            # FM29: a warm host keeps the source and package caches between builds, and for
            # Docker builds its layers (the registry cache covers cold hosts). The Docker layer
            # cache needs privileged mode, which only Docker builds get.
            # https://docs.aws.amazon.com/codebuild/latest/userguide/build-caching.html#caching-local
            cache=codebuild.Cache.local(
                *([codebuild.LocalCacheMode.DOCKER_LAYER] if privileged else []),
                codebuild.LocalCacheMode.SOURCE,
                codebuild.LocalCacheMode.CUSTOM,
            ),
            logging=codebuild.LoggingOptions(
                # prevents FM23: logs go to a group created beforehand, with retention (FM24).
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group),
            ),
        )

    @property
    def role(self) -> iam.IRole:
        role = self.project.role
        assert role is not None  # PipelineProject always creates one
        return role


def variable(value: str) -> codebuild.BuildEnvironmentVariable:
    """A spec value: a secret reference becomes a Parameter Store / Secrets Manager variable,
    read by CodeBuild at run time; CDK grants the role read access to exactly that secret."""
    match = SECRET_REF.match(value)
    if match is None:
        return codebuild.BuildEnvironmentVariable(
            value=value, type=codebuild.BuildEnvironmentVariableType.PLAINTEXT
        )
    if match.group("ssm"):
        return codebuild.BuildEnvironmentVariable(
            value=match.group("ssm"), type=codebuild.BuildEnvironmentVariableType.PARAMETER_STORE
        )
    secret = match.group("sm")
    if match.group("key"):
        secret = f"{secret}:{match.group('key')}"
    return codebuild.BuildEnvironmentVariable(
        value=secret, type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER
    )
