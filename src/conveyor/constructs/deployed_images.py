"""The job that marks an environment's image as deployed, so the registry keeps it."""

from __future__ import annotations

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from conveyor.constructs import buildspec
from conveyor.constructs.codebuild_job import CodeBuildJob


class DeployedImageMarker(CodeBuildJob):
    """One CodeBuild project, run beside each ECS deploy with that environment's name and the
    build's image URI (`deployed-<environment>-<digest>`, see ImageRepository)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        repository: ecr.IRepository,
        key: kms.IKey,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(
            scope,
            id,
            name=name,
            description="conveyor: tags the image each deploy runs, so the registry keeps it",
            buildspec=buildspec.mark_deployed_buildspec(),
            compute="small",
            timeout_minutes=5,
            key=key,
            log_group=log_group,
            variables={buildspec.IMAGE_REPO_NAME: repository.repository_name},
        )
        # Reading a manifest and putting it under a new tag is all re-tagging takes.
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
        self.project.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:PutImage"],
                resources=[repository.repository_arn],
            )
        )
