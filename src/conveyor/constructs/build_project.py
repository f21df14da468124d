"""The CodeBuild project that builds the application (and, for containers, pushes the image)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import buildspec
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.spec.models import Build, LambdaFunction


class BuildProject(CodeBuildJob):
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
        deploy_files: Mapping[str, str] | None = None,
        function: LambdaFunction | None = None,
        packages: tuple[s3.IBucket, str] | None = None,
        replicas: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`deploy_files`: file name -> environment variable holding its content, written into
        the build output (taskdef/appspec documents for CodeDeploy). `function`: the Lambda
        function the build packages, whose architecture the build must target; `packages`:
        the bucket and key its package is uploaded to (PackageStore). `replicas`: (URI, ARN)
        of the image repositories in other regions the image goes to as well."""
        variables = dict(build.env)
        if function is not None:
            variables.update(
                buildspec.lambda_build_variables(function.runtime, function.architecture)
            )
        if build.docker is not None:
            if repository is None:
                raise ValueError("a Docker build needs an image repository")
            variables[buildspec.REPOSITORY_URI] = repository.repository_uri
            variables[buildspec.IMAGE_REPO_NAME] = repository.repository_name
            variables[buildspec.CONTAINER_NAME] = container_name
            if replicas:
                variables[buildspec.REPLICA_REPOSITORY_URIS] = " ".join(u for u, _ in replicas)
            if build.docker.login is not None:
                variables[buildspec.LOGIN_USERNAME] = build.docker.login.username
                variables[buildspec.LOGIN_PASSWORD] = build.docker.login.password
        if function is not None and packages is not None:
            variables[buildspec.PACKAGE_BUCKET] = packages[0].bucket_name
            variables[buildspec.PACKAGE_KEY] = packages[1]
        for file_name, content in (deploy_files or {}).items():
            variables[buildspec.deploy_file_variable(file_name)] = content
        super().__init__(
            scope,
            id,
            name=name,
            description=f"conveyor build for {name}",
            buildspec=buildspec.build_spec(
                build,
                deploy_files=sorted(deploy_files or {}),
                package=function.package if function is not None else None,
                replicas=bool(replicas) and build.docker is not None,
            ),
            compute=build.compute,
            timeout_minutes=build.timeout_minutes,
            key=key,
            log_group=log_group,
            privileged=build.docker is not None,
            variables=variables,
        )
        if function is not None and packages is not None:
            # One object only; S3 encrypts it with the bucket's key (GenerateDataKey).
            packages[0].grant_put(self.project, packages[1])
        if repository is not None:
            # prevents FM41: exactly the ECR actions a login, pull, push and describe need.
            repository.grant_pull_push(self.project)
            self.project.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["ecr:DescribeImages"],
                    resources=[repository.repository_arn, *(arn for _, arn in replicas)],
                )
            )
            for index, (_, arn) in enumerate(replicas):
                # The same push (or a copy from the pipeline's repository) in another region.
                ecr.Repository.from_repository_attributes(
                    self,
                    f"Replica{index}",
                    repository_arn=arn,
                    repository_name=arn.rsplit("/", 1)[1],
                ).grant_pull_push(self.project)
