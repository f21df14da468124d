"""A stage's before-entry gate watches an alarm that the stage's own deploy (or a later
stage's) creates.

A ``CloudWatchAlarm`` rule in a stage's ``BeforeEntry`` condition names an alarm
(``Configuration.AlarmName``, a literal; a comma-separated list name by name) defined in a
stack template that this stage or a later one deploys: a CloudFormation action whose
``TemplatePath`` (``Artifact::file``) names a template in the pipeline template's folder that
is checked in the same run (a CDK ``cdk.out``, where every stack is a
``<stack>.template.json``), or that executes a change set
another action created from such a template. On the pipeline's first release that stack, and
so the alarm, does not exist yet when the gate is read (a later stage's stack neither: the
first release has not reached it). The rule reference asks for an alarm created beforehand
("You must have already created an alarm in Amazon CloudWatch as a separate resource") and
says nothing of a missing one, so the first release may never enter the stage
(https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html).

Seen only when the deployed template is checked in the same run; a template path built with
an intrinsic function, or a stack checked on its own, is not judged.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, condition_rules, stages
from conveyor.rules.template import Resource


def _template_file(action: Action) -> str | None:
    """The file a CloudFormation action deploys: the part of `Artifact::path` after `::`."""
    if action.provider != "CloudFormation":
        return None
    path = action.configuration.get("TemplatePath")
    if not isinstance(path, str) or "::" not in path:
        return None
    return PurePosixPath(path.split("::", 1)[1]).name


def _change_set_key(action: Action) -> tuple[str, str] | None:
    stack, name = (action.configuration.get(k) for k in ("StackName", "ChangeSetName"))
    return (stack, name) if isinstance(stack, str) and isinstance(name, str) else None


def deployed_files(res: Resource) -> dict[int, list[tuple[str, Action]]]:
    """Per stage index, the template files its CloudFormation actions deploy. An action that
    executes a change set (CHANGE_SET_EXECUTE, no TemplatePath) deploys the template of the
    action that created that change set (same StackName and ChangeSetName), which may sit in
    an earlier stage (a change set reviewed before an approval)."""
    every = list(actions(res))
    created = {
        key: file
        for a in every
        if a.configuration.get("ActionMode") == "CHANGE_SET_REPLACE"
        and (key := _change_set_key(a)) is not None
        and (file := _template_file(a)) is not None
    }
    files: dict[int, list[tuple[str, Action]]] = {}
    for action in every:
        file = _template_file(action)
        if file is None and action.configuration.get("ActionMode") == "CHANGE_SET_EXECUTE":
            key = _change_set_key(action)
            file = created.get(key) if key is not None else None
        if file is not None:
            files.setdefault(action.stage_index, []).append((file, action))
    return files


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not ctx.options.deployed_alarms:
        return
    # The stacks beside this template (a cdk.out holds the pipeline's and its environments').
    here = Path(os.path.normpath(ctx.template.file)).parent
    deployed = {
        Path(path).name: names
        for path, names in ctx.options.deployed_alarms
        if Path(path).parent == here
    }
    files = deployed_files(res)
    later: dict[str, tuple[str, Action]] = {}
    # From the last stage back: what this stage and every later one deploys. A later stage's
    # stack does not exist either before the first release reaches it.
    for stage in reversed(list(stages(res))):
        for file, action in files.get(stage.index, []):
            for alarm in deployed.get(file, ()):
                later[alarm] = (file, action)
        if not later:
            continue
        for rule in condition_rules(stage):
            name = rule.configuration.get("AlarmName")
            if rule.kind != "BeforeEntry" or rule.provider != "CloudWatchAlarm":
                continue
            if not isinstance(name, str):
                continue
            for alarm in (part.strip() for part in name.split(",")):
                if alarm not in later:
                    continue
                file, action = later[alarm]
                by = (
                    "this stage's action"
                    if action.stage_index == stage.index
                    else f"the later stage {action.stage!r}'s action"
                )
                yield Hit(
                    res.logical_id,
                    f"{rule.path}.Configuration.AlarmName",
                    f"stage {stage.name!r} gates its entry on alarm {alarm!r}, which {file} "
                    f"creates, deployed by {by} {action.name!r}: on the first release that "
                    "stack and its alarm do not exist yet when the gate reads it, and the "
                    "CloudWatchAlarm rule needs an existing alarm; watch it after the deploy "
                    "(an OnSuccess condition) and gate entry on alarms that exist before the "
                    "stage",
                )


RULE = Rule(
    id="CV103",
    title="Stage's entry gate watches an alarm its own or a later deploy creates",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM113",),
    why="Issue 11: the first release of an environment creates its stack and the stack's "
    "alarms; a before-entry gate on one of them reads an alarm that does not exist yet and may "
    "keep the first release out of the environment for good.",
    fix_cloudformation="Move the CloudWatchAlarm rule on that alarm from BeforeEntry to "
    "OnSuccess (Result: ROLLBACK, WaitTime in minutes); keep BeforeEntry for alarms created "
    "before the pipeline runs.",
    fix_cdk="codepipeline.StageProps(on_success=codepipeline.Conditions(...)) for the stack's "
    "own alarms; before_entry only for alarms of other, earlier stacks.",
    fix_conveyor="Nothing to write: the gate reads only the deploy's alarms:, which exist "
    "before the stage.",
    check=check,
)
