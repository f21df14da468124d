"""Identity policy documents of a template, wherever they are written."""

from __future__ import annotations

from conveyor.rules.intrinsics import as_list
from conveyor.rules.policies import PolicySource
from conveyor.rules.template import Resource

IDENTITY_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
)


def documents(res: Resource) -> list[PolicySource]:
    """A list, not a generator: four rules ask for every identity resource, and most roles
    have no inline policy (a generator's creation and end cost more than the answer)."""
    if res.type in _POLICY_TYPES:
        return [
            PolicySource(
                res.logical_id, "Properties.PolicyDocument", res.properties.get("PolicyDocument")
            )
        ]
    policies = res.properties.get("Policies")
    if policies is None:
        return []
    return [
        PolicySource(
            res.logical_id,
            f"Properties.Policies.{index}.PolicyDocument",
            policy.get("PolicyDocument"),
        )
        for index, policy in enumerate(as_list(policies))
        if isinstance(policy, dict)
    ]


_POLICY_TYPES = frozenset({"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"})
