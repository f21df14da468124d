"""Just enough understanding of CloudFormation intrinsic functions to avoid false alarms.

Rules never see ``{"Ref": ...}`` as "some unknown dict": they ask what a value may be
(``possible``), whether it is a hard-coded literal (``is_literal``), whom it references
(``references``), or render it to a string with placeholders (``render``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conveyor.rules.patterns import lazy

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)

SUB_VARIABLE = lazy(r"\$\{(?!!)([^}]+)\}")


class Unknown:
    """A value that depends on deploy-time input; never equal to any literal."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
# A property set to AWS::NoValue: as if it were absent.
ABSENT = object()


# Tuples, not unions: ``str | int`` in an isinstance test builds a new union object at every
# call, and these tests run for most values a rule reads.
_SCALAR_TYPES = (str, int, float, bool)
_NUMBER_TYPES = (int, float)


def intrinsic_name(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key == "Ref" or key == "Condition" or (isinstance(key, str) and key.startswith("Fn::")):
            return str(key)
    return None


def is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Ref") == "AWS::NoValue" and len(value) == 1


def ref_target(value: Any) -> str | None:
    """The logical id (or parameter) a value points at directly, if it is a single reference."""
    name = intrinsic_name(value)
    if name == "Ref":
        target = value["Ref"]
        return target if isinstance(target, str) else None
    if name == "Fn::GetAtt":
        arg = value["Fn::GetAtt"]
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            return arg[0]
        if isinstance(arg, str):
            return arg.split(".", 1)[0]
    if name == "Fn::Sub":
        arg = value["Fn::Sub"]
        text = arg[0] if isinstance(arg, list) and arg else arg
        if isinstance(text, str):
            match = SUB_VARIABLE.fullmatch(text)
            if match:
                return match.group(1).split(".", 1)[0]
    return None


def references(value: Any) -> set[str]:
    """Every logical id or parameter named through Ref, Fn::GetAtt or Fn::Sub inside value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if len(node) == 1:
                _collect_one(node, found)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    found.difference_update(PSEUDO_PARAMETERS)
    return found


def _collect_one(node: dict[str, Any], found: set[str]) -> None:
    ((key, arg),) = node.items()
    if key == "Ref" and isinstance(arg, str):
        found.add(arg)
    elif key == "Fn::GetAtt":
        if isinstance(arg, list) and arg and isinstance(arg[0], str):
            found.add(arg[0])
        elif isinstance(arg, str):
            found.add(arg.split(".", 1)[0])
    elif key == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        local = (
            arg[1] if isinstance(arg, list) and len(arg) > 1 and isinstance(arg[1], dict) else {}
        )
        if isinstance(text, str):
            for match in SUB_VARIABLE.finditer(text):
                name = match.group(1).split(".", 1)[0].strip()
                if name not in local:
                    found.add(name)


def possible(value: Any, params: dict[str, dict[str, Any]], depth: int = 0) -> list[Any]:
    """Concrete values a property may take: both branches of Fn::If, a parameter's allowed
    values or default; ``UNKNOWN`` where it depends on something else, ``ABSENT`` for NoValue."""
    if depth > 20:
        return [UNKNOWN]
    name = intrinsic_name(value)
    if name is None:
        return [value]
    arg = value[name]
    if name == "Fn::If":
        if isinstance(arg, list) and len(arg) == 3:
            return possible(arg[1], params, depth + 1) + possible(arg[2], params, depth + 1)
        return [UNKNOWN]
    if name == "Ref" and isinstance(arg, str):
        if arg == "AWS::NoValue":
            return [ABSENT]
        param = params.get(arg)
        if param is not None:
            allowed = param.get("AllowedValues")
            if isinstance(allowed, list) and allowed:
                return list(allowed)
            if "Default" in param and not isinstance(param["Default"], dict | list):
                return [param["Default"]]
    return [UNKNOWN]


def truthy(value: Any) -> bool | None:
    """CloudFormation booleans arrive as bools or strings; None when not a boolean literal."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def possible_bools(value: Any, params: dict[str, dict[str, Any]]) -> set[bool | None]:
    out: set[bool | None] = set()
    for v in possible(value, params):
        out.add(None if v is UNKNOWN or v is ABSENT else truthy(v))
    return out


def definitely_not_true(value: Any, params: dict[str, dict[str, Any]]) -> bool:
    """True when no branch can make the value true (missing counts as not true)."""
    if value is None or value is False:
        return True
    if value is True:  # a literal (the common case): no branches to gather
        return False
    return all(v is ABSENT or truthy(v) is False for v in possible(value, params))


def is_literal(value: Any) -> bool:
    """A hard-coded value: a plain scalar, or a Sub/Join made only of literal parts."""
    if isinstance(value, _SCALAR_TYPES):
        return True
    name = intrinsic_name(value)
    if name == "Fn::Sub":
        arg = value[name]
        text = arg[0] if isinstance(arg, list) and arg else arg
        if not isinstance(text, str):
            return False
        if isinstance(arg, list) and len(arg) > 1:
            return False
        return SUB_VARIABLE.search(text) is None
    if name == "Fn::Join":
        arg = value[name]
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return all(is_literal(part) for part in arg[1])
        return False
    return False


def render(value: Any, depth: int = 0) -> str | None:
    """A string view of value with references kept as ``${Name}`` placeholders, or None when the
    value is not string-like. Fn::If renders its first branch."""
    if depth > 30:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _NUMBER_TYPES):
        return str(value)
    name = intrinsic_name(value)
    if name is None:
        return None
    arg = value[name]
    if name == "Ref":
        return f"${{{arg}}}" if isinstance(arg, str) else None
    if name == "Fn::GetAtt":
        if isinstance(arg, list):
            return "${" + ".".join(str(a) for a in arg) + "}"
        return f"${{{arg}}}"
    if name == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        return text if isinstance(text, str) else None
    if name == "Fn::Join":
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            sep = arg[0] if isinstance(arg[0], str) else ""
            parts = [render(p, depth + 1) for p in arg[1]]
            return sep.join(p if p is not None else "${?}" for p in parts)
        return None
    if name == "Fn::If":
        if isinstance(arg, list) and len(arg) == 3:
            return render(arg[1], depth + 1)
        return None
    if name in ("Fn::Base64",):
        return render(arg, depth + 1)
    return "${" + name + "}"


def strings(value: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every string inside value with its relative path (iterative: safe on deep input)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))


def get(value: Any, *keys: str | int) -> Any:
    """Nested lookup that returns None on any missing or mistyped step."""
    node = value
    for key in keys:
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                return None
            node = node[key]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
    return node


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
