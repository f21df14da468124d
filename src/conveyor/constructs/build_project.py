"""The CodeBuild project that builds the application (and, for containers, pushes the image)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from constructs import Construct
from conveyor.constructs import buildspec, defaults
from conveyor.spec.models import Build
from conveyor.spec.refs import SECRET_REF


class BuildProject(Construct):
    project: codebuild.PipelineProject

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        build: Build,
        key: kms.IKey,
        log_group: logs.ILogGroup,
        repository: ecr.IRepository | None,
        container_name: str,
    ) -> None:
        super().__init__(scope, id)
        variables: dict[str, codebuild.BuildEnvironmentVariable] = {
            name_: _variable(value) for name_, value in sorted(build.env.items())
        }
        if build.docker is not None:
            if repository is None:
                raise ValueError("a Docker build needs an image repository")
            variables[buildspec.REPOSITORY_URI] = _plain(repository.repository_uri)
            variables[buildspec.IMAGE_REPO_NAME] = _plain(repository.repository_name)
            variables[buildspec.CONTAINER_NAME] = _plain(container_name)
            if build.docker.login is not None:
                variables[buildspec.LOGIN_USERNAME] = _variable(build.docker.login.username)
                variables[buildspec.LOGIN_PASSWORD] = _variable(build.docker.login.password)

        self.project = codebuild.PipelineProject(
            self,
            "Project",
            project_name=name,
            description=f"conveyor build for {name}",
            environment=codebuild.BuildEnvironment(
                build_image=defaults.BUILD_IMAGE,  # prevents FM21
                compute_type=defaults.COMPUTE_TYPES[build.compute],
                # prevents FM20: the Docker daemon needs privileged mode, and nothing else gets it.
                privileged=build.docker is not None,
            ),
            environment_variables=variables,
            build_spec=codebuild.BuildSpec.from_object(buildspec.build_spec(build)),
            timeout=Duration.minutes(build.timeout_minutes),  # prevents FM22
            queued_timeout=Duration.minutes(60),
            encryption_key=key,
            logging=codebuild.LoggingOptions(
                # prevents FM23: logs go to a group created beforehand, with retention (FM24).
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group),
            ),
        )
        if repository is not None:
            # prevents FM41: exactly the ECR actions a login, pull, push and describe need.
            repository.grant_pull_push(self.project)
            self.project.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["ecr:DescribeImages"],
                    resources=[repository.repository_arn],
                )
            )

    @property
    def role(self) -> iam.IRole:
        role = self.project.role
        assert role is not None  # PipelineProject always creates one
        return role


def _plain(value: str) -> codebuild.BuildEnvironmentVariable:
    return codebuild.BuildEnvironmentVariable(
        value=value, type=codebuild.BuildEnvironmentVariableType.PLAINTEXT
    )


def _variable(value: str) -> codebuild.BuildEnvironmentVariable:
    """A spec value: a secret reference becomes a Parameter Store / Secrets Manager variable,
    read by CodeBuild at run time; CDK grants the role read access to exactly that secret."""
    match = SECRET_REF.match(value)
    if match is None:
        return _plain(value)
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


def stack_of(scope: Construct) -> Stack:
    return Stack.of(scope)
