"""CloudFormation YAML: libyaml's safe loader (no object construction), keeping the line of
every key, rejecting duplicate keys and reading the short forms of intrinsics (``!Ref``,
``!Sub``...). Imported by template.py only when a template is YAML."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import yaml

from conveyor.rules.template import (
    _DIGITS_FIX,
    _MAX_DIGITS,
    TemplateError,
    _DuplicateKeyError,
)

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_INTRINSIC_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
}


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader that keeps key lines, rejects duplicate keys and reads CFN short forms."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, Any] = {}


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[dict[str, Any]]:
    _expect(node, yaml.MappingNode)
    data: dict[str, Any] = {}
    yield data
    key_lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = key_node.value
        else:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain string", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if key in key_lines:
            raise _DuplicateKeyError(key, line, key_lines[key])
        key_lines[key] = line
        data[key] = loader.construct_object(value_node, deep=False)
    loader.lines[id(data)] = key_lines


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[list[Any]]:
    _expect(node, yaml.SequenceNode)
    data: list[Any] = []
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)
    loader.lines[id(data)] = [child.start_mark.line + 1 for child in node.value]


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Timestamps such as 2010-09-09 (AWSTemplateFormatVersion, policy Version) stay strings.
    _expect(node, yaml.ScalarNode)
    return str(node.value)


def _construct_tag(loader: _LineLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    # Rain's directives (!Rain::Module, !Rain::Embed) keep the key of their long form, which
    # rain pkg expands before CloudFormation sees the template.
    key = suffix if suffix.startswith("Rain::") else _INTRINSIC_TAGS.get(suffix, f"Fn::{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = node.value
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = [loader.construct_object(child, deep=False) for child in node.value]
        loader.lines[id(value)] = [child.start_mark.line + 1 for child in node.value]
    else:
        value = loader.construct_object(
            yaml.MappingNode("tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark),
            deep=False,
        )
    wrapper = {key: value}
    # Lines for the short form too, so a finding inside it (an item of a !Join list on its own
    # line) is placed on that item, as it is in the long form.
    loader.lines[id(wrapper)] = {key: node.start_mark.line + 1}
    return wrapper


def _construct_scalar(loader: _LineLoader, node: yaml.Node) -> Any:
    """PyYAML's own scalar constructors, with a bad value (``!!int abc``, ``0x_``, ``!!bool
    maybe``, a 5,000-digit number) reported on its line instead of escaping as a ValueError."""
    _expect(node, yaml.ScalarNode)
    kind, construct = _SCALARS[_tag(node)]
    try:
        return construct(loader, node)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _bad_value(node, kind) from None


def _bad_value(node: yaml.Node, kind: str) -> yaml.constructor.ConstructorError:
    value = str(node.value)
    if value.replace("_", "").lstrip("+-").isdigit() and len(value) > _MAX_DIGITS:
        problem = f"a number of {len(value):,} digits; {_DIGITS_FIX}"
    else:
        problem = f"{_shorten(value)!r} is not a valid {kind}; correct it, or quote it"
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def _expect(node: yaml.Node, node_type: type[yaml.Node]) -> None:
    if not isinstance(node, node_type):
        found = {yaml.ScalarNode: "a scalar", yaml.SequenceNode: "a list"}.get(
            type(node), "a mapping"
        )
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"the tag !!{_tag(node)} cannot apply to {found}; remove the tag",
            node.start_mark,
        )


def _tag(node: yaml.Node) -> str:
    return str(node.tag).rsplit(":", 1)[-1]


def _unsupported(loader: _LineLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the YAML tag !!{_tag(node)} has no meaning in CloudFormation; remove it",
        node.start_mark,
    )


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value):,} characters)"


_YAML = "tag:yaml.org,2002:"
_SCALARS: dict[str, tuple[str, Callable[..., Any]]] = {
    "int": ("integer", yaml.SafeLoader.construct_yaml_int),
    "float": ("number", yaml.SafeLoader.construct_yaml_float),
    "bool": ("boolean (true or false)", yaml.SafeLoader.construct_yaml_bool),
    "null": ("null", yaml.SafeLoader.construct_yaml_null),
    "str": ("string", yaml.SafeLoader.construct_yaml_str),
}
for _tag_name in _SCALARS:
    _LineLoader.add_constructor(_YAML + _tag_name, _construct_scalar)
for _kind in ("binary", "set", "pairs"):
    _LineLoader.add_constructor(_YAML + _kind, _unsupported)
_LineLoader.add_constructor(_YAML + "map", _construct_mapping)
_LineLoader.add_constructor(_YAML + "omap", _construct_mapping)
_LineLoader.add_constructor(_YAML + "seq", _construct_sequence)
_LineLoader.add_constructor(_YAML + "timestamp", _construct_str)
_LineLoader.add_multi_constructor("!", _construct_tag)


def load(text: str, name: str) -> tuple[Any, dict[int, Any]]:
    """The document and the lines of its keys (by ``id`` of each mapping and list)."""
    loader = _LineLoader(text)
    try:
        data = loader.get_single_data()
    except _DuplicateKeyError as exc:
        raise TemplateError(
            f"{name}:{exc.line}: duplicate key {exc.key!r} (first at line {exc.first}); "
            "CloudFormation keeps only one of them: remove or rename the other"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = exc.problem or exc.context or "cannot parse"
        raise TemplateError(f"{where}: invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL, ESC)
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise TemplateError(
            f"{name}:{line}: invalid YAML: unacceptable character #x{code:04x}: {exc.reason}"
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{name}: invalid YAML: {exc}") from None
    except RecursionError:
        raise TemplateError(
            f"{name}: nesting is too deep to be a CloudFormation template; flatten it"
        ) from None
    finally:
        loader.dispose()
    return data, loader.lines
