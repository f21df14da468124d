"""Findings on Terraform and Pulumi input speak the tool's language: Terraform attributes and
types, Pulumi camelCase attributes and SDK classes, never CloudFormation's ``AWS::`` types,
``Properties.`` paths, intrinsic functions or ``DependsOn``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules.catalog import RULES
from conveyor.rules.inputs import load
from conveyor.rules.inputs.coverage import terraform_types
from conveyor.rules.inputs.wording import (
    FIXES,
    NESTED_TERMS,
    Style,
    _render,
    reword_text,
    terraform_term,
)

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = sorted(p for p in FIXTURES.rglob("*.json"))
# (Pulumi's own resource option is dependsOn: CloudFormation's DependsOn is matched by case.)
CLOUDFORMATION_WORDS = re.compile(
    r"AWS::|Properties|!Ref|!GetAtt|!Sub|Fn::|DependsOn|(?i:template|CloudFormation)"
)
# About the pipeline's own CloudFormation deploy action (a change set, CREATE_UPDATE): the
# words are the action's, in any tool.
CLOUDFORMATION_ACTION_RULES = {"CV107", "CV108"}


def test_no_finding_on_the_fixtures_speaks_cloudformation() -> None:
    result = check_paths(INPUTS)
    assert not result.errors
    assert len(result.findings) > 300  # every rule fixture and seed fixture contributes
    for finding in [*result.findings, *result.suppressed]:
        if finding.rule in CLOUDFORMATION_ACTION_RULES:
            continue
        for text in (finding.message, finding.fix, finding.path):
            assert not CLOUDFORMATION_WORDS.search(text), (finding.rule, finding.file, text)


@pytest.mark.parametrize("kind", ["terraform", "pulumi"])
def test_every_fix_of_a_rule_that_runs_on_these_inputs_reads_in_the_tools_words(kind: str) -> None:
    style = Style(kind)
    for rule in RULES:
        if not terraform_types(rule) or rule.id in CLOUDFORMATION_ACTION_RULES:
            continue
        cfn_type = next((t for t in rule.resource_types if t != "*"), "")
        text = (
            _render(FIXES[rule.id], style)
            if rule.id in FIXES
            else reword_text(rule.fix_cloudformation, cfn_type, style)
        )
        assert not CLOUDFORMATION_WORDS.search(text), (rule.id, text)
        assert "[[" not in text, (rule.id, text)


def test_every_fix_override_is_a_rule_that_runs_on_these_inputs() -> None:
    applicable = {r.id for r in RULES if terraform_types(r)}
    assert set(FIXES) <= applicable


def _seed(kind: str, name: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    result = check_paths([FIXTURES / kind / name])
    return {(f.rule, f.resource): (f.message, f.path, f.fix) for f in result.findings}


def test_terraform_findings_name_attributes_and_split_resources() -> None:
    found = _seed("terraform", "seed-s1-bad.plan.json")
    message, path, fix = found["CV002", "aws_s3_bucket.artifacts"]
    assert message.startswith("bucket has no aws_s3_bucket_server_side_encryption_configuration;")
    assert path == "aws_s3_bucket.artifacts"
    assert "rule.apply_server_side_encryption_by_default with sse_algorithm aws:kms" in fix
    message, path, _ = found["CV009", "aws_s3_bucket.artifacts"]
    assert message.startswith("bucket 'orders-artifacts' is hard-coded")
    assert path == "aws_s3_bucket.artifacts.bucket"
    _, path, fix = found["CV008", "aws_s3_bucket.artifacts"]
    assert path == "aws_s3_bucket.artifacts.force_destroy"
    assert fix.startswith("Set force_destroy = true on the bucket (force_delete = true")
    message, path, _ = found["CV030", "aws_codebuild_project.build"]
    assert "but privileged_mode is not true" in message
    assert path == "aws_codebuild_project.build.environment"
    assert found["CV032", "aws_codebuild_project.build"][0].startswith("build_timeout 480")
    assert found["CV008", "aws_s3_bucket.artifacts"][0].startswith(
        "bucket is destroyed with the configuration but nothing empties it"
    )
    assert found["CV021", "aws_ecr_repository.app"][0] == (
        "images are not scanned on push (image_scanning_configuration.scan_on_push is not true)"
    )


def test_pulumi_findings_name_camel_case_attributes_and_sdk_classes() -> None:
    found = _seed("pulumi", "seed-s1-bad.export.json")
    message, path, _ = found["CV002", "artifacts"]
    assert message.startswith("bucket has no aws.s3.BucketServerSideEncryptionConfiguration;")
    message, path, fix = found["CV021", "app-repo"]
    assert message == (
        "images are not scanned on push (imageScanningConfiguration.scanOnPush is not true)"
    )
    assert path == "app-repo.imageScanningConfiguration"
    assert fix == "Set imageScanningConfiguration: {scanOnPush: true}."
    assert found["CV008", "app-repo"][2].startswith("Set forceDestroy = true on the bucket")


def test_paths_keep_action_configuration_keys_and_list_positions() -> None:
    result = check_paths([FIXTURES / "terraform" / "seed-s4-bad.plan.json"])
    paths = {f.path for f in result.findings if ".stage[" in f.path}
    assert paths, "the S4 pipeline has findings on its actions"
    assert "aws_codepipeline.api.stage[0].action[0].configuration.OAuthToken" in paths
    assert "aws_codepipeline.api.stage[0].action[0]" in paths  # ActionTypeId: flattened
    assert not any(re.search(r"Stages|Actions|ActionTypeId|\.\d", p) for p in paths), paths


def test_cloudformation_findings_are_left_as_they_were() -> None:
    template = '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}'
    result = check_text(template, name="t.json")
    cv002 = next(f for f in result.findings if f.rule == "CV002")
    assert cv002.path == "Resources.B.Properties"
    assert "BucketEncryption" in cv002.message


def test_every_property_the_mapping_writes_has_a_terraform_name() -> None:
    """The terms are the mapping read backwards: a property a mapping function writes that no
    term names would leave a CloudFormation name in a Terraform finding."""
    missing = set()
    for path in INPUTS:
        text = path.read_text()
        loaded = load(text, name=path.name, kind="auto")
        assert loaded is not None
        template, _ = loaded
        for lid, res in template.resources.items():
            if template.sources.get(lid, "").startswith("aws-native:"):
                continue
            for prop in res.properties:
                if terraform_term(prop, res.type, nested=True) is None:
                    missing.add((res.type, prop))
    assert not missing
    assert "Environment" in NESTED_TERMS


def test_rewording_keeps_every_field_but_the_message_fix_and_path() -> None:
    from dataclasses import fields, replace

    from conveyor.rules.inputs.wording import reword
    from conveyor.rules.model import FileResult, Finding, Severity

    values: dict[str, object] = {
        "rule": "CV001",
        "severity": Severity.HIGH,
        "file": "plan.json",
        "resource": "aws_s3_bucket.b",
        "path": "Properties.BucketEncryption",
        "line": 7,
        "message": "bucket AWS::S3::Bucket has no BucketEncryption",
        "fix": "Set BucketEncryption on the AWS::S3::Bucket",
        "failure_modes": ("FM01", "FM02"),
        "reason": "a reason of some length",
        "key": "k",
    }
    # Every field set, none to its default: a field reword forgot would come back different.
    assert {f.name for f in fields(Finding)} == set(values)
    original = Finding(**values)  # type: ignore[arg-type]
    result = FileResult(file="plan.json", findings=[original], suppressed=[original])
    result = reword(result, {"aws_s3_bucket.b": "AWS::S3::Bucket"}, "terraform", {})
    for new in (result.findings[0], result.suppressed[0]):
        assert type(new) is Finding
        assert new.path != original.path and new.message != original.message
        assert new == replace(original, message=new.message, fix=new.fix, path=new.path)
