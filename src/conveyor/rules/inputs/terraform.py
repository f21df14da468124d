"""``terraform show -json`` output (a saved plan, or state) -> records.

Format: https://developer.hashicorp.com/terraform/internals/json-format
- ``planned_values`` (plan) or ``values`` (state): ``root_module`` with ``resources`` and nested
  ``child_modules``; each resource has ``address``, ``mode``, ``type``, ``values``.
- ``resource_changes[].change.after_unknown``: the same shape as ``values``, ``true`` where a
  value is known only after apply (such values are left out of ``planned_values``).
- ``configuration.root_module``: per resource ``expressions`` (``constant_value`` or
  ``references``; nested blocks as lists of expression objects) and ``depends_on``; module calls
  under ``module_calls.<name>.module``, addressed relative to the module.
Split resources are joined to their owner through these ``references``; a state file (no
configuration) joins by the owner's id/name/ARN value instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conveyor.rules.inputs.records import UNKNOWN, Record
from conveyor.rules.template import TemplateError

_FIX = "give the output of `terraform show -json tfplan` (or of a state file) unchanged"
_NOT_RESOURCES = ("var.", "local.", "each.", "count.", "path.", "terraform.", "self.", "module.")
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")
_REFERENCE = re.compile(r"^([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)(\[[^\]]*\])?")
_TRAILING_KEY = re.compile(r"\[[^\]]*\]$")


def is_plan(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "format_version" in data
        and any(
            key in data for key in ("planned_values", "values", "resource_changes", "configuration")
        )
    )


@dataclass
class _Config:
    expressions: dict[str, Any]
    depends_on: list[str]
    module: str  # address prefix of the module the resource is declared in ("" or "module.a.")


@dataclass
class _Reader:
    name: str
    configs: dict[str, _Config] = field(default_factory=dict)
    # configuration address (no instance keys) -> instance addresses
    instances: dict[str, list[str]] = field(default_factory=dict)
    has_config: bool = False

    def fail(self, where: str, problem: str) -> TemplateError:
        return TemplateError(f"{self.name}: {where}: {problem}; {_FIX}")


def read(data: dict[str, Any], *, name: str) -> list[Record]:
    reader = _Reader(name)
    version = data.get("format_version")
    if not isinstance(version, str) or not version.split(".", 1)[0].isdigit():
        raise reader.fail("format_version", 'must be a version string such as "1.2"')
    if int(version.split(".", 1)[0]) > 1:
        raise reader.fail(
            "format_version",
            f"version {version} is newer than conveyor reads (1.x); upgrade conveyor, or",
        )
    unknowns = _after_unknown(data, reader)
    config = data.get("configuration")
    if config is not None:
        root = _mapping(config, "configuration", reader).get("root_module")
        if root is not None:
            reader.has_config = True
            _read_config(_mapping(root, "configuration.root_module", reader), "", reader)
    values_key = "planned_values" if "planned_values" in data else "values"
    values = data.get(values_key)
    if values is None:
        return []
    root_module = _mapping(values, values_key, reader).get("root_module")
    if root_module is None:
        return []
    raw: list[dict[str, Any]] = []
    where = f"{values_key}.root_module"
    _collect(_mapping(root_module, where, reader), where, raw, reader)
    for resource in raw:
        address = resource["address"]
        base = _INSTANCE_KEY.sub("", address) if "[" in address else address
        reader.instances.setdefault(base, []).append(address)
    return [_record(resource, unknowns, reader) for resource in raw]


def _mapping(value: Any, where: str, reader: _Reader) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise reader.fail(where, f"must be an object, not {_kind(value)}")
    return value


def _list(value: Any, where: str, reader: _Reader) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise reader.fail(where, f"must be a list, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _collect(
    module: dict[str, Any],
    where: str,
    out: list[dict[str, Any]],
    reader: _Reader,
    depth: int = 0,
) -> None:
    if depth > 50:
        raise reader.fail(where, "modules nested more than 50 deep")
    # The path of an item is spelled out only for a message: a plan of 10^3 resources would
    # otherwise build 10^3 strings that no one reads.
    for index, resource in enumerate(_list(module.get("resources"), f"{where}.resources", reader)):
        if not isinstance(resource, dict):
            _mapping(resource, f"{where}.resources[{index}]", reader)  # raises
        if not isinstance(resource.get("address"), str) or not isinstance(
            resource.get("type"), str
        ):
            raise reader.fail(
                f"{where}.resources[{index}]", 'a resource needs "address" and "type" strings'
            )
        if resource.get("mode", "managed") != "managed":
            continue  # data sources are read, not created
        values = resource.get("values")
        if values is not None and not isinstance(values, dict):
            _mapping(values, f"{where}.resources[{index}].values", reader)  # raises
        out.append(resource)
    children = _list(module.get("child_modules"), f"{where}.child_modules", reader)
    for index, child in enumerate(children):
        at = f"{where}.child_modules[{index}]"
        _collect(_mapping(child, at, reader), at, out, reader, depth + 1)


def _after_unknown(data: dict[str, Any], reader: _Reader) -> dict[str, Any]:
    out: dict[str, Any] = {}
    changes = _list(data.get("resource_changes"), "resource_changes", reader)
    for index, change in enumerate(changes):
        if not isinstance(change, dict):
            _mapping(change, f"resource_changes[{index}]", reader)  # raises
        address = change.get("address")
        body = change.get("change")
        if not isinstance(address, str) or body is None:
            raise reader.fail(
                f"resource_changes[{index}]",
                'a change needs an "address" string and a "change" object',
            )
        if not isinstance(body, dict):
            _mapping(body, f"resource_changes[{index}].change", reader)  # raises
        unknown = body.get("after_unknown")
        if unknown is not None:
            out[address] = unknown
    return out


def _read_config(module: dict[str, Any], prefix: str, reader: _Reader, depth: int = 0) -> None:
    if depth > 50:
        raise reader.fail("configuration", "modules nested more than 50 deep")
    where = f"configuration.{prefix}root_module" if not prefix else f"configuration {prefix}"
    for index, resource in enumerate(_list(module.get("resources"), f"{where}.resources", reader)):
        if not isinstance(resource, dict):
            _mapping(resource, f"{where}.resources[{index}]", reader)  # raises
        address = resource.get("address")
        if not isinstance(address, str):
            continue
        expressions = resource.get("expressions")
        depends = resource.get("depends_on")
        reader.configs[prefix + address] = _Config(
            expressions if isinstance(expressions, dict) else {},
            [d for d in depends if isinstance(d, str)] if isinstance(depends, list) else [],
            prefix,
        )
    calls = module.get("module_calls")
    if isinstance(calls, dict):
        for call_name, call in calls.items():
            inner = call.get("module") if isinstance(call, dict) else None
            if isinstance(inner, dict):
                _read_config(inner, f"{prefix}module.{call_name}.", reader, depth + 1)


def _record(resource: dict[str, Any], unknowns: dict[str, Any], reader: _Reader) -> Record:
    address: str = resource["address"]
    values = resource.get("values") or {}
    unknown = unknowns.get(address)
    if unknown:
        merged = _merge_unknown(values, unknown)
        values = merged if isinstance(merged, dict) else values
    base = _INSTANCE_KEY.sub("", address) if "[" in address else address
    config = reader.configs.get(base)
    rec = Record(
        key=address,
        name=address,
        type=resource["type"],
        values=values,
    )
    if config is not None:
        trailing = _TRAILING_KEY.search(address)
        instance = trailing.group(0) if trailing else ""
        refs: dict[str, list[str]] = {}
        computed: dict[str, list[str]] = {}
        _flatten(config.expressions, "", refs, computed, config.module, instance, reader)
        rec.refs = refs
        rec.computed = frozenset(c.split(".", 1)[0] for c in computed)
        rec.derived = {c: names for c, names in computed.items() if "." in c}
        rec.declared = frozenset(config.expressions)
        rec.depends_on = [
            key for d in config.depends_on for key in _resolve(d, config.module, instance, reader)
        ]
        # A provider default known only after apply is not a value the user chose: absent.
        rec.values = {k: v for k, v in rec.values.items() if v is not UNKNOWN or k in rec.declared}
    elif reader.has_config:
        rec.declared = frozenset(k for k, v in values.items() if v is not UNKNOWN)
    return rec


def _merge_unknown(values: Any, unknown: Any) -> Any:
    if unknown is True:
        return UNKNOWN if values is None or values == [] or values == {} else values
    if isinstance(unknown, dict):
        base = dict(values) if isinstance(values, dict) else {}
        for key, flag in unknown.items():
            merged = _merge_unknown(base.get(key), flag)
            if merged is not None:
                base[key] = merged
        return base if base or isinstance(values, dict) else values
    if isinstance(unknown, list):
        items = list(values) if isinstance(values, list) else []
        for index, flag in enumerate(unknown):
            if index < len(items):
                items[index] = _merge_unknown(items[index], flag)
            elif flag is True:
                items.append(UNKNOWN)
            elif isinstance(flag, dict | list):
                items.append(_merge_unknown(None, flag))
        return items
    return values


def _flatten(
    expressions: Any,
    path: str,
    refs: dict[str, list[str]],
    computed: dict[str, list[str]],
    module: str,
    instance: str,
    reader: _Reader,
    depth: int = 0,
) -> None:
    if depth > 30 or not isinstance(expressions, dict):
        return
    for key, expr in expressions.items():
        here = f"{path}.{key}" if path else str(key)
        if isinstance(expr, dict) and "constant_value" in expr and "references" not in expr:
            continue  # a constant (the common case)
        blocks = expr if isinstance(expr, list) else [expr]
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if "references" in block or "constant_value" in block:
                names = block.get("references")
                if isinstance(names, list) and names:
                    computed[here] = [n for n in names if isinstance(n, str)]
                    found = [
                        k
                        for n in names
                        if isinstance(n, str)
                        for k in _resolve(n, module, instance, reader)
                    ]
                    if found:
                        refs[here] = list(dict.fromkeys(found))
            else:
                _flatten(block, here, refs, computed, module, instance, reader, depth + 1)


def _resolve(reference: str, module: str, instance: str, reader: _Reader) -> list[str]:
    """Instance addresses a configuration reference names (``aws_s3_bucket.a.id`` ->
    ``aws_s3_bucket.a``; with count/for_each, the instance with the same key)."""
    if reference.startswith(_NOT_RESOURCES) or reference.startswith("data."):
        return []
    match = _REFERENCE.match(reference)
    if match is None:
        return []
    key = match.group(3) or ""
    # A literal key names one instance; count.index / each.key mean "the referrer's own".
    explicit = key[1:2].isdigit() or key[1:2] == '"'
    base = module + match.group(1) + "." + match.group(2)
    found = reader.instances.get(base, [])
    if explicit:
        return [a for a in found if a == base + key]
    if len(found) <= 1 or not instance:
        return list(found)
    same = base + instance
    return [same] if same in found else list(found)


def outputs(data: dict[str, Any]) -> dict[str, list[str]]:
    """Root module outputs -> the instance addresses each one references (what CV092 asks:
    does some output expose the pipeline, the repository, the topic)."""
    config = data.get("configuration")
    root = config.get("root_module") if isinstance(config, dict) else None
    declared = root.get("outputs") if isinstance(root, dict) else None
    if not isinstance(declared, dict):
        return {}
    reader = _Reader("")
    for resource in _addresses(data):
        reader.instances.setdefault(_INSTANCE_KEY.sub("", resource), []).append(resource)
    out: dict[str, list[str]] = {}
    for name, output in declared.items():
        expression = output.get("expression") if isinstance(output, dict) else None
        names = expression.get("references") if isinstance(expression, dict) else None
        found = [
            k
            for n in (names if isinstance(names, list) else [])
            if isinstance(n, str)
            for k in _resolve(n, "", "", reader)
        ]
        out[str(name)] = list(dict.fromkeys(found))
    return out


def _addresses(data: dict[str, Any]) -> list[str]:
    values = data.get("planned_values") or data.get("values")
    found: list[str] = []
    stack = [values.get("root_module") if isinstance(values, dict) else None]
    while stack:
        module = stack.pop()
        if not isinstance(module, dict):
            continue
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and isinstance(resource.get("address"), str):
                found.append(resource["address"])
        children = module.get("child_modules")
        stack.extend(children if isinstance(children, list) else [])
    return found
