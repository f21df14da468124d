"""Fuzzing `conveyor check` over Terraform plans and Pulumi previews/exports (issue 13): whatever
a plan, preview or export holds, the answer is findings or an error naming the file (exit 2);
never a traceback or an internal error.

Seeds: the fixtures in tests/rules/inputs/fixtures. Each example replaces one value somewhere in
a seed (any depth, any key) by a value of another shape, or drops it. CI replays a fixed set; a
longer random run: ``CONVEYOR_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/fuzz/test_inputs_fuzz.py``
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.rules import check_text
from conveyor.rules.inputs import CLOUDFORMATION, detect

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "tests" / "rules" / "inputs" / "fixtures").glob("*/*.json"))
LONG_RUN = "CONVEYOR_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=int(os.environ.get("CONVEYOR_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.just("04da6b54-80e4-46f7-96ec-b56ff0331ba9"),
    st.just({"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}),
    st.just([]),
    st.just({}),
    st.just([{}]),
    st.just(True),
    st.just("arn:aws:s3:::orders-artifacts-dev/*"),
    st.just({"references": ["aws_s3_bucket.artifacts.id", "var.x"]}),
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*here, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*here, index)))
    return found


def _replace(data: Any, path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    if not path:
        return value
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


@FUZZ
@given(st.data())
def test_a_mutated_plan_preview_or_export_never_crashes(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(SEEDS))
    document = json.loads(seed.read_text())
    paths = _paths(document)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(ODD_VALUES)
    mutated = _replace(document, path, value, drop=data.draw(st.booleans()))
    kind = data.draw(st.sampled_from(["auto", "terraform", "pulumi"]))
    result = check_text(json.dumps(mutated, indent=1), name=seed.name, input_kind=kind)
    assert result.exit_code() in (0, 1, 2)
    for error in result.errors:
        assert "internal error" not in error.message, error.message
        assert error.message.startswith(seed.name)


# The keys the documented formats give a structure to (terraform show -json: planned_values,
# resource_changes, configuration; Pulumi apitype: preview steps, export ResourceV3): the
# property below mutates these, and the list items under them, rather than any value.
STRUCTURE = frozenset(
    {
        # Terraform, https://developer.hashicorp.com/terraform/internals/json-format
        "format_version",
        "planned_values",
        "values",
        "root_module",
        "resources",
        "child_modules",
        "address",
        "mode",
        "type",
        "resource_changes",
        "change",
        "actions",
        "before",
        "after",
        "after_unknown",
        "deposed",
        "configuration",
        "expressions",
        "references",
        "constant_value",
        "depends_on",
        "module_calls",
        "module",
        "outputs",
        # Pulumi, sdk/go/common/apitype (PreviewDigest steps, DeploymentV3, ResourceV3)
        "steps",
        "op",
        "urn",
        "newState",
        "deployment",
        "inputs",
        "id",
        "dependencies",
        "propertyDependencies",
        "provider",
        "external",
        "delete",
        "retainOnDelete",
        "__defaults",
    }
)
# One value of every JSON type, and the empty ones.
JSON_TYPES = st.sampled_from(["x", 7, 1.5, True, None, [], {}, [1], {"k": "v"}])


def _structural(paths: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    """The paths to documented keys ("after") and to the items of documented lists
    ("resources[]"), by key: drawing a key first gives "planned_values" (one path) the chance
    of "type" (one per resource)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for path in paths:
        if path and isinstance(path[-1], str) and path[-1] in STRUCTURE:
            out.setdefault(path[-1], []).append(path)
        elif len(path) > 1 and isinstance(path[-1], int) and path[-2] in STRUCTURE:
            out.setdefault(f"{path[-2]}[]", []).append(path)
    return out


@FUZZ
@given(st.data())
def test_a_structural_deviation_is_reported_never_read_as_nothing(data: st.DataObject) -> None:
    """Drop a documented key or give it a value of another JSON type: the answer is findings
    from resources actually read (exit 0/1), or exit 2 naming the file; never a traceback, and
    never a pass over zero resources for a file read as a plan, preview or export."""
    seed = data.draw(st.sampled_from(SEEDS))
    document = json.loads(seed.read_text())
    by_key = _structural(_paths(document))
    path = data.draw(st.sampled_from(by_key[data.draw(st.sampled_from(sorted(by_key)))]))
    mutated = _replace(document, path, data.draw(JSON_TYPES), drop=data.draw(st.booleans()))
    result = check_text(json.dumps(mutated, indent=1), name=seed.name)
    assert result.exit_code() in (0, 1, 2)
    for error in result.errors:
        assert "internal error" not in error.message, error.message
        assert error.message.startswith(f"{seed.name}"), error.message
    if not result.errors:
        # Read as a plan, preview or export (no error) and passed: it had resources to judge.
        assert detect(mutated) != CLOUDFORMATION
        assert result.resources > 0, path


def test_every_seed_has_structure_to_mutate() -> None:
    # The property above draws from these paths: each seed offers Terraform's or Pulumi's keys.
    for seed in SEEDS:
        keys = set(_structural(_paths(json.loads(seed.read_text()))))
        assert keys & {"resource_changes", "steps", "deployment"}, seed.name
