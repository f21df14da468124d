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

A keeping rule shared by several environments is reported too: ECR counts by push time across
everything a rule's filter matches, so one ``deployed-`` rule keeping 50 lets 50 staging releases,
queued while production waits for its approval, expire the image production runs. The
environments are those the template's pipeline tags images for: the actions that pass
``DEPLOY_ENVIRONMENT`` (conveyor's MarkDeployed, which tags ``deployed-<env>-<digest>``). Each
environment's tag must first be matched (lowest ``rulePriority``) by a keeping rule that matches
no other environment's tag first; with environments ``prod`` and ``prod-eu`` that means
``deployed-prod-eu-`` ahead of ``deployed-prod-``, which also matches ``deployed-prod-eu-...``.

Source: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
("Lifecycle policy evaluation rules": an image that matches the tagging requirements of a rule
cannot be expired by a rule with a lower priority)
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

from conveyor.rules import json_text
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

CATCH_ALL = frozenset({"*", ""})
# What conveyor's MarkDeployed action passes, and the tag its job writes from it
# (conveyor.constructs.buildspec.mark_deployed_buildspec); a digest's hex stands in for the tail.
DEPLOY_ENVIRONMENT = "DEPLOY_ENVIRONMENT"
DEPLOYED_TAG = "deployed-{env}-" + "0" * 64


def _rules(text: Any) -> list[dict[str, Any]] | None:
    if not isinstance(text, str):
        text = render(text)
    if text is None:
        return None
    try:
        policy = json_text.loads(text)
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


def _deploy_environments(ctx: Context) -> list[str]:
    """The environments the template's pipelines tag deployed images for, in first-seen order."""
    found: list[str] = []
    for lid in ctx.relations.of_type("AWS::CodePipeline::Pipeline"):
        # conveyor.rules.pipelines (three dataclasses: 15 million instructions to import) when
        # the template has a pipeline.
        from conveyor.rules.pipelines import actions

        for action in actions(ctx.template.resources[lid]):
            text = action.configuration.get("EnvironmentVariables")
            text = text if isinstance(text, str) else render(text)
            try:
                variables = json.loads(text) if text else None
            except (ValueError, RecursionError):
                continue
            for variable in variables if isinstance(variables, list) else []:
                if not isinstance(variable, dict) or variable.get("name") != DEPLOY_ENVIRONMENT:
                    continue
                value = variable.get("value")
                if isinstance(value, str) and value and value not in found:
                    found.append(value)
    return found


def _matches(rule: dict[str, Any], tag: str) -> bool:
    """ECR selects an image when every entry of the list matches one of its tags."""
    selection = _selection(rule)
    prefixes = selection.get("tagPrefixList")
    patterns = selection.get("tagPatternList")
    if isinstance(prefixes, list) and prefixes:
        return all(tag.startswith(str(p)) for p in prefixes)
    if isinstance(patterns, list) and patterns:
        return all(fnmatch.fnmatchcase(tag, str(p)) for p in patterns)
    return False


def _shared(res: Resource, rules: list[dict[str, Any]], ctx: Context) -> Iterator[Hit]:
    environments = ctx.memo("CV097.environments", lambda: _deploy_environments(ctx))
    if len(environments) < 2:
        return
    keeping = sorted((r for r in rules if _protects(r)), key=_priority)
    counted: dict[int, list[str]] = {}
    for env in environments:
        tag = DEPLOYED_TAG.format(env=env)
        first = next((i for i, r in enumerate(keeping) if _matches(r, tag)), None)
        if first is not None:
            counted.setdefault(first, []).append(env)
    for index, envs in sorted(counted.items()):
        if len(envs) < 2:
            continue
        rule = keeping[index]
        yield Hit(
            res.logical_id,
            "Properties.LifecyclePolicy.LifecyclePolicyText",
            f"lifecycle rule {rule.get('rulePriority')} ({', '.join(_filters(_selection(rule)))}) "
            f"counts the deployed images of environments {', '.join(envs)} together: releases "
            "to one expire the image another still runs. Give each environment its own "
            "higher-priority rule (tagPrefixList [deployed-<env>-]), a longer name's first",
            key=f"shared:{rule.get('rulePriority')}",
        )


def _broad(rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first rule, in priority order, that expires images of any tag while no
    higher-priority rule keeps the deployed ones."""
    for rule in sorted(rules, key=_priority):
        if not _is_broad(rule):
            continue
        if any(_protects(r) and _priority(r) < _priority(rule) for r in rules):
            continue
        return rule
    return None


def _judged(text: Any) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    rules = _rules(text)
    return rules, _broad(rules) if rules else None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    text = get(res.properties, "LifecyclePolicy", "LifecyclePolicyText")
    if isinstance(text, str):
        # Judged once per text in a template: repositories made by one module or construct
        # share their policy (the 100 of the 1,000-resource benchmark plan: one parse instead
        # of a hundred, benchmarks/count_check_instructions.py). Nothing reads the shared
        # rules but to judge them.
        judged: dict[str, Any] = ctx.memo("CV097.policies", dict)
        found = judged.get(text)
        if found is None:
            found = judged[text] = _judged(text)
    else:
        found = _judged(text)
    rules, broad = found
    if not rules:
        return
    yield from _shared(res, rules, ctx)
    if broad is not None:
        yield Hit(
            res.logical_id,
            "Properties.LifecyclePolicy.LifecyclePolicyText",
            f"lifecycle rule {broad.get('rulePriority')} expires images of any tag and no "
            "higher-priority rule keeps the deployed ones; the image an environment runs can "
            "be deleted. Tag images on deploy and keep that tag with a higher-priority rule",
            key="broad",
        )


RULE = Rule(
    id="CV097",
    title="Lifecycle rule can expire the image an environment runs",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM105",),
    why="conveyor's own review (2026-12): 'keep the last 10 images of any tag' could expire the "
    "digest production ran while builds queued behind the production approval; then one "
    "'keep 50 deployed-' rule shared by every environment let 50 staging releases expire it.",
    fix_cloudformation="Have the deploy step tag the image it deploys deployed-<env>-<digest>, and "
    "add per environment a lifecycle rule with a lower rulePriority number than the catch-all: "
    "tagStatus tagged, tagPrefixList [deployed-<env>-], countType imageCountMoreThan, "
    "countNumber 50 (production's first; an environment whose name extends another's, prod-eu "
    "beside prod, before it).",
    fix_cdk="repository.add_lifecycle_rule(rule_priority=1, tag_prefix_list=['deployed-prod-'], "
    "max_image_count=50), one per environment, before the catch-all rule",
    fix_conveyor="Nothing to write: conveyor tags deployed images and keeps them.",
    check=check,
)
