"""Reasoned suppressions written in a resource's (or the template's) ``Metadata``::

Metadata:
  conveyor:
    suppress:
      - rule: CV009
        reason: "Name is fixed by the partner integration contract"
"""

from __future__ import annotations

from typing import Any

from conveyor.rules.plain import FrozenPlain

MIN_REASON = 10

_EXAMPLE = "suppress: [{rule: CV009, reason: why this is acceptable here}]"
_ENTRY_KEYS = frozenset({"rule", "reason"})


class Suppression(FrozenPlain):
    _FIELDS = ("rule", "reason", "index")
    __slots__ = _FIELDS
    rule: str
    reason: str
    index: int

    def __init__(self, rule: str, reason: str, index: int) -> None:
        _set = object.__setattr__
        _set(self, "rule", rule)
        _set(self, "reason", reason)
        _set(self, "index", index)

    @property
    def valid(self) -> bool:
        return len(self.reason.strip()) >= MIN_REASON


def suppressions(metadata: Any) -> list[Suppression]:
    if not isinstance(metadata, dict):
        return []
    conveyor = metadata.get("conveyor")
    items = conveyor.get("suppress") if isinstance(conveyor, dict) else None
    if not isinstance(items, list):
        return []
    out: list[Suppression] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("rule"), str):
            reason = item.get("reason")
            out.append(
                Suppression(item["rule"].strip(), reason if isinstance(reason, str) else "", index)
            )
    return out


def shape_problems(metadata: Any) -> list[tuple[str, str]]:
    """Where a ``conveyor`` metadata block is not the shape `suppressions` reads, as
    (path under the owner's ``Metadata``, what to write instead). Such a block suppresses
    nothing; without this the author would believe it does."""
    if not isinstance(metadata, dict) or "conveyor" not in metadata:
        return []
    conveyor = metadata["conveyor"]
    if not isinstance(conveyor, dict):
        return [("conveyor", f"expected a mapping holding {_EXAMPLE}")]
    found = [
        (f"conveyor.{key}", f"unknown key {key!r}: conveyor reads only {_EXAMPLE}")
        for key in conveyor
        if key != "suppress"
    ]
    if "suppress" not in conveyor:
        return found
    items = conveyor["suppress"]
    if not isinstance(items, list):
        return [*found, ("conveyor.suppress", f"expected a list of entries: {_EXAMPLE}")]
    for index, item in enumerate(items):
        path = f"conveyor.suppress.{index}"
        if not isinstance(item, dict):
            found.append((path, f"expected an entry {{rule: CV009, reason: ...}}, not {item!r}"))
            continue
        if not isinstance(item.get("rule"), str):
            found.append((path, "the entry needs rule: the id of the rule it suppresses (CV009)"))
        found.extend(
            (f"{path}.{key}", f"unknown key {key!r}: an entry has only rule and reason")
            for key in item
            if key not in _ENTRY_KEYS
        )
    return found
