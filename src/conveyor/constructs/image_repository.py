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
# Each deploy tags its image `deployed-<environment>-<digest>` (buildspec.mark_deployed_buildspec)
# so that the lifecycle policy keeps what runs: images queued behind an approval must not expire
# the one production serves from (autoscaling and task restarts pull it again).
DEPLOYED_TAG_PREFIX = "deployed-"
# Deployed images kept per repository: several environments, and rollbacks to earlier ones.
DEPLOYED_IMAGES_KEPT = 50


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
                # An image a rule matches by tag is never expired by a lower-priority rule, so
                # what was deployed outlives "the last N images".
                # https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
                ecr.LifecycleRule(
                    rule_priority=1,
                    description=f"keep the last {DEPLOYED_IMAGES_KEPT} deployed images",
                    tag_status=ecr.TagStatus.TAGGED,
                    tag_prefix_list=[DEPLOYED_TAG_PREFIX],
                    max_image_count=DEPLOYED_IMAGES_KEPT,
                ),
                # prevents FM10: untagged layers go after a day, and only the last N images stay.
                ecr.LifecycleRule(
                    rule_priority=2,
                    description="expire untagged images",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(1),
                ),
                ecr.LifecycleRule(
                    rule_priority=3,
                    description=f"keep the last {keep_images} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_images,
                ),
            ],
            removal_policy=defaults.removal_policy(production=production),  # prevents FM05
            empty_on_delete=not production,
        )
