"""notifications.slack / notifications.teams, for the team audience and for named audiences."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.spec import SpecError, parse_spec

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "examples" / "minimal.yaml").read_text()
EMAIL = "  email: [team-api@example.com]\n"
SLACK = "  slack: {workspace: T0123ABCDE, channel: C0123ABCDE}\n"
TEAMS = (
    "  teams:\n    team: 0a1b2c3d-4e5f-6789-abcd-ef0123456789\n"
    "    tenant: 9f8e7d6c-5b4a-4321-8fed-cba987654321\n"
    "    channel: 19%3ab6ef35dc342d4b3a8e7b1d9e0d0f3a8b%40thread.tacv2\n"
)


def _notifications(block: str) -> str:
    assert MINIMAL.endswith("notifications:\n" + EMAIL)
    return MINIMAL.replace(EMAIL, block)


def _error(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


def test_the_team_audience_can_be_chat_only() -> None:
    team = parse_spec(_notifications(SLACK + TEAMS)).notifications.all_audiences()["team"]
    assert team.email == []
    assert team.slack is not None and team.slack.channel == "C0123ABCDE"
    assert team.teams is not None and team.teams.tenant.startswith("9f8e7d6c")


def test_a_named_audience_can_be_chat_only() -> None:
    text = _notifications(
        EMAIL
        + "  audiences:\n    release:\n      on: [approval-needed]\n"
        + "".join("    " + line + "\n" for line in SLACK.splitlines())
    )
    release = parse_spec(text).notifications.all_audiences()["release"]
    assert release.slack is not None and release.email == []


def test_an_audience_nobody_hears_is_refused() -> None:
    text = _notifications(EMAIL + "  audiences:\n    release: {on: [approval-needed]}\n")
    assert (
        "conveyor.yaml:20: notifications.audiences.release: nobody would hear: add email: "
        "[team@example.com], slack: or teams:" in _error(text)
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "  slack: {workspace: acme, channel: C0123ABCDE}\n",
            "notifications.slack.workspace: 'acme' does not have the expected form: Slack "
            "workspace id, authorized once in the Amazon Q Developer console — for example: "
            "T0123ABCDE",
        ),
        (
            "  slack: {workspace: T0123ABCDE, channel: '#deploys'}\n",
            "notifications.slack.channel: '#deploys' does not have the expected form",
        ),
        (
            TEAMS.replace("19%3ab6ef35dc342d4b3a8e7b1d9e0d0f3a8b%40thread.tacv2", "general"),
            "notifications.teams.channel: 'general' does not have the expected form",
        ),
        ("  slack: {workspace: T0123ABCDE}\n", "notifications.slack.channel: required key"),
    ],
)
def test_channel_ids_have_the_form_aws_accepts(block: str, expected: str) -> None:
    assert expected in _error(_notifications(block))


def test_alarms_in_another_account_still_need_an_email() -> None:
    text = (
        _notifications(SLACK)
        .replace("app: api\n", "app: api\nregion: eu-west-1\naccount: '111111111111'\n")
        .replace("  - name: staging\n", "  - name: staging\n    account: '222222222222'\n")
    )
    assert "alarms in another account are sent by email" in _error(text)
