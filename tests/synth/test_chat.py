"""Slack and Microsoft Teams notices (payments: developers in Slack, release in Teams only),
asserted on the synthesized template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.constructs.chat import PIPELINE_READS
from conveyor.constructs.defaults import CHAT_APPLICATIONS_ENDPOINT
from tests.synth.conftest import Synthesized


@pytest.fixture(scope="module")
def payments(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["payments"]


def _one(found: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


def _topic_named(s: Synthesized, name: str) -> str:
    (lid,) = [
        lid
        for lid, topic in s.resources("AWS::SNS::Topic").items()
        if topic["Properties"]["TopicName"] == name
    ]
    return lid


def test_slack_channel_hears_its_chat_topic_and_its_audience_topic(payments: Synthesized) -> None:
    _, slack = _one(payments.resources("AWS::Chatbot::SlackChannelConfiguration"))
    props = slack["Properties"]
    assert (props["SlackWorkspaceId"], props["SlackChannelId"]) == ("T0123ABCDE", "C0123ABCDE")
    assert props["ConfigurationName"] == "payments-developers-slack"
    assert props["SnsTopicArns"] == [
        {"Ref": _topic_named(payments, "payments-developers-chat")},
        {"Ref": _topic_named(payments, "payments-developers-notices")},
    ]
    assert props["UserRoleRequired"] is False


def test_teams_channel_of_a_chat_only_audience(payments: Synthesized) -> None:
    _, teams = _one(payments.resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration"))
    props = teams["Properties"]
    assert props["TeamId"] == "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    assert props["TeamsTenantId"] == "9f8e7d6c-5b4a-4321-8fed-cba987654321"
    assert props["TeamsChannelId"] == "19%3ab6ef35dc342d4b3a8e7b1d9e0d0f3a8b%40thread.tacv2"
    assert props["SnsTopicArns"][1] == {"Ref": _topic_named(payments, "payments-release-notices")}
    # Nobody reads the release audience by email: no formatter writes plain text for it.
    topics = [
        f["Properties"]["Environment"]["Variables"].get("TOPIC_ARN")
        for f in payments.resources("AWS::Lambda::Function").values()
        if "Environment" in f["Properties"]
    ]
    assert {"Ref": _topic_named(payments, "payments-release-notices")} not in topics


@pytest.mark.parametrize("kind", ["Slack", "MicrosoftTeams"])
def test_channels_are_read_only_on_this_pipeline(payments: Synthesized, kind: str) -> None:
    _, config = _one(payments.resources(f"AWS::Chatbot::{kind}ChannelConfiguration"))
    props = config["Properties"]
    role_id = props["IamRoleArn"]["Fn::GetAtt"][0]
    role = payments.resource(role_id)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "chatbot.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in payments.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    (guardrail_ref,) = props["GuardrailPolicies"]
    guardrail = payments.resource(guardrail_ref["Ref"])["Properties"]["PolicyDocument"]
    (pipeline_id,) = payments.resources("AWS::CodePipeline::Pipeline")
    for statements in [*policies, guardrail["Statement"]]:
        (statement,) = statements
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == sorted(PIPELINE_READS)
        assert all(a.split(":")[1].startswith(("Get", "List")) for a in statement["Action"])
        assert {"Ref": pipeline_id} in statement["Resource"]["Fn::Join"][1]


def _chat_rules(s: Synthesized, audience: str) -> dict[str, dict[str, Any]]:
    topic = {"Ref": _topic_named(s, f"payments-{audience}-chat")}
    return {
        lid: rule
        for lid, rule in s.resources("AWS::Events::Rule").items()
        if any(t["Arn"] == topic for t in rule["Properties"]["Targets"])
    }


def _notice(rule: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The custom notification a rule sends, with CloudFormation pseudo parameters filled."""
    (target,) = rule["Properties"]["Targets"]
    transformer = target["InputTransformer"]
    parts = transformer["InputTemplate"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "eu-west-1" for p in parts)
    # Placeholders (<detail-pipeline>) are bare inside JSON strings: the template parses.
    return json.loads(text), transformer["InputPathsMap"]


def test_each_event_the_audience_wants_reaches_chat_as_a_custom_notification(
    payments: Synthesized,
) -> None:
    developers = _chat_rules(payments, "developers")  # on: failed, rollback
    assert sorted(r["Properties"]["Name"] for r in developers.values()) == [
        "payments-developers-chat-build-failed",
        "payments-developers-chat-pipeline-state",
        "payments-developers-chat-rollback",
    ]
    for rule in developers.values():
        notice, paths = _notice(rule)
        assert (notice["version"], notice["source"]) == ("1.0", "custom")
        assert notice["content"]["textType"] == "client-markdown"
        assert notice["content"]["title"].startswith("payments: ")
        assert notice["content"]["nextSteps"][0].count("https://eu-west-1.console.aws.amazon.com")
        # Only fields every such event carries: a missing path drops the delivery.
        assert all(p.startswith(("$.detail.", "$.resources[0]")) for p in paths.values())


def test_approval_in_chat_links_to_the_console(payments: Synthesized) -> None:
    (rule,) = [
        r
        for r in _chat_rules(payments, "release").values()
        if r["Properties"]["Name"] == "payments-release-chat-approval-needed"
    ]
    notice, paths = _notice(rule)
    assert notice["content"]["nextSteps"] == [
        "Review and approve or reject in the console (this channel is read-only): "
        "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "<detail-pipeline>/view?region=eu-west-1"
    ]
    assert paths["detail-pipeline"] == "$.detail.pipeline"
    assert rule["Properties"]["EventPattern"]["detail"]["type"] == {"category": ["Approval"]}


def test_chat_topics_admit_their_rules_and_the_chat_endpoint_only(payments: Synthesized) -> None:
    topic = _topic_named(payments, "payments-developers-chat")
    (policy,) = [
        p
        for p in payments.resources("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic} in p["Properties"]["Topics"]
    ]
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    subscribe = statements["AllowChatApplicationsToSubscribe"]
    assert subscribe["Action"] == "sns:Subscribe"
    assert subscribe["Condition"] == {
        "StringEquals": {"sns:Protocol": "https", "sns:Endpoint": CHAT_APPLICATIONS_ENDPOINT}
    }
    publish = statements["AllowEventsAmazonawsComToPublish"]
    rules = publish["Condition"]["ArnLike"]["aws:SourceArn"]
    assert len(rules) == len(_chat_rules(payments, "developers"))


def test_examples_without_chat_have_no_chat_resources(web: Synthesized) -> None:
    assert not web.resources("AWS::Chatbot::SlackChannelConfiguration")
    assert not web.resources("AWS::Chatbot::MicrosoftTeamsChannelConfiguration")
