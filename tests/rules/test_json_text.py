"""json_text.loads is json.loads: the same value, or the same error, for any text."""

from __future__ import annotations

import json

import pytest

from conveyor.rules import json_text

TEXTS = [
    '{"Version": "2012-10-17", "Statement": []}',
    ' {"a": 1}',
    '{"a": 1}\n',
    "\ufeff{}",
    "[1, 2]",
    '"text"',
    "1e5",
    "NaN",
    "",
    "not json",
    '{"a": }',
    "{} extra",
    '{"a": "\\u00e9\\n"}',
    "[" * 5000 + "]" * 5000,
]


def _outcome(load: object, text: str) -> tuple[str, object]:
    try:
        return ("value", load(text))  # type: ignore[operator]
    except (ValueError, RecursionError) as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("text", TEXTS)
def test_loads_is_json_loads(text: str) -> None:
    assert _outcome(json_text.loads, text) == _outcome(json.loads, text)
