"""Pipeline deploys without validating the deployment afterwards.

Heuristic: every Deploy action must be followed, in the same stage at a later RunOrder or in the
next stage, by an Invoke, Test or Build action (a smoke test, a validation Lambda). Traffic
hooks in the template (a Lambda alias ``UpdatePolicy`` with ``AfterAllowTrafficHook``, ECS
``LifecycleHooks``) count as validation for every deploy. So does, for a CodeDeploy action, a
deployment group of the template that watches CloudWatch alarms during the deployment and rolls
back when one fires (``AlarmConfiguration`` enabled with alarms, ``AutoRollbackConfiguration``
with ``DEPLOYMENT_STOP_ON_ALARM``): the alarms are the validation.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codedeploy-deploymentgroup-autorollbackconfiguration.html
CodeDeploy appspec hooks live in an artifact and are not visible.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target, truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, order
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


def _deployment_group(action: Action, ctx: Context) -> Resource | None:
    named = action.configuration.get("DeploymentGroupName")
    for lid in ctx.relations.of_type("AWS::CodeDeploy::DeploymentGroup"):
        group = ctx.template.resources[lid]
        if ref_target(named) == lid or (
            isinstance(named, str) and group.properties.get("DeploymentGroupName") == named
        ):
            return group
    return None


def _rolls_back_on_alarm(action: Action, ctx: Context) -> bool:
    if not action.provider.startswith("CodeDeploy"):
        return False
    group = _deployment_group(action, ctx)
    if group is None:
        return False
    alarms = group.properties.get("AlarmConfiguration")
    rollback = group.properties.get("AutoRollbackConfiguration")
    return (
        truthy(get(alarms, "Enabled")) is True
        and bool(as_list(get(alarms, "Alarms")))
        and truthy(get(rollback, "Enabled")) is True
        and "DEPLOYMENT_STOP_ON_ALARM" in as_list(get(rollback, "Events"))
    )


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
        if not validated and not _rolls_back_on_alarm(deploy, ctx):
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
