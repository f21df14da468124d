"""Spec errors speak YAML, not Python: every wrong value, anywhere in any example, is reported
without pydantic's or Python's own words, and keyed complaints point at their key."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from conveyor.spec import SpecError, parse_spec
from conveyor.spec.models import Spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

# What a user must never read: Python type names and pydantic's phrasing.
INTERNALS = re.compile(
    r"NoneType|\bgot (dict|list|int|float|bool|str|tuple|date)\b|Input should|Value error"
    r"|after validation|Field required|\[type=|pydantic|function-(after|before|wrap)"
    r"|tagged-union|Extra inputs|should (be|have|match)"
)
WRONG_VALUES: list[Any] = [
    None,
    [],
    {},
    "",
    "x",
    0,
    -1,
    10**9,
    True,
    1.5,
    [None],
    {"zz": 1},
    "2020-01-01 as a date",
    "é" * 300,
]


def _key_paths(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _key_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _key_paths(value, (*path, index))


def _replaced(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    changed = copy.deepcopy(data)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_no_wrong_value_anywhere_is_reported_in_python_words(example: Path) -> None:
    original = yaml.safe_load(example.read_text())
    for path in _key_paths(original):
        for value in WRONG_VALUES:
            # JSON is YAML, and dumps a hundred times faster than PyYAML; a bare date in it
            # is read as a YAML date.
            text = json.dumps(_replaced(original, path, value)).replace(
                '"2020-01-01 as a date"', "2020-01-01"
            )
            try:
                parse_spec(text, "conveyor.yaml")
            except SpecError as error:
                for problem in error.problems:
                    assert not INTERNALS.search(problem.message), (path, value, problem)


def _report(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "conveyor.yaml")
    return str(caught.value)


MINIMAL = (ROOT / "examples" / "minimal.yaml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("owner: team-api", "owner: {a: 1}", "owner: expected text, got a mapping (key: value)"),
        ("owner: team-api", "owner: {}", "owner: expected text, got an empty mapping {}"),
        ("app: api", "app: [1]", "app: expected text, got a list (- item)"),
        ("owner: team-api", "owner: yes", "owner: expected text, got true"),
        ("owner: team-api", "owner: 7", "owner: expected text, got the number 7"),
        ("owner: team-api", "owner: 2020-01-01", "owner: expected text, got the date 2020-01-01"),
        (
            "docker: {}",
            "docker: []",
            "build.docker: expected a mapping of keys (key: value), got an empty list []",
        ),
    ],
)
def test_wrong_kinds_of_value_are_named_as_yaml_names_them(
    old: str, new: str, expected: str
) -> None:
    assert old in MINIMAL
    assert expected in _report(MINIMAL.replace(old, new, 1))


def test_a_duplicate_environment_names_its_key_and_line() -> None:
    second = "  - name: staging\n    deploy:\n      ecs: {cluster: c, service: s}\n"
    text = MINIMAL.replace("notifications:", second + "notifications:")
    assert _report(text) == (
        "conveyor.yaml:17: environments[1].name: environment name 'staging' is used twice; "
        "names must differ"
    )


def test_a_duplicate_test_name_and_scan_tool_name_their_keys() -> None:
    tests = (
        "checks:\n  tests:\n    - {name: unit, commands: [make]}\n"
        "    - {name: unit, commands: [make it]}\n"
    )
    report = _report(MINIMAL.replace("environments:", tests + "environments:"))
    assert report == (
        "conveyor.yaml:14: checks.tests[1].name: test name 'unit' is used twice; names must differ"
    )
    scans = "checks:\n  scans: {tools: [trivy, gitleaks, trivy]}\n"
    report = _report(MINIMAL.replace("environments:", scans + "environments:"))
    assert report == (
        "conveyor.yaml:12: checks.scans.tools[2]: scan tool 'trivy' is listed twice; keep one"
    )


def test_health_check_path_says_the_expected_form() -> None:
    text = MINIMAL.replace(
        "ecs: {cluster: api-staging, service: api}", "ecs: {create: {health_check_path: health}}"
    )
    assert _report(text).endswith(
        "environments[0].deploy.ecs.create.health_check_path: 'health' does not have the "
        "expected form: Path the load balancer requests to see the service is healthy; starts "
        "with / — for example: /health"
    )


def test_a_list_item_of_the_wrong_form_gets_an_example() -> None:
    report = _report(MINIMAL.replace("[team-api@example.com]", "[team-api]"))
    assert report.endswith("— for example: oncall@example.com"), report


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for inner in _annotations(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from _models(inner, seen)


def _annotations(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in get_args(annotation):
        yield from _annotations(arg)


def test_every_field_with_a_required_form_describes_it_with_an_example() -> None:
    # A pattern mismatch is reported with the field's description and first example: a field
    # without them left "'health' does not have the expected form" and nothing more.
    lacking = []
    for model in _models(Spec, set()):
        for name, field in model.model_fields.items():
            constraints = [field, *_item_constraints(field.annotation)]
            described = field.description and any(c.examples for c in constraints)
            if any(_pattern(c) for c in constraints) and not described:
                lacking.append(f"{model.__name__}.{name}")
    assert lacking == []


def _item_constraints(annotation: Any) -> list[FieldInfo]:
    return [
        meta
        for inner in _annotations(annotation)
        for meta in getattr(inner, "__metadata__", ())
        if isinstance(meta, FieldInfo)
    ]


def _pattern(field: FieldInfo) -> bool:
    return any(getattr(meta, "pattern", None) for meta in field.metadata)
