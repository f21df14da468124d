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

A CodeBuild project runs only when something starts it; in a template, that is a pipeline whose
first execution starts when it is created and runs the project minutes later
(https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-about-starting.html): the
build fails (AccessDenied on its logs or artifacts) when its role's policy is not attached yet.
The project is safe when it waits for the policy, or when every pipeline of the template that
runs it does. The project's own DependsOn is the fix, unless the policy refers to the project
(CDK's default policy names ``/aws/codebuild/<project>`` log groups): then the pipelines must
wait for the policy instead, and the finding says so. A project no pipeline of the template runs
is not reported: whoever starts it later finds the policy in place.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def _separate_policies(role: str, ctx: Context) -> list[str]:
    return sorted(
        {
            p.owner
            for p in ctx.relations.policies(role)
            if p.owner != role
            and ctx.relations.resource_type(p.owner) in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")
        }
    )


def _check_project(res: Resource, role: str, ctx: Context) -> Iterator[Hit]:
    rel = ctx.relations
    runners = rel.referrers(res.logical_id, "AWS::CodePipeline::Pipeline")
    if not runners:
        return
    own: list[str] = []  # policies the project itself can wait for
    theirs: dict[str, list[str]] = {}  # policy -> pipelines that must wait for it instead
    for policy in _separate_policies(role, ctx):
        if rel.depends_transitively(res.logical_id, policy):
            continue
        early = [q for q in runners if not rel.depends_transitively(q, policy)]
        if not early:
            continue
        if not rel.depends_transitively(policy, res.logical_id):
            own.append(policy)
            continue
        # The project cannot wait (circular); the pipelines can, unless that closes a cycle too.
        waiting = [q for q in early if not rel.depends_transitively(policy, q)]
        if waiting:
            theirs[policy] = waiting
    if own:
        yield Hit(
            res.logical_id,
            "DependsOn" if "DependsOn" in res.data else "",
            f"Project runs in the first execution of {', '.join(runners)} (it starts when "
            f"created), possibly before {', '.join(own)} is attached to its role {role}; add "
            "DependsOn",
            key="project",
        )
    for policy, pipelines in sorted(theirs.items()):
        yield Hit(
            res.logical_id,
            "",
            f"Project runs in the first execution of {', '.join(pipelines)} (it starts when "
            f"created), possibly before {policy} is attached to its role {role}; {policy} "
            f"refers to the project, so add it to the DependsOn of {', '.join(pipelines)}",
            key=f"pipeline:{policy}",
        )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    if role is None:
        return
    if res.type == "AWS::CodeBuild::Project":
        yield from _check_project(res, role, ctx)
        return
    separate = _separate_policies(role, ctx)
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
        "AWS::CodeBuild::Project",
        "AWS::CodePipeline::Pipeline",
        "AWS::Lambda::Function",
        "AWS::StepFunctions::StateMachine",
    ),
    failure_modes=("FM43",),
    why="S2: resources were created in the wrong order (the project before its role policy) "
    "and the deployment failed.",
    fix_cloudformation="Add the AWS::IAM::Policy to the resource's DependsOn (for a build project "
    "whose policy names it: to the DependsOn of the pipeline that runs it), or make the policy "
    "inline (Policies on the role).",
    fix_cdk="CDK adds this dependency for grants on the resource's own role; for a policy you "
    "attach yourself: resource.node.add_dependency(policy).",
    fix_conveyor="Nothing to write: conveyor orders roles, policies and their users.",
    check=check,
)
