"""Plans, previews and exports at the edges: nesting deep enough to exhaust Python's recursion
is refused with exit 2 and a message naming the file and the key (never an internal error);
the kind is decided from the top-level keys wherever in the text they come."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths, check_text

DEPTH = 700


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_list(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def terraform(values: dict[str, Any], unknown: Any = None) -> dict[str, Any]:
    address = "aws_s3_bucket.b"
    data: dict[str, Any] = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [{"address": address, "type": "aws_s3_bucket", "values": values}]
            }
        },
    }
    if unknown is not None:
        data["resource_changes"] = [{"address": address, "change": {"after_unknown": unknown}}]
    return data


def pulumi(rtype: str, inputs: dict[str, Any]) -> dict[str, Any]:
    state = {"urn": f"urn:pulumi:dev::p::{rtype}::b", "type": rtype, "id": "p1", "inputs": inputs}
    return {"version": 3, "deployment": {"resources": [state]}}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (terraform({"bucket": "b", "tags": nested(DEPTH)}), "aws_s3_bucket.b: tags.a.a..."),
        (
            terraform({"bucket": "b"}, unknown={"tags": nested(DEPTH, True)}),
            "resource_changes: aws_s3_bucket.b: change.after_unknown",
        ),
        (
            pulumi("aws:s3/bucketV2:BucketV2", {"tags": nested(DEPTH)}),
            "deployment.resources[0] (urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::b)",
        ),
        (
            pulumi("aws-native:s3:Bucket", {"tags": nested_list(DEPTH)}),
            "deployment.resources[0] (urn:pulumi:dev::p::aws-native:s3:Bucket::b)",
        ),
        (
            pulumi("pulumi:providers:aws", {"defaultTags": json.dumps({"tags": nested(DEPTH)})}),
            "deployment.resources[0].inputs.defaultTags",
        ),
    ],
    ids=["terraform-values", "terraform-after-unknown", "pulumi", "aws-native", "provider"],
)
def test_deep_nesting_is_refused_naming_the_file_and_key(data: dict[str, Any], where: str) -> None:
    result = check_text(json.dumps(data), name="in.json")
    assert result.exit_code() == 2
    assert [e.message for e in result.errors] == [
        f"in.json: {where}: nested more than 120 levels deep; no Terraform plan or Pulumi "
        "preview or export needs that: give the tool's own output unchanged, or flatten the value"
    ]


def test_nesting_past_what_json_can_parse_is_refused_as_an_input() -> None:
    deep = '{"a": ' * 990 + '"x"' + "}" * 990  # (json.dumps itself cannot write it)
    text = json.dumps(terraform({"bucket": "b", "tags": "DEEP"})).replace('"DEEP"', deep)
    result = check_text(text, name="plan.json")
    assert result.exit_code() == 2
    assert result.errors[0].message.startswith("plan.json: nested more than 120 levels deep;")


# ---- detection ----------------------------------------------------------------------------

BIG = {f"variable_{i:05d}": {"value": "v" * 40} for i in range(5000)}  # > 200,000 characters


def test_a_plan_whose_format_version_comes_after_200k_characters_is_a_plan(
    tmp_path: Path,
) -> None:
    # `jq -S` (sorted keys) puts "configuration" before "format_version".
    data = terraform({"bucket": "acme-b"})
    data["configuration"] = {"root_module": {"resources": []}, "big": BIG}
    text = json.dumps(data, sort_keys=True)
    assert text.index('"format_version"') > 200_000
    result = check_text(text, name="plan.json")
    assert not result.errors
    assert ("CV002", "aws_s3_bucket.b") in {(f.rule, f.resource) for f in result.findings}
    (tmp_path / "plan.json").write_text(text)
    walked = check_paths([tmp_path])  # found by the directory walk too
    assert ("CV002", "aws_s3_bucket.b") in {(f.rule, f.resource) for f in walked.findings}


def test_a_preview_whose_steps_come_after_200k_characters_is_a_preview() -> None:
    state = {"urn": "urn:pulumi:dev::p::aws:sns/topic:Topic::t", "type": "aws:sns/topic:Topic"}
    text = json.dumps({"config": BIG, "steps": [{"op": "create", "newState": state}]})
    assert text.index('"steps"') > 200_000
    result = check_text(text, name="preview.json")
    assert not result.errors
    assert ("CV012", "t") in {(f.rule, f.resource) for f in result.findings}
