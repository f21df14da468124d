"""Precision on real templates (issue 16): each fix has a case that must still be found and a case
that must no longer be, small hand-written ones where they suffice and otherwise the real public
template the false finding was seen on (``../shared/corpus/public``; skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.rules import check_paths, check_text
from conveyor.rules.catalog import BY_ID
from conveyor.rules.model import Finding, Severity

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "public"
FIXTURES = Path(__file__).parent / "fixtures"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def found(text: str, rule: str, **options: object) -> list[Finding]:
    result = check_text(text, name="t.yaml", **options)  # type: ignore[arg-type]
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


def corpus(relative: str, rule: str) -> list[Finding]:
    result = check_paths([CORPUS / relative])
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


# --- CV090: one finding per template -------------------------------------------------------

UNTAGGED = """Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
  Tagged:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: App, Value: x}]
  Bucket:
    Type: AWS::S3::Bucket
"""


def test_cv090_lists_every_untagged_resource_in_one_finding_at_the_first() -> None:
    hits = found(UNTAGGED, "CV090")
    assert [(f.resource, f.line, f.message) for f in hits] == [
        ("Queue", 2, "3 taggable resources have no tags: Queue, Topic, Bucket")
    ]


def test_cv090_one_untagged_resource_keeps_its_own_message() -> None:
    hits = found("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n", "CV090")
    assert [f.message for f in hits] == ["AWS::SQS::Queue has no tags"]


def test_cv090_required_tags_name_what_each_resource_misses() -> None:
    hits = found(UNTAGGED, "CV090", require_tags=["App", "Owner"])
    assert [f.message for f in hits] == [
        "4 taggable resources miss required tags: Queue (App, Owner), Topic (App, Owner), "
        "Tagged (Owner), Bucket (App, Owner)"
    ]


def test_cv090_long_lists_are_cut_with_a_count() -> None:
    text = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(15))
    (hit,) = found(text, "CV090")
    assert hit.message == (
        "15 taggable resources have no tags: "
        + ", ".join(f"Q{i}" for i in range(12))
        + " and 3 more"
    )


def test_cv090_a_suppressed_resource_is_reported_as_suppressed_not_listed() -> None:
    text = UNTAGGED.replace(
        "  Topic:\n",
        "  Topic:\n    Metadata:\n      conveyor:\n        suppress:\n"
        "          - {rule: CV090, reason: tagged by the partner account}\n",
    )
    result = check_text(text, name="t.yaml")
    assert [f.message for f in result.findings if f.rule == "CV090"] == [
        "2 taggable resources have no tags: Queue, Bucket"
    ]
    assert [(f.resource, f.reason) for f in result.suppressed if f.rule == "CV090"] == [
        ("Topic", "tagged by the partner account")
    ]


@needs_corpus
def test_cv090_real_vpc_template_gets_one_finding() -> None:
    # aws-cloudformation-templates ECS/EC2LaunchType/clusters/public-vpc.yaml: 14 untagged
    # resources were 14 findings.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/"
        "ECS__EC2LaunchType__clusters__public-vpc.yaml",
        "CV090",
    )
    assert [(f.resource, f.message.split(":")[0]) for f in hits] == [
        ("VPC", "14 taggable resources have no tags")
    ]


# --- advice reports at info, which never fails CI -----------------------------------------

ADVICE = ("CV040", "CV041", "CV084", "CV085", "CV091", "CV092")


def test_advice_rules_report_at_info() -> None:
    assert {BY_ID[rule].severity for rule in ADVICE} == {Severity.INFO}


@pytest.mark.parametrize("rule", ADVICE)
def test_info_findings_alone_exit_0_even_with_fail_on_low(rule: str) -> None:
    bad = FIXTURES / rule / "bad.yaml"
    others = {f.rule for f in check_paths([bad]).findings} - set(ADVICE)
    args = [
        "check",
        str(bad),
        "--fail-on",
        "low",
        "--ignore",
        ",".join(sorted(others) or ["CV000"]),
    ]
    result = CliRunner().invoke(app, args)
    assert f"{rule} info" in result.output
    assert result.exit_code == 0, result.output
    sarif = json.loads(CliRunner().invoke(app, [*args, "--format", "sarif"]).output)
    run = sarif["runs"][0]
    assert {r["level"] for r in run["results"]} == {"note"}
    described = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == rule)
    assert "security-severity" not in described["properties"]


def test_a_low_finding_still_fails_with_fail_on_low() -> None:
    bad = FIXTURES / "CV082" / "bad.yaml"
    assert CliRunner().invoke(app, ["check", str(bad), "--fail-on", "low"]).exit_code == 1
    assert CliRunner().invoke(app, ["check", str(bad), "--ignore", "CV090"]).exit_code == 0
