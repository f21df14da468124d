"""What every stage of the pipeline shares, made first, in the pipeline's own scope (their
construct ids are the pipeline's): the tags, the storage (access logs, the artifact store, the
Lambda package store, the image repository), the support stacks of other regions with their
artifact stores, and who gets told (the idempotency table, the notices, the failed events).

Shared pipeline resources hold production images and history as soon as any environment is
production, so they follow the strictest environment (FM05)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from aws_cdk import Aspects, Aws, CfnParameter, Stack, Token
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.artifact_store import (
    AccessLogBucket,
    ArtifactStore,
    PackageStore,
    artifact_bucket_name,
)
from conveyor.constructs.handler_function import FailedEvents
from conveyor.constructs.idempotency_table import IdempotencyTable
from conveyor.constructs.image_repository import ImageRepository
from conveyor.constructs.naming import camel
from conveyor.constructs.notifications import Notifications
from conveyor.constructs.regional_support import KEY_READ, KEY_WRITE, RegionalSupport
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.plan import prepare_stage_names
from conveyor.stages.environment import RESOLVING_ACTIONS, EnvironmentParts, stage_name

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline

SHARED_ENVIRONMENT = "shared"


def tag(pipeline: Pipeline) -> tuple[dict[str, str], dict[str, str]]:
    """Tag everything in the pipeline's stack (the resources CDK leaves untagged too); returns
    the tags every stack shares, and those of the pipeline's (its Environment is `shared`)."""
    spec = pipeline.spec
    base_tags = {
        defaults.TAG_APP: spec.app,
        defaults.TAG_OWNER: spec.owner,
        defaults.TAG_MANAGED_BY: defaults.MANAGED_BY,
        **spec.tags,
    }
    shared_tags = {**base_tags, defaults.TAG_ENVIRONMENT: SHARED_ENVIRONMENT}
    apply_tags(pipeline, shared_tags)
    Aspects.of(Stack.of(pipeline)).add(TagUnmanagedResources(shared_tags))
    return base_tags, shared_tags


class Storage(NamedTuple):
    access_logs: s3.IBucket
    store: ArtifactStore
    # A Lambda release's package outlives the artifacts' expiry (rollbacks deploy it again).
    packages: PackageStore | None
    repository: ecr.IRepository | None


def storage(pipeline: Pipeline) -> Storage:
    spec, naming, production = pipeline.spec, pipeline.naming, pipeline.production
    access_logs = AccessLogBucket(
        pipeline,
        "AccessLogs",
        production=production,
        expire_days=max(90, spec.retention.log_days),
    ).bucket
    store = ArtifactStore(
        pipeline,
        "Artifacts",
        naming=naming,
        scope_name="pipeline",
        production=production,
        expire_days=spec.retention.artifact_days,
        access_logs=access_logs,
        # Environments in other accounts read artifacts by bucket name.
        bucket_name=(
            artifact_bucket_name(spec.app, spec.suffix, Aws.ACCOUNT_ID, Aws.REGION)
            if spec.foreign_environments
            else None
        ),
    )
    defaults.allow_logs_to_use_key(store.key, log_group_prefix=naming.path(""))
    packages: PackageStore | None = None
    if any(env.deploy.lambda_ is not None for env in spec.environments):
        packages = PackageStore(
            pipeline,
            "Packages",
            naming=naming,
            key=store.key,
            production=production,
            expire_days=spec.retention.artifact_days,
            access_logs=access_logs,
            # Lambda environments in other accounts read the package by bucket name.
            bucket_name=(
                artifact_bucket_name(spec.app, spec.suffix, Aws.ACCOUNT_ID, Aws.REGION, "packages")
                if spec.foreign_environments
                else None
            ),
        )
    repository: ecr.IRepository | None = None
    if spec.build.docker is not None:
        repository = ImageRepository(
            pipeline,
            "Images",
            naming=naming,
            key=store.key,
            keep_images=spec.retention.images,
            production=production,
            environments=[(env.name, env.is_production) for env in spec.environments],
        ).repository
    return Storage(access_logs, store, packages, repository)


def other_regions(
    pipeline: Pipeline,
) -> tuple[dict[str, RegionalSupport], dict[str, CfnParameter]]:
    """Environments in other regions: an artifact store and image repository there (a support
    stack per region), and each region as a parameter of the pipeline's stack, which names it
    nowhere else (synth rewrites the literals: region_tokens.regions_as_parameters)."""
    spec, naming = pipeline.spec, pipeline.naming
    if spec.other_regions and Token.is_unresolved(Stack.of(pipeline).region):
        # CodePipeline's cross-region actions need the pipeline's region written down.
        raise ValueError(
            f"environments in {', '.join(spec.other_regions)} deploy from a pipeline in "
            f"{spec.pipeline_region}: give the stack holding this Pipeline "
            f"env=Environment(region={spec.pipeline_region!r})"
        )
    regions = {
        region: RegionalSupport(
            pipeline,
            region,
            spec=spec,
            naming=naming,
            tags=pipeline.base_tags,
            environments=[
                env for env in spec.environments if spec.environment_region(env) == region
            ],
        )
        for region in spec.other_regions
    }
    parameters = {
        region: CfnParameter(
            pipeline,
            f"Region{camel(region)}",
            type="String",
            default=region,
            allowed_pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$",
            description=(
                f"Region of the environments "
                f"{', '.join(e.name for e in spec.environments if e.region == region)} "
                f"(their artifact store and image repository: stack {support.stack.stack_name})"
            ),
        )
        for region, support in regions.items()
    }
    return regions, parameters


class Notices(NamedTuple):
    # Handlers that act once per job or event (validation, notices) record it here.
    idempotency: IdempotencyTable
    notifications: Notifications
    # Events the history, notice and watch handlers fail on are kept and alarmed (FM109).
    failed_events: FailedEvents


def notices(pipeline: Pipeline) -> Notices:
    spec, naming, key = pipeline.spec, pipeline.naming, pipeline.store.key
    idempotency = IdempotencyTable(
        pipeline, "Idempotency", naming=naming, key=key, production=pipeline.production
    )
    notifications = Notifications(
        pipeline,
        "Notifications",
        naming=naming,
        key=key,
        audiences=spec.notifications.all_audiences(),
    )
    failed_events = FailedEvents(
        pipeline,
        "FailedEvents",
        naming=naming,
        key=key,
        topic=notifications.primary,
        production=pipeline.production,
    )
    return Notices(idempotency, notifications, failed_events)


def artifact_buckets(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline's artifact bucket, or with environments in other regions, one bucket
    per region (the pipeline's own among them): CDK accepts only one of the two."""
    if not pipeline.regions:
        return {"artifact_bucket": pipeline.store.bucket}
    region = pipeline.spec.pipeline_region
    assert region is not None  # Spec._check_regions
    return {
        "cross_region_replication_buckets": {
            region: pipeline.store.bucket,
            **{
                other: s3.Bucket.from_bucket_name(
                    pipeline, f"Artifacts{camel(other)}", support.bucket_name
                )
                for other, support in pipeline.regions.items()
            },
        }
    }


def regional_artifact_stores(pipeline: Pipeline, parts: Sequence[EnvironmentParts]) -> None:
    """Each other region's store in ArtifactStores with its key, by alias (CDK knows only
    the bucket it was given by name); the pipeline role copies artifacts there, and the
    roles of the actions there read them (regional_support.py: why by alias).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-artifactstoremap.html"""
    if not pipeline.regions:
        return
    cfn = pipeline.pipeline.node.default_child
    assert isinstance(cfn, codepipeline.CfnPipeline)
    stores: list[dict[str, Any]] = [
        {
            "Region": pipeline.spec.pipeline_region,
            "ArtifactStore": {
                "Type": "S3",
                "Location": pipeline.store.bucket.bucket_name,
                "EncryptionKey": {"Type": "KMS", "Id": pipeline.store.key.key_arn},
            },
        }
    ]
    for region, support in sorted(pipeline.regions.items()):
        stores.append(
            {
                "Region": region,
                "ArtifactStore": {
                    "Type": "S3",
                    "Location": support.bucket_name,
                    "EncryptionKey": {"Type": "KMS", "Id": support.key_alias_arn},
                },
            }
        )
        pipeline.pipeline.role.add_to_principal_policy(support.key_statement(KEY_WRITE))
        acknowledgements.regional_artifacts(
            pipeline.pipeline, bucket_name=support.shown_bucket_name, region=region
        )
    cfn.add_property_override("ArtifactStores", stores)
    for part in parts:
        found = pipeline.regions.get(part.region or "")
        if found is None:
            continue
        for name in [stage_name(part.name), *prepare_stage_names(pipeline.spec, part.env)]:
            stage = pipeline.pipeline.node.find_child(name)
            # The stack's CloudFormation actions, the ones that run in that region.
            for action_name in RESOLVING_ACTIONS:
                action = stage.node.try_find_child(action_name)
                role = action.node.try_find_child("CodePipelineActionRole") if action else None
                if isinstance(role, iam.Role):
                    role.add_to_policy(found.key_statement(KEY_READ))
                    acknowledgements.regional_artifacts(
                        role, bucket_name=found.shown_bucket_name, region=found.region
                    )
