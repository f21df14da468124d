"""The JSON report is written by hand for speed; it must stay exactly what
``json.dumps(as_dict(result), indent=2)`` writes (the contract other tools parse)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules.model import CheckResult, FileError, Finding, Severity
from conveyor.rules.report import json as json_report


def _finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "rule": "CV012",
        "severity": Severity.MEDIUM,
        "file": "stack.json",
        "resource": "Topic",
        "path": "Resources.Topic.Properties",
        "line": 4,
        "message": "SNS topic is not encrypted (no KmsMasterKeyId)",
        "fix": "Set KmsMasterKeyId.",
        "failure_modes": ("FM08",),
    }
    values.update(changes)
    return Finding(**values)


RESULTS = {
    "empty": CheckResult(),
    "findings": CheckResult(
        findings=[
            _finding(),
            _finding(rule="CV090", severity=Severity.INFO, resource="", failure_modes=()),
            # Escapes: quotes, backslashes, control characters, non-ASCII, a lone surrogate.
            _finding(message='a "quoted" \\ value\n\t\x01 é \u2028 \ud800', file="dir/ü.yaml"),
            _finding(failure_modes=("FM08", "FM11"), severity=Severity.CRITICAL, line=10**6),
        ],
        suppressed=[_finding(reason="Name fixed by the partner's contract"), _finding(reason="")],
        errors=[FileError("a.yaml", "a.yaml:3: invalid YAML"), FileError("b", "x", rule="CV1")],
        files=3,
        resources=12,
        seconds=1.23456,
    ),
    "only errors": CheckResult(errors=[FileError("", "'' names no file")], seconds=0.0),
    "a line of another type": CheckResult(findings=[_finding(line=True)]),
}


@pytest.mark.parametrize("name", RESULTS)
def test_the_report_is_what_json_dumps_writes(name: str) -> None:
    result = RESULTS[name]
    expected = json.dumps(json_report.as_dict(result), indent=2) + "\n"
    assert json_report.render(result) == expected


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": [], "b": {}, "c": [{}], "d": [[1, 2.5, -0.0, 1e300, 10**30]]},
        [True, False, None, "é", float("nan"), float("inf")],
        {"nested": {"deeper": {"deepest": ["x"]}}},
        {1: "a key json turns into text"},
        {"a tuple": (1, 2)},
        "a string",
        7,
    ],
)
def test_dumps_indented_is_json_dumps_with_an_indent_of_two(value: object) -> None:
    assert json_report.dumps_indented(value) == json.dumps(value, indent=2)
