"""Malformed input never lies (issue 13): each way a plan, preview or export can leave the
documented shape is exit 2 with the file, the key path and what was expected; never a pass
over the resources left unread.

Shapes: Terraform https://developer.hashicorp.com/terraform/internals/json-format (plan:
planned_values.root_module, resource_changes[].change.{actions,after,after_unknown}; state:
values.root_module); Pulumi apitype (sdk/go/common/apitype): preview steps[].{op,newState},
export deployment.resources[], ResourceV3 fields. The property over all of them is in
tests/fuzz/test_inputs_fuzz.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.rules import check_text

FIXTURES = Path(__file__).parent / "fixtures"
PLAN = json.loads((FIXTURES / "terraform" / "seed-s1-bad.plan.json").read_text())
PREVIEW = json.loads((FIXTURES / "pulumi" / "seed-s1-bad.preview.json").read_text())
EXPORT = json.loads((FIXTURES / "pulumi" / "seed-s1-bad.export.json").read_text())
TF_FIX = "give the output of `terraform show -json tfplan` (or of a state file) unchanged"
PULUMI_FIX = "give the output of `pulumi preview --json` or `pulumi stack export` unchanged"


def _edited(document: dict[str, Any], edit: Callable[[dict[str, Any]], Any]) -> str:
    data = copy.deepcopy(document)
    edit(data)
    return json.dumps(data, indent=1)


def _errors(text: str, name: str, kind: str = "auto") -> list[str]:
    result = check_text(text, name=name, input_kind=kind)
    assert result.exit_code() == 2, result.findings
    return [e.message for e in result.errors]


def test_the_seeds_themselves_are_read() -> None:
    for document, name in ((PLAN, "plan.json"), (PREVIEW, "p.json"), (EXPORT, "e.json")):
        result = check_text(json.dumps(document), name=name)
        assert not result.errors and result.resources > 5


def _change(index: int, **change: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["resource_changes"][index]["change"].update(change)


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (_change(3, after="x"), "resource_changes[3].change.after", "an object, not a string"),
        (_change(3, after=[{}]), "resource_changes[3].change.after", "an object, not a list"),
        (_change(0, after=7), "resource_changes[0].change.after", "an object, not int"),
        (
            _change(2, after_unknown=[True]),
            "resource_changes[2].change.after_unknown",
            "must be an object, not a list",
        ),
        (
            lambda d: d["resource_changes"][4].update(deposed=1),
            "resource_changes[4].deposed",
            "must be a string, not int",
        ),
        (
            lambda d: d["resource_changes"][4].update(mode="manged"),
            "resource_changes[4].mode",
            'must be "managed" or "data", not a string \'manged\'',
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"][2].update(mode=None),
            "planned_values.root_module.resources[2].mode",
            'must be "managed" or "data", not null None',
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"][2].update(values=None),
            "planned_values.root_module.resources[2].values",
            "must be an object, not null",
        ),
        (
            lambda d: d.pop("planned_values"),
            "planned_values",
            "missing: a plan lists what it will create under planned_values.root_module",
        ),
        (
            lambda d: d["planned_values"].pop("root_module"),
            "planned_values.root_module",
            "missing (the resources to check are listed there)",
        ),
        (
            lambda d: d["planned_values"]["root_module"].pop("resources"),
            "resource_changes[0]",
            "aws_s3_bucket.artifacts will exist after apply, but planned_values lists no "
            "resource at that address",
        ),
        (
            lambda d: d["planned_values"]["root_module"]["resources"].pop(5),
            "resource_changes[5]",
            "aws_codebuild_project.build will exist after apply, but planned_values lists no "
            "resource at that address",
        ),
    ],
)
def test_a_plan_off_the_documented_shape_names_the_key_and_what_it_expects(
    edit: Callable[[dict[str, Any]], Any], where: str, problem: str
) -> None:
    messages = _errors(_edited(PLAN, edit), "plan.json")
    assert len(messages) == 1
    assert messages[0].startswith(f"plan.json: {where}: ")
    assert problem in messages[0]
    assert messages[0].endswith(TF_FIX)


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000, "1\u0661", "-1", "", "1e3"])
def test_a_format_version_that_is_no_version_is_refused_not_an_internal_error(
    version: str,
) -> None:
    # "²".isdigit() and 5,000 digits passed the check, then int() raised: an internal error.
    (message,) = _errors(_edited(PLAN, lambda d: d.update(format_version=version)), "plan.json")
    assert message == f'plan.json: format_version: must be a version string such as "1.2"; {TF_FIX}'


def test_a_state_without_its_root_module_is_refused_and_an_empty_one_read() -> None:
    state = {"format_version": "1.0", "values": {"outputs": {}}}
    assert _errors(json.dumps(state), "state.json") == [
        f"state.json: values.root_module: missing (the resources to check are listed "
        f"there); {TF_FIX}"
    ]
    state["values"] = {"root_module": {}}  # a module without resources: "resources" omitted
    result = check_text(json.dumps(state), name="state.json")
    assert result.exit_code() == 0 and not result.errors


def test_a_deleted_resource_and_a_data_source_need_no_planned_values() -> None:
    data = copy.deepcopy(PLAN)
    gone = data["resource_changes"][0]
    gone["change"].update(actions=["delete"], after=None, after_unknown={})
    read = copy.deepcopy(data["resource_changes"][1])
    read.update(address="data.aws_iam_policy_document.x", mode="data")
    read["change"].update(actions=["read"])
    data["resource_changes"].append(read)
    data["planned_values"]["root_module"]["resources"].pop(0)
    result = check_text(json.dumps(data), name="plan.json")
    assert not result.errors and result.resources > 5


def _step(index: int, **fields: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["steps"][index].update(fields)


def _drop_new_state(index: int) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["steps"][index].pop("newState")


def _state(index: int, **fields: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d["deployment"]["resources"][index].update(fields)


@pytest.mark.parametrize(
    ("document", "edit", "where", "problem"),
    [
        (PREVIEW, _step(1, op=3), "steps[1].op", 'must be a string such as "create", not int'),
        (PREVIEW, _drop_new_state(2), "steps[2].newState", "missing: a 'create' step carries it"),
        (
            PREVIEW,
            lambda d: d.update(steps=[]),
            "steps",
            "an empty list, and every Pulumi stack lists at least itself (pulumi:pulumi:Stack)",
        ),
        (
            PREVIEW,
            lambda d: d["steps"][3]["newState"].update(outputs=[]),
            "steps[3].newState.outputs",
            "must be an object, not a list",
        ),
        (EXPORT, lambda d: d["deployment"].update(resources=None), "deployment.resources", "list"),
        (
            EXPORT,
            lambda d: d["deployment"].update(resources=[]),
            "deployment.resources",
            "an empty list, and every Pulumi stack lists at least itself (pulumi:pulumi:Stack)",
        ),
        (EXPORT, _state(1, id=5), "deployment.resources[1].id", "must be a string, not int"),
        (
            EXPORT,
            _state(2, dependencies="urn:pulumi:x"),
            "deployment.resources[2].dependencies",
            "must be a list, not a string",
        ),
        (
            EXPORT,
            _state(2, dependencies=[{"urn": "x"}]),
            "deployment.resources[2].dependencies",
            "must be a list of URN strings",
        ),
        (
            EXPORT,
            _state(2, propertyDependencies={"name": "urn:pulumi:x"}),
            "deployment.resources[2].propertyDependencies.name",
            "must be a list of URN strings, not a string",
        ),
        (
            EXPORT,
            _state(3, provider=["p"]),
            "deployment.resources[3].provider",
            "must be a string, not a list",
        ),
        (
            EXPORT,
            _state(3, external="yes"),
            "deployment.resources[3].external",
            "must be true or false, not a string",
        ),
        (
            EXPORT,
            _state(0, outputs="x"),
            "deployment.resources[0].outputs",
            "must be an object, not a string",
        ),
    ],
)
def test_a_preview_or_export_off_the_documented_shape_names_the_key_and_what_it_expects(
    document: dict[str, Any],
    edit: Callable[[dict[str, Any]], Any],
    where: str,
    problem: str,
) -> None:
    messages = _errors(_edited(document, edit), "stack.json", kind="pulumi")
    assert len(messages) == 1
    assert messages[0].startswith(f"stack.json: {where}: ")
    assert problem in messages[0]
    assert messages[0].endswith(PULUMI_FIX)


def test_a_delete_step_carries_no_new_state() -> None:
    data = copy.deepcopy(PREVIEW)
    data["steps"][2] = {"op": "delete", "urn": data["steps"][2]["urn"]}
    result = check_text(json.dumps(data), name="preview.json")
    assert not result.errors and result.resources > 3


HUGE = "1" * 5000


@pytest.mark.parametrize(
    ("text", "kind", "values"),
    [
        (json.dumps(PLAN).replace('"1.2"', HUGE, 1), "auto", "Terraform plan or state value"),
        (json.dumps(PLAN).replace('"1.2"', HUGE, 1), "terraform", "Terraform plan or state value"),
        (
            json.dumps(PREVIEW).replace('"steps"', f'"n": {HUGE}, "steps"', 1),
            "auto",
            "Pulumi preview or export value",
        ),
        (
            json.dumps(EXPORT).replace('"version": 3', f'"version": {HUGE}', 1),
            "pulumi",
            "Pulumi preview or export value",
        ),
        (
            json.dumps(
                {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "steps": int(HUGE[:9])}
            ).replace(HUGE[:9], HUGE),
            "auto",
            "CloudFormation value",
        ),
    ],
)
def test_a_number_past_the_digit_limit_names_the_kind_of_input(
    text: str, kind: str, values: str
) -> None:
    assert _errors(text, "in.json", kind) == [
        f"in.json:1: a number of 5,000 digits; conveyor reads numbers of up to 4,300 digits "
        f"and no {values} needs more: shorten it, or quote it to make it a string"
    ]


def test_the_command_line_exits_2_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(_edited(PLAN, _change(3, after="x")))
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: resource_changes[3].change.after: must be an object, not a string" in (
        result.output
    )
    assert "Traceback" not in result.output


def _deferred(**change: Any) -> dict[str, Any]:
    # A plan made with -allow-deferral: a resource whose for_each keys are not known yet.
    resource_change = {
        "address": "aws_sns_topic.t[*]",
        "mode": "managed",
        "type": "aws_sns_topic",
        "change": {"actions": ["create"], "after": {"name": "t"}, "after_unknown": {}},
        **change,
    }
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {}},
        "deferred_changes": [
            {"reason": "instance_count_unknown", "resource_change": resource_change}
        ],
    }


@pytest.mark.parametrize(
    ("document", "where", "problem"),
    [
        (
            {**_deferred(), "deferred_changes": {}},
            "deferred_changes",
            "must be a list, not an object",
        ),
        (
            {**_deferred(), "deferred_changes": [7]},
            "deferred_changes[0]",
            "must be an object, not int",
        ),
        (
            {**_deferred(), "deferred_changes": [{"resource_change": []}]},
            "deferred_changes[0].resource_change",
            "must be an object, not a list",
        ),
        (
            _deferred(type=None),
            "deferred_changes[0].resource_change",
            'a change needs "address" and "type" strings',
        ),
        (
            _deferred(address=["aws_sns_topic.t[*]"]),
            "deferred_changes[0].resource_change",
            'a change needs "address" and "type" strings',
        ),
        (
            _deferred(mode="manged"),
            "deferred_changes[0].resource_change.mode",
            'must be "managed" or "data", not a string \'manged\'',
        ),
        (
            _deferred(change="create"),
            "deferred_changes[0].resource_change.change",
            "must be an object, not a string",
        ),
        (
            _deferred(change={"after": ["t"]}),
            "deferred_changes[0].resource_change.change.after",
            "must be an object, not a list",
        ),
    ],
)
def test_a_deferred_change_off_the_documented_shape_names_the_key(
    document: dict[str, Any], where: str, problem: str
) -> None:
    assert _errors(json.dumps(document), "plan.json") == [
        f"plan.json: {where}: {problem}; {TF_FIX}"
    ]


def test_a_well_formed_deferred_change_is_read_and_a_deferred_data_source_skipped() -> None:
    document = _deferred()
    data_source = {**document["deferred_changes"][0]["resource_change"], "mode": "data"}
    data_source["address"] = "data.aws_sns_topic.x[*]"
    document["deferred_changes"].append({"resource_change": data_source})
    result = check_text(json.dumps(document), name="plan.json")
    assert not result.errors and result.resources == 1
    assert {f.resource for f in result.findings if f.rule == "CV012"} == {"aws_sns_topic.t[*]"}


def _configured(**resource: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(PLAN)
    data["configuration"]["root_module"]["resources"][1].update(resource)
    return data


def _called(call: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(PLAN)
    data["configuration"]["root_module"]["module_calls"] = {"ci": call}
    return data


@pytest.mark.parametrize(
    ("document", "where", "problem"),
    [
        (
            _configured(address=None),
            "configuration.root_module.resources[1]",
            'a resource needs an "address" string',
        ),
        (
            _configured(expressions=[]),
            "configuration.root_module.resources[1].expressions",
            "must be an object, not a list",
        ),
        (
            _configured(depends_on="aws_iam_role.build"),
            "configuration.root_module.resources[1].depends_on",
            'must be a list of addresses such as ["aws_iam_role.r"], not a string',
        ),
        (_called([]), "configuration.root_module.module_calls.ci", "must be an object, not a list"),
        (
            _called({"module": "x"}),
            "configuration.root_module.module_calls.ci.module",
            "must be an object, not a string",
        ),
        (
            _called({"module": {"resources": [{"expressions": {}}]}}),
            "configuration.root_module.module_calls.ci.module.resources[0]",
            'a resource needs an "address" string',
        ),
    ],
)
def test_a_configuration_off_the_documented_shape_names_the_key(
    document: dict[str, Any], where: str, problem: str
) -> None:
    # The configuration says what the user wrote and what references what: read without it, a
    # resource would be judged on guesses.
    assert _errors(json.dumps(document), "plan.json") == [
        f"plan.json: {where}: {problem}; {TF_FIX}"
    ]
