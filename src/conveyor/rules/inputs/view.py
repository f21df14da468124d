"""Helpers a mapping uses to read one record into CloudFormation-shaped values: plain values,
unknown-until-apply values, references to other resources, JSON policy documents.

How a record value appears to the rules:
- known value: the value itself (``"aws:kms"``, ``True``, ``30``);
- unknown until apply: ``{"Ref": "<name>.<attribute> (known after apply)"}``, a reference to
  nothing in the view, which every rule already reads as "some value decided at deploy time"
  (``possible`` gives ``UNKNOWN``), never as missing;
- a reference to another resource of the plan: ``{"Ref": lid}`` or
  ``{"Fn::GetAtt": [lid, "Arn"]}``, so the relations index (who references whom, which
  policies attach to which role) works exactly as for a CloudFormation template;
- a value built from input variables (``"${var.app}-artifacts"``): ``{"Fn::Sub": [value, {}]}``
  -- rendered as its text, but not a hard-coded literal.
"""

from __future__ import annotations

from typing import Any

from conveyor.rules import json_text
from conveyor.rules.inputs.records import MAX_DEPTH, UNKNOWN, Record, TooDeepError, many
from conveyor.rules.patterns import lazy


class View:
    """Everything a mapping function needs besides the record: which resource of the view each
    record key became, and an index of known ids/ARNs/names for references a plan no longer
    spells out (state files have no configuration)."""

    def __init__(
        self,
        lids: dict[str, str],
        by_value: dict[str, str],
        identities: dict[str, list[str]] | None = None,
        arns: dict[str, str] | None = None,
    ) -> None:
        self.lids = lids
        self.by_value = by_value
        # record key -> its id/name/ARN values
        self.identities = identities if identities is not None else {}
        # ARN of any resource in the input (mapped or not) -> what findings call it
        self.arns = arns or {}
        # Whether any ARN is known at all (a plan of new resources knows none: they are
        # assigned at apply), worked out on the first document that holds one.
        self._knows_arns: bool | None = None

    def val(self, rec: Record, *path: str | int) -> Any:
        if len(path) == 1 and type(name := path[0]) is str:  # the common case: top-level
            values = rec.values
            value = values.get(name)
            if value is None and name not in values:  # Pulumi's plural spelling (``attr``)
                value = values.get(name[:-1] + "ies" if name.endswith("y") else name + "s")
        else:
            value = dig(rec.values, path)
        if value is None or value is True or value is False:
            return value
        # What _scrub returns unchanged, without the call: a number, and a string that is no
        # ARN of a record without derived values (most values a mapping reads).
        kind = type(value)
        if kind is str:
            if not rec.derived and not value.startswith("arn:"):
                return value
        elif kind is int or kind is float:
            return value
        return self._scrub(value, rec, path)

    def _scrub(self, value: Any, rec: Record, path: tuple[str | int, ...]) -> Any:
        """Unknown leaves deep inside a known value become unknown markers too, and the ARN
        of another resource of the input (resolved in a state or export) a reference to it:
        a resolved account id is not a hard-coded one."""
        if isinstance(value, str):
            if value.startswith("arn:"):
                target = self.arns.get(value)
                if target is not None and target != rec.name:
                    return {"Fn::GetAtt": [target, "Arn"]}
            if not rec.derived:
                return value
            source = _source(rec.derived, path)
            if source and _ACCOUNT_BOUND.search(value):
                # An ARN, account id or region from a variable or another resource: resolved
                # by the plan or the engine, not hard-coded. (Other values of the same
                # expression, such as names, stay as they are.)
                lid = self.lids.get(source)
                if lid is None:
                    return {"Ref": source}
                return {"Fn::GetAtt": [lid, "Arn"]} if value.startswith("arn:") else {"Ref": lid}
            return value
        if value is UNKNOWN:
            return unknown(rec, path)
        if isinstance(value, dict):
            if len(path) > MAX_DEPTH:
                raise TooDeepError(f"{rec.name}: {'.'.join(str(p) for p in path[:3])}...")
            return {k: self._scrub(v, rec, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            if len(path) > MAX_DEPTH:
                raise TooDeepError(f"{rec.name}: {'.'.join(str(p) for p in path[:3])}...")
            return [self._scrub(v, rec, (*path, i)) for i, v in enumerate(value)]
        return value

    def ref(self, rec: Record, *path: str | int, many_: bool = False) -> Any:
        """The attribute as a reference to the resource it names, when it names one."""
        for key in rec.refs_at(*path):
            lid = self.lids.get(key)
            if lid is not None:
                return _pointer(lid, path)
        value = dig(rec.values, path)
        if isinstance(value, str):
            lid = self.lids.get(self.by_value.get(value, ""))
            if lid is not None:
                return _pointer(lid, path)
        return self.val(rec, *path)

    def refs(self, rec: Record, *path: str | int) -> list[Any]:
        """A list attribute of ARNs (alarm actions, policy ARNs): each item as a reference
        when it names a resource of the view."""
        value = dig(rec.values, path)
        if value is UNKNOWN:
            targets = [self.lids[k] for k in rec.refs_at(*path) if k in self.lids]
            if targets:
                return [_pointer(lid, path) for lid in targets]
            return [unknown(rec, path)]
        out: list[Any] = []
        for item in many(value):
            lid = self.lids.get(self.by_value.get(item, "")) if isinstance(item, str) else None
            if lid is None:
                out.append(item)
            elif isinstance(item, str) and item.startswith("arn:"):
                out.append({"Fn::GetAtt": [lid, "Arn"]})
            else:
                out.append(_pointer(lid, path))
        return out

    def doc(self, rec: Record, *path: str | int) -> Any:
        """A JSON policy document attribute, parsed (Terraform and Pulumi hold it as text).
        Unknown until apply (a ``jsonencode`` of an ARN not created yet), it is left as text:
        rules read a document that is not an object as one they cannot judge."""
        value = dig(rec.values, path)
        if value is UNKNOWN:
            return unknown(rec, path)["Ref"]
        if isinstance(value, str):
            try:
                parsed = json_text.loads(value)
            except (ValueError, RecursionError):
                return value  # not JSON: left as text, which no rule reads as a document
            # (An ARN in the text is in the document: without one there is nothing to restore,
            # as in most trust policies; nor when none of its ARNs names a resource here.)
            return self._arns_as_references(parsed) if self._names_some(value) else parsed
        return self._arns_as_references(value)

    def _names_some(self, text: str) -> bool:
        """Whether a JSON document's text may hold the ARN of a resource of the input (what
        ``_arns_as_references`` restores): one regular-expression scan instead of a walk over
        the parsed document. Escapes (``\\"``) are left to the walk."""
        if "arn:" not in text:
            return False
        if self._knows_arns is None:
            # What _arns_as_references can restore is an ARN (or its part before "/") that is
            # a key of one of these: none, and no document names a resource by ARN.
            self._knows_arns = bool(self.arns) or any(k.startswith("arn:") for k in self.by_value)
        if not self._knows_arns:
            return False
        if "\\" in text:
            return True
        by_value, arns = self.by_value, self.arns
        for arn in _ARN_STRING.findall(text):
            prefix = arn.partition("/")[0]
            if arn in by_value or prefix in by_value or arn in arns or prefix in arns:
                return True
        return False

    def _arns_as_references(self, value: Any, depth: int = 0) -> Any:
        """ARNs of resources in the input, resolved into a document (``jsonencode`` of
        ``aws_s3_bucket.b.arn``; every ARN of a Pulumi export), become references again: the
        relations index sees which bucket a policy protects, and a resolved account id is not
        a hard-coded one."""
        if isinstance(value, str):
            if depth > 40 or not value.startswith("arn:"):
                return value
        elif depth > 40:
            return value
        elif isinstance(value, dict):
            return {k: self._arns_as_references(v, depth + 1) for k, v in value.items()}
        elif isinstance(value, list):
            return [self._arns_as_references(v, depth + 1) for v in value]
        else:
            return value
        arn, slash, rest = value.partition("/") if value not in self.by_value else (value, "", "")
        for candidate, suffix in ((value, ""), (arn, slash + rest)):
            lid = self.lids.get(self.by_value.get(candidate, "")) or self.arns.get(candidate)
            if lid is not None:
                pointer = {"Fn::GetAtt": [lid, "Arn"]}
                return pointer if not suffix else {"Fn::Join": ["", [pointer, suffix]]}
        return value

    def tags(self, rec: Record) -> Any:
        """Tags as CloudFormation's Key/Value list: ``merged_tags``."""
        value = merged_tags(rec.values)
        if value is UNKNOWN:
            return unknown(rec, ("tags",))
        if not isinstance(value, dict) or not value:
            return None
        return [
            {"Key": str(k), "Value": self._scrub(v, rec, ("tags", k))} for k, v in value.items()
        ]


# A JSON string value that is an ARN (what ``_arns_as_references`` may replace).
_ARN_STRING = lazy(r'"(arn:[^"]*)"')
_ACCOUNT_BOUND = lazy(r"^arn:|(?<!\d)\d{12}(?!\d)|^(?:[a-z]{2}|us-gov|us-iso[a-z]?)-[a-z]+-\d+$")


def merged_tags(values: dict[str, Any]) -> Any:
    """The resource's tags with the provider's default tags: Terraform's ``tags_all`` (its
    merge of ``default_tags`` and ``tags``), which the Pulumi reader fills the same way; the
    resource's own ``tags`` when there is no merge. Unknown when the merge is unknown."""
    merged = values.get("tags_all")
    if merged is UNKNOWN:
        return UNKNOWN
    own = values.get("tags")
    if isinstance(merged, dict) and merged:
        return {**merged, **own} if isinstance(own, dict) else merged
    return own


def _source(derived: dict[str, list[str]], path: tuple[str | int, ...]) -> str | None:
    """The variable (or resource attribute) the expression at path reads, if it reads one
    (Terraform keeps top-level attributes in ``computed``; Pulumi aws-native keeps its
    top-level properties here)."""
    names = [str(p) for p in path if isinstance(p, str)]
    for n in range(1, len(names) + 1):
        found = derived.get(".".join(names[:n]))
        if found:
            return found[0]
    return None


def dig(values: Any, path: tuple[str | int, ...]) -> Any:
    node = values
    for step in path:
        if node is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            items = many(node)
            node = items[step] if -len(items) <= step < len(items) else None
        else:
            # attr(one(node), step), inline: this runs for every step of every value read.
            if isinstance(node, list):
                node = node[0] if node else None
            if not isinstance(node, dict):
                return None
            if step in node:
                node = node[step]
            else:
                node = node.get(step[:-1] + "ies" if step.endswith("y") else step + "s")
        if node is None:
            return None
    return node


AFTER_APPLY = " (known after apply)"


def unknown(rec: Record, path: tuple[str | int, ...]) -> dict[str, str]:
    where = str(path[0]) if len(path) == 1 else ".".join(str(p) for p in path)
    return {"Ref": f"{rec.name}.{where}{AFTER_APPLY}"}


def is_unknown(value: Any) -> bool:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        value = value["Ref"]
    return isinstance(value, str) and value.endswith(AFTER_APPLY)


def _pointer(lid: str, path: tuple[str | int, ...]) -> dict[str, Any]:
    last = str(path[-1]) if path else ""
    if last.endswith(("arn", "arns")) or last == "kms_master_key_id":
        return {"Fn::GetAtt": [lid, "Arn"]}
    return {"Ref": lid}


def derived(value: Any) -> Any:
    """A name Terraform computed from variables or other resources: not a literal."""
    if isinstance(value, str):
        return {"Fn::Sub": [value, {}]}
    return value


def drop_none(props: dict[str, Any]) -> dict[str, Any]:
    """Without None, [] and {} (a truthy value, the common case, is kept on the first test;
    "", 0 and False are values)."""
    # A loop, not a comprehension: one call fewer per mapped resource and block.
    out = {}
    for k, v in props.items():
        if v or (v is not None and type(v) is not list and type(v) is not dict):
            out[k] = v
    return out
