"""Resource used before its role's policy exists.

CloudFormation creates an ``AWS::IAM::Policy`` attached to a role in parallel with everything
that references only the role. A pipeline starts its first execution as soon as it is created,
and a Lambda function may be invoked by then: if it does not depend (``DependsOn`` or a
reference, directly or transitively) on every separate policy of its role, its first run can
fail with AccessDenied. Inline ``Policies`` on the role are always in place and need nothing.

A policy that itself refers to the resource (a function's ARN or log group in its statements)
cannot be waited for: the DependsOn would close a cycle CloudFormation rejects. It is not
reported; such a statement belongs inline on the role, or in a policy the resource does not
need at its first run.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    if role is None:
        return
    separate = sorted(
        {
            p.owner
            for p in ctx.relations.policies(role)
            if p.owner != role
            and ctx.relations.resource_type(p.owner) in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")
        }
    )
    missing = [
        p
        for p in separate
        if not ctx.relations.depends_transitively(res.logical_id, p)
        and not ctx.relations.depends_transitively(p, res.logical_id)  # would be circular
    ]
    if missing:
        yield Hit(
            res.logical_id,
            "DependsOn" if "DependsOn" in res.data else "",
            f"{res.type.split('::')[-1]} may run before {', '.join(missing)} is attached to its "
            f"role {role}; add DependsOn",
        )


RULE = Rule(
    id="CV056",
    title="Used before its role policy exists",
    severity=Severity.MEDIUM,
    resource_types=(
        "AWS::CodePipeline::Pipeline",
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
    ),
    failure_modes=("FM43",),
    why="S2: resources were created in the wrong order (the project before its role policy) "
    "and the deployment failed.",
    fix_cloudformation="Add the AWS::IAM::Policy to the resource's DependsOn, or make the policy "
    "inline (Policies on the role).",
    fix_cdk="CDK adds this dependency for grants on the resource's own role; for a policy you "
    "attach yourself: resource.node.add_dependency(policy).",
    fix_conveyor="Nothing to write: conveyor orders roles, policies and their users.",
    check=check,
)
