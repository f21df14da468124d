"""An audience's Slack and Microsoft Teams channels, through Amazon Q Developer in chat
applications (formerly AWS Chatbot) channel configurations.

Chat gets a topic of its own: the email topic carries the notify handler's plain text, which
chat applications drop ("Event Received is not supported"), and the chat topic carries custom
notifications, which email readers should not get as JSON. EventBridge rules with the same
event patterns as the email formatter's turn each event into a custom notification (input
transformer, no code) with a console link:
https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html

The channels are read-only. Chat applications can run AWS CLI commands, so a channel whose
role allowed codepipeline:PutApprovalResult could approve a deployment from chat; conveyor
grants only reads of this pipeline, and the guardrail policy caps every channel member at the
same, so approvals stay in the console (the notification links to it), where IAM and
CloudTrail name the approver:
https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html
"""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import Aws, CfnOutput
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import Audience

# Reads a channel member may make about this pipeline, and nothing else.
PIPELINE_READS = (
    "codepipeline:GetPipeline",
    "codepipeline:GetPipelineExecution",
    "codepipeline:GetPipelineState",
    "codepipeline:ListActionExecutions",
    "codepipeline:ListPipelineExecutions",
)

_CONSOLE = f"https://{Aws.REGION}.console.aws.amazon.com/codesuite"
_REGION = f"?region={Aws.REGION}"
_FIELD = events.EventField.from_path


class ChatNotices(Construct):
    """The chat topic of one audience, the rules that fill it, and its channel configurations."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        key: kms.Key,
        name: str,
        audience: Audience,
        pipeline_name: str,
        patterns: Mapping[str, events.EventPattern],
        notices: defaults.NoticeTopic,
    ) -> None:
        super().__init__(scope, id)
        self.topic = defaults.encrypted_topic(
            self, "Topic", name=naming.name(f"{name}-chat"), key=key
        )
        # The audience's own topic too: its CloudWatch alarms are shown as chat applications
        # render them (an audience with chat only still hears its alarms); the formatter's
        # plain text there is not shown in chat.
        for topic in (self.topic, notices):
            topic.allow_chat_subscriptions()
        CfnOutput(self, "TopicArn", value=self.topic.topic_arn, description=f"{name}'s chat topic")
        self._naming = naming
        self._name = name
        for rule_id, pattern in patterns.items():
            self.add(rule_id, pattern, notice(rule_id, naming.app))
        role = self._read_only_role(pipeline_name)
        guardrail = iam.ManagedPolicy(
            self,
            "Guardrail",
            description=f"conveyor {naming.app}: the most any {name} chat member may do",
            statements=[_pipeline_reads(pipeline_name)],
        )
        topics = [self.topic.topic_arn, notices.topic_arn]
        guardrails = [guardrail.managed_policy_arn]
        if audience.slack is not None:
            chatbot.CfnSlackChannelConfiguration(
                self,
                "Slack",
                configuration_name=naming.name(f"{name}-slack", max_length=128),
                slack_workspace_id=audience.slack.workspace,
                slack_channel_id=audience.slack.channel,
                iam_role_arn=role.role_arn,
                guardrail_policies=guardrails,
                sns_topic_arns=topics,
                logging_level="ERROR",
                user_role_required=False,
            )
        if audience.teams is not None:
            chatbot.CfnMicrosoftTeamsChannelConfiguration(
                self,
                "Teams",
                configuration_name=naming.name(f"{name}-teams", max_length=128),
                team_id=audience.teams.team,
                teams_tenant_id=audience.teams.tenant,
                teams_channel_id=audience.teams.channel,
                iam_role_arn=role.role_arn,
                guardrail_policies=guardrails,
                sns_topic_arns=topics,
                logging_level="ERROR",
                user_role_required=False,
            )

    def add(
        self, rule_id: str, pattern: events.EventPattern, message: events.RuleTargetInput
    ) -> None:
        """A rule that sends events matching `pattern` to the channels as `message`."""
        rule = events.Rule(
            self,
            f"{camel(self._name)}Chat{rule_id}",
            rule_name=self._naming.name(f"{self._name}-chat-{_kebab(rule_id)}"),
            description=f"conveyor {self._naming.app}: {rule_id} to {self._name}'s chat",
            event_pattern=pattern,
        )
        rule.add_target(TopicTarget(self.topic, message))
        self.topic.allow_service("events.amazonaws.com", rule.rule_arn)

    def _read_only_role(self, pipeline_name: str) -> iam.Role:
        role = iam.Role(
            self,
            "ChannelRole",
            assumed_by=iam.ServicePrincipal("chatbot.amazonaws.com"),
            description=f"conveyor {self._naming.app}: {self._name}'s chat channels, read-only",
        )
        role.add_to_principal_policy(_pipeline_reads(pipeline_name))
        return role


def _pipeline_reads(pipeline_name: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=list(PIPELINE_READS),
        resources=[
            f"arn:{Aws.PARTITION}:codepipeline:{Aws.REGION}:{Aws.ACCOUNT_ID}:{pipeline_name}"
        ],
    )


@jsii.implements(events.IRuleTarget)
class TopicTarget:
    """A topic as a rule target, without CDK's SnsTopic grant: the topic's own policy
    (NoticeTopic.allow_service) admits EventBridge for this rule only, and its key in step."""

    def __init__(self, topic: sns.ITopic, message: events.RuleTargetInput) -> None:
        self._topic = topic
        self._message = message

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        del rule, id  # the same target for any rule
        return events.RuleTargetConfig(arn=self._topic.topic_arn, input=self._message)


def custom_notification(
    title: str, description: str, *, next_steps: list[str], keywords: list[str]
) -> events.RuleTargetInput:
    """A custom notification (the chat applications' schema, version 1.0)."""
    return events.RuleTargetInput.from_object(
        {
            "version": "1.0",
            "source": "custom",
            "content": {
                "textType": "client-markdown",
                "title": title,
                "description": description,
                "nextSteps": next_steps,
                "keywords": keywords,
            },
        }
    )


def notice(rule_id: str, app: str) -> events.RuleTargetInput:
    """What each kind of event says in chat. Only fields every such event has are read: a path
    the event lacks makes EventBridge drop the delivery."""
    if rule_id == "PipelineState":
        pipeline, execution = _FIELD("$.detail.pipeline"), _FIELD("$.detail.execution-id")
        return custom_notification(
            f"{app}: pipeline {_FIELD('$.detail.state')}",
            f"Execution `{execution}` of *{pipeline}* is {_FIELD('$.detail.state')}.",
            next_steps=[
                f"Open the execution: {_CONSOLE}/codepipeline/pipelines/{pipeline}/executions/"
                f"{execution}/timeline{_REGION}"
            ],
            keywords=[app, "pipeline"],
        )
    if rule_id == "BuildFailed":
        project = _FIELD("$.detail.project-name")
        return custom_notification(
            f"{app}: build {_FIELD('$.detail.build-status')}",
            f"CodeBuild project *{project}* ended {_FIELD('$.detail.build-status')}.",
            next_steps=[
                f"Read the build's log: {_CONSOLE}/codebuild/projects/{project}/history{_REGION}"
            ],
            keywords=[app, "build"],
        )
    if rule_id == "ApprovalNeeded":
        pipeline = _FIELD("$.detail.pipeline")
        return custom_notification(
            f"{app}: approval needed",
            f"*{pipeline}* waits for approval at {_FIELD('$.detail.stage')} / "
            f"{_FIELD('$.detail.action')}.",
            next_steps=[
                f"Review and approve or reject in the console (this channel is read-only): "
                f"{_CONSOLE}/codepipeline/pipelines/{pipeline}/view{_REGION}"
            ],
            keywords=[app, "approval"],
        )
    if rule_id == "Rollback":
        deployment = _FIELD("$.detail.deploymentId")
        return custom_notification(
            f"{app}: deployment {_FIELD('$.detail.state')}",
            f"CodeDeploy deployment `{deployment}` of {_FIELD('$.detail.application')} / "
            f"{_FIELD('$.detail.deploymentGroup')} ended {_FIELD('$.detail.state')}; CodeDeploy "
            "rolls back what it deployed.",
            next_steps=[
                f"Open the deployment: {_CONSOLE}/codedeploy/deployments/{deployment}{_REGION}"
            ],
            keywords=[app, "rollback"],
        )
    if rule_id == "EcsRollback":
        return custom_notification(
            f"{app}: ECS rolled a deployment back",
            f"ECS failed the deployment of `{_FIELD('$.resources[0]')}` and rolls it back to the "
            f"last completed deployment. Reason: {_FIELD('$.detail.reason')}",
            next_steps=[
                f"Open the ECS console: https://{Aws.REGION}.console.aws.amazon.com/ecs/v2/clusters{_REGION}"
            ],
            keywords=[app, "rollback"],
        )
    raise ValueError(f"no chat notice for {rule_id}")


def _kebab(camel_case: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in camel_case).lstrip("-")
