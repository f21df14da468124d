"""Records -> the ``Template`` every rule reads: map each owner record, fold split resources
into their owners, carry ``depends_on`` as ``DependsOn`` and the ``conveyor:suppress`` tag as the
suppression metadata the engine already honours."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from conveyor.rules.inputs.mapping import (
    ATTACHED_POLICY_TYPES,
    IDENTITY_ATTRIBUTES,
    JOINS,
    TYPES,
    Join,
)
from conveyor.rules.inputs.records import UNKNOWN, Record
from conveyor.rules.inputs.terraform import TRAILING_KEY, module_instance
from conveyor.rules.inputs.view import AFTER_APPLY, View, is_unknown
from conveyor.rules.intrinsics import ref_target
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource, Template, _Locator

SUPPRESS_TAG = "conveyor:suppress"


class _LineTable(_Locator):
    """The line of a resource's address/URN key in the input, found on the first lookup."""

    def __init__(self, keys: dict[str, str], lines: Callable[[], dict[str, int]]) -> None:
        self._keys = keys  # logical id -> address/URN
        self._index = lines
        self._lines: dict[str, int] | None = None

    def line(self, data: Any, path: tuple[str | int, ...]) -> int:
        if not path:
            return 1
        if self._lines is None:
            self._lines = self._index()
        return self._lines.get(self._keys.get(str(path[0]), ""), 1)


def build(
    records: list[Record],
    *,
    file: str,
    outputs: dict[str, list[str]],
    lines: Callable[[], dict[str, int]] = dict,
) -> Template:
    owners = {r.key: r for r in records if r.native or r.type in TYPES}
    lids = _logical_ids(owners)
    by_value, by_typed_value = _identities(owners)
    joined: dict[str, list[tuple[Record, Join]]] = defaultdict(list)
    unchecked: dict[str, int] = {}
    # Owner key -> properties a split resource may fill that names its owner through a local
    # value: known only to Terraform (``_through_local``).
    unknown_for: dict[str, set[str]] = defaultdict(set)
    # Owners with a split resource that depends on something (most have none: one test per
    # owner, not a generator over its children).
    depending: set[str] = set()
    for rec in records:
        if rec.key in owners:
            continue
        join = JOINS.get(rec.type)
        owner = _owner(rec, join, owners, by_typed_value) if join is not None else None
        if join is not None and owner is None and join.attribute in rec.unresolved:
            owner = _through_local(rec, join, owners, unknown_for)
        if join is not None and owner is not None:
            joined[owner].append((rec, join))
            if rec.depends_on:
                depending.add(owner)
            lids[rec.key] = lids[owner]  # a reference to the child means its owner
        else:
            shown = rec.source or rec.type
            unchecked[shown] = unchecked.get(shown, 0) + 1
    view = View(lids, by_value, _IdentityValues(owners), _arns(records, lids))
    resources: dict[str, Resource] = {}
    keys: dict[str, str] = {}
    sources: dict[str, str] = {}
    for key, rec in owners.items():
        lid = lids[key]
        # _properties, and the tests most records stop at (whether the type is deleted with
        # the stack, whether a suppression tag is set), inline: this runs once per resource
        # (benchmarks/count_check_instructions.py).
        mapping = None if rec.native else TYPES[rec.type]
        if mapping is None:
            props, cfn_type = _properties(rec, view)
        else:
            props, cfn_type = mapping.build(rec, view), mapping.cfn_type
        children = joined.get(key, ())
        for child, join in children:
            join.merge(props, child, view)
        for prop in unknown_for.get(key, ()):
            props.setdefault(prop, {"Ref": f"{rec.name}.{prop}{AFTER_APPLY}"})
        body: dict[str, Any] = {"Type": cfn_type, "Properties": props}
        if rec.depends_on or key in depending:
            depends = sorted(
                {
                    lids[d]
                    for c in [rec, *(c for c, _ in children)]
                    for d in c.depends_on
                    if d in lids and lids[d] != lid
                }
            )
            if depends:
                body["DependsOn"] = depends
        if mapping is not None and mapping.deleted_with_stack and _deleted_with_stack(rec, view):
            body["DeletionPolicy"] = "Delete"
        suppress: list[dict[str, str]] | tuple[()]
        if mapping is None:
            suppress = suppressions(rec)
        else:
            # Whether the record's own or merged tags hold the suppression tag (_tag's answer
            # is None otherwise), tested first: most records carry no suppression.
            own, merged = rec.values.get("tags"), rec.values.get("tags_all")
            tagged = (isinstance(own, dict) and SUPPRESS_TAG in own) or (
                isinstance(merged, dict) and SUPPRESS_TAG in merged
            )
            suppress = suppressions(rec) if tagged else ()
        if suppress:
            body["Metadata"] = {"conveyor": {"suppress": suppress}}
        resources[lid] = Resource(lid, cfn_type, props, body, (lid,))
        keys[lid] = key
        sources[lid] = rec.source or rec.type
    _unseen_policies(resources)
    # An output is kept as the references it makes: what the rules ask of outputs.
    cfn_outputs: dict[str, Any] = {
        name: {"Value": [{"Ref": lids[k]} for k in keys if k in lids]}
        for name, keys in outputs.items()
    }
    data: dict[str, Any] = {
        "Resources": {lid: res.data for lid, res in resources.items()},
        "Outputs": cfn_outputs,
    }
    return Template(
        file=file,
        data=data,
        resources=resources,
        parameters={},
        conditions={},
        outputs=cfn_outputs,
        transforms=frozenset(),
        _locator=_LineTable(keys, lines),
        unchecked=unchecked,
        sources=sources,
    )


def _unseen_policies(resources: dict[str, Resource]) -> None:
    """A policy document known only after apply (``jsonencode`` of an ARN not created yet) is
    attached to its role as a policy the rules cannot see, which they assume grants
    (``managed_grants``): a missing-permission rule must not read "unknown" as "missing"."""
    for lid, res in resources.items():
        props = res.properties
        if res.type == "AWS::IAM::Role":
            if any(
                isinstance(p, dict) and is_unknown(p.get("PolicyDocument"))
                for p in props.get("Policies", ())
            ):
                props.setdefault("ManagedPolicyArns", []).append({"Ref": f"{lid}{AFTER_APPLY}"})
        elif res.type == "AWS::IAM::RolePolicy" and is_unknown(props.get("PolicyDocument")):
            role = resources.get(ref_target(props.get("RoleName")) or "")
            if role is not None and role.type == "AWS::IAM::Role":
                role.properties.setdefault("ManagedPolicyArns", []).append(
                    {"Ref": f"{lid}{AFTER_APPLY}"}
                )


def _logical_ids(owners: dict[str, Record]) -> dict[str, str]:
    """Findings name the address (Terraform) or URN name (Pulumi); two Pulumi resources may
    share a name, so later ones get their type appended."""
    lids: dict[str, str] = {}
    taken: set[str] = set()
    for key, rec in owners.items():
        lid = rec.name
        if lid in taken:
            lid = f"{rec.name} ({rec.type})"
        n = 2
        while lid in taken:
            lid = f"{rec.name} ({rec.type} #{n})"
            n += 1
        taken.add(lid)
        lids[key] = lid
    return lids


def _identities(
    owners: dict[str, Record],
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """id/name/ARN value -> the first record holding it, and (type, value) -> the record of
    that type holding it: a topic and a bucket may both be called "data"."""
    out: dict[str, str] = {}
    typed: dict[tuple[str, str], str] = {}
    for key, rec in owners.items():
        if rec.type in ATTACHED_POLICY_TYPES:
            continue
        for value in map(rec.values.get, IDENTITY_ATTRIBUTES):  # the lookups in C
            if value and isinstance(value, str):
                out.setdefault(value, key)
                typed.setdefault((rec.type, value), key)
    return out, typed


class _IdentityValues(dict[str, list[str]]):
    """Record key -> its id/name/ARN values, worked out on the first lookup (only names built
    from another resource's name ask, and most plans have few)."""

    def __init__(self, owners: dict[str, Record]) -> None:
        super().__init__()
        self._owners = owners

    def __missing__(self, key: str) -> list[str]:
        rec = self._owners.get(key)
        values = rec.values if rec is not None and rec.type not in ATTACHED_POLICY_TYPES else {}
        found = [v for n in IDENTITY_ATTRIBUTES if isinstance(v := values.get(n), str) and v]
        self[key] = found
        return found

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._owners else default


def _arns(records: list[Record], lids: dict[str, str]) -> dict[str, str]:
    """ARN of every resource (mapped or not) -> its logical id or name."""
    out: dict[str, str] = {}
    for rec in records:
        # The type is tested only for a record with an ARN: a plan's new resources have none.
        arn = rec.values.get("arn")
        if (
            isinstance(arn, str)
            and arn.startswith("arn:")
            and rec.type not in ATTACHED_POLICY_TYPES
        ):
            out.setdefault(arn, lids.get(rec.key, rec.name))
        if rec.arns:
            for arn in rec.arns:
                out.setdefault(arn, lids.get(rec.key, rec.name))
    return out


def _owner(
    child: Record, join: Join, owners: dict[str, Record], by_value: dict[tuple[str, str], str]
) -> str | None:
    """By the reference in the plan first; by the id/name/ARN value of an owner of the join's
    owner types second (state files); never by resource names alone."""
    for key in child.refs_at(join.attribute):
        if key in owners and owners[key].type in join.owner_types:
            return key
    value = child.values.get(join.attribute)
    if not isinstance(value, str):
        return None
    for owner_type in join.owner_types:
        owner = by_value.get((owner_type, value))
        if owner is not None:
            return owner
    return None


def _through_local(
    child: Record, join: Join, owners: dict[str, Record], unknown_for: dict[str, set[str]]
) -> str | None:
    """The owner of a split resource that names it through a local value (``bucket =
    local.bucket_id``, ``for_each = local.buckets`` with ``each.value.id``) and whose value is
    known only after apply: ``terraform show -json`` writes no locals, so the reference cannot
    be followed (https://developer.hashicorp.com/terraform/internals/json-format: a module's
    configuration has outputs, resources, module calls and variables). The one owner of the
    right type in the same module instance (with the same instance key, if several) is it;
    with several candidates, none is judged to lack what the child sets: each gets the
    child's property as known only after apply, never as missing."""
    value = child.values.get(join.attribute)
    if value is not None and value is not UNKNOWN:
        return None  # a known value names no owner here: the owner is outside the input
    module = module_instance(child.key)
    candidates = [
        key
        for key, rec in owners.items()
        if rec.type in join.owner_types and module_instance(key) == module
    ]
    instance = _instance_key(child.key)
    if len(candidates) > 1 and instance:
        same = [key for key in candidates if _instance_key(key) == instance]
        candidates = same or candidates
    if len(candidates) == 1:
        return candidates[0]
    for key in candidates:
        unknown_for[key].add(join.property)
    return None


def _instance_key(address: str) -> str:
    """``["x"]`` of ``aws_s3_bucket.b["x"]`` (``""`` without count/for_each)."""
    match = TRAILING_KEY.search(address)
    return match.group(0) if match else ""


def _properties(rec: Record, view: View) -> tuple[dict[str, Any], str]:
    if rec.native:
        props = view.val(rec)
        return (props if isinstance(props, dict) else {}), rec.type
    mapping = TYPES[rec.type]
    return mapping.build(rec, view), mapping.cfn_type


def _deleted_with_stack(rec: Record, view: View) -> bool:
    """``terraform destroy`` / ``pulumi destroy`` delete buckets and repositories, and fail on
    a non-empty bucket unless ``force_destroy`` empties it first (CV008); ECR's ``force_delete``
    maps to ``EmptyOnDelete``. Pulumi's ``retainOnDelete`` keeps the resource instead."""
    if rec.native or not TYPES[rec.type].deleted_with_stack or rec.values.get("__retain"):
        return False
    return not (rec.type == "aws_s3_bucket" and view.val(rec, "force_destroy") is True)


_RULE_ID = r"[A-Za-z]{2,}\d{3,}"
# The start of an entry: at the start of the text or after ";", one or more rule ids (separated
# by ",", ";" or spaces) and ":". A ";" followed by anything else belongs to the reason.
_ENTRY = lazy(rf"(?:^|;)\s*({_RULE_ID}(?:\s*[,;\s]\s*{_RULE_ID})*)\s*:")
_QUOTES = ("'", '"', "\u2018\u2019", "\u201c\u201d")


def suppressions(rec: Record) -> list[dict[str, str]]:
    """The ``conveyor:suppress`` tag: ``"CV002: reason; CV009: another reason"``; several
    ids may share a reason (``"CV002, CV009: reason"``); a reason may hold ";" and
    apostrophes, and may be quoted. Read from the tags the rules see (provider default tags
    included), or from an aws-native resource's Key/Value tag list."""
    text = _tag(rec, SUPPRESS_TAG)
    if not isinstance(text, str):
        return []
    entries = list(_ENTRY.finditer(text))
    if not entries:
        rule, _, reason = text.partition(":")
        return [{"rule": rule.strip(), "reason": _unquote(reason)}] if rule.strip() else []
    out = []
    for index, entry in enumerate(entries):
        end = entries[index + 1].start() if index + 1 < len(entries) else len(text)
        reason = _unquote(text[entry.end() : end])
        for rule in re.findall(_RULE_ID, entry.group(1)):
            out.append({"rule": rule.upper(), "reason": reason})
    return out


def _tag(rec: Record, key: str) -> Any:
    if not rec.native:
        # The tag of ``merged_tags`` (the resource's own tags over the provider's default
        # tags), or of the own tags when the merge is unknown until apply, without building
        # the merged tags of every resource: the own tag if set, else the default tag.
        values = rec.values
        own = values.get("tags")
        if isinstance(own, dict) and key in own:
            return own[key]
        merged = values.get("tags_all")
        return merged.get(key) if isinstance(merged, dict) and merged else None
    tags = rec.values.get("Tags")
    if isinstance(tags, dict):
        return tags.get(key)
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and tag.get("Key") == key:
            return tag.get("Value")
    return None


def _unquote(reason: str) -> str:
    reason = reason.strip().rstrip(";").strip()
    for quote in _QUOTES:
        opening, closing = quote[0], quote[-1]
        if len(reason) >= 2 and reason[0] == opening and reason[-1] == closing:
            return reason[1:-1].strip()
    return reason
