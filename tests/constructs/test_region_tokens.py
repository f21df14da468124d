"""The stack's own region is written as AWS::Region, never as a literal (region_tokens)."""

from __future__ import annotations

import copy
from typing import Any

from conveyor.constructs.region_tokens import REGION_REF, region_as_token


def _template(value: Any) -> dict[str, Any]:
    return {
        "Parameters": {"Layer": {"Type": "String", "Default": "eu-west-1"}},
        "Resources": {"R": {"Type": "AWS::X::Y", "Properties": {"P": value}}},
        "Outputs": {"O": {"Value": value}},
    }


def _rewritten(value: Any) -> Any:
    template = _template(value)
    region_as_token(template, "eu-west-1")
    assert template["Parameters"]["Layer"]["Default"] == "eu-west-1"  # left alone
    assert template["Outputs"]["O"]["Value"] == template["Resources"]["R"]["Properties"]["P"]
    return template["Resources"]["R"]["Properties"]["P"]


def test_a_join_part_is_split_around_the_region() -> None:
    value = {
        "Fn::Join": ["", ["arn:aws:logs:eu-west-1:", {"Ref": "AWS::AccountId"}, ":log-group:x"]]
    }
    assert _rewritten(value) == {
        "Fn::Join": [
            "",
            ["arn:aws:logs:", REGION_REF, ":", {"Ref": "AWS::AccountId"}, ":log-group:x"],
        ]
    }


def test_sub_text_names_the_pseudo_parameter() -> None:
    text: dict[str, Any] = {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-eu-west-1"}
    assert _rewritten(text) == {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}
    value: dict[str, Any] = {"Fn::Sub": ["arn:aws:sns:eu-west-1:${A}:t", {"A": "eu-west-1"}]}
    assert _rewritten(value) == {
        "Fn::Sub": ["arn:aws:sns:${AWS::Region}:${A}:t", {"A": REGION_REF}]
    }


def test_a_whole_value_becomes_a_ref_and_a_string_a_join() -> None:
    assert _rewritten("eu-west-1") == REGION_REF
    assert _rewritten({"awslogs-region": "eu-west-1"}) == {"awslogs-region": REGION_REF}
    assert _rewritten("--region eu-west-1 x") == {"Fn::Join": ["", ["--region ", REGION_REF, " x"]]}


def test_a_join_with_a_separator_keeps_its_parts_in_place() -> None:
    value = {"Fn::Join": [":", ["arn", "aws", "sns", "eu-west-1", {"Ref": "AWS::AccountId"}]]}
    assert _rewritten(value) == {
        "Fn::Join": [":", ["arn", "aws", "sns", REGION_REF, {"Ref": "AWS::AccountId"}]]
    }


def test_a_join_delimiter_stays_a_literal_string() -> None:
    """Fn::Join takes its delimiter only as a string: a region inside it stays written out
    (a function there fails the template), while the parts are still rewritten."""
    value = {"Fn::Join": ["-eu-west-1-", ["a", "eu-west-1"]]}
    assert _rewritten(value) == {"Fn::Join": ["-eu-west-1-", ["a", REGION_REF]]}


def test_other_regions_and_longer_names_stay() -> None:
    for value in ("eu-west-10", "us-east-1", "xeu-west-1", {"Fn::Sub": "eu-west-2"}):
        original = copy.deepcopy(value)
        assert _rewritten(value) == original
    template = _template("us-east-1")
    assert region_as_token(template, "eu-west-1") is False


def test_another_region_becomes_a_ref_to_its_parameter() -> None:
    """The pipeline's stack names an environment's other region by its parameter
    (regions_as_parameters): in a plain string, a Join part and Fn::Sub text; its own region
    and a region that merely contains it stay as they are."""
    from conveyor.constructs.region_tokens import regions_as_parameters

    template: dict[str, Any] = {
        "Parameters": {"RegionUsEast1": {"Type": "String", "Default": "us-east-1"}},
        "Resources": {
            "R": {
                "Type": "AWS::X::Y",
                "Properties": {
                    "Region": "us-east-1",
                    "Arn": {"Fn::Join": ["", ["arn:aws:kms:us-east-1:", {"Ref": "A"}, ":key/*"]]},
                    "Sub": {"Fn::Sub": "arn:aws:s3:::b-${AWS::AccountId}-us-east-1/*"},
                    "Own": "eu-west-1",
                    "Longer": "us-east-10",
                },
            }
        },
    }
    assert regions_as_parameters(template, {"us-east-1": "RegionUsEast1"})
    properties = template["Resources"]["R"]["Properties"]
    assert properties["Region"] == {"Ref": "RegionUsEast1"}
    assert properties["Arn"] == {
        "Fn::Join": ["", ["arn:aws:kms:", {"Ref": "RegionUsEast1"}, ":", {"Ref": "A"}, ":key/*"]]
    }
    assert properties["Sub"] == {"Fn::Sub": "arn:aws:s3:::b-${AWS::AccountId}-${RegionUsEast1}/*"}
    assert properties["Own"] == "eu-west-1"
    assert properties["Longer"] == "us-east-10"
    assert template["Parameters"]["RegionUsEast1"]["Default"] == "us-east-1"
    assert not regions_as_parameters(template, {"us-east-1": "RegionUsEast1"})  # nothing left
