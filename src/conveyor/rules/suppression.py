"""Reasoned suppressions written in a resource's (or the template's) ``Metadata``::

Metadata:
  conveyor:
    suppress:
      - rule: CV009
        reason: "Name is fixed by the partner integration contract"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIN_REASON = 10


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str
    reason: str
    index: int

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
