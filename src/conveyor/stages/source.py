"""The Source stage: GitHub through a CodeStar connection (V2 trigger, no webhook), an existing
CodeCommit repository, or an S3 upload announced by EventBridge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, CfnParameter
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_s3 as s3

from conveyor.constructs import defaults
from conveyor.constructs.artifact_store import ArtifactStore
from conveyor.spec.models import CONNECTION_ARN_PATTERN, GitHubSource

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def source_action(
    pipeline: Pipeline, store: ArtifactStore, output: codepipeline.Artifact, access_logs: s3.IBucket
) -> tuple[codepipeline.IAction, str | None, list[codepipeline.TriggerProps] | None]:
    """The source action, the variable holding the commit id, and the pipeline triggers."""
    source = pipeline.spec.source
    if source.github is not None:
        owner, repo = source.github.repo.split("/", 1)
        # A parameter, defaulting to the spec's ARN: the connection belongs to one account,
        # and the template stays deployable in another (FM25).
        connection = CfnParameter(
            pipeline,
            "SourceConnectionArn",
            type="String",
            default=source.github.connection,
            allowed_pattern=CONNECTION_ARN_PATTERN,
            description=f"CodeStar connection to GitHub for {source.github.repo}",
        )
        # The pull-request pipeline's source reads through the same connection.
        pipeline.connection_arn = connection.value_as_string
        action = actions.CodeStarConnectionsSourceAction(
            action_name="Source",
            connection_arn=connection.value_as_string,
            owner=owner,
            repo=repo,
            branch=source.github.branch,
            output=output,
            # prevents FM51: the V2 pipeline trigger below starts runs; no webhook to register.
            trigger_on_push=False,
            variables_namespace="Source",
        )
        trigger = codepipeline.TriggerProps(
            provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
            git_configuration=codepipeline.GitConfiguration(
                source_action=action,
                push_filter=push_filters(source.github, pipeline.spec.self_update.spec),
            ),
        )
        return action, action.variables.commit_id, [trigger]
    if source.codecommit is not None:
        # prevents FM52: an existing repository, by name; conveyor never creates one.
        repository = codecommit.Repository.from_repository_name(
            pipeline, "SourceRepository", source.codecommit.repository
        )
        cc_action = actions.CodeCommitSourceAction(
            action_name="Source",
            repository=repository,
            branch=source.codecommit.branch,
            output=output,
            trigger=actions.CodeCommitTrigger.EVENTS,
            variables_namespace="Source",
        )
        return cc_action, cc_action.variables.commit_id, None
    assert source.s3 is not None
    pipeline.source_bucket = defaults.secure_bucket(
        pipeline,
        "SourceBucket",
        key=store.key,
        production=pipeline.production,
        expire_days=max(30, pipeline.spec.retention.artifact_days),
        access_logs=access_logs,
        access_logs_prefix=f"s3/{pipeline.naming.name('source')}/",
    )
    # EventBridge notifications through CloudFormation itself; CDK's event_bridge_enabled
    # would add a stack-wide custom-resource Lambda to do the same.
    source_bucket = pipeline.source_bucket.node.default_child
    assert isinstance(source_bucket, s3.CfnBucket)
    source_bucket.add_property_override(
        "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
    )
    CfnOutput(pipeline, "SourceBucketName", value=pipeline.source_bucket.bucket_name)
    s3_action = actions.S3SourceAction(
        action_name="Source",
        bucket=pipeline.source_bucket,
        bucket_key=source.s3.key,
        output=output,
        # EventBridge notifications from the bucket start the pipeline (see
        # _trigger_on_upload): no polling, and no CloudTrail trail required.
        trigger=actions.S3Trigger.NONE,
        variables_namespace="Source",
    )
    return s3_action, None, None


def push_filters(github: GitHubSource, spec_path: str) -> list[codepipeline.GitPushFilter]:
    """Pushes to the branch (changing the spec's paths, when given) start the pipeline, and so
    do pushed tags matching the spec's patterns: two filters of one trigger (a filter holds
    branches and paths, or tags), either matches. A change of conveyor.yaml itself always
    starts it, so the pipeline never misses its own update.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html"""
    paths = github.paths
    include = [*paths.include, spec_path] if paths and paths.include else []
    filters = [
        codepipeline.GitPushFilter(
            branches_includes=[github.branch],
            file_paths_includes=list(dict.fromkeys(include)) or None,
            file_paths_excludes=(paths.exclude or None) if paths else None,
        )
    ]
    if github.tags:
        filters.append(codepipeline.GitPushFilter(tags_includes=list(github.tags)))
    return filters


def pull_request_source(
    pipeline: Pipeline, output: codepipeline.Artifact
) -> tuple[codepipeline.IAction, list[codepipeline.TriggerProps]]:
    """The pull-request pipeline's source: the same repository through the same connection,
    started by pull requests into the given branches (the source's branch by default), opened
    or updated, changing the spec's paths when given. CodePipeline runs the pull request's
    source-branch commit; triggers filter pull requests only for connection sources.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html
    https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GitPullRequestFilter.html"""
    github = pipeline.spec.source.github
    assert github is not None and github.pull_requests is not None
    owner, repo = github.repo.split("/", 1)
    action = actions.CodeStarConnectionsSourceAction(
        action_name="Source",
        connection_arn=pipeline.connection_arn,
        owner=owner,
        repo=repo,
        # Only what a manual start builds; the trigger picks each pull request's own commit.
        branch=github.branch,
        output=output,
        trigger_on_push=False,
        variables_namespace="Source",
    )
    pulls = github.pull_requests
    paths = github.paths
    include = [*paths.include, pipeline.spec.self_update.spec] if paths and paths.include else []
    trigger = codepipeline.TriggerProps(
        provider_type=codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
        git_configuration=codepipeline.GitConfiguration(
            source_action=action,
            pull_request_filter=[
                codepipeline.GitPullRequestFilter(
                    branches_includes=list(pulls.branches) or [github.branch],
                    events=[codepipeline.GitPullRequestEvent[event] for event in pulls.events],
                    file_paths_includes=list(dict.fromkeys(include)) or None,
                    file_paths_excludes=(paths.exclude or None) if paths else None,
                )
            ],
        ),
    )
    return action, [trigger]


def trigger_on_upload(pipeline: Pipeline, key: str) -> None:
    events.Rule(
        pipeline,
        "SourceUploaded",
        rule_name=pipeline.naming.name("source-uploaded"),
        event_pattern=events.EventPattern(
            source=["aws.s3"],
            detail_type=["Object Created"],
            detail={
                "bucket": {"name": [pipeline.source_bucket.bucket_name]},
                "object": {"key": [key]},
            },
        ),
        targets=[events_targets.CodePipeline(pipeline.pipeline)],
    )
