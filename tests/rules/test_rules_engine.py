"""Engine behaviour users rely on: lines, intrinsics, suppressions, the public API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import Severity, check_paths, check_text
from conveyor.rules.engine import Context, Options
from conveyor.rules.template import Resource, Template

JSON_TEMPLATE = """{
  "Resources": {
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}},
    "Repo": {
      "Type": "AWS::ECR::Repository",
      "Properties": {
        "ImageTagMutability": "MUTABLE"
      }
    }
  }
}
"""


def test_json_findings_point_at_the_property_line() -> None:
    result = check_text(JSON_TEMPLATE, name="t.json")
    mutable = [f for f in result.findings if f.rule == "CV022"]
    assert [(f.resource, f.line, f.path) for f in mutable] == [
        ("Repo", 7, "Resources.Repo.Properties.ImageTagMutability")
    ]


def test_yaml_short_and_long_intrinsics_are_understood() -> None:
    text = """
Parameters:
  Env: {Type: String, Default: dev}
  Scan: {Type: String, AllowedValues: ["true"], Default: "true"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: !Sub "${AWS::StackName}-images"
      ImageScanningConfiguration:
        ScanOnPush: !Ref Scan
      ImageTagMutability: !If [IsProd, IMMUTABLE, {"Fn::If": [IsProd, IMMUTABLE, MUTABLE]}]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      # The account alone would be the same for two environments in one account (CV009).
      BucketName: {"Fn::Join": ["-", [logs, {"Ref": "Env"}, {"Ref": "AWS::AccountId"}]]}
"""
    rules = {(f.rule, f.resource) for f in check_text(text, name="t.yaml").findings}
    assert ("CV021", "Repo") not in rules  # ScanOnPush true through the parameter
    assert ("CV022", "Repo") not in rules  # one branch is immutable: not a certain finding
    assert ("CV009", "Repo") not in rules and ("CV009", "Bucket") not in rules


def test_sam_globals_and_foreach_are_read() -> None:
    text = """
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Globals:
  Function: {Runtime: python3.8}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Handler: index.handler, InlineCode: "x"}
  Fn::ForEach::Queues:
    - Name
    - [a, b]
    - Repo${Name}:
        Type: AWS::ECR::Repository
        Properties: {RepositoryName: !Sub "${AWS::StackName}-${Name}"}
"""
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    assert ("CV076", "Fn") in {(f.rule, f.resource) for f in result.findings}
    assert ("CV020", "Repo${Name}") in {(f.rule, f.resource) for f in result.findings}
    assert "CV009" not in {f.rule for f in result.findings}


def test_suppression_with_reason_moves_the_finding() -> None:
    text = """
Resources:
  Repo:
    Type: AWS::ECR::Repository
    Metadata:
      conveyor:
        suppress:
          - {rule: CV020, reason: "Images are cleaned by the registry-wide policy"}
          - {rule: CV021, reason: "n/a"}
"""
    result = check_text(text, name="t.yaml")
    assert [(f.rule, f.reason) for f in result.suppressed] == [
        ("CV020", "Images are cleaned by the registry-wide policy")
    ]
    found = {f.rule for f in result.findings}
    assert "CV020" not in found
    assert {"CV021", "CV000"} <= found  # a short reason suppresses nothing and is reported
    short = next(f for f in result.findings if f.rule == "CV000")
    assert short.line == 9
    assert short.severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("metadata", "path", "says"),
    [
        ("conveyor: CV020", "Metadata.conveyor", "expected a mapping"),
        (
            "conveyor: {suppressions: [{rule: CV020, reason: x}]}",
            "Metadata.conveyor.suppressions",
            "unknown key 'suppressions'",
        ),
        (
            "conveyor: {suppress: {rule: CV020, reason: Cleaned by the registry policy}}",
            "Metadata.conveyor.suppress",
            "expected a list",
        ),
        ("conveyor: {suppress: [CV020]}", "Metadata.conveyor.suppress.0", "not 'CV020'"),
        (
            "conveyor: {suppress: [{id: CV020, reason: Cleaned by the registry policy}]}",
            "Metadata.conveyor.suppress.0",
            "needs rule:",
        ),
        (
            "conveyor: {suppress: [{rule: CV020, reasons: Cleaned by the registry policy}]}",
            "Metadata.conveyor.suppress.0.reasons",
            "unknown key 'reasons'",
        ),
    ],
)
def test_a_malformed_suppression_says_it_suppresses_nothing(
    metadata: str, path: str, says: str
) -> None:
    text = f"Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Metadata:\n      {metadata}\n"
    result = check_text(text, name="t.yaml")
    assert "CV020" in {f.rule for f in result.findings}  # nothing was suppressed
    hints = [f for f in result.findings if f.rule == "CV000"]
    assert [(f.resource, f.path) for f in hints][:1] == [("Repo", f"Resources.Repo.{path}")]
    assert "suppresses nothing" in hints[0].message and says in hints[0].message
    assert hints[0].line == 5


def test_a_well_formed_suppression_gets_no_shape_hint() -> None:
    text = (
        "Metadata:\n"
        "  conveyor: {suppress: [{rule: CV020, reason: Cleaned by the registry policy}]}\n"
        "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Metadata:\n"
        "      conveyor: {suppress: [{rule: CV020, reason: Cleaned by the registry policy}]}\n"
        "      other-tool: {anything: [1]}\n"
    )
    result = check_text(text, name="t.yaml")
    assert [f for f in result.findings if f.rule == "CV000"] == []


def test_a_malformed_template_level_suppression_is_reported_at_the_template() -> None:
    text = "Metadata:\n  conveyor: [CV020]\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    hints = [f for f in check_text(text, name="t.yaml").findings if f.rule == "CV000"]
    assert [(f.resource, f.path, f.line) for f in hints] == [("", "Metadata.conveyor", 2)]


def test_ignore_and_require_tags() -> None:
    text = (
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      Tags: [{Key: App, Value: x}]\n"
    )
    plain = check_text(text, name="t.yaml")
    assert "CV090" not in {f.rule for f in plain.findings}
    strict = check_text(text, name="t.yaml", require_tags=["App", "Environment", "Owner"])
    assert [f.message for f in strict.findings if f.rule == "CV090"] == [
        "missing required tag(s): Environment, Owner"
    ]
    ignored = check_text(text, name="t.yaml", ignore=["CV090"], require_tags=["Owner"])
    assert "CV090" not in {f.rule for f in ignored.findings}


def test_cloud_assembly_directory_reads_only_stack_templates(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text('{"version": "36.0.0"}')
    (out / "tree.json").write_text('{"tree": {"Resources": 1}}')
    (out / "App.assets.json").write_text('{"files": {}}')
    (out / "App.template.json").write_text(
        '{"Resources": {"Repo": {"Type": "AWS::ECR::Repository"}}}'
    )
    result = check_paths([tmp_path])
    assert result.errors == []
    assert result.files == 1
    assert {f.file for f in result.findings} == {str(out / "App.template.json")}


def test_parallel_jobs_give_the_same_findings(tmp_path: Path) -> None:
    for i in range(6):
        (tmp_path / f"s{i}.yaml").write_text(
            f"Resources:\n  Repo{i}: {{Type: AWS::ECR::Repository}}\n"
        )
    one = check_paths([tmp_path], jobs=1)
    two = check_paths([tmp_path], jobs=2)
    assert [f.as_dict() for f in one.findings] == [f.as_dict() for f in two.findings]
    assert one.files == two.files == 6


@pytest.mark.parametrize(
    "properties",
    [
        {"Name": "café \u2603 \ud800", "Quote": 'a"b\\c\n', "N": [1, 2.5, -0.0, 10**20]},
        {"Nan": float("nan"), "Inf": [float("inf"), float("-inf")], "None": None, "T": True},
        {"When": date(2026, 12, 2), "Deep": {"A": [{"B": {"C": []}}], "E": {}}},
        {1: "int key", 2.5: "float key", None: "null key", False: "bool key"},
    ],
)
def test_resource_text_is_json_dumps_of_its_properties(properties: dict[Any, Any]) -> None:
    # The screens of CV036, CV089 and the log group rule read this text: the one shared
    # encoder (engine._ENCODE) must write what json.dumps(..., default=str) writes.
    template = Template(
        file="t.json",
        data={},
        resources={"R": Resource("R", "AWS::SNS::Topic", properties, {}, ("Resources", "R"))},
        parameters={},
        conditions={},
        outputs={},
        transforms=frozenset(),
    )
    ctx = Context(template, Options())
    assert ctx.text("R") == json.dumps(properties, default=str)
    assert ctx.text("R") is ctx.text("R")  # encoded once per resource


def test_a_finding_the_engine_makes_is_a_plain_frozen_finding() -> None:
    import dataclasses
    import pickle

    from conveyor.rules.model import Finding

    values = (
        "CV012",
        Severity.MEDIUM,
        "t.json",
        "Topic",
        "Resources.Topic",
        3,
        "m",
        "fix",
        ("FM08",),
    )
    made = Finding(*values, key="k")  # as the engine makes each finding
    built = Finding(*values, key="k")
    assert type(made) is Finding
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    # What a --jobs worker sends back (our own bytes, in the test).
    assert pickle.loads(pickle.dumps(made)) == built  # noqa: S301
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 4
    assert dataclasses.replace(made, reason="why").reason == "why"
