"""CodeDeploy deployment without automatic rollback on failure and on alarm.

A deployment group must enable ``AutoRollbackConfiguration`` with ``DEPLOYMENT_FAILURE``, and
roll back on alarms (``AlarmConfiguration`` enabled with alarms and
``DEPLOYMENT_STOP_ON_ALARM``). A SAM ``DeploymentPreference`` needs ``Alarms``.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, definitely_not_true, get, intrinsic_name
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
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
    fix_conveyor="Nothing to write: conveyor's deployments roll back on failure and on alarms.",
    check=check,
)
