"""Is a request allowed? moto's IAM policy evaluator, applied the way AWS combines policies.

moto's `IAMPolicyStatement` matches Effect, Action/NotAction (wildcards) and Resource ARNs
(wildcards) of one statement; this module only feeds it and combines the results by AWS's
policy evaluation logic (explicit Deny wins, then any Allow; cross-account and KMS need both
sides): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html

Three things moto leaves to its caller, done here:
- Action names are case-insensitive in IAM ("SNS:Publish" is sns:Publish):
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
  moto compares them case-sensitively, so both sides are lower-cased before it sees them.
- Which statements of a resource policy name the caller (Principal / NotPrincipal).
- Conditions. moto evaluates only `StringEquals` and holds every other operator as met, which
  turns every TLS-only Deny (`Bool`/`NumericLessThan`) into a Deny of everything. So conditions
  are evaluated here, by the documented operator semantics (a key missing from the request makes
  the condition false, except for ...IfExists and Null), with moto's own wildcard matcher:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult


@dataclass(frozen=True)
class Caller:
    """Who makes the request: a role (by ARN) or an AWS service principal."""

    arn: str = ""
    service: str = ""

    @property
    def account(self) -> str:
        return self.arn.split(":")[4] if self.arn else ""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    why: str

    def __bool__(self) -> bool:
        return self.allowed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _for_moto(statement: dict[str, Any]) -> dict[str, Any]:
    prepared = {k: v for k, v in statement.items() if k != "Condition"}
    for key in ("Action", "NotAction"):
        if key in prepared:
            prepared[key] = [str(action).lower() for action in _as_list(prepared[key])]
    return prepared


def _like(pattern: str, value: str) -> bool:
    return (
        IAMPolicyStatement._match(re.escape(pattern).replace(r"\*", "*").replace(r"\?", "."), value)
        is not None
    )


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "ArnEquals", "ArnLike", "StringLike"):
        # ArnEquals and ArnLike behave the same: both take wildcards.
        return _like(expected, actual) if base != "StringEquals" else expected == actual
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base == "Bool":
        return expected.lower() == actual.lower()
    if base.startswith("Numeric"):
        a, e = float(actual), float(expected)
        return {
            "NumericEquals": a == e,
            "NumericLessThan": a < e,
            "NumericLessThanEquals": a <= e,
            "NumericGreaterThan": a > e,
            "NumericGreaterThanEquals": a >= e,
        }[base]
    raise NotImplementedError(f"condition operator {base} is not evaluated by the contract suite")


def conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """Every operator's every key must hold (AND); a key's values are alternatives (OR)."""
    for qualified, keys in conditions.items():
        # Set operators over a request's values (one value per key here): ForAllValues holds
        # when the key is missing, ForAnyValue does not.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        qualifier, _, operator = qualified.rpartition(":")
        if qualifier == "ForAllValues":
            keys = {k: v for k, v in keys.items() if k in context}
        elif qualifier not in ("", "ForAnyValue"):
            raise NotImplementedError(f"condition qualifier {qualifier} is not evaluated here")
        negated = operator.startswith(("StringNot", "ArnNot", "NumericNot"))
        base = (
            operator.removesuffix("IfExists").replace("Not", "", 1)
            if negated
            else operator.removesuffix("IfExists")
        )
        for key, values in keys.items():
            if operator == "Null":
                if (key not in context) != (str(values).lower() == "true"):
                    return False
                continue
            if key not in context:
                if operator.endswith("IfExists"):
                    continue
                return False
            matched = any(_compare(base, str(value), context[key]) for value in _as_list(values))
            if matched == negated:
                return False
    return True


def statement_effect(
    statement: dict[str, Any], action: str, resource: str, context: dict[str, str]
) -> str | None:
    """ "Allow" or "Deny" when the statement applies to the request, else None."""
    matched = IAMPolicyStatement(_for_moto(statement)).is_action_permitted(
        action.lower(), resource, None, None
    )
    if matched == PermissionResult.NEUTRAL:
        return None
    if not conditions_hold(statement.get("Condition", {}), context):
        return None
    return str(statement["Effect"])


def _effects(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]
) -> set[str]:
    return {
        effect
        for statement in statements
        if (effect := statement_effect(statement, action, resource, context)) is not None
    }


def _names_caller(principal: Any, caller: Caller) -> str | None:
    """How a Principal element names the caller: "direct", "account" (root), or None."""
    if principal == "*" or principal == {"AWS": "*"}:
        return "direct"
    if not isinstance(principal, dict):
        return None
    if caller.service and caller.service in _as_list(principal.get("Service", [])):
        return "direct"
    for name in _as_list(principal.get("AWS", [])):
        if caller.arn and name == caller.arn:
            return "direct"
        if caller.account and name in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return "account"
    return None


def _resource_policy(
    policy: dict[str, Any] | None,
    caller: Caller,
    action: str,
    resource: str,
    context: dict[str, str],
) -> tuple[set[str], set[str]]:
    """Effects of the statements naming the caller directly, and of those naming its account."""
    direct: set[str] = set()
    account: set[str] = set()
    for statement in _as_list((policy or {}).get("Statement", [])):
        if "NotPrincipal" in statement:
            how = None if _names_caller(statement["NotPrincipal"], caller) else "direct"
        else:
            how = _names_caller(statement.get("Principal"), caller)
        if how is None:
            continue
        effect = statement_effect(statement, action, resource, context)
        if effect is not None:
            (direct if how == "direct" else account).add(effect)
    return direct, account


def evaluate(
    caller: Caller,
    action: str,
    resource: str,
    *,
    identity: Sequence[dict[str, Any]] = (),
    resource_policy: dict[str, Any] | None = None,
    resource_account: str = "",
    key_policy: bool = False,
    context: dict[str, str] | None = None,
) -> Verdict:
    """Whether `caller` may perform `action` on `resource`.

    identity: the caller's policy documents (inline and managed); resource_policy: the bucket,
    topic or key policy, if the resource has one; key_policy: the resource is a KMS key, whose
    policy must allow (directly, or by naming the account and letting IAM allow).
    """
    # Every request conveyor's principals make goes over TLS 1.2 or later.
    context = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3", **(context or {})}
    statements = [s for document in identity for s in _as_list(document.get("Statement", []))]
    from_identity = _effects(statements, action, resource, context)
    direct, account = _resource_policy(resource_policy, caller, action, resource, context)
    if "Deny" in from_identity | direct | account:
        return Verdict(False, f"explicit Deny of {action} on {resource}")
    identity_allows = "Allow" in from_identity
    same_account = not resource_account or resource_account == caller.account
    if key_policy or not same_account:
        # KMS keys and other accounts' resources: the resource policy must grant, and an
        # account-wide grant only delegates to the caller's IAM policies.
        if "Allow" in direct and (caller.service or same_account or identity_allows):
            return Verdict(True, "allowed by the resource policy")
        if "Allow" in account and identity_allows:
            return Verdict(True, "allowed by IAM, delegated by the resource policy")
        where = "key policy" if key_policy else "resource policy of the other account"
        return Verdict(False, f"no Allow of {action} on {resource} for {caller} in the {where}")
    if identity_allows or "Allow" in direct:
        return Verdict(True, "allowed")
    return Verdict(False, f"no Allow of {action} on {resource} for {caller.arn or caller.service}")
