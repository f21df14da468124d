"""Identity policy documents of a template, wherever they are written."""

from __future__ import annotations

from collections.abc import Iterator

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


def documents(res: Resource) -> Iterator[PolicySource]:
    if res.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
        yield PolicySource(
            res.logical_id, "Properties.PolicyDocument", res.properties.get("PolicyDocument")
        )
        return
    for index, policy in enumerate(as_list(res.properties.get("Policies"))):
        if isinstance(policy, dict):
            yield PolicySource(
                res.logical_id,
                f"Properties.Policies.{index}.PolicyDocument",
                policy.get("PolicyDocument"),
            )
