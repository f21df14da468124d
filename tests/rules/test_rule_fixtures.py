"""Every rule on its own fixtures: the bad template yields a finding of that rule on the resource
named in its ``# expect:`` line, the good template yields none of that rule. A rule that reads
the stacks a pipeline deploys (CV103) gets them beside its fixtures (``*.template.json``),
checked in the same run as a cdk.out's stacks are."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_paths
from conveyor.rules.catalog import RULES

FIXTURES = Path(__file__).parent / "fixtures"
RULE_IDS = [r.id for r in RULES]


def _with_deployed(rule_id: str, fixture: Path) -> list[Path]:
    return [fixture, *sorted((FIXTURES / rule_id).glob("*.template.json"))]


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect:"), f"{path} must start with '# expect: <LogicalId>'"
    return first.split(":", 1)[1].strip()


def test_every_rule_has_both_fixtures() -> None:
    missing = [
        f"{rid}/{kind}.yaml"
        for rid in RULE_IDS
        for kind in ("bad", "good")
        if not (FIXTURES / rid / f"{kind}.yaml").is_file()
    ]
    assert missing == []


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_bad_fixture_is_found_on_the_named_resource(rule_id: str) -> None:
    bad = FIXTURES / rule_id / "bad.yaml"
    expected = _expected(bad)
    result = check_paths(_with_deployed(rule_id, bad))
    assert result.errors == []
    hits = [f for f in result.findings if f.rule == rule_id]
    assert [f.resource for f in hits if f.resource == expected], (
        f"{rule_id} found {[(f.resource, f.message) for f in hits]} instead of {expected}"
    )
    for finding in hits:
        assert finding.line >= 2, "a finding points at the line of its resource or property"
        assert finding.message
        assert finding.severity is next(r.severity for r in RULES if r.id == rule_id)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_good_fixture_passes(rule_id: str) -> None:
    result = check_paths(_with_deployed(rule_id, FIXTURES / rule_id / "good.yaml"))
    assert result.errors == []
    assert [(f.resource, f.message) for f in result.findings if f.rule == rule_id] == []
