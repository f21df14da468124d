"""Reading CodePipeline stages and actions, and the CodeBuild projects behind them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from conveyor.rules.intrinsics import as_list, get, intrinsic_name, render
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource, Template


@dataclass(frozen=True, slots=True)
class Action:
    stage_index: int
    stage: str
    index: int
    name: str
    category: str
    owner: str
    provider: str
    run_order: int
    configuration: dict[str, Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    data: dict[str, Any]

    @property
    def path(self) -> str:
        return f"Properties.Stages.{self.stage_index}.Actions.{self.index}"

    @property
    def is_deploy(self) -> bool:
        return self.category == "Deploy"

    @property
    def updates_own_stack(self) -> bool:
        """A CloudFormation action on the stack that holds the pipeline (its self-update), which
        ships no application code."""
        return self.provider == "CloudFormation" and self.configuration.get("StackName") == {
            "Ref": "AWS::StackName"
        }

    @property
    def changes_nothing(self) -> bool:
        """A CloudFormation action that only creates a change set: nothing changes until an
        action in CHANGE_SET_EXECUTE mode runs it.
        https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html"""
        return (
            self.provider == "CloudFormation"
            and self.configuration.get("ActionMode") == "CHANGE_SET_REPLACE"
        )


def _artifact_names(value: Any) -> tuple[str, ...]:
    return tuple(
        str(item["Name"])
        for item in as_list(value)
        if isinstance(item, dict) and isinstance(item.get("Name"), str)
    )


def with_self_update(found: list[Action]) -> set[tuple[int, int]]:
    """(stage index, action index) of the CloudFormation actions that run, in a stage updating
    the pipeline's own stack, before that update: another region's support stack (conveyor's
    UpdatePipeline stage updates each before the pipeline's stack), whose artifact store the
    pipeline's definition names. They go with the pipeline's definition and ship no release,
    as long as they deploy what that stage made (its synth) or the source: a stack deployed from
    an earlier stage's build output is a release, wherever the pipeline updates itself."""
    own: dict[int, int] = {}
    for action in found:
        if action.updates_own_stack:
            own[action.stage_index] = min(
                own.get(action.stage_index, action.run_order), action.run_order
            )
    made_there: dict[int, set[str]] = {}
    from_source: set[str] = set()
    for action in found:
        made_there.setdefault(action.stage_index, set()).update(action.outputs)
        if action.category == "Source":
            from_source.update(action.outputs)
    return {
        (a.stage_index, a.index)
        for a in found
        if a.stage_index in own
        and a.provider == "CloudFormation"
        and not a.updates_own_stack
        and a.run_order < own[a.stage_index]
        and all(name in made_there[a.stage_index] | from_source for name in a.inputs)
    }


def actions(pipeline: Resource) -> Iterator[Action]:
    for s_index, stage in enumerate(as_list(pipeline.properties.get("Stages"))):
        if not isinstance(stage, dict):
            continue
        stage_name = stage.get("Name") if isinstance(stage.get("Name"), str) else str(s_index)
        for a_index, action in enumerate(as_list(stage.get("Actions"))):
            if not isinstance(action, dict):
                continue
            type_id = action.get("ActionTypeId")
            type_id = type_id if isinstance(type_id, dict) else {}
            run_order = action.get("RunOrder", 1)
            config = action.get("Configuration")
            yield Action(
                stage_index=s_index,
                stage=str(stage_name),
                index=a_index,
                # An intrinsic name (a nested stack's output) reads as ${Stack.Outputs.X}.
                name=render(action.get("Name", "")) or str(action.get("Name", "")),
                category=str(type_id.get("Category", "")),
                owner=str(type_id.get("Owner", "")),
                provider=str(type_id.get("Provider", "")),
                run_order=run_order if isinstance(run_order, int) else _int(run_order),
                configuration=config if isinstance(config, dict) else {},
                inputs=_artifact_names(action.get("InputArtifacts")),
                outputs=_artifact_names(action.get("OutputArtifacts")),
                data=action,
            )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


def order(action: Action) -> tuple[int, int]:
    return (action.stage_index, action.run_order)


def project_of(action: Action, template: Template) -> Resource | None:
    """The AWS::CodeBuild::Project a CodeBuild action runs, when it is in this template."""
    if action.provider != "CodeBuild":
        return None
    ref = get(action.configuration, "ProjectName")
    name = intrinsic_name(ref)
    if name in ("Ref", "Fn::GetAtt", "Fn::Sub"):
        text = render(ref) or ""
        match = re.match(r"\$\{([^}.]+)", text)
        lid = match.group(1) if match else None
        res = template.resources.get(lid) if lid else None
        return res if res is not None and res.type == "AWS::CodeBuild::Project" else None
    if isinstance(ref, str):
        for res in template.resources.values():
            if res.type == "AWS::CodeBuild::Project" and res.properties.get("Name") == ref:
                return res
    return None


PRODUCTION = lazy(r"(?<![a-z])(prod|production|prd|live)(?![a-z])", re.IGNORECASE)


def is_production(text: str) -> bool:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text).replace("_", "-")
    return PRODUCTION.search(spaced) is not None


# --- V2 stage conditions ---------------------------------------------------------------------
# https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codepipeline-pipeline-stagedeclaration.html
CONDITION_KINDS = ("BeforeEntry", "OnSuccess", "OnFailure")


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str
    data: dict[str, Any]

    @property
    def path(self) -> str:
        return f"Properties.Stages.{self.index}"


@dataclass(frozen=True, slots=True)
class ConditionRule:
    """One rule of a stage condition (`CloudWatchAlarm`, `DeploymentWindow`, ...)."""

    stage: Stage
    kind: str  # BeforeEntry, OnSuccess or OnFailure
    result: Any  # the condition's Result (FAIL, SKIP, ROLLBACK, RETRY) as written
    provider: str
    configuration: dict[str, Any]
    data: dict[str, Any]
    path: str


def stages(pipeline: Resource) -> Iterator[Stage]:
    for index, stage in enumerate(as_list(pipeline.properties.get("Stages"))):
        if isinstance(stage, dict):
            name = stage.get("Name")
            yield Stage(index, name if isinstance(name, str) else str(index), stage)


def condition_rules(stage: Stage) -> Iterator[ConditionRule]:
    for kind in CONDITION_KINDS:
        conditions = get(stage.data, kind, "Conditions")
        for c_index, condition in enumerate(as_list(conditions)):
            if not isinstance(condition, dict):
                continue
            for r_index, rule in enumerate(as_list(condition.get("Rules"))):
                if not isinstance(rule, dict):
                    continue
                type_id = rule.get("RuleTypeId")
                config = rule.get("Configuration")
                yield ConditionRule(
                    stage=stage,
                    kind=kind,
                    result=condition.get("Result"),
                    provider=str(get(type_id, "Provider") or ""),
                    configuration=config if isinstance(config, dict) else {},
                    data=rule,
                    path=f"{stage.path}.{kind}.Conditions.{c_index}.Rules.{r_index}",
                )


def rolls_back(stage: Stage) -> bool:
    """The stage rolls back on failure (OnFailure Result ROLLBACK), or a condition of it rolls
    back (an OnSuccess or OnFailure condition whose Result is ROLLBACK)."""
    if get(stage.data, "OnFailure", "Result") == "ROLLBACK":
        return True
    return any(
        isinstance(condition, dict) and condition.get("Result") == "ROLLBACK"
        for kind in CONDITION_KINDS
        for condition in as_list(get(stage.data, kind, "Conditions"))
    )


# --- triggers --------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-gitconfiguration.html


def pull_request_trigger(pipeline: Resource) -> str | None:
    """The path of the pipeline's first trigger that starts it on pull requests (a
    ``GitConfiguration.PullRequest`` filter), if any. A pull request's run builds the code of
    its source branch, which anyone who can open a pull request chooses.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-filter.html"""
    for index, trigger in enumerate(as_list(pipeline.properties.get("Triggers"))):
        filters = get(trigger, "GitConfiguration", "PullRequest")
        if filters not in (None, []):
            return f"Properties.Triggers.{index}.GitConfiguration.PullRequest"
    return None
