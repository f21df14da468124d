"""Rules mapped to Terraform and Pulumi resources fire on a Terraform plan and a Pulumi stack
export of the system that shows them, and not on the fixed system (issue 13). The fixtures are
written by ``fixtures/make_rule_fixtures.py`` (``fixtures/rules/<rule>/``); the seed fixtures
cover the other rules (test_terraform.py, test_pulumi.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_text
from conveyor.rules.catalog import RULES
from conveyor.rules.inputs import PULUMI, TERRAFORM, load
from conveyor.rules.inputs.coverage import terraform_types

RULES_DIR = Path(__file__).parent / "fixtures" / "rules"
RULE_IDS = sorted(p.name for p in RULES_DIR.iterdir() if p.is_dir())
KINDS = {"plan": TERRAFORM, "export": PULUMI}


def test_each_rule_has_a_bad_and_a_good_fixture_per_input_kind() -> None:
    assert RULE_IDS == [
        "CV003",
        "CV010",
        "CV011",
        "CV015",
        "CV039",
        "CV044",
        "CV046",
        "CV056",
        "CV062",
        "CV074",
        "CV097",
    ]
    for rule in RULE_IDS:
        names = sorted(p.name for p in (RULES_DIR / rule).iterdir())
        assert names == ["bad.export.json", "bad.plan.json", "good.export.json", "good.plan.json"]
        mapped = next(r for r in RULES if r.id == rule)
        assert terraform_types(mapped), rule  # the coverage table says it runs on these inputs


@pytest.mark.parametrize("suffix", sorted(KINDS))
@pytest.mark.parametrize("rule", RULE_IDS)
def test_the_rule_fires_on_the_bad_system_and_not_on_the_fixed_one(rule: str, suffix: str) -> None:
    for verdict in ("bad", "good"):
        path = RULES_DIR / rule / f"{verdict}.{suffix}.json"
        text = path.read_text()
        loaded = load(text, name=path.name, kind="auto")
        assert loaded is not None and loaded[1] == KINDS[suffix], path
        result = check_text(text, name=path.name)
        assert result.errors == [], [e.message for e in result.errors]
        fired = [f for f in result.findings if f.rule == rule]
        if verdict == "bad":
            assert fired, f"{rule} did not fire on {path}"
        else:
            assert fired == [], [f.message for f in fired]


@pytest.mark.parametrize(
    ("rule", "suffix", "resources"),
    [
        ("CV003", "plan", {"aws_s3_bucket.artifacts"}),
        ("CV003", "export", {"artifacts (aws_s3_bucket)"}),
        ("CV011", "plan", {"aws_kms_key.shared"}),
        ("CV011", "export", {"shared"}),
        ("CV015", "plan", {"aws_codepipeline.orders"}),
        ("CV015", "export", {"orders"}),
        ("CV044", "plan", {"aws_lambda_function.api", "aws_ecs_task_definition.api"}),
        ("CV044", "export", {"api (aws_lambda_function)", "api (aws_ecs_task_definition)"}),
        ("CV056", "plan", {"aws_lambda_function.api"}),
        ("CV097", "export", {"app"}),
    ],
)
def test_findings_name_the_terraform_address_or_the_pulumi_name(
    rule: str, suffix: str, resources: set[str]
) -> None:
    path = RULES_DIR / rule / f"bad.{suffix}.json"
    result = check_text(path.read_text(), name=path.name)
    assert {f.resource for f in result.findings if f.rule == rule} == resources
    assert all(f.line > 1 for f in result.findings if f.rule == rule)


def test_a_pulumi_source_bucket_named_by_the_program_is_found_through_its_dependency() -> None:
    # The bucket's name carries the stack's name ("orders-source-dev"), so it is not a literal
    # the pipeline's S3Bucket could be matched to; the pipeline's stages were computed from
    # the bucket (propertyDependencies), and S3Bucket holds its name: a reference to it.
    path = RULES_DIR / "CV015" / "bad.export.json"
    data = json.loads(path.read_text())
    pipeline = next(
        r for r in data["deployment"]["resources"] if r["type"].startswith("aws:codepipeline")
    )
    assert fired(data) == {"orders"}
    del pipeline["propertyDependencies"]["stages"]
    assert fired(data) == set()  # nothing says which bucket the name is
    pipeline["propertyDependencies"]["stages"] = [BUCKET_URN]
    action = pipeline["inputs"]["stages"][0]["actions"][0]
    action["configuration"]["S3Bucket"] = "another-bucket"
    assert fired(data) == set()  # depends on the bucket, but names another one


BUCKET_URN = "urn:pulumi:dev::orders::aws:s3/bucketV2:BucketV2::source"


def fired(data: dict[str, Any]) -> set[str]:
    result = check_text(json.dumps(data), name="stack.json")
    assert not result.errors
    return {f.resource for f in result.findings if f.rule == "CV015"}
