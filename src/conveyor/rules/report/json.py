"""The ``--format json`` contract (version 1): one object, stable keys, parsed by other tools."""

from __future__ import annotations

import json
from typing import Any

from conveyor.rules.model import CheckResult, Finding

VERSION = 1


def as_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "version": VERSION,
        "findings": [f.as_dict() for f in result.findings],
        "suppressed": [f.as_dict(with_reason=True) for f in result.suppressed],
        "errors": [e.as_dict() for e in result.errors],
        "not_checked": _not_checked(result),
        "summary": _summary(result),
    }


def _not_checked(result: CheckResult) -> list[dict[str, Any]]:
    """Per Terraform/Pulumi file, the resources no rule read, by type (never findings)."""
    return [
        {"file": file, "resources": sum(types.values()), "types": dict(sorted(types.items()))}
        for file, types in result.unchecked.items()
    ]


def _summary(result: CheckResult) -> dict[str, Any]:
    return {
        "files": result.files,
        "resources": result.resources,
        "findings": len(result.findings),
        "seconds": round(result.seconds, 3),
    }


def render(result: CheckResult) -> str:
    """``json.dumps(as_dict(result), indent=2)`` and a newline, byte for byte; findings are
    written straight from the dataclasses (a report of thousands took longer to write than the
    templates took to check)."""
    try:
        return _render(result)
    except (_UnusualValueError, TypeError):  # a value of another type: the general encoder
        return dumps_indented(as_dict(result)) + "\n"


def _render(result: CheckResult) -> str:
    parts = ['{\n  "version": ', int.__repr__(VERSION), ',\n  "findings": ']
    _findings(result.findings, parts, with_reason=False)
    parts.append(',\n  "suppressed": ')
    _findings(result.suppressed, parts, with_reason=True)
    parts.append(',\n  "errors": ')
    _encode([e.as_dict() for e in result.errors], "\n  ", parts)
    parts.append(',\n  "not_checked": ')
    _encode(_not_checked(result), "\n  ", parts)
    parts.append(',\n  "summary": ')
    _encode(_summary(result), "\n  ", parts)
    parts.append("\n}\n")
    return "".join(parts)


# The C escaper json.dumps itself uses for strings (ensure_ascii).
_STRING = json.encoder.encode_basestring_ascii


class Encoded(str):
    """A value's JSON text as ``json.dumps(value, indent=2)`` writes it alone: written as it is
    where the value stands, its lines indented to that depth (a listing encoded ahead, such as
    SARIF's every rule, need not be parsed to be written again)."""


def _decoded(value: Any) -> Any:
    """``value`` with each Encoded text parsed back (for json.dumps, which would quote it)."""
    kind = type(value)
    if kind is Encoded:
        return json.loads(value)
    if kind is dict:
        return {key: _decoded(item) for key, item in value.items()}
    if kind is list:
        return [_decoded(item) for item in value]
    return value


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=2)``, byte for byte, about five times faster. With an indent
    the standard library encodes through nested Python generators (its C encoder serves only
    compact output): for thousands of findings that took longer than checking the templates.
    Values other than dicts with string keys, lists, strings, numbers, booleans and None go
    through ``json.dumps`` whole (same text, the slow way)."""
    parts: list[str] = []
    try:
        _encode(value, "\n", parts)
    except _UnusualValueError:
        return json.dumps(_decoded(value), indent=2)
    return "".join(parts)


def _findings(findings: list[Finding], parts: list[str], *, with_reason: bool) -> None:
    if not findings:
        parts.append("[]")
        return
    text = _STRING
    # Many findings share a file, a severity, a rule's fix and its failure modes: each is
    # escaped once.
    files: dict[str, str] = {}
    severities: dict[object, str] = {}
    fixes: dict[str, str] = {}
    failure_modes: dict[tuple[str, ...], str] = {}
    separator = "[\n    "
    for finding in findings:
        line = finding.line
        if type(line) is not int:
            parts.append(separator)
            _encode(finding.as_dict(with_reason=with_reason), "\n    ", parts)
            separator = ",\n    "
            continue
        modes = failure_modes.get(finding.failure_modes)
        if modes is None:
            names = finding.failure_modes
            modes = failure_modes[names] = (
                "[\n        " + ",\n        ".join(map(text, names)) + "\n      ]"
                if names
                else "[]"
            )
        file = files.get(finding.file)
        if file is None:
            file = files[finding.file] = text(finding.file)
        severity = severities.get(finding.severity)
        if severity is None:
            severity = severities[finding.severity] = text(finding.severity.label)
        fix = fixes.get(finding.fix)
        if fix is None:
            fix = fixes[finding.fix] = text(finding.fix)
        reason = ',\n      "reason": ' + text(finding.reason) if with_reason else ""
        # One finding, as an item of a list that is a member of the top-level object (json.dumps's
        # indentation at that depth: items at 4 spaces, their members at 6, failure modes at 8);
        # an f-string, not str.format, which parsed its template again for every finding.
        parts.append(
            f'{separator}{{\n      "rule": {text(finding.rule)},\n      "severity": {severity},'
            f'\n      "file": {file},\n      "resource": {text(finding.resource)},'
            f'\n      "path": {text(finding.path)},\n      "line": {int.__repr__(line)},'
            f'\n      "message": {text(finding.message)},\n      "fix": {fix},'
            f'\n      "failure_modes": {modes}{reason}\n    }}'
        )
        separator = ",\n    "
    parts.append("\n  ]")


class _UnusualValueError(Exception):
    """A value _encode leaves to json.dumps."""


def _encode(value: Any, newline: str, parts: list[str]) -> None:
    """Append value's text; ``newline`` is a line break and the indent of value's own line."""
    kind = type(value)
    if kind is str:
        parts.append(_STRING(value))
    elif kind is Encoded:
        # A JSON string holds no raw line break: each one is the text's own indentation.
        parts.append(value.replace("\n", newline))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _UnusualValueError
            parts.append(separator + _STRING(key) + ": ")
            _encode(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list:
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _encode(item, inner, parts)
            separator = "," + inner
        parts.append(newline + "]")
    elif kind is int:
        parts.append(int.__repr__(value))
    elif kind is float or kind is bool or value is None:
        # json's own spelling of floats (NaN, Infinity), true/false and null.
        parts.append(json.dumps(value))
    else:
        raise _UnusualValueError
