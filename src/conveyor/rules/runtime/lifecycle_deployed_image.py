"""Image lifecycle rule that can expire the image an environment runs.

An ECR lifecycle rule that counts or ages *every* image (``tagStatus: any``, or ``tagged``
with a catch-all pattern such as ``*``) will, given enough builds (for example while releases
queue behind a production approval), expire the digest production still runs; the next scale-out
or task replacement then fails with CannotPullContainerError. ECR never lets a lower-priority
rule expire an image that matched the tag filter of a higher-priority rule, so the fix is a
higher-priority rule that keeps images carrying a deployment tag (``tagPrefixList`` /
``tagPatternList``) with a count no environment exceeds, and a deploy step that applies that tag.

Here a policy is reported when such a broad expiring rule has no higher-priority rule selecting
tagged images by prefix or pattern (other than a catch-all). Policies built by an intrinsic that
cannot be read are not judged; untagged-only rules are harmless.

Source: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
("Lifecycle policy evaluation rules": an image that matches the tagging requirements of a rule
cannot be expired by a rule with a lower priority)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

CATCH_ALL = frozenset({"*", ""})


def _rules(text: Any) -> list[dict[str, Any]] | None:
    if not isinstance(text, str):
        text = render(text)
    if text is None:
        return None
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        return None
    rules = policy.get("rules") if isinstance(policy, dict) else None
    if not isinstance(rules, list):
        return None
    return [r for r in rules if isinstance(r, dict)]


def _priority(rule: dict[str, Any]) -> float:
    value = rule.get("rulePriority")
    return float(value) if isinstance(value, int | float) else float("inf")


def _selection(rule: dict[str, Any]) -> dict[str, Any]:
    value = rule.get("selection")
    return value if isinstance(value, dict) else {}


def _filters(selection: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("tagPrefixList", "tagPatternList"):
        value = selection.get(key)
        if isinstance(value, list):
            out.extend(str(v) for v in value)
    return out


def _is_broad(rule: dict[str, Any]) -> bool:
    selection = _selection(rule)
    status = selection.get("tagStatus")
    if status == "any":
        return True
    return status == "tagged" and all(f in CATCH_ALL for f in _filters(selection))


def _protects(rule: dict[str, Any]) -> bool:
    """Keeps the images its tag filter selects: only by count. A rule that ages them
    (sinceImagePushed) expires every deployed image older than its limit, however long
    an environment has run it (same page: "sinceImagePushed" expires images by age)."""
    selection = _selection(rule)
    return (
        selection.get("tagStatus") == "tagged"
        and selection.get("countType") != "sinceImagePushed"
        and any(f not in CATCH_ALL for f in _filters(selection))
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    rules = _rules(get(res.properties, "LifecyclePolicy", "LifecyclePolicyText"))
    if not rules:
        return
    for rule in sorted(rules, key=_priority):
        if not _is_broad(rule):
            continue
        if any(_protects(r) and _priority(r) < _priority(rule) for r in rules):
            continue
        yield Hit(
            res.logical_id,
            "Properties.LifecyclePolicy.LifecyclePolicyText",
            f"lifecycle rule {rule.get('rulePriority')} expires images of any tag and no "
            "higher-priority rule keeps the deployed ones; the image an environment runs can "
            "be deleted. Tag images on deploy and keep that tag with a higher-priority rule",
        )
        return


RULE = Rule(
    id="CV097",
    title="Lifecycle rule can expire the image an environment runs",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM105",),
    why="conveyor's own review (2026-12): 'keep the last 10 images of any tag' could expire the "
    "digest production ran while builds queued behind the production approval.",
    fix_cloudformation="Add a lifecycle rule with a lower rulePriority number: tagStatus tagged, "
    "tagPrefixList [deployed-], countType imageCountMoreThan, countNumber above what your "
    "environments run; have the deploy step tag the image it deploys.",
    fix_cdk="repository.add_lifecycle_rule(rule_priority=1, tag_prefix_list=['deployed-'], "
    "max_image_count=...) before the catch-all rule",
    fix_conveyor="Nothing to write: conveyor tags deployed images and keeps them.",
    check=check,
)
