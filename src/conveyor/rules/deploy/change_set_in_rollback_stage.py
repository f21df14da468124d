"""A change set executed by name inside a stage that rolls back.

A stage rollback runs the stage's actions again (a new execution with the artifacts and
variables of the execution it returns to:
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html). A CloudFormation
action in ``CHANGE_SET_EXECUTE`` mode then executes its change set name again, but that change
set is gone: CloudFormation keeps change sets only until the stack is updated
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-delete.html),
so the rollback itself fails and the failed release keeps serving. Unless the stage also
creates the change set again (a ``CHANGE_SET_REPLACE`` action on the same stack and change set
earlier in the stage, which a rollback re-runs with the old release's parameters), the stage
needs a ``CREATE_UPDATE`` action with the same template and parameters instead. Not judged: V1
pipelines, and an action mode chosen at deploy time (a parameter).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, rolls_back, stages
from conveyor.rules.template import Resource


def _mode(action: Action) -> object:
    return action.configuration.get("ActionMode")


def _target(action: Action) -> tuple[str | None, str | None]:
    config = action.configuration
    return render(config.get("StackName")), render(config.get("ChangeSetName"))


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    types = possible(res.properties.get("PipelineType"), ctx.params)
    if not types or any(kind != "V2" for kind in types):
        return
    rolling = {stage.index: stage for stage in stages(res) if rolls_back(stage)}
    by_stage: dict[int, list[Action]] = {}
    for action in actions(res):
        if action.provider == "CloudFormation" and action.stage_index in rolling:
            by_stage.setdefault(action.stage_index, []).append(action)
    for index, found in by_stage.items():
        for action in found:
            if _mode(action) != "CHANGE_SET_EXECUTE":
                continue
            stack, change_set = _target(action)
            if stack is None or change_set is None:
                continue  # not a name CloudFormation would accept: other rules say so
            made_again = any(
                _mode(other) == "CHANGE_SET_REPLACE"
                and _target(other) == (stack, change_set)
                and other.run_order < action.run_order
                for other in found
            )
            if made_again:
                continue
            yield Hit(
                res.logical_id,
                action.path,
                f"stage {rolling[index].name!r} rolls back, and a rollback runs {action.name!r} "
                f"again: it executes change set {change_set!r} of stack {stack!r}, which "
                "CloudFormation discarded when the stack was updated, so the rollback fails. "
                "Deploy with ActionMode CREATE_UPDATE (the same template and parameters) in "
                "this stage; keep the change set for review in a stage before it",
            )


RULE = Rule(
    id="CV108",
    title="Change set executed by name inside a stage that rolls back",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM63",),
    why="Issue 11: moving production's change set and approval out of its rolling-back stage "
    "left the stage executing a change set by name; a rollback would re-execute a change set "
    "that no longer exists and fail, leaving the failed release serving.",
    fix_cloudformation="In the stage with OnFailure: {Result: ROLLBACK}: a CloudFormation action "
    "with ActionMode CREATE_UPDATE (TemplatePath, ParameterOverrides as the change set had); "
    "the CHANGE_SET_REPLACE action and the approval in a stage before it.",
    fix_cdk="codepipeline_actions.CloudFormationCreateUpdateStackAction(...) in the rolling-back "
    "stage instead of CloudFormationExecuteChangeSetAction",
    fix_conveyor="Nothing to write: Deploy-<env> updates the stack directly; the change set "
    "production's approver reads is made in Approve-<env>.",
    check=check,
)
