"""A deployment that a stage rollback redeploys watches alarms the bad release can hold in
ALARM.

A stage rollback runs the stage's actions again with the last good execution's artifacts
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html), while the
release that failed still serves. A deployment that watches an alarm measuring more than its
own release (the service's 5xx, the function's errors on every version behind its alias, an
alarm of the whole environment) then sees it in ALARM, or going into ALARM as the bad tasks
drain, and turns the rollback back: CodeDeploy stops a deployment whose alarm is activated and,
with ``DEPLOYMENT_STOP_ON_ALARM``, rolls back to its last successful revision, the bad one
(https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html); ECS
fails a deployment when one of its ``DeploymentConfiguration.Alarms`` goes into ALARM and rolls
back to the last completed deployment, again the bad one
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html).

Reported, for a stage that rolls back (``OnFailure: ROLLBACK`` or a condition with
``Result: ROLLBACK``):

- a ``CloudWatchAlarm`` rule of a rollback condition naming an alarm that a deployment group
  (``AlarmConfiguration``) or an ECS service (``DeploymentConfiguration.Alarms``) watches: the
  rollback starts *because* that alarm fires;
- a ``CodeDeploy``/``CodeDeployToECS`` action whose deployment group (by literal
  ``DeploymentGroupName``), or a CloudFormation action whose stack template, has a deployment
  that watches such alarms.

An alarm of one Lambda version is the release's own and passes: its metric has the
``ExecutedVersion`` dimension and its name (not a literal) holds that version, so each release
makes a new alarm that starts without data
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html). No
metric of an Application Load Balancer tells an ECS revision's tasks from the previous one's.

Deployments are looked up in the pipeline's template and in the stack templates beside it
checked in the same run (a cdk.out); a stack checked on its own is not judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from conveyor.rules.deploy.gate_created_alarm import deployed_files
from conveyor.rules.deployed import Watch, watches
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, condition_rules, rolls_back, stages
from conveyor.rules.template import Resource


def known_watches(ctx: Context) -> tuple[tuple[str, Watch], ...]:
    """(where, watch) for the deployments of this template and of the stacks beside it."""
    here = Path(os.path.normpath(ctx.template.file)).parent
    resources = ctx.template.data.get("Resources")
    local = ctx.memo(
        "deployment-watches", lambda: watches(resources if isinstance(resources, dict) else {})
    )
    found = [(Path(ctx.template.file).name, w) for w in local]
    for path, beside in ctx.options.deployed_watches:
        if Path(path).parent == here and os.path.normpath(path) != os.path.normpath(
            ctx.template.file
        ):
            found += [(Path(path).name, w) for w in beside]
    return tuple(found)


def _describe(where: str, watch: Watch) -> str:
    kind = "deployment group" if "CodeDeploy" in watch.type else "ECS service"
    name = watch.group_name or watch.logical_id
    return f"{kind} {name!r} ({where})"


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    known = [(where, w) for where, w in known_watches(ctx) if w.alarms]
    if not known:
        return
    files = deployed_files(res)
    for stage in stages(res):
        if not rolls_back(stage):
            continue
        for rule in condition_rules(stage):
            name = rule.configuration.get("AlarmName")
            if (
                rule.provider != "CloudWatchAlarm"
                or rule.kind == "BeforeEntry"
                or rule.result != "ROLLBACK"
                or not isinstance(name, str)
            ):
                continue
            for alarm in (part.strip() for part in name.split(",")):
                for where, watch in known:
                    if alarm in watch.alarms:
                        yield Hit(
                            res.logical_id,
                            f"{rule.path}.Configuration.AlarmName",
                            f"stage {stage.name!r} rolls back when alarm {alarm!r} fires, and "
                            f"{_describe(where, watch)} watches the same alarm during its "
                            "deployments: the rollback's deployment starts with it in ALARM, "
                            "is stopped and rolled back to the release that fired it; let "
                            "deployments watch only their own release's alarms",
                        )
        seen: set[tuple[str, str]] = set()
        for action in actions(res):
            if action.stage_index != stage.index:
                continue
            group = action.configuration.get("DeploymentGroupName")
            targets: list[tuple[str, Watch]] = []
            if action.provider.startswith("CodeDeploy") and isinstance(group, str):
                targets = [(w, x) for w, x in known if x.group_name == group]
            stack_files = {f for f, a in files.get(stage.index, []) if a.name == action.name}
            targets += [(w, x) for w, x in known if w in stack_files]
            for where, watch in targets:
                if (where, watch.logical_id) in seen:
                    continue
                seen.add((where, watch.logical_id))
                yield Hit(
                    res.logical_id,
                    action.path,
                    f"stage {stage.name!r} rolls back by running action {action.name!r} "
                    f"again, which deploys {_describe(where, watch)}; it watches alarms that "
                    f"measure more than its release ({', '.join(sorted(watch.alarms))}): "
                    "while the failed release still serves they are in ALARM or go into it, "
                    "and the rollback is stopped and turned back to that release; watch only "
                    "the new release's own alarms in the deployment (a Lambda version's, by "
                    "ExecutedVersion) and the environment's in the stage's OnSuccess bake",
                )


RULE = Rule(
    id="CV112",
    title="Stage rollback redeploys a deployment that watches alarms the bad release holds",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM122",),
    why="Issue 11 review: a stage rollback re-ran CodeDeploy and the Lambda canary while the "
    "environment-wide alarms their deployment groups watched were firing because of the bad "
    "release; CodeDeploy stopped the rollback and rolled back to the bad release.",
    fix_cloudformation="Remove environment-wide alarms from AlarmConfiguration and "
    "DeploymentConfiguration.Alarms of what a rolling-back stage deploys; watch a Lambda "
    "version's own alarms there (Dimensions with ExecutedVersion, AlarmName with the "
    "version), and the environment's alarms in the stage's OnSuccess condition.",
    fix_cdk="codedeploy.LambdaDeploymentGroup(alarms=[alarms on version metrics named after "
    "the version]); EcsDeploymentGroup without alarms; StageProps(on_success=...) for the "
    "environment's alarms.",
    fix_conveyor="Nothing to write: conveyor's deployments watch only their release's own alarms.",
    check=check,
)
