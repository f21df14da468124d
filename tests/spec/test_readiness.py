"""Placeholders and example values that validate but must not be deployed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.spec import parse_spec
from conveyor.spec.readiness import blocking, concerns

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "tests" / "cli" / "deployable.yaml").read_text()
REAL_ARN = (
    "arn:aws:codestar-connections:us-east-1:210987654321:connection/"
    "6f1e2d3c-4b5a-4978-8c9d-0e1f2a3b4c5d"
)


def _concerns(text: str) -> list[tuple[str, bool, int | None]]:
    return [(c.path, c.blocks_deploy, c.problem(text).line) for c in concerns(parse_spec(text))]


def test_a_real_spec_has_no_concerns() -> None:
    assert _concerns(REAL) == []


@pytest.mark.parametrize(
    "connection",
    [
        # what `conveyor init` writes without an answer
        "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
        "00000000-0000-0000-0000-000000000000",
        # the spec reference's example, in a real-looking account
        "arn:aws:codeconnections:us-east-1:210987654321:connection/"
        "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        # any connection in AWS's documentation account
        "arn:aws:codestar-connections:us-east-1:123456789012:connection/"
        "6f1e2d3c-4b5a-4978-8c9d-0e1f2a3b4c5d",
    ],
)
def test_example_connections_block_deploy(connection: str) -> None:
    text = REAL.replace(REAL_ARN, connection).replace("region: ", "")
    spec = parse_spec(text)
    assert [(c.path, c.problem(text).line) for c in blocking(spec)] == [
        ("source.github.connection", 8)
    ]
    assert "this is an example connection ARN" in blocking(spec)[0].message


@pytest.mark.parametrize(
    ("address", "example"),
    [
        ("oncall@example.com", True),
        ("oncall@EXAMPLE.org", True),
        ("oncall@team.example.net", True),
        ("oncall@notexample.com", False),
        ("oncall@example.com.au", False),
    ],
)
def test_example_addresses_block_deploy(address: str, example: bool) -> None:
    text = REAL.replace("team-api@acme.io", address)
    expected = [("notifications.email[0]", True, 18)] if example else []
    assert _concerns(text) == expected


def test_audience_addresses_are_checked_with_their_path() -> None:
    text = REAL.replace(
        "  email: [team-api@acme.io]",
        "  email: [team-api@acme.io]\n  audiences:\n"
        "    security: {email: [sec@acme.io, sec@example.com], on: [failed]}",
    )
    assert _concerns(text) == [("notifications.audiences.security.email[1]", True, 20)]


def test_a_connection_from_another_region_is_a_warning_not_a_refusal() -> None:
    text = "region: eu-west-1\n" + REAL
    found = concerns(parse_spec(text))
    assert [(c.path, c.blocks_deploy, c.problem(text).line) for c in found] == [
        ("source.github.connection", False, 9)
    ]
    assert found[0].message.startswith(
        "the connection was created in us-east-1 and the pipeline runs in eu-west-1"
    )
    assert blocking(parse_spec(text)) == []


def test_a_connection_in_the_pipelines_region_is_fine() -> None:
    assert concerns(parse_spec("region: us-east-1\n" + REAL)) == []


def test_concerns_word_for_word() -> None:
    text = "region: eu-west-1\n" + REAL.replace("team-api@acme.io", "ops@example.com")
    rendered = [c.problem(text).render("conveyor.yaml") for c in concerns(parse_spec(text))]
    assert rendered == [
        "conveyor.yaml:9: source.github.connection: the connection was created in us-east-1 and "
        "the pipeline runs in eu-west-1: that works unless the connection uses a host (GitHub "
        "Enterprise Server, GitLab self-managed), which works only in us-east-1; check that "
        "this is the connection you mean",
        "conveyor.yaml:19: notifications.email[0]: ops@example.com is an example address that "
        "never receives mail: write the address that should hear about failures and approvals",
    ]
    placeholder = REAL.replace(REAL_ARN, REAL_ARN.replace("210987654321", "123456789012"))
    (concern,) = concerns(parse_spec(placeholder))
    assert concern.problem(placeholder).render("c.yaml") == (
        "c.yaml:8: source.github.connection: this is an example connection ARN: create a "
        "connection (Developer Tools > Settings > Connections), authorize it, and write its "
        "ARN here"
    )


def test_a_value_not_found_in_the_text_has_no_line() -> None:
    (concern,) = concerns(parse_spec(REAL.replace("team-api@acme.io", "ops@example.com")))
    assert concern.problem("app: api\n").line is None


UNCHECKED_SERVICE = REAL.replace(
    '    validate:\n      http: {url: "https://api.staging.example.com/health"}\n', ""
)
LAMBDA = """app: quotes
owner: team-quotes
source: {s3: {}}
build: {commands: [make package]}
environments:
  - name: staging
    deploy: {lambda: {strategy: STRATEGY}}
notifications: {email: [team@acme.io]}
"""


def test_an_existing_service_without_a_check_is_a_warning_with_the_fix() -> None:
    """Generator and checker agree (issue 16): a spec whose pipeline `conveyor check` would
    report for CV074 says so when validated, instead of surprising the user after synth."""
    (concern,) = concerns(parse_spec(UNCHECKED_SERVICE))
    assert (concern.blocks_deploy, concern.check_rule) == (False, "CV074")
    assert concern.problem(UNCHECKED_SERVICE).render("conveyor.yaml") == (
        "conveyor.yaml:12: environments[0]: nothing checks a release in staging after it "
        "deploys, so a broken one goes on to the next environment (conveyor check reports "
        "CV074): add validate: {http: {url: https://…/health}}"
    )


@pytest.mark.parametrize(
    ("strategy", "warned"), [("all-at-once", True), ("canary", False), ("linear", False)]
)
def test_a_function_shifted_at_once_without_a_check_is_a_warning(
    strategy: str, warned: bool
) -> None:
    text = LAMBDA.replace("STRATEGY", strategy)
    found = [c.message for c in concerns(parse_spec(text))]
    assert bool(found) == warned
    assert all(m.endswith(", or shift traffic with strategy: canary") for m in found)


def test_scanning_turned_off_is_a_warning_naming_the_rule_check_reports() -> None:
    text = REAL + "checks:\n  scans:\n    tools: []\n"
    (concern,) = concerns(parse_spec(text))
    assert (concern.path, concern.blocks_deploy, concern.check_rule) == (
        "checks.scans.tools",
        False,
        "CV085",
    )
    assert concern.problem(text).line == 21
    assert concerns(parse_spec(REAL + "checks:\n  scans:\n    tools: [gitleaks]\n")) == []


def test_production_without_approval_is_a_warning_naming_the_rule_check_reports() -> None:
    text = REAL.replace("  - name: staging\n", "  - name: prod\n    approval: false\n")
    (concern,) = concerns(parse_spec(text))
    assert (concern.path, concern.check_rule, concern.problem(text).line) == (
        "environments[0].approval",
        "CV086",
        13,
    )
    assert concerns(parse_spec(REAL.replace("name: staging", "name: prod"))) == []
