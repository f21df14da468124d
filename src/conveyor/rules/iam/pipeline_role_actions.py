"""Pipeline (or action) role not allowed what its actions call.

For each action, the role that runs it (the action's ``RoleArn``, else the pipeline's) must be
allowed the calls CodePipeline makes for that action type: ``codebuild:StartBuild`` and
``codebuild:BatchGetBuilds`` for CodeBuild, ``codedeploy:CreateDeployment`` and
``codedeploy:GetDeployment`` for CodeDeploy, ``ecs:UpdateService`` and
``ecs:RegisterTaskDefinition`` for an ECS deploy, ``lambda:InvokeFunction`` for a Lambda invoke,
``codestar-connections:UseConnection`` (or ``codeconnections:``) for a connection source.
https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role

A statement counts whatever its Resource (CV051 judges scope); a role not defined here, one with
a customer managed policy, or one whose policy document is built by an intrinsic is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.policies import grants, managed_grants
from conveyor.rules.template import Resource

# Calls per provider; each tuple lists alternatives of which one must be allowed.
NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "CodeBuild": (("codebuild:StartBuild",), ("codebuild:BatchGetBuilds",)),
    "CodeDeploy": (("codedeploy:CreateDeployment",), ("codedeploy:GetDeployment",)),
    "CodeDeployToECS": (
        ("codedeploy:CreateDeployment",),
        ("codedeploy:GetDeployment",),
        ("ecs:RegisterTaskDefinition",),
    ),
    "ECS": (("ecs:UpdateService",), ("ecs:RegisterTaskDefinition",)),
    "Lambda": (("lambda:InvokeFunction",),),
    "CodeStarSourceConnection": (
        ("codestar-connections:UseConnection", "codeconnections:UseConnection"),
    ),
}


def _role_of(action: Action, pipeline: Resource, ctx: Context) -> str | None:
    own = action.data.get("RoleArn")
    if own is not None:
        return ctx.relations.target(own, "AWS::IAM::Role")
    return ctx.relations.role_of(pipeline.logical_id)


def _judgeable(role: str, ctx: Context) -> bool:
    return not any(
        intrinsic_name(p.document) or not isinstance(p.document, dict)
        for p in ctx.relations.policies(role)
    )


def _missing(role: str, needs: tuple[tuple[str, ...], ...], ctx: Context) -> list[str]:
    policies = ctx.relations.policies(role)
    managed = ctx.relations.managed_arns(role)
    return [
        alternatives[0]
        for alternatives in needs
        if not any(grants(policies, a) or managed_grants(managed, a) for a in alternatives)
    ]


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for action in actions(res):
        needs = NEEDS.get(action.provider)
        if needs is None or action.owner != "AWS":
            continue
        role = _role_of(action, res, ctx)
        if role is None or not _judgeable(role, ctx):
            continue
        missing = _missing(role, needs, ctx)
        if missing:
            yield Hit(
                res.logical_id,
                action.path,
                f"role {role} of {action.provider} action {action.name!r} is not allowed "
                f"{', '.join(missing)}; the action fails when the pipeline runs it",
            )


RULE = Rule(
    id="CV059",
    title="Pipeline role not allowed what its actions call",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM41", "FM100"),
    why="S1 and S4: the pipeline role lacked permissions its actions need (starting builds, "
    "creating deployments); the pipeline failed at that stage on its first run.",
    fix_cloudformation="Allow the action's calls (codebuild:StartBuild and "
    "codebuild:BatchGetBuilds on the project, codedeploy:CreateDeployment ...) in the policy of "
    "the pipeline role, or of the action's own RoleArn.",
    fix_cdk="Use the codepipeline_actions classes: each action grants its role what it calls.",
    fix_conveyor="Nothing to write: every conveyor action's role is granted what it calls.",
    check=check,
)
