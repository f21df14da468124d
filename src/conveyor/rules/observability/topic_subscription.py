"""SNS topic that nobody is subscribed to.

A topic counts as subscribed when it has inline ``Subscription`` entries, an
``AWS::SNS::Subscription`` references it, a SAM function subscribes through an SNS event, or a
chat channel configuration (Amazon Q Developer in chat applications, formerly AWS Chatbot)
lists it in ``SnsTopicArns``: the configuration subscribes its channel to the topic.
Subscriptions created outside the template (console, another stack) are not visible.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

SUBSCRIBERS = (
    "AWS::SNS::Subscription",
    "AWS::Serverless::Function",
    "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("Subscription"):
        return
    if ctx.relations.referrers(res.logical_id, *SUBSCRIBERS):
        return
    yield Hit(res.logical_id, "Properties", "topic has no subscription; its messages reach nobody")


RULE = Rule(
    id="CV081",
    title="SNS topic without subscription",
    severity=Severity.MEDIUM,
    resource_types=("AWS::SNS::Topic",),
    failure_modes=("FM71",),
    why="S5: SNS topics were created but no subscriptions were added; the team received no "
    "alerts about pipeline failures.",
    fix_cloudformation="Add an AWS::SNS::Subscription (Protocol email/https/lambda, TopicArn: "
    "!Ref Topic) or the topic's Subscription list.",
    fix_cdk="topic.add_subscription(subscriptions.EmailSubscription('oncall@example.com'))",
    fix_conveyor="notifications: {email: [oncall@example.com]}.",
    check=check,
)
