"""Taggable resource without tags, or without the required tag keys.

Without ``--require-tags`` a taggable resource with no tags at all is reported; with
``--require-tags App,Environment,...`` every missing key is. Taggable types come from the data
table in ``conveyor.rules.taggable``. Tags applied at deploy time to the whole stack
(``aws cloudformation deploy --tags``) are not in the template and cannot be seen. CDK's own
custom-resource provider role and function are skipped: ``Tags.of()`` cannot reach them.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.taggable import TAGGABLE, is_cdk_provider, tags_of
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if is_cdk_provider(res):
        return
    tags = tags_of(res)
    if tags is None:
        return
    path = "Properties.Tags" if "Tags" in res.properties else "Properties"
    required = ctx.options.require_tags
    if not required:
        if not tags:
            yield Hit(res.logical_id, path, f"{res.type} has no tags")
        return
    missing = [k for k in required if k not in tags]
    if missing:
        yield Hit(res.logical_id, path, f"missing required tag(s): {', '.join(missing)}")


RULE = Rule(
    id="CV090",
    title="Taggable resource without (required) tags",
    severity=Severity.LOW,
    resource_types=tuple(sorted(TAGGABLE)),
    failure_modes=("FM80",),
    why="S1 and S2: resources were created without Environment, Project or ManagedBy tags; "
    "costs and ownership could not be tracked.",
    fix_cloudformation="Add Tags: [{Key: App, Value: ...}, {Key: Environment, Value: ...}, ...] "
    "to every taggable resource.",
    fix_cdk="Tags.of(app).add('Environment', env) (and tag CfnResources Tags.of cannot reach).",
    fix_conveyor="Nothing to write: conveyor tags everything with App, Environment, Owner, "
    "ManagedBy (plus tags: in conveyor.yaml).",
    check=check,
)
