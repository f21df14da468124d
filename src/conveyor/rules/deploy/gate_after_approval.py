"""A manual approval, or a job after it, that runs before the gate of the stage it leads to.

A stage's entry gate (``BeforeEntry`` with a ``DeploymentWindow`` or ``CloudWatchAlarm`` rule)
is read when an execution reaches that stage
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html). When the
approval sits in an earlier stage with no such gate before it, a person approves a release the
gate then holds back: outside the window the execution waits at the deploy stage (the
DeploymentWindow rule holds it until the window opens, and an alarm rule in the same condition
is not read again then:
https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-DeploymentWindow.html),
or fails on a firing alarm, and the approval is spent. Worse, a job that runs after the
approval and before the gated stage (a database migration, the usual ``before`` job) runs
outside the window, or while the alarms fire, and stays applied while its code does not
deploy. Reported: each approval with no gate of the same kind (window, alarms) on its own stage
or a stage before it, and each CodeBuild job after an approval with no such gate between the
approval and the job; both only between the gated stage and the previous stage that changed
something (a deploy action other than a change set). Not judged: V1 pipelines (no stage
conditions), a job that no approval precedes (a build is not told apart from a migration), and
a gate that is an intrinsic.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, Stage, actions, condition_rules, stages
from conveyor.rules.template import Resource

GATE_PROVIDERS = ("DeploymentWindow", "CloudWatchAlarm")


def _gate(stage: Stage) -> frozenset[str]:
    """The kinds of gate a stage's entry condition holds."""
    return frozenset(
        rule.provider
        for rule in condition_rules(stage)
        if rule.kind == "BeforeEntry" and rule.provider in GATE_PROVIDERS
    )


def _changes_something(action: Action) -> bool:
    return action.is_deploy and not action.changes_nothing


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    types = possible(res.properties.get("PipelineType"), ctx.params)
    if not types or any(kind != "V2" for kind in types):
        return
    ordered = list(stages(res))
    by_stage: dict[int, list[Action]] = {}
    for action in actions(res):
        by_stage.setdefault(action.stage_index, []).append(action)
    reported: set[str] = set()
    start = 0  # the first stage after the last one that changed something
    for position, stage in enumerate(ordered):
        gate = _gate(stage)
        if gate:
            yield from _unguarded(res, ordered[start:position], by_stage, gate, stage, reported)
        if any(_changes_something(a) for a in by_stage.get(stage.index, [])):
            start = position + 1


def _unguarded(
    res: Resource,
    segment: list[Stage],
    by_stage: dict[int, list[Action]],
    gate: frozenset[str],
    gated: Stage,
    reported: set[str],
) -> Iterator[Hit]:
    guarded_at: int | None = None  # the last stage of the segment whose entry holds the gate
    approved: tuple[int, int] | None = None  # (stage, run order) of the last approval so far
    kinds = " and ".join(sorted(gate))
    for stage in segment:
        if gate <= _gate(stage):
            guarded_at = stage.index
        for action in sorted(by_stage.get(stage.index, []), key=lambda a: a.run_order):
            if action.path in reported:
                continue
            if action.category == "Approval" and action.provider == "Manual":
                if guarded_at is None:
                    reported.add(action.path)
                    yield Hit(
                        res.logical_id,
                        action.path,
                        f"approval {action.name!r} (stage {stage.name!r}) comes before any "
                        f"{kinds} gate, but stage {gated.name!r} holds one: the approval can "
                        "be given while that gate would hold the release back, and is spent. "
                        f"Put the same gate on the entry of {stage.name!r} (before the "
                        "approval) too",
                    )
                approved = (stage.index, action.run_order)
            elif (
                action.provider == "CodeBuild"
                and approved is not None
                and (guarded_at is None or guarded_at <= approved[0])
            ):
                reported.add(action.path)
                yield Hit(
                    res.logical_id,
                    action.path,
                    f"job {action.name!r} (stage {stage.name!r}) runs after the approval "
                    f"and before stage {gated.name!r}'s {kinds} gate: it runs (a migration "
                    "stays applied) even when that gate then holds the release back. Put "
                    "the job in a stage of its own after the approval, with the same gate "
                    f"on its entry, and none on {gated.name!r}",
                )


RULE = Rule(
    id="CV114",
    title="Approval or job after it runs before the deployment window or alarm gate",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM63", "FM76"),
    why="Issue 11, review defect 5: production's window and alarm gate sat on Deploy-prod, "
    "after the approval and the `before` job: an approval at 16:55 met a window closing at "
    "17:00, and the migration ran while its code waited for the next window.",
    fix_cloudformation="BeforeEntry with the same DeploymentWindow/CloudWatchAlarm rules on the "
    "approval's stage and on a stage of its own for the job after the approval "
    "(Approve-prod, Release-prod); none on the deploy stage that follows the job (it rolls "
    "back: CV118).",
    fix_cdk="pipeline.add_stage(stage_name='Approve-prod', actions=[change_set, approve], "
    "before_entry=gate); pipeline.add_stage(stage_name='Release-prod', actions=[mark, migrate], "
    "before_entry=gate)",
    fix_conveyor="Nothing to write: `window:` and the deploy's `alarms:` gate Approve-<env> and "
    "Release-<env> (the stage after the approval, before the first change).",
    check=check,
)
