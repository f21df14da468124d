"""Lines of key paths in JSON templates: every key and list item of every shape json writes
(compact, indented, escaped keys, odd spacing) is found on the line where its text starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.rules.template import parse

Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


def _skip_space(text: str, i: int) -> int:
    while text[i] in " \t\r\n":
        i += 1
    return i


def _expected_line(text: str, path: Path) -> int:
    """The line where path's last key or item starts, found by a plain walk of the text that
    decodes each skipped value: slow, and obviously right (the reference for the locator)."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    found = pos
    for step in path:
        i = _skip_space(text, pos + 1)
        index = 0
        while True:
            if isinstance(step, str):
                key, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                start = _skip_space(text, _skip_space(text, end) + 1)  # past the colon
            else:
                key, start = index, i
            if key == step:
                found, pos = i, start
                break
            i = _skip_space(text, decoder.raw_decode(text, start)[1])
            i = _skip_space(text, i + 1) if text[i] == "," else i
            index += 1
    return text.count("\n", 0, found) + 1


KEYS = st.text(alphabet=st.sampled_from('aZ09_-."\\é/\u2028 \t'), min_size=1, max_size=6)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.parametrize(
    "dump",
    [
        lambda d: json.dumps(d),
        lambda d: json.dumps(d, indent=2),
        lambda d: json.dumps(d, indent=1, ensure_ascii=False),
        lambda d: json.dumps(d, separators=(",", ":")),
        lambda d: json.dumps(d, indent="\t", separators=(" ,\n", " :\r\n ")),
    ],
    ids=["default", "indent", "unicode", "compact", "odd-spacing"],
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(KEYS, VALUES, max_size=4))
def test_every_key_and_item_is_on_its_line(dump: Any, body: dict[str, Any]) -> None:
    data = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Properties": body}}}
    text = dump(data)
    template = parse(text, name="t.json", suffix=".json")
    for path in _paths(data):
        expected = _expected_line(text, path)
        assert template.line(path) == expected, path
        assert template.line(path) == expected, path  # a second time, from what was kept


def test_a_path_that_is_not_there_falls_back_to_its_deepest_key() -> None:
    text = '{\n "Resources": {\n  "R": {\n   "Type": "AWS::SNS::Topic"\n  }\n }\n}\n'
    template = parse(text, name="t.json", suffix=".json")
    assert template.line(("Resources", "R", "Properties", "X")) == 3
    assert template.line(("Resources", "Nope")) == 2
    assert template.line(("Resources", "R", "Type", 0)) == 4
    assert template.resource_line(template.resources["R"], "Type") == 4
    assert template.resource_line(template.resources["R"], "") == 3
