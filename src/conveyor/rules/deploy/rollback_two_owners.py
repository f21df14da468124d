"""A stage rollback and CodeDeploy's own automatic rollback can both start a deployment of one
deployment group.

A stage that rolls back (``OnFailure: ROLLBACK``, or a condition with ``Result: ROLLBACK``)
holds a ``CodeDeploy`` action (EC2/on-premises or Lambda through an AppSpec) whose deployment
group enables ``AutoRollbackConfiguration``. When the deployment fails, CodeDeploy rolls back
"by redeploying a previously deployed revision ... as a new deployment"
(https://docs.aws.amazon.com/codedeploy/latest/userguide/deployments-rollback-and-redeploy.html),
and the failed action makes the stage roll back too, which starts a deployment of the same
group. CodeDeploy runs one deployment per deployment group at a time
(https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html): whichever comes second
fails, and a failed stage rollback leaves the stage failed. Pick one owner: CodeDeploy's
automatic rollback, or the stage's.

Not reported: ``CodeDeployToECS`` (ECS blue/green rolls back by rerouting traffic to the
original task set inside the failed deployment, no second deployment:
https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-steps-ecs.html), and
deployments CloudFormation runs (a Lambda alias's ``CodeDeployLambdaAliasUpdate``): the stack
accepts no other update until its own rollback ends. The deployment group is found by its
literal ``DeploymentGroupName`` in the pipeline's template or a stack template beside it
checked in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.deploy.rollback_meets_alarm import known_watches
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, rolls_back, stages
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    groups = [
        (where, w)
        for where, w in known_watches(ctx)
        if w.group_name is not None and w.rolls_back_itself and not w.ecs
    ]
    if not groups:
        return
    rolling = {stage.index: stage for stage in stages(res) if rolls_back(stage)}
    for action in actions(res):
        stage = rolling.get(action.stage_index)
        name = action.configuration.get("DeploymentGroupName")
        if stage is None or action.provider != "CodeDeploy" or not isinstance(name, str):
            continue
        for where, group in groups:
            if group.group_name != name:
                continue
            yield Hit(
                res.logical_id,
                action.path,
                f"stage {stage.name!r} rolls back by deploying deployment group {name!r} "
                f"({where}) again, and the group rolls a failed deployment back itself "
                "(AutoRollbackConfiguration) with a new deployment: CodeDeploy runs one "
                "deployment per group at a time, so one of the two rollbacks fails; disable "
                "the group's automatic rollback and let the stage roll back, or take the "
                "action out of the rolling-back stage",
            )


RULE = Rule(
    id="CV113",
    title="Stage rollback and CodeDeploy's automatic rollback both redeploy one group",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM123",),
    why="Issue 11 review: CodeDeploy's own automatic rollback and the pipeline's stage rollback "
    "could both start deployments on one deployment group, where CodeDeploy allows one at a "
    "time: the later rollback fails.",
    fix_cloudformation="AutoRollbackConfiguration: {Enabled: false} on a deployment group a "
    "rolling-back stage's CodeDeploy action deploys (the stage's OnFailure ROLLBACK redeploys "
    "the last good revision), or no OnFailure ROLLBACK in that stage.",
    fix_cdk="codedeploy.ServerDeploymentGroup(auto_rollback=codedeploy.AutoRollbackConfig("
    "failed_deployment=False, stopped_deployment=False, deployment_in_alarm=False)) for a group "
    "a rolling-back stage deploys.",
    fix_conveyor="Nothing to write: conveyor deploys Lambda through CloudFormation and ECS "
    "blue/green through CodeDeployToECS, whose rollbacks start no second deployment.",
    check=check,
)
