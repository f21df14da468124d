"""A manual approval inside a stage that rolls back.

A stage rollback is a new execution of the stage with the artifacts and variables of the
execution it returns to (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html):
it runs the stage's actions again, the Manual approval among them. A production stage that
holds ChangeSet -> Approve -> Deploy and rolls back on failure (``OnFailure: {Result:
ROLLBACK}``, or an ``OnSuccess``/``OnFailure`` condition with ``Result: ROLLBACK``) therefore
waits for a person in the middle of the incident it is meant to end, with the broken release
serving until someone approves the old one. The approval belongs in a stage of its own before
the deploy stage (it deploys nothing, so it needs no rollback). Not judged: V1 pipelines (no
stage rollback there) and stages whose rollback is chosen at deploy time (a parameter).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, rolls_back, stages
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    types = possible(res.properties.get("PipelineType"), ctx.params)
    if not types or any(kind != "V2" for kind in types):
        return
    rolling = {stage.index: stage for stage in stages(res) if rolls_back(stage)}
    for action in actions(res):
        stage = rolling.get(action.stage_index)
        if stage is None or action.category != "Approval":
            continue
        yield Hit(
            res.logical_id,
            action.path,
            f"stage {stage.name!r} rolls back, and a rollback runs its actions again: approval "
            f"{action.name!r} would wait for a person while the failed release keeps serving. "
            "Move the approval (and the change set it shows) into a stage of its own before "
            f"{stage.name!r}",
        )


RULE = Rule(
    id="CV107",
    title="Manual approval inside a stage that rolls back",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM63", "FM76"),
    why="Issue 11: production's stage held ChangeSet, Approve and Deploy and rolled back on "
    "failure; its rollback re-ran the approval, so putting the last good release back waited "
    "for someone to approve it during the incident.",
    fix_cloudformation="Two stages: Approve-prod (the CHANGE_SET_REPLACE action and the Manual "
    "approval, no rollback) and Deploy-prod (CREATE_UPDATE with the same template and "
    "parameters, OnFailure: {Result: ROLLBACK}).",
    fix_cdk="pipeline.add_stage(stage_name='Approve-prod', actions=[change_set, approve]); "
    "pipeline.add_stage(stage_name='Deploy-prod', actions=[deploy], on_failure=codepipeline."
    "FailureConditions(result=codepipeline.Result.ROLLBACK))",
    fix_conveyor="Nothing to write: production's change set and approval have their own stage "
    "(Approve-<env>) before Deploy-<env>.",
    check=check,
)
