"""Who hears about what: one encrypted topic per audience, its subscribers, and the EventBridge
rules that feed it through the notify handler, which turns events into readable messages
(FM70, FM71)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.chat import ChatNotices, TopicTarget, notice
from conveyor.constructs.deployment_history import grant_deployment_reads, grant_pipeline_reads
from conveyor.constructs.handler_function import (
    FailedEvents,
    HandlerFunction,
    pipeline_event_environment,
)
from conveyor.constructs.idempotency_table import IdempotencyTable
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import Audience

PIPELINE_STATES = {"failed": "FAILED", "succeeded": "SUCCEEDED", "started": "STARTED"}


class Notifications(Construct):
    """Topics are created first (approvals and alarms need them); `watch` adds the rules once
    the pipeline exists."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        audiences: Mapping[str, Audience],
    ) -> None:
        super().__init__(scope, id)
        if not audiences:
            # prevents FM71: a topic nobody subscribes to notifies nobody.
            raise ValueError("notifications need at least one audience with a subscriber")
        self._naming = naming
        self._key = key
        self.audiences = dict(audiences)
        self.topics: dict[str, defaults.NoticeTopic] = {}
        # Audiences with a Slack or Teams channel: created by `watch`, which knows the pipeline.
        self.chats: dict[str, ChatNotices] = {}
        # Each email audience's notice formatter, by audience (made by `watch`).
        self.formatters: dict[str, lambda_.Function] = {}
        self._failed_events: FailedEvents | None = None
        for name, audience in self.audiences.items():
            topic = defaults.encrypted_topic(
                self, f"Topic{camel(name)}", name=naming.name(f"{name}-notices"), key=key
            )
            for email in audience.email:
                topic.add_subscription(subscriptions.EmailSubscription(email))
            self.topics[name] = topic

    def topics_for(self, event: str) -> list[sns.ITopic]:
        return [self.topics[n] for n, a in self.audiences.items() if event in a.on]

    @property
    def primary(self) -> defaults.NoticeTopic:
        """The topic alarms and approvals fall back to: the first audience's."""
        return next(iter(self.topics.values()))

    def watch(
        self,
        *,
        pipeline_name: str,
        project_names: Sequence[str],
        stage_environments: Mapping[str, str],
        deployment_groups: Mapping[str, str],
        log_retention_days: int,
        production: bool,
        idempotency: IdempotencyTable,
        failed_events: FailedEvents,
        deployment_regions: Mapping[str, str] | None = None,
        change_sets: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> None:
        """Route the pipeline's, its builds' and its deployments' events to each audience
        (`deployment_regions`: the groups of environments in another region, where the
        notifier looks their deployments up; `change_sets`: per `Approve-<env>` stage, the
        environment's stack name and its region when not the pipeline's, whose change set the
        approval notice summarizes)."""
        naming = self._naming
        self._failed_events = failed_events
        for name, audience in self.audiences.items():
            wanted: set[str] = set(audience.on)
            if audience.chats:
                self.chats[name] = ChatNotices(
                    self,
                    f"Chat{camel(name)}",
                    naming=naming,
                    key=self._key,
                    name=name,
                    audience=audience,
                    pipeline_name=pipeline_name,
                    patterns=self._patterns(
                        wanted, pipeline_name, project_names, deployment_groups
                    ),
                    notices=self.topics[name],
                )
            if not audience.email or not wanted - {"scan-findings"}:
                continue  # the scan gate publishes scan findings itself
            formatter = HandlerFunction(
                self,
                f"Formatter{camel(name)}",
                handler="notify",
                naming=naming,
                env_name=name,
                key=self._key,
                log_retention_days=log_retention_days,
                production=production,
                environment={
                    "TOPIC_ARN": self.topics[name].topic_arn,
                    **pipeline_event_environment(naming.app, stage_environments, deployment_groups),
                    **change_set_environment(change_sets or {}),
                },
                timeout=Duration.seconds(30),
                description=f"conveyor {naming.app}: readable notices for {name}",
            ).function
            self.formatters[name] = formatter
            self.topics[name].grant_publish(formatter)
            idempotency.grant(formatter)  # one email per event, however often it is delivered
            grant_pipeline_reads(formatter, pipeline_name)
            if deployment_groups:
                grant_deployment_reads(
                    formatter, groups=sorted(deployment_groups), regions=deployment_regions
                )
            if change_sets:
                grant_change_set_reads(formatter, change_sets)
            for rule_id, pattern in self._patterns(
                wanted, pipeline_name, project_names, deployment_groups
            ).items():
                rule = events.Rule(
                    self,
                    f"{camel(name)}{rule_id}",
                    rule_name=naming.name(f"{name}-{_kebab(rule_id)}"),
                    event_pattern=pattern,
                )
                rule.add_target(failed_events.target(formatter, retry_attempts=8))

    def watch_pull_requests(self, *, pipeline_name: str, project_names: Sequence[str]) -> None:
        """A pull-request run that fails (its pipeline, and the failed build with its log link)
        reaches the audiences that hear of failures, through the same formatter: CodePipeline
        reports nothing back to the pull request, so this notice is how its author learns.
        Other states of pull-request runs are not announced (one notice per push would drown
        the release notices)."""
        failed_events = self._failed_events
        for name, formatter in self.formatters.items():
            if failed_events is None or "failed" not in self.audiences[name].on:
                continue
            grant_pipeline_reads(formatter, pipeline_name)
            patterns = self._patterns({"failed"}, pipeline_name, project_names, {})
            for rule_id, pattern in patterns.items():
                rule = events.Rule(
                    self,
                    f"{camel(name)}PullRequest{rule_id}",
                    rule_name=self._naming.name(f"{name}-pr-{_kebab(rule_id)}"),
                    event_pattern=pattern,
                )
                rule.add_target(failed_events.target(formatter, retry_attempts=8))

    @staticmethod
    def _patterns(
        wanted: set[str],
        pipeline_name: str,
        project_names: Sequence[str],
        deployment_groups: Mapping[str, str],
    ) -> dict[str, events.EventPattern]:
        patterns: dict[str, events.EventPattern] = {}
        states = sorted(PIPELINE_STATES[e] for e in wanted if e in PIPELINE_STATES)
        if states:
            patterns["PipelineState"] = events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Pipeline Execution State Change"],
                detail={"pipeline": [pipeline_name], "state": states},
            )
        if "failed" in wanted:
            # prevents FM70: the failed build, with its log link, not only the pipeline state.
            patterns["BuildFailed"] = events.EventPattern(
                source=["aws.codebuild"],
                detail_type=["CodeBuild Build State Change"],
                detail={
                    "project-name": list(project_names),
                    "build-status": ["FAILED", "FAULT", "TIMED_OUT"],
                },
            )
        if "approval-needed" in wanted:
            patterns["ApprovalNeeded"] = events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Action Execution State Change"],
                detail={
                    "pipeline": [pipeline_name],
                    "state": ["STARTED"],
                    "type": {"category": ["Approval"]},
                },
            )
        if "rollback" in wanted and deployment_groups:
            patterns["Rollback"] = events.EventPattern(
                source=["aws.codedeploy"],
                detail_type=["CodeDeploy Deployment State-change Notification"],
                detail={
                    "application": sorted(deployment_groups),
                    "state": ["FAILURE", "STOP"],
                },
            )
        return patterns

    def watch_ecs_rollbacks(self, services: Mapping[str, str]) -> None:
        """Tell the audiences that want rollbacks when ECS fails a deployment of one of
        `services` (service ARN -> environment) and rolls it back: the circuit breaker of a
        rolling deployment, or the alarms of a native blue/green one. CodeDeploy's rollbacks
        come through the formatter (`watch`); these go to the topic directly, as text.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
        """
        if not services:
            return
        naming = self._naming
        for name, audience in self.audiences.items():
            if "rollback" not in audience.on:
                continue
            topic = self.topics[name]
            pattern = events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Deployment State Change"],
                # In environment order: ARNs hold tokens, whose sort order is not stable.
                resources=list(services),
                detail={"eventName": ["SERVICE_DEPLOYMENT_FAILED"]},
            )
            rule = events.Rule(
                self,
                f"{camel(name)}EcsRollback",
                rule_name=naming.name(f"{name}-ecs-rollback"),
                description=f"conveyor {naming.app}: ECS rolled a deployment back",
                event_pattern=pattern,
            )
            message = events.RuleTargetInput.from_text(
                f"ROLLBACK: {naming.app}: ECS failed the deployment of "
                f"{events.EventField.from_path('$.resources[0]')} and rolls it back to the last "
                f"completed deployment.\nReason: {events.EventField.from_path('$.detail.reason')}"
                f"\nTime: {events.EventField.time}\nEnvironments: "
                + ", ".join(dict.fromkeys(services.values()))
            )
            rule.add_target(TopicTarget(topic, message))
            topic.allow_service("events.amazonaws.com", rule.rule_arn)
            if name in self.chats:
                self.chats[name].add("EcsRollback", pattern, notice("EcsRollback", naming.app))

    def grant_scan_findings(self, function: lambda_.IFunction) -> str | None:
        """The topic the scan gate posts its summary to (the first audience that asks)."""
        wanted = self.topics_for("scan-findings")
        if not wanted:
            return None
        wanted[0].grant_publish(function)
        return wanted[0].topic_arn


def change_set_environment(change_sets: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
    """The notifier's CHANGE_SET_STACKS (`Approve-<env>` -> stack name) and CHANGE_SET_REGIONS
    (`Approve-<env>` -> region, for a stack in another region than the pipeline's)."""
    if not change_sets:
        return {}
    regions = {stage: region for stage, (_, region) in change_sets.items() if region}
    return {
        "CHANGE_SET_STACKS": json.dumps(
            {stage: stack for stage, (stack, _) in change_sets.items()}, sort_keys=True
        ),
        **({"CHANGE_SET_REGIONS": json.dumps(regions, sort_keys=True)} if regions else {}),
    }


def grant_change_set_reads(
    function: lambda_.IFunction, change_sets: Mapping[str, tuple[str, str | None]]
) -> None:
    """cloudformation:DescribeChangeSet on exactly the environment stacks whose change set an
    approval notice summarizes. The action's resource type is the stack (its ARN ends in the
    stack's id, hence `/*`), and a change set is named within its stack:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html"""
    stack = Stack.of(function)
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["cloudformation:DescribeChangeSet"],
            resources=[
                stack.format_arn(
                    service="cloudformation",
                    resource="stack",
                    resource_name=f"{name}/*",
                    region=region,
                )
                for _, (name, region) in sorted(change_sets.items())
            ],
        )
    )
    for name, region in change_sets.values():
        # On the role, whose policy holds the statement (cdk-nag reports it there).
        acknowledgements.change_set_reads(function.role or function, name, region=region)


def _kebab(camel: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in camel).lstrip("-")
