"""A suppression without a real reason, for a rule that does not exist, or not in the shape
conveyor reads (a mapping instead of a list, an entry without `rule:`, a misspelt key).

A suppression must say why (at least 10 characters). An invalid suppression does not suppress:
the original finding stays, and this one explains why. Findings of this rule cannot be
suppressed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.suppression import MIN_REASON, shape_problems, suppressions


def _check(metadata: Any, owner: str, prefix: str) -> Iterator[Hit]:
    from conveyor.rules.catalog import RULE_IDS

    for where, message in shape_problems(metadata):
        yield Hit(owner, f"{prefix}Metadata.{where}", f"suppresses nothing: {message}")
    for s in suppressions(metadata):
        path = f"{prefix}Metadata.conveyor.suppress.{s.index}"
        if s.rule not in RULE_IDS:
            yield Hit(owner, path, f"suppression names unknown rule {s.rule!r}")
        elif not s.valid:
            yield Hit(
                owner,
                path,
                f"suppression of {s.rule} needs a reason of at least {MIN_REASON} characters; "
                "it is ignored until then",
            )


def check_template(ctx: Context) -> Iterator[Hit]:
    yield from _check(ctx.template.data.get("Metadata"), "", "")
    for lid, res in ctx.template.resources.items():
        metadata = res.metadata
        if "conveyor" in metadata:  # the only key a suppression or a misshapen one is under
            yield from _check(metadata, lid, "")


RULE = Rule(
    id="CV000",
    title="Suppression without a reason",
    severity=Severity.MEDIUM,
    resource_types=(),
    failure_modes=(),
    why="cdk-nag's lesson: a suppression without a written reason hides a problem instead of "
    "recording a decision.",
    fix_cloudformation="Metadata: {conveyor: {suppress: [{rule: CV009, reason: 'why this is "
    "acceptable here'}]}}",
    fix_cdk="resource.node.default_child.add_metadata('conveyor', {'suppress': [{'rule': 'CV009', "
    "'reason': '...'}]})",
    fix_conveyor="Nothing to write: conveyor's own templates need no suppressions.",
    check_template=check_template,
)
