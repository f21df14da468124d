"""Terraform addresses and references the review of issue 13 broke: module instances, module
outputs and variables, for_each keys holding "]" or unknown at plan time, deposed objects,
dynamic blocks, joins by value that must match the owner's type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules import check_text
from conveyor.rules.inputs import key_lines, load
from conveyor.rules.model import CheckResult

OPEN = dict.fromkeys(
    ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"),
    False,
)
CLOSED = dict.fromkeys(OPEN, True)


def findings(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.rule, f.resource) for f in result.findings}


def on(rule: str, result: CheckResult) -> set[str]:
    return {res for r, res in findings(result) if r == rule}


def planned(address: str, values: dict[str, Any]) -> dict[str, Any]:
    rtype, name = (
        address.split("[")[0].split(".")[-2:]
        if "[" in address.split(".")[-1]
        else (address.split(".")[-2:])
    )
    return {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}


def configured(address: str, expressions: dict[str, Any]) -> dict[str, Any]:
    return {"address": address, "mode": "managed", "expressions": expressions}


def refs(*names: str) -> dict[str, list[str]]:
    return {"references": list(names)}


def bucket_refs(address: str) -> dict[str, Any]:
    return {"bucket": refs(f"{address}.id", address)}


def check(data: dict[str, Any]) -> CheckResult:
    data.setdefault("format_version", "1.2")
    return check_text(json.dumps(data, indent=1), name="plan.json")


# ---- module instances ----------------------------------------------------------------------


def test_a_split_resource_in_a_counted_module_joins_the_bucket_of_its_own_module_instance() -> None:
    modules = [
        {
            "address": f"module.x[{i}]",
            "resources": [
                planned(f"module.x[{i}].aws_s3_bucket.b", {"bucket": f"b{i}"}),
                planned(f"module.x[{i}].aws_s3_bucket_public_access_block.p", block),
            ],
        }
        for i, block in enumerate((CLOSED, OPEN))
    ]
    result = check(
        {
            "planned_values": {"root_module": {"child_modules": modules}},
            "configuration": {
                "root_module": {
                    "module_calls": {
                        "x": {
                            "count_expression": {"constant_value": 2},
                            "module": {
                                "resources": [
                                    configured("aws_s3_bucket.b", {}),
                                    configured(
                                        "aws_s3_bucket_public_access_block.p",
                                        bucket_refs("aws_s3_bucket.b"),
                                    ),
                                ]
                            },
                        }
                    }
                }
            },
        }
    )
    assert on("CV001", result) == {"module.x[1].aws_s3_bucket.b"}


def _module_bucket_plan(block_expressions: dict[str, Any], call: dict[str, Any]) -> dict[str, Any]:
    return {
        "planned_values": {
            "root_module": {
                "resources": [
                    planned("aws_s3_bucket.root", {"bucket": "root"}),
                    planned("aws_s3_bucket_public_access_block.p", CLOSED),
                ],
                "child_modules": [
                    {
                        "address": "module.m",
                        "resources": [planned("module.m.aws_s3_bucket.b", {"bucket": "inner"})],
                    }
                ],
            }
        },
        "configuration": {
            "root_module": {
                "resources": [
                    configured("aws_s3_bucket.root", {}),
                    configured("aws_s3_bucket_public_access_block.p", block_expressions),
                ],
                "module_calls": {"m": call},
            }
        },
    }


def test_a_module_output_in_a_reference_leads_to_the_module_resource() -> None:
    call = {
        "module": {
            "resources": [configured("aws_s3_bucket.b", {})],
            "outputs": {
                "bucket_id": {"expression": refs("aws_s3_bucket.b.id", "aws_s3_bucket.b")},
            },
        }
    }
    data = _module_bucket_plan({"bucket": refs("module.m.bucket_id", "module.m")}, call)
    assert on("CV001", check(data)) == {"aws_s3_bucket.root"}
    # The root output naming the module output exposes the module's bucket too.
    data["configuration"]["root_module"]["outputs"] = {
        "inner": {"expression": refs("module.m.bucket_id", "module.m")}
    }
    loaded = load(json.dumps(data | {"format_version": "1.2"}), name="plan.json", kind="auto")
    assert loaded is not None
    assert loaded[0].outputs == {"inner": {"Value": [{"Ref": "module.m.aws_s3_bucket.b"}]}}


def test_a_module_variable_leads_to_the_resource_its_caller_passes() -> None:
    data = _module_bucket_plan({}, {})
    data["planned_values"]["root_module"]["resources"].pop()  # the block lives in the module
    data["planned_values"]["root_module"]["child_modules"][0]["resources"].append(
        planned("module.m.aws_s3_bucket_public_access_block.p", CLOSED)
    )
    data["configuration"]["root_module"]["resources"].pop()
    data["configuration"]["root_module"]["module_calls"]["m"] = {
        "expressions": {"bucket": refs("aws_s3_bucket.root.id", "aws_s3_bucket.root")},
        "module": {
            "resources": [
                configured("aws_s3_bucket.b", {}),
                configured("aws_s3_bucket_public_access_block.p", {"bucket": refs("var.bucket")}),
            ]
        },
    }
    assert on("CV001", check(data)) == {"module.m.aws_s3_bucket.b"}


# ---- instance keys ---------------------------------------------------------------------------


def test_a_for_each_key_holding_a_bracket_joins_its_own_instance() -> None:
    result = check(
        {
            "planned_values": {
                "root_module": {
                    "resources": [
                        planned('aws_s3_bucket.b["a]b"]', {"bucket": "ab"}),
                        planned('aws_s3_bucket.b["c"]', {"bucket": "c"}),
                        planned('aws_s3_bucket_public_access_block.p["a]b"]', CLOSED),
                    ]
                }
            },
            "configuration": {
                "root_module": {
                    "resources": [
                        configured("aws_s3_bucket.b", {}),
                        configured(
                            "aws_s3_bucket_public_access_block.p",
                            {"bucket": refs("aws_s3_bucket.b[each.key].id", "aws_s3_bucket.b")},
                        ),
                    ]
                }
            },
        }
    )
    assert on("CV001", result) == {'aws_s3_bucket.b["c"]'}


def test_resources_deferred_for_unknown_for_each_keys_are_checked_under_the_wildcard() -> None:
    def deferred(address: str, after: dict[str, Any]) -> dict[str, Any]:
        rtype, name = address.split("[")[0].split(".")
        return {
            "reason": "instance_count_unknown",
            "resource_change": {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "index_unknown": True,
                "change": {"actions": ["create"], "after": after, "after_unknown": {"id": True}},
            },
        }

    result = check(
        {
            "planned_values": {"root_module": {}},
            "deferred_changes": [
                deferred("aws_s3_bucket.b[*]", {"force_destroy": True}),
                deferred("aws_s3_bucket_public_access_block.p[*]", CLOSED),
            ],
            "configuration": {
                "root_module": {
                    "resources": [
                        configured("aws_s3_bucket.b", {"force_destroy": {"constant_value": True}}),
                        configured(
                            "aws_s3_bucket_public_access_block.p",
                            {"bucket": refs("aws_s3_bucket.b[each.key].id", "aws_s3_bucket.b")},
                        ),
                    ]
                }
            },
        }
    )
    assert on("CV002", result) == {"aws_s3_bucket.b[*]"}  # checked, under Terraform's address
    assert on("CV001", result) == set()  # joined with its deferred public access block


# ---- deposed objects -------------------------------------------------------------------------


def test_a_deposed_object_does_not_overwrite_what_the_current_one_knows_only_after_apply() -> None:
    topic = "aws_sns_topic.t"
    current = {
        "address": topic,
        "change": {"actions": ["create"], "after_unknown": {"kms_master_key_id": True}},
    }
    deposed = {
        "address": topic,
        "deposed": "00000001",
        "change": {"actions": ["delete"], "after": None, "after_unknown": {}},
    }
    data = {
        "planned_values": {"root_module": {"resources": [planned(topic, {"name": "t"})]}},
        "resource_changes": [current, deposed],
        "configuration": {
            "root_module": {
                "resources": [
                    configured(
                        topic,
                        {"kms_master_key_id": refs("data.aws_kms_key.k.arn", "data.aws_kms_key.k")},
                    )
                ]
            }
        },
    }
    assert ("CV012", topic) not in findings(check(data))
    data["resource_changes"] = [current]
    assert ("CV012", topic) not in findings(check(data))


# ---- dynamic blocks --------------------------------------------------------------------------

SSE_RULE = [
    {
        "apply_server_side_encryption_by_default": [
            {"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:us-east-1:1:key/k"}
        ],
        "bucket_key_enabled": True,
    }
]


def test_a_block_written_with_dynamic_counts_as_written() -> None:
    # Terraform's JSON leaves dynamic blocks out of `expressions`; the planned values hold them.
    bucket = "aws_s3_bucket.b"
    data = {
        "planned_values": {
            "root_module": {
                "resources": [
                    planned(
                        bucket,
                        {
                            "bucket": "b",
                            "server_side_encryption_configuration": [{"rule": SSE_RULE}],
                        },
                    )
                ]
            }
        },
        "configuration": {
            "root_module": {"resources": [configured(bucket, {"bucket": {"constant_value": "b"}})]}
        },
    }
    assert ("CV002", bucket) not in findings(check(data))


@pytest.mark.parametrize("nested", [False, True])
def test_references_inside_a_dynamic_block_content_are_read_under_the_block_name(
    nested: bool,
) -> None:
    # nested: the block itself is written, its "rule" blocks with ``dynamic`` inside it.
    bucket = "aws_s3_bucket.b"
    content = {
        "rule": [
            {
                "apply_server_side_encryption_by_default": [
                    {
                        "sse_algorithm": {"constant_value": "aws:kms"},
                        "kms_master_key_id": refs("aws_kms_key.k.arn", "aws_kms_key.k"),
                    }
                ]
            }
        ]
    }
    sse = [{"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}]
    data = {
        "planned_values": {
            "root_module": {
                "resources": [
                    planned("aws_kms_key.k", {"enable_key_rotation": True}),
                    planned(bucket, {"bucket": "b", "server_side_encryption_configuration": sse}),
                ]
            }
        },
        "resource_changes": [
            {
                "address": bucket,
                "change": {
                    "after_unknown": {
                        "server_side_encryption_configuration": [
                            {
                                "rule": [
                                    {
                                        "apply_server_side_encryption_by_default": [
                                            {"kms_master_key_id": True}
                                        ]
                                    }
                                ]
                            }
                        ]
                    }
                },
            }
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    configured("aws_kms_key.k", {}),
                    configured(
                        bucket,
                        {
                            "server_side_encryption_configuration": [
                                {
                                    "dynamic": {
                                        "rule": [
                                            {"for_each": refs("var.r"), "content": content["rule"]}
                                        ]
                                    }
                                }
                            ]
                        }
                        if nested
                        else {
                            "dynamic": {
                                "server_side_encryption_configuration": [
                                    {"for_each": refs("var.sse"), "content": [content]}
                                ]
                            }
                        },
                    ),
                ]
            }
        },
    }
    loaded = load(json.dumps(data | {"format_version": "1.2"}), name="plan.json", kind="auto")
    assert loaded is not None
    encryption = loaded[0].resources[bucket].properties["BucketEncryption"]
    default = encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default["KMSMasterKeyID"] == {"Fn::GetAtt": ["aws_kms_key.k", "Arn"]}


# ---- joins by value --------------------------------------------------------------------------


def test_a_join_by_value_skips_a_resource_of_another_type_with_the_same_name() -> None:
    # A state (no configuration): the public access block names its bucket by value only, and
    # a topic earlier in the state has that same name.
    state = {
        "format_version": "1.0",
        "values": {
            "root_module": {
                "resources": [
                    planned("aws_sns_topic.data", {"name": "data", "id": "arn:aws:sns:x:1:data"}),
                    planned("aws_s3_bucket.data", {"bucket": "data", "id": "data"}),
                    planned("aws_s3_bucket_public_access_block.p", {"bucket": "data", **CLOSED}),
                ]
            }
        },
    }
    assert on("CV001", check_text(json.dumps(state), name="state.json")) == set()


def test_key_lines_read_each_address_and_urn_value_once_at_its_first_line() -> None:
    # for_each keys hold escaped quotes and backslashes; "address" inside a value is no key;
    # whitespace around ":" as any JSON writer may put it.
    text = "\n".join(
        [
            "{",
            '  "resource_changes": [{"address": "aws_s3_bucket.b[\\"a\\\\\\"x\\"]"},',
            '    {"address" :\t"aws_s3_bucket.c", "note": "\\"address\\": \\"no\\""},',
            '    {"address": "aws_s3_bucket.c"}],',
            '  "steps": [{"urn": "urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::b"}]',
            "}",
        ]
    )
    json.loads(text)  # valid JSON, as every text key_lines reads
    assert key_lines(text) == {
        'aws_s3_bucket.b["a\\"x"]': 2,
        "aws_s3_bucket.c": 3,
        "urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::b": 5,
    }
