"""A key repeated in one JSON object, or a resource listed twice, never passes with one of
them silently kept: Terraform and Pulumi write neither, and of two values a reader keeps one
(``json`` the last), which may hide the one that is wrong. Exit 2, naming the file, the line,
the key path; the same for CloudFormation JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_text
from conveyor.rules.model import CheckResult

FIXTURES = Path(__file__).parent / "fixtures"


def only_error(result: CheckResult) -> str:
    assert result.exit_code() == 2
    assert not result.findings
    assert len(result.errors) == 1, result.errors
    return result.errors[0].message


def test_a_repeated_key_in_planned_values_names_its_line_and_path() -> None:
    text = (
        '{"format_version": "1.2",\n'
        ' "planned_values": {"root_module": {"resources": [\n'
        '  {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "values": {\n'
        '    "bucket": "good",\n'
        '    "force_destroy": true,\n'
        '    "force_destroy": false}}]}}}\n'
    )
    message = only_error(check_text(text, name="plan.json"))
    assert message.startswith(
        "plan.json:6: duplicate key 'force_destroy' at "
        "planned_values.root_module.resources[0].values (first at line 5); "
        "`terraform show -json` never writes a key twice"
    )


def test_a_repeated_top_level_key_is_refused() -> None:
    plan = '{"format_version": "1.2", "planned_values": {"root_module": {}},\n'
    text = plan + '"planned_values": {"root_module": {}}}'
    message = only_error(check_text(text, name="plan.json"))
    assert message.startswith("plan.json:2: duplicate key 'planned_values' at the top level")


def test_a_repeated_key_in_a_pulumi_export_names_pulumi() -> None:
    data = json.loads((FIXTURES / "pulumi" / "seed-s1-bad.export.json").read_text())
    text = json.dumps(data, indent=1).replace(
        '"inputs": {', '"inputs": {"bucket": "x", "bucket": "y", ', 1
    )
    message = only_error(check_text(text, name="stack.json"))
    assert "duplicate key 'bucket' at deployment.resources[" in message
    assert "Pulumi never writes a key twice" in message


# The parse counts the keys json kept against the keys the text holds (_keys_at_most) and
# looks for the repeat only when they differ: repeats that text-level counting could miss.
HIDDEN_REPEATS = {
    # whitespace (a space, a line break, a tab) between a key and its colon
    "space": '"force_destroy" :true,"force_destroy":false',
    "line break": '"force_destroy"\n:true,"force_destroy":false',
    "tab": '"force_destroy"\t :true,"force_destroy":false',
    # a key ending in an escaped backslash: its closing quote follows a backslash
    "backslash": '"a\\\\":true,"a\\\\":false',
    # a value beginning with a colon: one more '":' in the text, one key fewer
    "colon value": '"bucket":":b","force_destroy":true,"force_destroy":false',
    # an escaped quote and colon inside a string, and the repeat
    "escaped": '"bucket":"{\\"a\\":1}","bucket":"x"',
}


def test_a_repeat_is_found_however_the_keys_are_spelled() -> None:
    for case, pairs in HIDDEN_REPEATS.items():
        text = (
            '{"format_version":"1.2","planned_values":{"root_module":{"resources":[{"address":'
            '"aws_s3_bucket.b","type":"aws_s3_bucket","values":{' + pairs + "}}]}}}"
        )
        message = only_error(check_text(text, name="plan.json"))
        assert "duplicate key" in message, case
        assert "planned_values.root_module.resources[0].values" in message, case


def test_keys_are_counted_exactly_as_terraform_and_json_write_them() -> None:
    from conveyor.rules.inputs import _keys_at_most

    data = {"a": {"b\\": '{"c": ":d"}', "e": [{"f": "g\\"}]}, "h": '\\":'}
    assert _keys_at_most(json.dumps(data, separators=(",", ":"))) == 5
    assert _keys_at_most(json.dumps(data, indent=2)) == 5
    assert _keys_at_most(json.dumps(data)) == 5  # json's default ", " and ": "
    assert _keys_at_most('{"a" :1}') == -1  # whitespace before a colon: no bound
    assert _keys_at_most('{"a":":"}') == 2  # a value beginning with ':' overcounts


def test_a_repeated_key_in_cloudformation_json_names_line_and_path() -> None:
    text = '{"Resources": {\n "A": {"Type": "AWS::SNS::Topic"},\n "A": {"Type": "X"}}}'
    message = only_error(check_text(text, name="t.json"))
    assert message == (
        "t.json:3: duplicate key 'A' at Resources (first at line 2); CloudFormation keeps "
        "only one of them: remove or rename the other"
    )


def _plan(*addresses: str) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {"address": a, "type": "aws_sns_topic", "values": {"name": a}}
                    for a in addresses
                ]
            }
        },
        "resource_changes": [
            {"address": a, "change": {"actions": ["create"], "after": {"name": a}}}
            for a in addresses
        ],
    }


def test_an_address_with_two_changes_is_refused() -> None:
    data = _plan("aws_sns_topic.a", "aws_sns_topic.b")
    data["resource_changes"].append(copy.deepcopy(data["resource_changes"][0]))
    message = only_error(check_text(json.dumps(data), name="plan.json"))
    assert message.startswith(
        "plan.json: resource_changes[2]: aws_sns_topic.a has a second change (the first is "
        "resource_changes[0])"
    )


def test_a_deposed_object_shares_its_address_without_an_error() -> None:
    data = _plan("aws_sns_topic.a")
    old = copy.deepcopy(data["resource_changes"][0])
    old["deposed"] = "00000001"
    old["change"] = {"actions": ["delete"], "after": None}
    data["resource_changes"].insert(0, old)
    result = check_text(json.dumps(data), name="plan.json")
    assert not result.errors


def test_an_address_listed_twice_in_planned_values_is_refused() -> None:
    data = _plan("aws_sns_topic.a")
    resources = data["planned_values"]["root_module"]["resources"]
    resources.append({**resources[0], "values": {"name": "other", "kms_master_key_id": "k"}})
    message = only_error(check_text(json.dumps(data), name="plan.json"))
    assert message.startswith(
        "plan.json: planned_values: aws_sns_topic.a is listed twice; Terraform lists each "
        "resource instance once"
    )


def test_a_resource_declared_twice_in_the_configuration_is_refused() -> None:
    data = _plan("aws_sns_topic.a")
    config = {"address": "aws_sns_topic.a", "expressions": {"name": {"constant_value": "a"}}}
    data["configuration"] = {"root_module": {"resources": [config, {**config, "expressions": {}}]}}
    message = only_error(check_text(json.dumps(data), name="plan.json"))
    assert message.startswith(
        "plan.json: configuration.root_module.resources[1]: aws_sns_topic.a is declared twice"
    )


def test_a_resource_deferred_twice_is_refused() -> None:
    data = _plan("aws_sns_topic.a")
    change = {
        "address": "aws_sns_topic.d[*]",
        "type": "aws_sns_topic",
        "change": {"actions": ["create"], "after": {"name": "d"}},
    }
    data["deferred_changes"] = [
        {"reason": "instance_count_unknown", "resource_change": change},
        {"reason": "instance_count_unknown", "resource_change": {**change, "change": {}}},
    ]
    message = only_error(check_text(json.dumps(data), name="plan.json"))
    assert message.startswith(
        "plan.json: deferred_changes[1].resource_change: aws_sns_topic.d[*] is deferred twice"
    )


def _export() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "pulumi" / "seed-s1-bad.export.json").read_text())
    return data


def test_a_urn_with_two_different_states_is_refused() -> None:
    data = _export()
    resources = data["deployment"]["resources"]
    bucket = next(r for r in resources if r["type"].startswith("aws:s3/"))
    other = copy.deepcopy(bucket)
    other["inputs"]["forceDestroy"] = True
    resources.append(other)
    message = only_error(check_text(json.dumps(data), name="stack.json"))
    assert f"{bucket['urn']} is listed again with a different state (first at " in message


def test_a_resource_pending_deletion_shares_its_urn_without_an_error() -> None:
    data = _export()
    resources = data["deployment"]["resources"]
    bucket = next(r for r in resources if r["type"].startswith("aws:s3/"))
    resources.append({**copy.deepcopy(bucket), "delete": True, "id": "old-bucket"})
    result = check_text(json.dumps(data), name="stack.json")
    assert not result.errors


def test_the_steps_of_one_replacement_are_read_once() -> None:
    preview = json.loads((FIXTURES / "pulumi" / "seed-s1-bad.preview.json").read_text())
    before = check_text(json.dumps(preview), name="preview.json")
    step = next(s for s in preview["steps"] if s["newState"]["type"].startswith("aws:s3/"))
    step["op"] = "replace"
    preview["steps"].append({**copy.deepcopy(step), "op": "create-replacement"})
    after = check_text(json.dumps(preview), name="preview.json")
    assert not after.errors
    assert [(f.rule, f.resource) for f in after.findings] == [
        (f.rule, f.resource) for f in before.findings
    ]


def _deferred_plan(*changes: dict[str, Any]) -> str:
    data = _plan("aws_sns_topic.a")
    data["deferred_changes"] = [
        {"reason": "instance_count_unknown", "resource_change": c} for c in changes
    ]
    return json.dumps(data)


def _topic(address: str, **change: Any) -> dict[str, Any]:
    return {"address": address, "type": "aws_sns_topic", "mode": "managed", **change}


def test_the_repeated_deferral_message_names_both_entries() -> None:
    change = _topic("aws_sns_topic.d[*]", change={"after": {"name": "d"}})
    message = only_error(check_text(_deferred_plan(change, change), name="plan.json"))
    assert message == (
        "plan.json: deferred_changes[1].resource_change: aws_sns_topic.d[*] is deferred twice "
        "(the first is deferred_changes[0].resource_change); Terraform defers each resource "
        "instance once; give the output of `terraform show -json tfplan` (or of a state file) "
        "unchanged"
    )


def test_deferred_changes_after_a_planned_or_data_one_are_still_read() -> None:
    text = _deferred_plan(
        _topic("aws_sns_topic.a", change={"after": {"name": "a"}}),  # planned already
        {"address": "data.aws_x.y[*]", "type": "aws_x", "mode": "data", "change": {}},
        _topic("aws_sns_topic.d[*]", change={"after": {"name": "d"}}),
    )
    result = check_text(text, name="plan.json")
    assert not result.errors
    assert {f.resource for f in result.findings if f.rule == "CV012"} == {
        "aws_sns_topic.a",
        "aws_sns_topic.d[*]",
    }


def test_a_deferred_change_may_have_no_after_and_its_unknowns_are_unknown() -> None:
    unknown = _topic(
        "aws_sns_topic.k[*]",
        change={"after": {"name": "k"}, "after_unknown": {"kms_master_key_id": True}},
    )
    bare = _topic("aws_sns_topic.n[*]", change={"after_unknown": {"name": True}})
    result = check_text(_deferred_plan(unknown, bare), name="plan.json")
    assert not result.errors
    cv012 = {f.resource for f in result.findings if f.rule == "CV012"}
    # k's key is known only after apply (not missing); n has no after (nothing planned yet).
    assert "aws_sns_topic.k[*]" not in cv012
    assert "aws_sns_topic.n[*]" in cv012


def _configured(root: dict[str, Any]) -> str:
    data = _plan("aws_sns_topic.a")
    data["configuration"] = {"root_module": root}
    return json.dumps(data)


def _fix() -> str:
    return "; give the output of `terraform show -json tfplan` (or of a state file) unchanged"


def _nested_calls(levels: int) -> dict[str, Any]:
    module: dict[str, Any] = {"resources": []}
    for _ in range(levels):
        module = {"module_calls": {"m": {"module": module}}}
    return module


def test_configuration_modules_nest_up_to_fifty_calls() -> None:
    assert not check_text(_configured(_nested_calls(50)), name="plan.json").errors
    message = only_error(check_text(_configured(_nested_calls(51)), name="plan.json"))
    assert message == "plan.json: configuration: modules nested more than 50 deep" + _fix()


def test_configuration_shapes_are_named_by_their_path() -> None:
    cases: dict[str, dict[str, Any]] = {
        "configuration.root_module.resources[1]: must be an object, not a string": {
            "resources": [{"address": "aws_sns_topic.a"}, "x"]
        },
        "configuration.root_module.resources: must be a list, not an object": {"resources": {}},
        "configuration.root_module.module_calls: must be an object, not a list": {
            "module_calls": []
        },
        "configuration.root_module.module_calls.m.module.resources[0]: must be an object, "
        "not a list": {"module_calls": {"m": {"module": {"resources": [[]]}}}},
    }
    for problem, root in cases.items():
        message = only_error(check_text(_configured(root), name="plan.json"))
        assert message == f"plan.json: {problem}{_fix()}"


def test_quotes_after_an_odd_run_of_backslashes_are_counted_over_clusters_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random
    import re

    from conveyor.rules import inputs

    def expected(text: str) -> int:
        runs = re.finditer(r'(?<!\\)(\\+)":', text)
        return sum(len(match.group(1)) % 2 for match in runs)

    rng = random.Random(13)
    texts = [
        "".join(rng.choice('\\\\":ab ') for _ in range(rng.randint(0, 60))) for _ in range(6000)
    ]
    texts += ['{"a":"' + '\\"x\\":1, ' * 200 + '"}', '\\":' + "a" * 600 + '"\\\\\\":"']
    for cluster in (1, 2, 3, 7, 256):
        monkeypatch.setattr(inputs, "_CLUSTER", cluster)
        for text in texts:
            assert inputs._after_odd_backslashes(text) == expected(text), (cluster, text)
