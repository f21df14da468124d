"""The ECR repository that holds the application's images."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.naming import Naming

# The buildx registry cache is rewritten by every build; it is the one tag allowed to move.
BUILD_CACHE_TAG = "buildcache"


class ImageRepository(Construct):
    repository: ecr.Repository

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.IKey,
        keep_images: int,
        production: bool,
    ) -> None:
        super().__init__(scope, id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=naming.name("images"),
            encryption=ecr.RepositoryEncryption.KMS,  # prevents FM02
            encryption_key=key,
            image_scan_on_push=True,  # prevents FM11
            # prevents FM11: a pushed tag always names the same image; only the build cache moves.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE_WITH_EXCLUSION,
            image_tag_mutability_exclusion_filters=[
                ecr.ImageTagMutabilityExclusionFilter.wildcard(BUILD_CACHE_TAG)
            ],
            lifecycle_rules=[
                # prevents FM10: untagged layers go after a day, and only the last N images stay.
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="expire untagged images",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(1),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"keep the last {keep_images} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_images,
                ),
            ],
            removal_policy=defaults.removal_policy(production=production),  # prevents FM05
            empty_on_delete=not production,
        )
