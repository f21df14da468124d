"""Code bucket lifecycle that can expire the Lambda package version an environment runs.

A pipeline that deploys a Lambda function by object version hands its CloudFormation deploy
action three parameters: a bucket of this template, a key (an override named ``...Key``) and
a version that a pipeline variable carries (an override named ``...Version``, ``#{NS.VAR}``).
The version an environment runs must outlive its release: CloudFormation's own rollback, a
stage rollback to an earlier execution and a later stack update that replaces the function
read that version again, and a missing one ends the stack in UPDATE_ROLLBACK_FAILED.

Reported, for such a deploy, when an enabled lifecycle rule of the bucket that covers the key
(its ``Prefix``; rules with ``TagFilters`` are not judged, since object tags are not in the
template):

- expires current versions (``ExpirationInDays``/``ExpirationDate``): an environment not
  released for that long loses its code;
- expires noncurrent versions while the key is shared: the version comes from an action of
  another stage (a build every execution runs) or another stage deploys the same key. Builds
  and other environments' releases then replace the running version and age it out, counted
  among versions this environment never ran (production released rarely while staging builds
  often). Copy the release to a key of the environment's own, in its stage, and deploy that;
  a change set for review made from that copy in an earlier stage, and deployed by a stage
  after its approval (issue 11: no approval in a stage that rolls back), is one release when
  only jobs run between them (conveyor's gated Release-<env>: a CodeBuild image tag or package
  copy and the `before` job); another approval or deploy between them is not;
- expires noncurrent versions of a key of the environment's own keeping none by count
  (no ``NewerNoncurrentVersions``): after a rejected approval or a failed release the running
  version is a replaced one, deleted ``NoncurrentDays`` later.

Sources: a noncurrent version expires once both NoncurrentDays and NewerNoncurrentVersions
hold, and Expiration acts on current versions
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html);
overlapping expirations resolve to the shorter
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-conflicts.html); filters
select, none excludes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-filters.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.template import Resource

DEPLOY_MODES = frozenset({"CREATE_UPDATE", "REPLACE_ON_FAILURE", "CHANGE_SET_REPLACE"})
_PLACEHOLDER = lazy(r"^\$\{([A-Za-z0-9]+)\}$")
_VARIABLE = lazy(r"^#\{([A-Za-z0-9@_-]+)\.[A-Za-z0-9@_-]+\}$")


@dataclass(frozen=True)
class Release:
    """What one deploy action deploys: a version of `key` in `bucket`, carried by a variable
    of namespace `namespace`."""

    action: Action
    bucket: str
    key: str
    namespace: str


def _overrides(action: Action) -> dict[str, Any] | None:
    text = render(action.configuration.get("ParameterOverrides"))
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _release(action: Action, ctx: Context) -> Release | None:
    if action.provider != "CloudFormation":
        return None
    mode = action.configuration.get("ActionMode")
    # A mode chosen by an intrinsic (a Ref, an Fn::If) is not judged: it is no string.
    if not isinstance(mode, str) or mode not in DEPLOY_MODES:
        return None
    overrides = _overrides(action)
    if not overrides:
        return None
    buckets = [
        m.group(1)
        for value in overrides.values()
        if isinstance(value, str) and (m := _PLACEHOLDER.match(value))
        if ctx.template.resources.get(m.group(1)) is not None
        and ctx.template.resources[m.group(1)].type == "AWS::S3::Bucket"
    ]
    keys = [
        v
        for k, v in overrides.items()
        if k.lower().endswith("key") and isinstance(v, str) and "${" not in v and "#{" not in v
    ]
    namespaces = [
        m.group(1)
        for k, v in overrides.items()
        if k.lower().endswith("version") and isinstance(v, str) and (m := _VARIABLE.match(v))
    ]
    if len(buckets) != 1 or len(keys) != 1 or len(namespaces) != 1:
        return None
    return Release(action, buckets[0], keys[0], namespaces[0])


def _covering(bucket: Resource, key: str) -> list[dict[str, Any]]:
    """The bucket's enabled lifecycle rules whose prefix covers `key` (tag filters unjudged)."""
    found = []
    for rule in as_list(get(bucket.properties, "LifecycleConfiguration", "Rules")):
        if not isinstance(rule, dict) or rule.get("Status") == "Disabled":
            continue
        if rule.get("TagFilters"):
            continue
        prefix = rule.get("Prefix", "")
        if isinstance(prefix, str) and key.startswith(prefix):
            found.append(rule)
    return found


def _noncurrent(rule: dict[str, Any]) -> dict[str, Any] | None:
    value = rule.get("NoncurrentVersionExpiration")
    if isinstance(value, dict):
        return value
    if rule.get("NoncurrentVersionExpirationInDays") is not None:
        return {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    return None


def _name(rule: dict[str, Any]) -> str:
    return f"lifecycle rule {rule['Id']}" if isinstance(rule.get("Id"), str) else "a lifecycle rule"


def _finding(release: Release, shared: str | None, rules: list[dict[str, Any]]) -> str | None:
    key = release.key
    for rule in rules:
        days = rule.get("ExpirationInDays") or rule.get("ExpirationDate")
        if days is not None:
            return (
                f"{_name(rule)} expires the current version of {key} ({days}): an environment "
                "not released since loses the code its stack deploys, and a rollback or stack "
                "update then fails. Expire only noncurrent versions of deployed packages"
            )
    expiring = [(rule, kept) for rule in rules if (kept := _noncurrent(rule)) is not None]
    if shared is not None and expiring:
        rule, _ = expiring[0]
        return (
            f"the deployed package is a version of {key}, which {shared}; {_name(rule)} "
            "expires its replaced versions, so the version this environment runs ages out "
            "among releases it never ran. Copy the release to a key of this environment's own "
            "in its stage and deploy that copy"
        )
    for rule, kept in expiring:
        if not kept.get("NewerNoncurrentVersions"):
            return (
                f"{_name(rule)} expires replaced versions of {key} after "
                f"{kept.get('NoncurrentDays')} days keeping none by count: after a rejected "
                "approval or a failed release the version this environment runs is a replaced "
                "one. Keep the newest ones with NewerNoncurrentVersions"
            )
    return None


def _paired(one: Release, other: Release, every: list[Action]) -> bool:
    """A change set for review and the stack update after its approval, in a later stage with
    only jobs (Build and Test actions: conveyor's gated Release-<env>) between them (issue 11:
    the approval in no stage that rolls back, the gate in none either): one release of one
    environment, the same copy of the package (bucket, key and the variable carrying its
    version)."""
    first, second = sorted((one, other), key=lambda r: r.action.stage_index)
    low, high = first.action.stage_index, second.action.stage_index
    return (
        (first.bucket, first.key, first.namespace) == (second.bucket, second.key, second.namespace)
        and high > low
        and all(a.category in ("Build", "Test") for a in every if low < a.stage_index < high)
        and first.action.configuration.get("ActionMode") == "CHANGE_SET_REPLACE"
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    every = list(actions(res))
    namespaces = {
        str(a.data["Namespace"]): a for a in every if isinstance(a.data.get("Namespace"), str)
    }
    releases = [r for a in every if (r := _release(a, ctx)) is not None]
    for release in releases:
        producer = namespaces.get(release.namespace)
        if producer is None:
            continue  # a variable of something this template does not show
        shared = None
        # The copy made beside the change set the approval shows is the deploy's own too.
        approved_copy = any(
            other.action.stage == producer.stage and _paired(other, release, every)
            for other in releases
        )
        if producer.stage != release.action.stage and not approved_copy:
            shared = (
                f"action {producer.name} of stage {producer.stage} writes, not this "
                "environment's stage"
            )
        else:
            others = sorted(
                {
                    other.action.stage
                    for other in releases
                    if other.action.stage != release.action.stage
                    and (other.bucket, other.key) == (release.bucket, release.key)
                    and not _paired(other, release, every)
                }
            )
            if others:
                shared = f"stage {', '.join(others)} deploys too"
        bucket = ctx.template.resources[release.bucket]
        message = _finding(release, shared, _covering(bucket, release.key))
        if message is not None:
            yield Hit(
                res.logical_id, f"{release.action.path}.Configuration.ParameterOverrides", message
            )


RULE = Rule(
    id="CV110",
    title="Code bucket lifecycle can expire the Lambda package an environment runs",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM120",),
    why="conveyor's own review (issue 10, F6): every build wrote a version of one package key "
    "that every environment deployed, and versions replaced by 50 newer builds and 30 days "
    "expired; production, released rarely while staging built often, could lose the version "
    "it ran, and its next rollback would end in UPDATE_ROLLBACK_FAILED.",
    fix_cloudformation="Before each environment's deploy, copy the release's version to a key "
    "only that environment deploys (deployed/<env>/...) and pass the copy's version; give that "
    "prefix a lifecycle rule with NoncurrentVersionExpiration.NewerNoncurrentVersions and no "
    "ExpirationInDays, and keep build keys under another prefix.",
    fix_cdk="bucket.add_lifecycle_rule(prefix='deployed/', noncurrent_versions_to_retain=100, "
    "noncurrent_version_expiration=Duration.days(30)) and a copy step per environment",
    fix_conveyor="Nothing to write: each Lambda environment's MarkDeployed job copies the "
    "release to its own key, which the package store keeps.",
    check=check,
)
