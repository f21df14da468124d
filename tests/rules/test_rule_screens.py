"""Cheap screens that let a rule skip a resource must agree with the search they stand for:
a screen that says "clean" where the search would match loses a finding."""

from __future__ import annotations

import json
import re

import pytest

from conveyor.rules.governance.hardcoded_account import _REGION, _may_hard_code

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
