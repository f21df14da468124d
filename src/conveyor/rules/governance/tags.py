"""Taggable resource without tags, or without the required tag keys.

Without ``--require-tags`` a taggable resource with no tags at all is reported; with
``--require-tags App,Environment,...`` every missing key is. One finding per template lists
every such resource (at the first one's line); a resource whose own metadata suppresses CV090
is left out of the list and reported as suppressed. Taggable types come from the data
table in ``conveyor.rules.taggable``. Tags applied at deploy time to the whole stack
(``aws cloudformation deploy --tags``) are not in the template and cannot be seen.

CDK's custom-resource providers are taggable and checked like everything else. The provider
framework's functions (``custom_resources.Provider``, ``AwsCustomResource``, bucket deployments)
are L2 constructs that ``Tags.of()`` reaches. The role and function of core's
``CustomResourceProvider`` (auto-delete objects and images, ``Custom*CustomResourceProvider*``
logical ids) are raw ``CfnResource`` objects that ``Tags.of()`` skips (aws/aws-cdk#13851,
#14808), yet their types take a Tags property: an aspect that sets it reaches them (conveyor's
``TagUnmanagedResources`` does), and the finding says so. The ``Custom::`` resources themselves
take no tags: CloudFormation passes their properties to the provider.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.suppression import suppressions
from conveyor.rules.taggable import TAGGABLE, is_cdk_provider, tags_of
from conveyor.rules.template import Resource

# Names listed in the one finding per template; the count says how many more there are.
LISTED = 12


def _missing(res: Resource, required: tuple[str, ...]) -> list[str] | None:
    """The required keys the resource lacks ([] for "no tags at all" without --require-tags);
    None when it passes or its tags cannot be read."""
    tags = tags_of(res)
    if tags is None:
        return None
    if not required:
        return [] if not tags else None
    missing = [k for k in required if k not in tags]
    return missing or None


def _path(res: Resource) -> str:
    return "Properties.Tags" if "Tags" in res.properties else "Properties"


# What to do about CDK's provider role and function, which `Tags.of()` does not reach.
PROVIDER_HINT = (
    "; CDK's custom-resource provider role and function are not reached by Tags.of(): tag them "
    "with an aspect that sets their Tags property (add_property_override)"
)


def _message(res: Resource, missing: list[str]) -> str:
    hint = PROVIDER_HINT if is_cdk_provider(res) else ""
    if missing:
        return f"missing required tag(s): {', '.join(missing)}{hint}"
    return f"{res.type} has no tags{hint}"


def _suppressed(res: Resource) -> bool:
    metadata = res.metadata
    return "conveyor" in metadata and any(
        s.valid and s.rule == "CV090" for s in suppressions(metadata)
    )


def check_template(ctx: Context) -> Iterator[Hit]:
    required = ctx.options.require_tags
    offenders: list[tuple[Resource, list[str]]] = []
    for res in ctx.template.resources.values():
        missing = _missing(res, required) if res.type in TAGGABLE else None
        if missing is None:
            continue
        if _suppressed(res):  # reported on its own, so the engine files it as suppressed
            yield Hit(res.logical_id, _path(res), _message(res, missing))
        else:
            offenders.append((res, missing))
    if not offenders:
        return
    first, missing = offenders[0]
    if len(offenders) == 1:
        yield Hit(first.logical_id, _path(first), _message(first, missing))
        return
    # One story per template, not one line per resource: untagged templates usually miss tags
    # everywhere, and a finding per resource buried every other finding (half of all findings
    # on the public corpus).
    names = [
        f"{res.logical_id} ({', '.join(keys)})" if keys else res.logical_id
        for res, keys in offenders[:LISTED]
    ]
    more = f" and {len(offenders) - LISTED} more" if len(offenders) > LISTED else ""
    what = "miss required tags" if required else "have no tags"
    hint = PROVIDER_HINT if any(is_cdk_provider(res) for res, _ in offenders) else ""
    yield Hit(
        first.logical_id,
        _path(first),
        f"{len(offenders)} taggable resources {what}: {', '.join(names)}{more}{hint}",
    )


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
    check_template=check_template,
)
