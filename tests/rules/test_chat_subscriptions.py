"""CV081: a chat channel configuration subscribes the topics it lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules.runner import check_paths

TOPIC_ONLY = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}


def _cv081(tmp_path: Path, template: Any) -> list[str]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    result = check_paths([str(path)], ignore=[], require_tags=[], jobs=1)
    return [f.resource for f in result.findings if f.rule == "CV081"]


def test_a_topic_nobody_subscribes_is_reported(tmp_path: Path) -> None:
    assert _cv081(tmp_path, TOPIC_ONLY) == ["Topic"]


@pytest.mark.parametrize(
    ("kind", "channel"),
    [
        (
            "AWS::Chatbot::SlackChannelConfiguration",
            {"SlackWorkspaceId": "T0123ABCDE", "SlackChannelId": "C0123ABCDE"},
        ),
        (
            "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
            {
                "TeamId": "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                "TeamsTenantId": "9f8e7d6c-5b4a-4321-8fed-cba987654321",
                "TeamsChannelId": "19%3aabc%40thread.tacv2",
            },
        ),
    ],
)
def test_a_chat_channel_subscribes_the_topics_it_lists(
    tmp_path: Path, kind: str, channel: dict[str, str]
) -> None:
    template = json.loads(json.dumps(TOPIC_ONLY))
    template["Resources"]["Channel"] = {
        "Type": kind,
        "Properties": {
            "ConfigurationName": "deploys",
            "IamRoleArn": "arn:aws:iam::111111111111:role/chat",
            "SnsTopicArns": [{"Ref": "Topic"}],
            **channel,
        },
    }
    assert _cv081(tmp_path, template) == []
