"""Pipeline deploys without validating the deployment afterwards.

Heuristic: every Deploy action must be followed, in the same stage at a later RunOrder or in the
next stage, by an Invoke, Test or Build action (a smoke test, a validation Lambda). Traffic
hooks in the template (a Lambda alias ``UpdatePolicy`` with ``AfterAllowTrafficHook``, ECS
``LifecycleHooks``) count as validation for every deploy. CodeDeploy appspec hooks live in an
artifact and are not visible.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, order
from conveyor.rules.template import Resource

VALIDATING = ("Invoke", "Test", "Build")


def _hooks(ctx: Context) -> bool:
    for res in ctx.template.resources.values():
        if res.type == "AWS::Lambda::Alias" and (
            get(res.data, "UpdatePolicy", "CodeDeployLambdaAliasUpdate", "AfterAllowTrafficHook")
            or get(
                res.data, "UpdatePolicy", "CodeDeployLambdaAliasUpdate", "BeforeAllowTrafficHook"
            )
        ):
            return True
        if res.type == "AWS::ECS::Service" and get(
            res.properties, "DeploymentConfiguration", "LifecycleHooks"
        ):
            return True
        if res.type == "AWS::Serverless::Function" and get(
            res.properties, "DeploymentPreference", "Hooks"
        ):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    all_actions = list(actions(res))
    deploys = [a for a in all_actions if a.is_deploy]
    if not deploys or _hooks(ctx):
        return
    for deploy in deploys:
        validated = any(
            a.category in VALIDATING
            and order(a) > order(deploy)
            and a.stage_index <= deploy.stage_index + 1
            for a in all_actions
        )
        if not validated:
            yield Hit(
                res.logical_id,
                deploy.path,
                f"deploy action {deploy.name!r} is not followed by any validation "
                "(smoke test or validation Lambda)",
            )


RULE = Rule(
    id="CV074",
    title="No post-deployment validation",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM63",),
    why="S2: the deploy stage had no validation (Deploy -> End); failed deployments were not "
    "detected and broken applications reached production.",
    fix_cloudformation="Add an Invoke (Lambda) or CodeBuild action after each deploy action that "
    "checks the new version, and fail the stage when it does not answer.",
    fix_cdk="stage.add_action(LambdaInvokeAction(lambda_=validator, run_order=2, ...))",
    fix_conveyor="environments[].validate: {http: {url: ..., expect: 200}}.",
    check=check,
)
