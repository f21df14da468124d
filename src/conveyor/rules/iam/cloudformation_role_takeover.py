"""CloudFormation service role that may delete any key or grant any role more access.

A stack's service role makes every call of the stack operation
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
One written from the resource schemas of a stack's types holds, for a stack with a key and a
role, ``kms:ScheduleKeyDeletion``, ``kms:PutKeyPolicy``, ``iam:PutRolePolicy`` and
``iam:AttachRolePolicy``; on ``Resource: "*"`` without a condition it may delete or lock every
key of the account and give any role (another environment's, its own) any policy: a staging
template, or whoever can change it, reaches production.

Reported: an Allow statement, without ``Condition``, in a policy of a role that trusts
``cloudformation.amazonaws.com``, granting one of those actions (also through a wildcard such as
``kms:*``) on ``*`` or on every key or role (``...:key/*``, ``...:role/*``). Scope the KMS calls
with ``aws:ResourceTag`` conditions on the stack's tags (KMS authorizes them on the key and
supports the key, https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html),
the IAM calls to the stack's role names
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
A statement with a condition is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.iam.identity_policies import documents
from conveyor.rules.intrinsics import as_list, get, ref_target, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import action_matches, statements, string_list
from conveyor.rules.template import Resource

TAKEOVER_ACTIONS = (
    "kms:ScheduleKeyDeletion",
    "kms:PutKeyPolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
)
CLOUDFORMATION = "cloudformation.amazonaws.com"


def trusts_cloudformation(role: Resource) -> bool:
    for _, stmt in statements(role.properties.get("AssumeRolePolicyDocument")):
        if stmt.get("Effect") != "Allow":
            continue
        services = string_list(get(stmt, "Principal", "Service"))
        if any(service == CLOUDFORMATION for service in services):
            return True
    return False


def cloudformation_roles(ctx: Context) -> frozenset[str]:
    """The template's roles that trust CloudFormation, each trust policy read once per
    template. CV111 and CV120 ask for every role and every policy attached to one; most
    templates and plans have no such role, and then each resource is passed over at once
    (the two rules over the 200 roles and role policies of the 1,000-resource benchmark
    plan: 1.0M instructions fewer, benchmarks/count_check_instructions.py)."""
    return ctx.memo(
        "roles trusting CloudFormation",
        lambda: frozenset(
            lid
            for lid in ctx.relations.of_type("AWS::IAM::Role")
            if trusts_cloudformation(ctx.template.resources[lid])
        ),
    )


def trusted_by_cloudformation(res: Resource, ctx: Context) -> bool:
    """Whether `res` is, or attaches to, a role that trusts CloudFormation."""
    trusting = cloudformation_roles(ctx)
    return bool(trusting) and any(role.logical_id in trusting for role in roles_of(res, ctx))


def roles_of(res: Resource, ctx: Context) -> list[Resource]:
    """The roles `res` is (a role) or attaches to (a policy)."""
    if res.type == "AWS::IAM::Role":
        return [res]
    found = []
    for value in [*as_list(res.properties.get("Roles")), res.properties.get("RoleName")]:
        target = ref_target(value)
        role = ctx.template.resources.get(target) if target else None
        if role is not None and role.type == "AWS::IAM::Role":
            found.append(role)
    return found


def _broad(resource: Any) -> bool:
    text = render(resource)
    if text is None:
        return False
    return text == "*" or text.endswith((":key/*", ":role/*", ":*"))


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not trusted_by_cloudformation(res, ctx):
        return
    for source in documents(res):
        for index, stmt in statements(source.document):
            if stmt.get("Effect") != "Allow" or "NotAction" in stmt or stmt.get("Condition"):
                continue
            if not any(_broad(r) for r in as_list(stmt.get("Resource"))):
                continue
            patterns = string_list(stmt.get("Action"))
            granted = [a for a in TAKEOVER_ACTIONS if any(action_matches(p, a) for p in patterns)]
            if granted:
                yield Hit(
                    res.logical_id,
                    f"{source.path}.Statement.{index}",
                    f"CloudFormation service role may {', '.join(granted)} on every key or "
                    "role: a stack it deploys can delete or lock any key of the account and "
                    "give any role (another environment's, its own) more access. Limit the "
                    "KMS calls to the stack's keys (aws:ResourceTag) and the IAM calls to its "
                    "roles by name",
                )


RULE = Rule(
    id="CV111",
    title="CloudFormation service role may delete any key or grant any role access",
    severity=Severity.HIGH,
    resource_types=(
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
    ),
    failure_modes=("FM121",),
    why="conveyor's own review (issue 10): each environment's CloudFormation role held every "
    "schema action on '*', kms:ScheduleKeyDeletion and kms:PutKeyPolicy included, and IAM "
    "calls on every role of the app: staging's deploy could delete production's key or grant "
    "itself production's access.",
    fix_cloudformation="Split the role's statements: kms key calls on "
    "arn:aws:kms:<region>:<account>:key/* with Condition StringEquals aws:ResourceTag/<tag> of "
    "the stack's keys; iam calls on the stack's role ARNs (arn:aws:iam::<account>:role/"
    "<stack>-*); keep only creates and reads on '*'.",
    fix_cdk="iam.PolicyStatement(actions=['kms:ScheduleKeyDeletion', ...], "
    "resources=[f'arn:{partition}:kms:{region}:{account}:key/*'], conditions={'StringEquals': "
    "{'aws:ResourceTag/Environment': env}})",
    fix_conveyor="Nothing to write: conveyor scopes each environment's CloudFormation role to "
    "its stack's keys and roles.",
    check=check,
)
