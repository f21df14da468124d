"""``after_unknown`` merged into planned values, exactly: a value known only after apply is
UNKNOWN where the plan has none (null, [] or {}), a planned value is kept, nested blocks and
lists are merged item by item, and nesting past MAX_DEPTH is refused naming the change."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.rules.inputs.records import MAX_DEPTH, UNKNOWN, TooDeepError
from conveyor.rules.inputs.terraform import (
    _dynamic_blocks,
    _merge_unknown,
    _narrowest,
    _with_unknown,
    module_instance,
)


@pytest.mark.parametrize("empty", [None, [], {}])
def test_true_marks_a_missing_or_empty_value_unknown(empty: Any) -> None:
    assert _merge_unknown(empty, True, "a") is UNKNOWN


@pytest.mark.parametrize("value", ["v", 0, False, ["x"], {"k": 1}])
def test_true_keeps_a_planned_value(value: Any) -> None:
    assert _merge_unknown(value, True, "a") == value


def test_false_changes_nothing() -> None:
    assert _merge_unknown(None, False, "a") is None
    assert _merge_unknown("v", False, "a") == "v"


def test_an_object_is_merged_key_by_key() -> None:
    values: dict[str, Any] = {"none": None, "list": [], "dict": {}, "kept": "v", "other": 1}
    unknown = {
        "none": True,
        "list": True,
        "dict": True,
        "kept": True,
        "new": True,
        "known": False,
        "block": {"inner": True},
    }
    assert _merge_unknown(values, unknown, "a") == {
        "none": UNKNOWN,
        "list": UNKNOWN,
        "dict": UNKNOWN,
        "kept": "v",
        "other": 1,
        "new": UNKNOWN,
        "block": {"inner": UNKNOWN},
    }
    assert values["none"] is None  # the plan's own object is left as it was


def test_an_object_flag_on_a_scalar_keeps_the_scalar() -> None:
    assert _merge_unknown("v", {}, "a") == "v"
    assert _merge_unknown(None, {"a": False}, "a") is None
    assert _merge_unknown({}, {}, "a") == {}
    assert _merge_unknown({"k": 1}, {}, "a") == {"k": 1}


def test_a_list_is_merged_item_by_item_and_grows_with_unknown_items() -> None:
    values = [{"a": None}, "k", None]
    unknown = [{"a": True}, True, True, True, {"b": True}, [True], False]
    assert _merge_unknown(values, unknown, "a") == [
        {"a": UNKNOWN},
        "k",
        UNKNOWN,
        UNKNOWN,
        {"b": UNKNOWN},
        [UNKNOWN],
    ]
    assert values == [{"a": None}, "k", None]


def test_a_list_flag_on_a_scalar_is_a_list_of_what_it_marks() -> None:
    assert _merge_unknown("s", [True], "a") == [UNKNOWN]


def _nested_objects(levels: int) -> Any:
    value: Any = True
    for _ in range(levels):
        value = {"a": value}
    return value


def _nested_lists(levels: int, leaf: Any = True) -> Any:
    value: Any = leaf
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_up_to_the_bound_is_merged_and_past_it_refused() -> None:
    _merge_unknown(None, _nested_objects(MAX_DEPTH + 1), "a", 0)
    with pytest.raises(TooDeepError) as caught:
        _merge_unknown(None, _nested_objects(MAX_DEPTH + 2), "aws_s3_bucket.b", 0)
    assert caught.value.where == "resource_changes: aws_s3_bucket.b: change.after_unknown"


@pytest.mark.parametrize(
    ("planned", "deepest"),
    # A planned item is merged one level further down than an unknown item is appended.
    [(False, MAX_DEPTH + 1), (True, MAX_DEPTH)],
)
def test_list_nesting_is_bounded_with_or_without_planned_items(planned: bool, deepest: int) -> None:
    def values(levels: int) -> Any:
        return _nested_lists(levels + 1, "x") if planned else None

    _merge_unknown(values(deepest), _nested_lists(deepest), "a", 0)
    with pytest.raises(TooDeepError) as caught:
        _merge_unknown(values(deepest + 1), _nested_lists(deepest + 1), "aws_s3_bucket.b", 0)
    assert caught.value.where == "resource_changes: aws_s3_bucket.b: change.after_unknown"


def test_object_nesting_in_a_planned_block_is_bounded_from_its_depth() -> None:
    # _with_unknown merges a top-level block from depth 1.
    values = {"block": None}
    _with_unknown(values, {"block": _nested_objects(MAX_DEPTH)}, "a", None)
    with pytest.raises(TooDeepError):
        _with_unknown(values, {"block": _nested_objects(MAX_DEPTH + 1)}, "a", None)


def test_top_level_unknowns_the_user_did_not_write_are_provider_defaults() -> None:
    values = {"bucket": "b", "arn": None, "tags": None, "policy": None}
    unknown = {"arn": True, "id": True, "tags_all": True, "policy": True, "bucket": True}
    merged = _with_unknown(values, unknown, "a", frozenset({"bucket", "policy"}))
    # arn and id: written by nobody, so absent; tags_all: the provider's merge, unknown;
    # policy: written, unknown; bucket: planned, kept.
    assert merged == {"bucket": "b", "tags": None, "policy": UNKNOWN, "tags_all": UNKNOWN}
    assert values == {"bucket": "b", "arn": None, "tags": None, "policy": None}


def test_without_a_configuration_every_unknown_counts() -> None:
    merged = _with_unknown({"arn": None}, {"arn": True, "id": True}, "a", None)
    assert merged == {"arn": UNKNOWN, "id": UNKNOWN}


def test_a_whole_object_unknown_marks_what_is_missing() -> None:
    assert _with_unknown({"a": "x"}, True, "a", None) == {"a": "x"}
    assert _with_unknown({}, True, "a", None) == {}


def test_nested_blocks_of_a_top_level_attribute_are_merged() -> None:
    merged = _with_unknown(
        {"rule": [{"id": "r", "days": None}]},
        {"rule": [{"days": True}], "other": {"x": False}},
        "a",
        frozenset({"rule"}),
    )
    assert merged == {"rule": [{"id": "r", "days": UNKNOWN}]}


def test_narrowest_keeps_the_longest_form_of_each_reference() -> None:
    assert _narrowest([]) == []
    assert _narrowest(["aws_s3_bucket.b.id"]) == ["aws_s3_bucket.b.id"]
    assert _narrowest(["aws_s3_bucket.b.id", "aws_s3_bucket.b"]) == ["aws_s3_bucket.b.id"]
    assert _narrowest(["aws_s3_bucket.b[0]", "aws_s3_bucket.b"]) == ["aws_s3_bucket.b[0]"]
    assert _narrowest(["aws_s3_bucket.bc", "aws_s3_bucket.b"]) == [
        "aws_s3_bucket.bc",
        "aws_s3_bucket.b",
    ]
    assert _narrowest(["aws_s3_bucket.b", "aws_sns_topic.t"]) == [
        "aws_s3_bucket.b",
        "aws_sns_topic.t",
    ]
    assert _narrowest(
        ["aws_s3_bucket.b[0].id", "aws_s3_bucket.b[0]", "aws_s3_bucket.b", "var.x"]
    ) == ["aws_s3_bucket.b[0].id", "var.x"]
    assert _narrowest(["a.b", "a.bc.id", "a.bc", "a.b.arn"]) == ["a.bc.id", "a.b.arn"]


def test_dynamic_blocks_are_read_under_the_block_name() -> None:
    expressions = {
        "bucket": {"constant_value": "b"},
        "dynamic": {
            "rule": [{"content": [{"id": {"constant_value": "r1"}}]}, {"content": []}],
            "grant": {"content": [{"type": {"constant_value": "g"}}]},
            "cors_rule": [{"content": {"x": {"constant_value": 1}}}],
            "empty": ["not a spec"],
        },
        "grant": [{"type": {"constant_value": "written"}}],
    }
    assert _dynamic_blocks(expressions) == {
        "bucket": {"constant_value": "b"},
        "rule": [{"id": {"constant_value": "r1"}}],
        "grant": [{"type": {"constant_value": "written"}}],
        "cors_rule": [{"x": {"constant_value": 1}}],
        "empty": [],
    }
    assert _dynamic_blocks({"dynamic": "x", "a": 1}) == {"dynamic": "x", "a": 1}


def test_module_instance_is_the_address_prefix_of_its_module_instances() -> None:
    assert module_instance("aws_s3_bucket.b") == ""
    assert module_instance("module.ci.aws_s3_bucket.b") == "module.ci."
    assert module_instance('module.ci["x"].module.logs[1].aws_s3_bucket.b[0]') == (
        'module.ci["x"].module.logs[1].'
    )
    assert module_instance("modules.aws_s3_bucket.b") == ""
