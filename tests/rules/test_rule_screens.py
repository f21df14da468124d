"""Cheap screens that let a rule skip a resource must agree with the search they stand for:
a screen that says "clean" where the search would match loses a finding."""

from __future__ import annotations

import json
import re

import pytest

from conveyor.rules.engine import Context, Options
from conveyor.rules.governance import hardcoded_account
from conveyor.rules.governance.hardcoded_account import _REGION, _may_hard_code
from conveyor.rules.template import Resource, parse

SEARCH = re.compile(r"\d{12}|" + _REGION)


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"Arn": "arn:aws:iam::123456789012:role/x"},
        {"Arn": "arn:aws:iam::12345678901:role/x"},  # 11 digits
        {"Id": "1234567890123456"},
        {"Id": "12345-6789012"},
        {"Host": "repo.dkr.ecr.eu-west-1.amazonaws.com"},
        {"Region": "us-gov-west-1"},
        {"Region": "us-east"},
        {"Text": "ab-cd-1 but no region prefix"},
        {"Text": "eu-west-x"},
        {"Cmd": "aws s3 cp --region=ap-southeast-2 a b"},
        {"Ünïcode": "١٢٣٤٥٦٧٨٩٠١٢"},  # Arabic-Indic digits: escaped by json, never matched
        {"List": [1, 2.5, True, None, "x-y-1"]},
        {"Big": 123456789012},
    ],
)
def test_the_hard_coded_account_screen_agrees_with_the_search(value: object) -> None:
    text = json.JSONEncoder(default=str).encode(value)
    assert _may_hard_code(text) == bool(SEARCH.search(text))


def _context(properties: dict[str, object]) -> tuple[Resource, Context]:
    text = json.dumps(
        {"Resources": {"R": {"Type": "AWS::Lambda::Function", "Properties": properties}}}
    )
    template = parse(text, name="t.json", suffix=".json")
    return template.resources["R"], Context(template, Options())


@pytest.mark.parametrize(
    "properties",
    [
        {"Role": {"Fn::Join": ["", ["arn:aws:iam::", 123456789012, ":role/x"]]}},  # a number
        {"Role": {"Fn::Sub": "arn:aws:iam::123456789012:role/${Name}"}},
        {
            "Role": {"Fn::GetAtt": ["Other", "Arn"]},
            "Code": {"S3Bucket": "cdk-hnb659fds-assets-123456789012-eu-west-1"},
        },
        {"Environment": {"Variables": {"REGION": "eu-west-1"}}},
        {"Environment": {"Variables": {"Deep": [[{"Host": "x.ap-southeast-2.amazonaws.com"}]]}}},
        {"Handler": "index.handler", "Timeout": 30, "Tags": [{"Key": "k", "Value": True}]},
    ],
)
def test_the_screen_over_the_gathered_strings_and_numbers_passes_what_cv036_reports(
    properties: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CV036 screens the strings and numbers the relations walk gathers (no JSON encoding):
    whatever the rule reports when it walks every resource, the screen lets through."""
    res, ctx = _context(properties)
    screened = _may_hard_code("\0".join(map(str, ctx.relations.scalars["R"])))
    passed = list(hardcoded_account.check(res, ctx))
    monkeypatch.setattr(hardcoded_account, "_may_hard_code", lambda text: True)
    walked = list(hardcoded_account.check(res, ctx))
    assert passed == walked
    assert bool(walked) == screened


def test_an_account_written_as_a_number_in_a_join_is_still_reported() -> None:
    res, ctx = _context({"Role": {"Fn::Join": ["", ["arn:aws:iam::", 123456789012, ":role/x"]]}})
    assert [hit.path for hit in hardcoded_account.check(res, ctx)] == ["Properties.Role"]


def test_the_relations_walk_gathers_strings_and_numbers_not_booleans_or_keys() -> None:
    _, ctx = _context({"A": ["x", 1, 2.5, True, None, {"B": "y"}], "C": {"Ref": "Z"}})
    assert sorted(map(str, ctx.relations.scalars["R"])) == sorted(["x", "1", "2.5", "y", "Z"])
