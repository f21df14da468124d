"""Who hears about the pipeline: an encrypted topic, its subscribers, and the EventBridge rules
that feed it (FM70, FM71)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from constructs import Construct
from conveyor.constructs import defaults
from conveyor.constructs.naming import Naming

_PIPELINE_STATES = {"failed": "FAILED", "succeeded": "SUCCEEDED", "started": "STARTED"}


class Notifications(Construct):
    topic: sns.Topic

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        emails: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        if not emails:
            # prevents FM71: a topic nobody subscribes to notifies nobody.
            raise ValueError("notifications need at least one subscriber")
        self.topic = defaults.encrypted_topic(
            self, "Topic", name=naming.name("notifications"), key=key
        )
        defaults.allow_service_to_publish_encrypted(key, "events.amazonaws.com")
        defaults.allow_service_to_publish_encrypted(key, "cloudwatch.amazonaws.com")
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def watch(
        self,
        *,
        naming: Naming,
        on: Sequence[str],
        pipeline: codepipeline.IPipeline,
        projects: Sequence[codebuild.IProject],
    ) -> None:
        """Route the pipeline's and its builds' state changes to the topic."""
        states = sorted({_PIPELINE_STATES[e] for e in on if e in _PIPELINE_STATES} | {"FAILED"})
        # prevents FM70: failures always notify, whatever the spec lists.
        self._rule(
            "PipelineState",
            name=naming.name("pipeline-state"),
            pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Pipeline Execution State Change"],
                detail={"pipeline": [pipeline.pipeline_name], "state": states},
            ),
            message=(
                "Pipeline <pipeline> execution <execution> is <state>. "
                "https://console.aws.amazon.com/codesuite/codepipeline/pipelines/<pipeline>"
                "/executions/<execution>/timeline?region=<region>"
            ),
            paths={
                "pipeline": "$.detail.pipeline",
                "execution": "$.detail.execution-id",
                "state": "$.detail.state",
                "region": "$.region",
            },
        )
        self._rule(
            "BuildFailed",
            name=naming.name("build-failed"),
            pattern=events.EventPattern(
                source=["aws.codebuild"],
                detail_type=["CodeBuild Build State Change"],
                detail={
                    "project-name": [p.project_name for p in projects],
                    "build-status": ["FAILED", "FAULT", "TIMED_OUT"],
                },
            ),
            message="Build <project> ended <status>. Logs: <logs>",
            paths={
                "project": "$.detail.project-name",
                "status": "$.detail.build-status",
                "logs": "$.detail.additional-information.logs.deep-link",
            },
        )
        if "approval-needed" in on:
            self._rule(
                "ApprovalNeeded",
                name=naming.name("approval-needed"),
                pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=["CodePipeline Action Execution State Change"],
                    detail={
                        "pipeline": [pipeline.pipeline_name],
                        "state": ["STARTED"],
                        "type": {"category": ["Approval"]},
                    },
                ),
                message="Pipeline <pipeline> waits for approval at stage <stage>.",
                paths={"pipeline": "$.detail.pipeline", "stage": "$.detail.stage"},
            )

    def _rule(
        self,
        id: str,
        *,
        name: str,
        pattern: events.EventPattern,
        message: str,
        paths: dict[str, str],
    ) -> None:
        events.Rule(
            self,
            id,
            rule_name=name,
            event_pattern=pattern,
            targets=[
                targets.SnsTopic(
                    self.topic,
                    message=events.RuleTargetInput.from_text(_fill(message, paths)),
                )
            ],
        )


def _fill(message: str, paths: dict[str, str]) -> str:
    for name, path in paths.items():
        message = message.replace(f"<{name}>", events.EventField.from_path(path))
    return message
