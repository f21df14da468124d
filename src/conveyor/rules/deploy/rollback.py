"""CodeDeploy deployment without automatic rollback on failure and on alarm.

A deployment group must enable ``AutoRollbackConfiguration`` with ``DEPLOYMENT_FAILURE``, and
roll back on alarms (``AlarmConfiguration`` enabled with alarms and
``DEPLOYMENT_STOP_ON_ALARM``). A SAM ``DeploymentPreference`` needs ``Alarms``.

Not reported: a group that a pipeline of the same template deploys with a ``CodeDeploy``
action in a stage that rolls back (``OnFailure: ROLLBACK``). There the stage rollback owns the
rollback, and the group's own (a new deployment) would race it for the group's one deployment
at a time (CV113).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import (
    as_list,
    definitely_not_true,
    get,
    intrinsic_name,
    ref_target,
)
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, rolls_back, stages
from conveyor.rules.template import Resource


def _stage_owned(ctx: Context) -> set[str]:
    """Deployment group names (and logical ids) that a rolling-back stage's CodeDeploy action
    deploys."""
    owned: set[str] = set()
    for lid in ctx.relations.of_type("AWS::CodePipeline::Pipeline"):
        pipeline = ctx.template.resources[lid]
        rolling = {stage.index for stage in stages(pipeline) if rolls_back(stage)}
        for action in actions(pipeline):
            if action.stage_index not in rolling or action.provider != "CodeDeploy":
                continue
            named = action.configuration.get("DeploymentGroupName")
            if isinstance(named, str):
                owned.add(named)
            elif (target := ref_target(named)) is not None:
                owned.add(target)
    return owned


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodeDeploy::DeploymentGroup":
        owned = ctx.memo("CV073-stage-owned", lambda: _stage_owned(ctx))
        name = res.properties.get("DeploymentGroupName")
        if res.logical_id in owned or (isinstance(name, str) and name in owned):
            return
    if res.type == "AWS::Serverless::Function":
        pref = res.properties.get("DeploymentPreference")
        if isinstance(pref, dict) and not pref.get("Alarms"):
            yield Hit(
                res.logical_id,
                "Properties.DeploymentPreference",
                "traffic shifting without Alarms: a bad version is never rolled back on errors",
                key="on-alarm",
            )
        return
    rollback = res.properties.get("AutoRollbackConfiguration")
    if intrinsic_name(rollback) is not None:
        return
    events = [e for e in as_list(get(rollback, "Events")) if isinstance(e, str)]
    if (
        definitely_not_true(get(rollback, "Enabled"), ctx.params)
        or "DEPLOYMENT_FAILURE" not in events
    ):
        yield Hit(
            res.logical_id,
            "Properties.AutoRollbackConfiguration" if rollback is not None else "Properties",
            "deployment group does not roll back automatically when a deployment fails",
            key="on-failure",
        )
    alarms = res.properties.get("AlarmConfiguration")
    if intrinsic_name(alarms) is not None:
        return
    if (
        definitely_not_true(get(alarms, "Enabled"), ctx.params)
        or not as_list(get(alarms, "Alarms"))
        or "DEPLOYMENT_STOP_ON_ALARM" not in events
    ):
        yield Hit(
            res.logical_id,
            "Properties.AlarmConfiguration" if alarms is not None else "Properties",
            "deployment group does not roll back on alarms (AlarmConfiguration with alarms and "
            "DEPLOYMENT_STOP_ON_ALARM)",
            key="on-alarm",
        )


RULE = Rule(
    id="CV073",
    title="No automatic rollback on failure or alarm",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodeDeploy::DeploymentGroup", "AWS::Serverless::Function"),
    failure_modes=("FM63",),
    why="S2 and S3: failed deployments were not detected and broken versions stayed in "
    "production; the fix rolled back automatically on alarms and failed checks.",
    fix_cloudformation="AutoRollbackConfiguration: {Enabled: true, Events: [DEPLOYMENT_FAILURE, "
    "DEPLOYMENT_STOP_ON_ALARM]} and AlarmConfiguration: {Enabled: true, Alarms: [{Name: ...}]}.",
    fix_cdk="LambdaDeploymentGroup/EcsDeploymentGroup(alarms=[...], auto_rollback="
    "codedeploy.AutoRollbackConfig(failed_deployment=True, deployment_in_alarm=True))",
    fix_conveyor="Nothing to write: conveyor's Lambda groups roll back on failure and on their "
    "version's own alarms; its ECS blue/green groups on a failed hook, with a reasoned "
    "suppression of the alarm part (no alarm judges the replacement task set alone: CV112).",
    check=check,
)
