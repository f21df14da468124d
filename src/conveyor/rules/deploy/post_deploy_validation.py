"""Pipeline deploys without validating the deployment afterwards.

Heuristic: every Deploy action must be followed, in the same stage at a later RunOrder or in the
next stage, by an Invoke, Test or Build action (a smoke test, a validation Lambda). A Build in
the next stage validates the deploy only when it targets the deployed environment: it reads an
output artifact or a variable of the deploy action, or its configuration or project names the
deployed stack, service, function or group (the next stage's Build is usually the next
environment's packaging, which validates nothing here). A stage whose OnSuccess condition checks
CloudWatch alarms (a bake: the stage fails or rolls back when an alarm is in ALARM after the
deploy) validates every deploy in it. A change set alone (CHANGE_SET_REPLACE) and the pipeline's
update of its own stack deploy no application and need no validation.
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html
Traffic
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
from conveyor.rules.intrinsics import as_list, get, ref_target, render, strings, truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import (
    Action,
    actions,
    condition_rules,
    order,
    project_of,
    stages,
)
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


# What names the deployed environment in a deploy action's configuration.
TARGET_KEYS = (
    "StackName",
    "ClusterName",
    "ServiceName",
    "FunctionName",
    "ApplicationName",
    "DeploymentGroupName",
    "BucketName",
)


def _baked(res: Resource) -> set[int]:
    """Stages whose OnSuccess condition checks CloudWatch alarms."""
    return {
        rule.stage.index
        for stage in stages(res)
        for rule in condition_rules(stage)
        if rule.kind == "OnSuccess" and rule.provider == "CloudWatchAlarm"
    }


def _texts(value: object) -> list[str]:
    return [text for _, text in strings(value)]


def _targets(action: Action, deploy: Action, ctx: Context) -> bool:
    """A later action that reads what the deploy produced or names what it deployed."""
    if set(action.inputs) & set(deploy.outputs):
        return True
    texts = _texts(action.configuration)
    project = project_of(action, ctx.template)
    if project is not None:
        texts += _texts(get(project.properties, "Environment", "EnvironmentVariables"))
        texts += _texts(get(project.properties, "Source", "BuildSpec"))
    namespace = deploy.data.get("Namespace")
    if isinstance(namespace, str) and any(f"#{{{namespace}." in t for t in texts):
        return True
    names: set[str] = set()
    for key in TARGET_KEYS:
        value = deploy.configuration.get(key)
        # A name given by one reference is matched by that reference (the same parameter).
        name = ref_target(value) or render(value)
        if name and len(name) >= 3:
            names.add(name)
    return any(name in text for name in names for text in texts)


def _validates(action: Action, deploy: Action, ctx: Context) -> bool:
    if action.category not in VALIDATING or order(action) <= order(deploy):
        return False
    if action.stage_index == deploy.stage_index:
        return True
    if action.stage_index != deploy.stage_index + 1:
        return False
    return action.category != "Build" or _targets(action, deploy, ctx)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    all_actions = list(actions(res))
    # A change set alone changes nothing, and the pipeline's self-update ships no application:
    # neither has a deployment to validate.
    deploys = [
        a for a in all_actions if a.is_deploy and not a.changes_nothing and not a.updates_own_stack
    ]
    if not deploys or _hooks(ctx):
        return
    baked = _baked(res)
    for deploy in deploys:
        validated = deploy.stage_index in baked or any(
            _validates(a, deploy, ctx) for a in all_actions
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
