"""The ECR repository that holds the application's images."""

from __future__ import annotations

from collections.abc import Sequence

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
# Deployed images kept per environment. An environment runs one image and may have one waiting
# behind its approval; the rest are the releases a rollback or a redeploy of an older execution
# can go back to. 50 covers weeks of daily releases, and even at the 10 environments a spec
# allows (500 images, plus retention.images) stays far below ECR's 100,000 images per repository
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html).
DEPLOYED_IMAGES_KEPT = 50


def deployed_tag_prefix(environment: str) -> str:
    """The tag prefix of the images `environment` was deployed with (mark_deployed_buildspec
    writes `deployed-<environment>-<digest>`)."""
    return f"{DEPLOYED_TAG_PREFIX}{environment}-"


def deployed_image_rules(environments: Sequence[tuple[str, bool]]) -> list[ecr.LifecycleRule]:
    """One count rule per environment (name, production), highest priority first.

    ECR counts a rule's images by push time across everything its tag filter matches, so one
    `deployed-` rule shared by all environments let 50 staging releases, queued while production
    waited for its approval, expire the image production runs. Per-environment rules keep each
    environment's count its own: an image a higher-priority rule's tag filter matches is never
    expired by a lower-priority rule
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html, "Lifecycle
    policy evaluation rules"; the examples at
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html).

    Environment names are lowercase letters, digits and inner hyphens, so `deployed-prod-` is
    also a prefix of `deployed-prod-eu-<digest>`. The longer environment's rule therefore comes
    first (its images are then never expired by the shorter one's), and, because a lower-priority
    rule still counts the images a higher one matched ("can still identify them"), the shorter
    prefix's count adds the counts of the environments it also matches. Apart
    from that, production environments come first, then the others in spec order.
    """
    names = [name for name, _ in environments]
    production = dict(environments)
    order: list[str] = []

    def place(name: str) -> None:
        if name in order:
            return
        # Environments whose tags this one's prefix also matches go before it.
        for other in names:
            if other != name and deployed_tag_prefix(other).startswith(deployed_tag_prefix(name)):
                place(other)
        order.append(name)

    for name in sorted(names, key=lambda n: (not production[n], names.index(n))):
        place(name)
    rules: list[ecr.LifecycleRule] = []
    kept: dict[str, int] = {}
    for priority, name in enumerate(order, start=1):
        prefix = deployed_tag_prefix(name)
        covered = [o for o in names if o != name and deployed_tag_prefix(o).startswith(prefix)]
        # Each covered environment keeps at most its own rule's count of its images (they were
        # placed, and counted, first), so these many more leave this one its own 50.
        kept[name] = DEPLOYED_IMAGES_KEPT + sum(kept[o] for o in covered)
        note = f"; {prefix} also matches {', '.join(covered)}" if covered else ""
        rules.append(
            ecr.LifecycleRule(
                rule_priority=priority,
                description=f"keep the last {DEPLOYED_IMAGES_KEPT} images deployed to {name}{note}",
                tag_status=ecr.TagStatus.TAGGED,
                tag_prefix_list=[prefix],
                max_image_count=kept[name],
            )
        )
    return rules


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
        environments: Sequence[tuple[str, bool]],
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
            lifecycle_rules=self._lifecycle_rules(environments, keep_images),
            removal_policy=defaults.removal_policy(production=production),  # prevents FM05
            empty_on_delete=not production,
        )

    @staticmethod
    def _lifecycle_rules(
        environments: Sequence[tuple[str, bool]], keep_images: int
    ) -> list[ecr.LifecycleRule]:
        # The deployed images' rules come first: an image a rule matches by tag is never expired
        # by a lower-priority rule, so what was deployed outlives "the last N images".
        # https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
        # At most 10 environments (Spec.environments) make 12 rules, well within the 30,720
        # characters a lifecycle policy may have (service-quotas.html above).
        rules = deployed_image_rules(environments)
        last = len(rules)
        return [
            *rules,
            # prevents FM10: untagged layers go after a day, and only the last N images stay.
            ecr.LifecycleRule(
                rule_priority=last + 1,
                description="expire untagged images",
                tag_status=ecr.TagStatus.UNTAGGED,
                max_image_age=Duration.days(1),
            ),
            ecr.LifecycleRule(
                rule_priority=last + 2,
                description=f"keep the last {keep_images} images",
                tag_status=ecr.TagStatus.ANY,
                max_image_count=keep_images,
            ),
        ]
