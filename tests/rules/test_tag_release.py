"""CV119 (issue 11) beyond its fixtures: a pipeline that deploys and starts on pushed tags is
reported once, at its tag filter, saying why (a tag filter has no branch filter) and what to
do; conveyor's own pipeline with source.github.tags carries the repository's restriction as
the suppression's reason only when conveyor.yaml states it, and `conveyor validate` warns when
it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_text
from conveyor.rules.model import Finding, Severity
from conveyor.spec import SpecError, parse_spec
from conveyor.spec.readiness import concerns

ROOT = Path(__file__).resolve().parents[2]
BAD = (Path(__file__).parent / "fixtures" / "CV119" / "bad.yaml").read_text()


def found(text: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == "CV119"]


def test_cv119_reports_the_tag_filter_of_a_pipeline_that_deploys() -> None:
    (hit,) = found(BAD)
    assert hit.path.endswith("Properties.Triggers.0.GitConfiguration.Push.1.Tags")
    assert BAD.splitlines()[hit.line - 1].strip().startswith("- Tags:")
    assert "a pushed tag matching v* starts this pipeline, which deploys (Deploy-staging)" in (
        hit.message
    )
    assert "a tag filter cannot be limited to a branch" in hit.message
    assert "anyone who may push such a tag releases unreviewed code" in hit.message
    assert "Restrict who may create these tags with a repository rule" in hit.message
    assert hit.severity is Severity.LOW


def test_cv119_reports_each_pipeline_once() -> None:
    twice = BAD.replace(
        '              - Tags: {Includes: ["v*"]}\n',
        '              - Tags: {Includes: ["v*"]}\n              - Tags: {Includes: ["rel-*"]}\n',
    )
    (hit,) = found(twice)
    assert hit.path.endswith("Push.1.Tags")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (BAD.replace('              - Tags: {Includes: ["v*"]}\n', ""), "branches only"),
        (BAD.replace('Tags: {Includes: ["v*"]}', 'Tags: {Excludes: ["v*"]}'), "excludes only"),
        (
            BAD.replace(
                '{Category: Deploy, Owner: AWS, Provider: ECS, Version: "1"}\n'
                "              Configuration: {ClusterName: orders, ServiceName: api}",
                '{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}\n'
                "              Configuration: {ProjectName: orders-build}",
            ),
            "nothing deployed",
        ),
    ],
)
def test_cv119_leaves_alone(text: str, why: str) -> None:
    assert text != BAD
    assert found(text) == [], why


SPEC = """app: orders
owner: team-orders
region: eu-west-1
source:
  github:
    repo: acme/orders
    connection: "arn:aws:codestar-connections:eu-west-1:111111111111:connection/\
11111111-2222-3333-4444-555555555555"
    tags: ["v*"]
build: {docker: {context: .}}
notifications: {email: [orders@acme.test]}
environments:
  - name: staging
    deploy: {ecs: {create: {port: 8080, health_check_path: /health}}}
"""


def test_validate_warns_about_tags_nobody_restricted_and_names_cv119() -> None:
    (concern,) = [c for c in concerns(parse_spec(SPEC)) if c.check_rule == "CV119"]
    assert concern.path == "source.github.tags"
    assert "anyone who may push a tag matching v* releases the commit it names" in (concern.message)
    assert "say how in source.github.tag_creation" in concern.message
    assert not concern.blocks_deploy
    stated = SPEC.replace(
        '    tags: ["v*"]\n',
        '    tags: ["v*"]\n    tag_creation: "ruleset release-tags: release managers only"\n',
    )
    assert [c for c in concerns(parse_spec(stated)) if c.check_rule == "CV119"] == []


def test_tag_creation_without_tags_is_refused_at_its_key() -> None:
    text = SPEC.replace(
        '    tags: ["v*"]\n', '    tag_creation: "ruleset release-tags: release managers only"\n'
    )
    with pytest.raises(SpecError) as raised:
        parse_spec(text)
    message = str(raised.value)
    assert "source.github.tag_creation" in message
    assert "add the patterns under tags:, or leave tag_creation out" in message


def test_the_pipeline_records_the_stated_restriction_as_cv119s_reason() -> None:
    """Synthesis aside: the reason the pipeline writes, from the spec alone."""
    from conveyor.stages.findings import restricted_tags

    assert restricted_tags(parse_spec(SPEC)) is None
    stated = parse_spec(
        SPEC.replace(
            '    tags: ["v*"]\n',
            '    tags: ["v*"]\n    tag_creation: "ruleset release-tags: release managers only"\n',
        )
    )
    assert restricted_tags(stated) == (
        "tags v*: ruleset release-tags: release managers only (source.github.tag_creation)"
    )
