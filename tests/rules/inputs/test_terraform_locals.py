"""Terraform local values: ``terraform show -json`` writes neither the locals nor what they
reference (a module's configuration has outputs, resources, module calls and variables), so a
split resource that names its owner through one (``bucket = local.bucket_id``, ``for_each =
local.buckets``) cannot be joined by reference. Planned values are resolved, so a known value
still joins; an unknown one joins the only possible owner, and with several possible owners
none of them is judged to lack what the split resource sets."""

from __future__ import annotations

import json
from typing import Any

from conveyor.rules import check_text

PAB = {
    "block_public_acls": True,
    "block_public_policy": True,
    "ignore_public_acls": True,
    "restrict_public_buckets": True,
}


def _plan(*resources: tuple[str, dict[str, Any], dict[str, Any]], each: str = "") -> str:
    """``(address, values, expressions)``; ``bucket`` is unknown until apply where the
    expression references something."""
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configs: dict[str, dict[str, Any]] = {}
    for address, values, expressions in resources:
        rtype = address.split("[")[0].split(".")[-2]
        planned.append({"address": address, "type": rtype, "values": values})
        unknown = {k: True for k, e in expressions.items() if "references" in e}
        changes.append(
            {"address": address, "change": {"actions": ["create"], "after_unknown": unknown}}
        )
        config: dict[str, Any] = {"address": address.split("[")[0], "expressions": expressions}
        if each and "[" in address:
            config["for_each_expression"] = {"references": [each]}
        configs.setdefault(config["address"], config)
    return json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {"root_module": {"resources": planned}},
            "resource_changes": changes,
            "configuration": {"root_module": {"resources": list(configs.values())}},
        }
    )


def _bucket(address: str, name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return address, {"bucket": name}, {"bucket": {"constant_value": name}}


def _block(address: str, references: list[str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    values = {"bucket": None, **PAB}
    expressions = {k: {"constant_value": v} for k, v in PAB.items()}
    return address, values, {**expressions, "bucket": {"references": references}}


def cv001(text: str) -> set[str]:
    return {f.resource for f in check_text(text, name="plan.json").findings if f.rule == "CV001"}


def test_the_only_bucket_is_the_owner_named_through_a_local() -> None:
    text = _plan(
        _bucket("aws_s3_bucket.data", "acme-data"),
        _block("aws_s3_bucket_public_access_block.data", ["local.bucket_id"]),
    )
    assert cv001(text) == set()
    result = check_text(text, name="plan.json")
    assert result.unchecked == {}


def test_the_joined_block_is_judged_as_written() -> None:
    address, values, expressions = _block("aws_s3_bucket_public_access_block.data", ["local.b"])
    values["block_public_policy"] = False
    text = _plan(_bucket("aws_s3_bucket.data", "acme-data"), (address, values, expressions))
    findings = check_text(text, name="plan.json").findings
    [hit] = [f for f in findings if f.rule == "CV001"]
    assert hit.resource == "aws_s3_bucket.data"
    assert "block_public_policy" in hit.message


def test_several_possible_owners_are_none_judged_missing_the_block() -> None:
    text = _plan(
        _bucket("aws_s3_bucket.data", "acme-data"),
        _bucket("aws_s3_bucket.logs", "acme-logs"),
        _block("aws_s3_bucket_public_access_block.one", ["local.bucket_id"]),
    )
    assert cv001(text) == set()


def test_without_a_block_naming_a_local_a_missing_block_is_still_found() -> None:
    text = _plan(
        _bucket("aws_s3_bucket.data", "acme-data"),
        _bucket("aws_s3_bucket.logs", "acme-logs"),
        _block("aws_s3_bucket_public_access_block.data", ["aws_s3_bucket.data.id"]),
    )
    assert cv001(text) == {"aws_s3_bucket.logs"}


def test_for_each_over_a_local_joins_the_instance_of_the_same_key() -> None:
    each = "local.buckets"
    text = _plan(
        _bucket('aws_s3_bucket.b["data"]', "acme-data"),
        _bucket('aws_s3_bucket.b["logs"]', "acme-logs"),
        _block('aws_s3_bucket_public_access_block.b["data"]', ["each.value.id", "each.value"]),
        each=each,
    )
    # Only "data" has a block; "logs" has none and is found.
    assert cv001(text) == {'aws_s3_bucket.b["logs"]'}


def test_a_known_value_through_a_local_joins_by_value() -> None:
    address, values, expressions = _block("aws_s3_bucket_public_access_block.x", ["local.name"])
    values["bucket"] = "acme-data"
    text = _plan(
        _bucket("aws_s3_bucket.data", "acme-data"),
        _bucket("aws_s3_bucket.logs", "acme-logs"),
        (address, values, expressions),
    )
    assert cv001(text) == {"aws_s3_bucket.logs"}
