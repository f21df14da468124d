"""A stage that rolls back and has a deployment window or alarm gate on its entry.

A stage with ``OnFailure: {Result: ROLLBACK}`` (or an ``OnSuccess``/``OnFailure`` condition
whose ``Result`` is ``ROLLBACK``, a bake) is rolled back by a new execution of that stage
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html). AWS does not
document whether that execution must pass the stage's ``BeforeEntry`` condition: the stage
rollback pages, the conditions pages
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html) and the API's
Condition and BeforeEntryConditions pages are silent on it. If it must, a ``DeploymentWindow``
rule holds the rollback until the window opens (a bake that fails at Friday 17:10 rolls back on
Monday), and a ``CloudWatchAlarm`` rule holds it while the alarm fires, which the bad release's
own errors may cause: the rollback waits behind the release it is meant to remove. The gate
belongs on a stage before the one that rolls back (one that holds the release's once-only work,
such as the approval, an image tag or a migration), which a rollback never runs.

Reported: each V2 pipeline stage that rolls back and whose entry condition holds a
``DeploymentWindow`` or ``CloudWatchAlarm`` rule. CV104 also names an alarm such a gate shares
with the stage's rollback condition. Not judged: V1 pipelines (no conditions), other rule
providers (a Lambda or variable check can be written to let a rollback through), and a result
or provider that is an intrinsic.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import condition_rules, rolls_back, stages
from conveyor.rules.template import Resource

GATE_PROVIDERS = {"DeploymentWindow": "deployment window", "CloudWatchAlarm": "alarm"}


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    types = possible(res.properties.get("PipelineType"), ctx.params)
    if not types or any(kind != "V2" for kind in types):
        return
    for stage in stages(res):
        if not rolls_back(stage):
            continue
        gates = [
            rule
            for rule in condition_rules(stage)
            if rule.kind == "BeforeEntry" and rule.provider in GATE_PROVIDERS
        ]
        if not gates:
            continue
        held = {rule.provider for rule in gates}
        kinds = " and ".join(
            label for provider, label in GATE_PROVIDERS.items() if provider in held
        )
        article = "an" if kinds.startswith("alarm") else "a"
        yield Hit(
            res.logical_id,
            f"{stage.path}.BeforeEntry",
            f"stage {stage.name!r} rolls back and has {article} {kinds} gate on its entry: a "
            "rollback "
            "is a new execution of the stage, and AWS does not document whether it must pass "
            "that gate; if it must, the rollback waits for the window to open or the alarm to "
            "go quiet while the bad release keeps serving. Move the gate to a stage of its own "
            "before this one (holding the release's once-only work: the approval, the image "
            "tag, a migration) and leave none on the stage that rolls back",
        )


RULE = Rule(
    id="CV118",
    title="Deployment window or alarm gate on a stage that rolls back",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM124",),
    why="Issue 11: an environment with a gate and no `before` job carried the gate on "
    "Deploy-<env>, the stage with the on-failure rollback and the bake: if AWS reads the gate "
    "for the rollback execution, a bake that failed after the window closed rolled back at the "
    "next window, and a release whose errors fire the gate's alarm blocked its own rollback.",
    fix_cloudformation="BeforeEntry with the DeploymentWindow/CloudWatchAlarm rules on a stage "
    "before the deploy stage that has work of its own (Release-prod: the image tag, the "
    "migration), none on the stage with OnFailure/OnSuccess ROLLBACK.",
    fix_cdk="pipeline.add_stage(stage_name='Release-prod', actions=[mark, migrate], "
    "before_entry=gate); pipeline.add_stage(stage_name='Deploy-prod', actions=[deploy], "
    "on_failure=codepipeline.FailureConditions(result=codepipeline.Result.ROLLBACK))",
    fix_conveyor="Nothing to write: `window:` and the deploy's `alarms:` gate Approve-<env> and "
    "Release-<env>, never Deploy-<env>.",
    check=check,
)
