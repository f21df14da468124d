"""A change set made under a fixed name in one stage and executed by that name in a later one.

A pipeline runs several executions at once, each in a different stage (QUEUED and SUPERSEDED
lock a stage, not the pipeline: https://docs.aws.amazon.com/codepipeline/latest/userguide/concepts-how-it-works.html).
When an earlier stage makes a change set (``CHANGE_SET_REPLACE``) under a constant
``ChangeSetName`` and a later stage executes that name (``CHANGE_SET_EXECUTE``), the next
execution's earlier stage replaces the change set while this execution is between the two: the
approver of this execution may read the next one's diff, and the later stage executes a
template nobody approved (CHANGE_SET_REPLACE replaces a change set of the same name:
https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html).
A name per execution (``#{codepipeline.PipelineExecutionId}`` in it) keeps them apart
(https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html). Not judged:
a name with any variable in it (taken as per execution), an intrinsic name, and PARALLEL mode's
own reasons (CV102).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.template import Resource


def _constant_target(action: Action) -> tuple[str, str] | None:
    """(stack, change set) when the change set name is a plain string with no variable."""
    config = action.configuration
    stack, name = config.get("StackName"), config.get("ChangeSetName")
    if not isinstance(name, str) or "#{" in name:
        return None
    rendered = render(stack)
    return (rendered, name) if rendered is not None else None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    cloudformation = [a for a in actions(res) if a.provider == "CloudFormation"]
    executed: dict[tuple[str, str], Action] = {}
    for action in cloudformation:
        target = _constant_target(action)
        if target is not None and action.configuration.get("ActionMode") == "CHANGE_SET_EXECUTE":
            executed.setdefault(target, action)
    for action in cloudformation:
        target = _constant_target(action)
        if target is None or action.configuration.get("ActionMode") != "CHANGE_SET_REPLACE":
            continue
        execute = executed.get(target)
        if execute is None or execute.stage_index <= action.stage_index:
            continue  # one stage holds one execution at a time
        stack, name = target
        yield Hit(
            res.logical_id,
            action.path,
            f"change set {name!r} of stack {stack!r} is made here (stage {action.stage!r}) "
            f"under a fixed name and executed by that name in stage {execute.stage!r}: the next "
            "execution makes its own change set under the same name while this one is between "
            "the two stages, so the approver may read the wrong diff and "
            f"{execute.name!r} may execute a template nobody approved. Name the change set per "
            "execution, e.g. 'release-#{codepipeline.PipelineExecutionId}', in both actions",
        )


RULE = Rule(
    id="CV115",
    title="Change set with a fixed name made in one stage and executed in a later one",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM76",),
    why="Issue 11, review defect 6: production's change set was named conveyor-<env>; with "
    "QUEUED executions the next release's Approve-prod replaced it while the approved one was "
    "in Deploy-prod, between its change set and its execution.",
    fix_cloudformation="ChangeSetName: 'release-#{codepipeline.PipelineExecutionId}' in the "
    "CHANGE_SET_REPLACE and CHANGE_SET_EXECUTE actions (the execution id starts with a digit "
    "at times: keep a letter first).",
    fix_cdk="change_set_name=f'release-{codepipeline.GlobalVariables.EXECUTION_ID}' on both "
    "actions, and a StringLike cloudformation:ChangeSetName 'release-*' grant on their roles "
    "(CDK conditions the grant on the unresolved name)",
    fix_conveyor="Nothing to write: change sets are named conveyor-<env>-<execution id>.",
    check=check,
)
