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
    MAX_ALIAS_EXPANSION,
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
        self.merged = 0  # keys copied by merge keys (<<), bounded like alias expansion


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[dict[str, Any]]:
    _expect(node, yaml.MappingNode)
    data: dict[str, Any] = {}
    yield data
    key_lines: dict[str, int] = {}
    for key_node, value_node in _own_pairs(node):
        key = key_node.value
        line = key_node.start_mark.line + 1
        if key in key_lines:
            raise _DuplicateKeyError(key, line, key_lines[key])
        key_lines[key] = line
        data[key] = loader.construct_object(value_node, deep=False)
    # A merge key (<<: *anchor) is expanded as aliases are (`aws cloudformation package` and
    # SAM expand both before CloudFormation, which refuses them, reads the template:
    # https://github.com/aws/aws-cli/pull/3827,
    # https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/613; cfn-lint
    # expands them too, aws-cloudformation/cfn-lint#4028): the mapping's own keys win,
    # then the merged mappings in the order written. Read from the nodes, not from what was
    # constructed: an anchor's mapping may not be filled in yet. A merged key keeps its line.
    for key_node, value_node in _merged_pairs(loader, node):
        if key_node.value not in key_lines:
            key_lines[key_node.value] = key_node.start_mark.line + 1
            data[key_node.value] = loader.construct_object(value_node, deep=False)
    loader.lines[id(data)] = key_lines


_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"  # a plain mapping: a tagged one (!Ref {...}) is no merge source
_Pairs = list[tuple[yaml.ScalarNode, yaml.Node]]


def _own_pairs(node: yaml.MappingNode) -> _Pairs:
    pairs: _Pairs = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain string", key_node.start_mark
            )
        if key_node.tag != _MERGE:
            pairs.append((key_node, value_node))
    return pairs


def _merged_pairs(loader: _LineLoader, node: yaml.MappingNode) -> _Pairs:
    """The pairs `node`'s merge keys bring in, nearest first: each merged mapping's own keys,
    then what it merges in turn (depth first, without recursion: chains can be long)."""
    pairs: _Pairs = []
    path = [node]  # the mappings whose merges are being read, outermost first
    on_path = {id(node)}
    pending = [iter(_merge_sources(node))]
    while pending:
        found = next(pending[-1], None)
        if found is None:
            pending.pop()
            on_path.discard(id(path.pop()))
            continue
        source, key_node = found
        if id(source) in on_path:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a merge key (<<) merges the mapping it is in (a recursive anchor); remove it",
                key_node.start_mark,
            )
        own = _own_pairs(source)
        # Chains of merges copy keys again at every step: bounded like alias expansion.
        loader.merged += len(own) + 1
        if loader.merged > MAX_ALIAS_EXPANSION:
            raise _MergeBombError
        pairs.extend(own)
        path.append(source)
        on_path.add(id(source))
        pending.append(iter(_merge_sources(source)))
    return pairs


def _merge_sources(node: yaml.MappingNode) -> list[tuple[yaml.MappingNode, yaml.Node]]:
    """The mappings `node` merges, in the order written, each with its merge key."""
    found: list[tuple[yaml.MappingNode, yaml.Node]] = []
    for key_node, value_node in node.value:
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE):
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        if not sources or not all(source.tag == _MAP for source in sources):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a merge key (<<) takes a mapping or a list of mappings (<<: *anchor); "
                "write the keys out",
                key_node.start_mark,
            )
        found.extend((source, key_node) for source in sources)
    return found


class _MergeBombError(Exception):
    pass


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
    except _MergeBombError:
        raise TemplateError(
            f"{name}: YAML merge keys (<<) copy more than {MAX_ALIAS_EXPANSION:,} keys (an "
            "alias bomb?); CloudFormation templates do not need anchors: write the values out"
        ) from None
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
