"""ECS deploy role cannot tag the task definition it registers.

Relational. The CodePipeline ECS action ("Provider: ECS") registers a new revision of the
service's task definition, copying its tags. With tags in the
request, ECS authorizes ``ecs:TagResource`` as well as ``ecs:RegisterTaskDefinition``
(tag-on-create), so a role allowed to register but not to tag is refused on the first deploy.

The role judged is the action's own ``RoleArn`` or, without one, the pipeline's ``RoleArn``,
when it is defined in this template. Beyond deploy actions, any role here that is allowed
``ecs:RegisterTaskDefinition`` is judged the same way when a task definition in the template
carries tags. Roles imported by ARN cannot be judged.

Sources:
- https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-ECS.html
  ("Service role policy permissions": ecs:RegisterTaskDefinition, ecs:TagResource, ...)
- https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
  (tag-on-create: "ecs:TagResource" is required when tags are given at creation)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import grants, managed_grants, statement_allows, statements
from conveyor.rules.template import Resource

REGISTER = "ecs:RegisterTaskDefinition"
REGISTER_API = "RegisterTaskDefinition"
TAG = "ecs:TagResource"
ECS_PROVIDERS = ("ECS",)


def _allowed(ctx: Context, role: str, action: str) -> bool:
    return grants(ctx.relations.policies(role), action) or managed_grants(
        ctx.relations.managed_arns(role), action
    )


# ECS sets ecs:CreateAction to the API that creates the tagged resource; a TagResource grant
# conditioned on other values (CreateService, RunTask, ...) does not cover a registration.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
CREATE_ACTION_KEY = "ecs:createaction"
POSITIVE_OPERATORS = ("stringequals", "stringlike")


def _admits_registration(stmt: dict[str, object]) -> bool:
    """False when the statement's ecs:CreateAction condition names only other APIs."""
    conditions = stmt.get("Condition")
    if not isinstance(conditions, dict):
        return True
    for operator, pairs in conditions.items():
        base = str(operator).lower().removesuffix("ifexists")
        if base not in POSITIVE_OPERATORS or not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            items = values if isinstance(values, list) else [values]
            if str(key).lower() != CREATE_ACTION_KEY or not all(isinstance(v, str) for v in items):
                continue
            if not any(fnmatch.fnmatchcase(REGISTER_API, str(v)) for v in items):
                return False
    return True


def _may_tag_registrations(ctx: Context, role: str) -> bool:
    if managed_grants(ctx.relations.managed_arns(role), TAG):
        return True
    return any(
        statement_allows(stmt, TAG) and _admits_registration(stmt)
        for source in ctx.relations.policies(role)
        for _, stmt in statements(source.document)
    )


def _tagged_task_definitions(ctx: Context) -> bool:
    return any(
        ctx.template.resources[lid].properties.get("Tags")
        for lid in ctx.relations.of_type("AWS::ECS::TaskDefinition")
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodePipeline::Pipeline":
        yield from _check_pipeline(res, ctx)
    elif res.type == "AWS::IAM::Role" and _tagged_task_definitions(ctx):
        if res.logical_id in _deploy_action_roles(ctx):
            return  # reported on the pipeline's action, where the fix belongs
        if _allowed(ctx, res.logical_id, REGISTER) and not _may_tag_registrations(
            ctx, res.logical_id
        ):
            yield Hit(
                res.logical_id,
                "Properties",
                f"role may {REGISTER} but not {TAG}; the task definitions here carry tags, so "
                "ECS refuses the registration (tag-on-create)",
            )


def _action_role(pipeline: Resource, action_data: dict[str, object], ctx: Context) -> str | None:
    """The role an action runs as when it is defined here: its own, else the pipeline's."""
    value = action_data.get("RoleArn")
    if value is not None:
        return ctx.relations.target(value, "AWS::IAM::Role")
    return ctx.relations.role_of(pipeline.logical_id)


def _deploy_action_roles(ctx: Context) -> set[str]:
    # conveyor.rules.pipelines (three dataclasses: 15 million instructions to import) when the
    # template has a pipeline.
    roles: set[str] = set()
    for lid in ctx.relations.of_type("AWS::CodePipeline::Pipeline"):
        from conveyor.rules.pipelines import actions

        pipeline = ctx.template.resources[lid]
        for action in actions(pipeline):
            role = _action_role(pipeline, action.data, ctx)
            # CodeDeployToECS registers taskdef.json, whose tags are not visible here.
            if action.provider in (*ECS_PROVIDERS, "CodeDeployToECS") and role is not None:
                roles.add(role)
    return roles


def _check_pipeline(res: Resource, ctx: Context) -> Iterator[Hit]:
    # conveyor.rules.pipelines (three dataclasses: 15 million instructions to import) only
    # for a template with a pipeline.
    from conveyor.rules.pipelines import actions

    for action in actions(res):
        if action.provider not in ECS_PROVIDERS:
            continue
        role = _action_role(res, action.data, ctx)
        if role is None or _may_tag_registrations(ctx, role):
            continue  # None: a role from elsewhere, not visible here
        yield Hit(
            res.logical_id,
            f"{action.path}.RoleArn" if "RoleArn" in action.data else "Properties.RoleArn",
            f"action {action.stage}/{action.name} ({action.provider}) registers a task "
            f"definition revision with the service's tags, but its role {role} is not "
            f"allowed {TAG}; the first deploy fails with AccessDenied",
        )


RULE = Rule(
    id="CV093",
    title="ECS deploy role cannot tag the task definition it registers",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline", "AWS::IAM::Role"),
    failure_modes=("FM100",),
    why="conveyor's own review (2026-12): the ECS deploy role was granted "
    "ecs:RegisterTaskDefinition without ecs:TagResource; every tagged task definition made the "
    "first CodePipeline ECS deploy fail.",
    fix_cloudformation="Allow ecs:TagResource (with ecs:RegisterTaskDefinition) to the role the "
    "ECS deploy action runs as; scope it with the aws:RequestTag or ecs:CreateAction condition "
    "if you like.",
    fix_cdk="role.add_to_policy(iam.PolicyStatement(actions=['ecs:RegisterTaskDefinition', "
    "'ecs:TagResource'], resources=['*']))",
    fix_conveyor="Nothing to write: conveyor's ECS deploy role is allowed to tag on create.",
    check=check,
)
