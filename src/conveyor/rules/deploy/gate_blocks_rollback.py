"""A stage's before-entry gate watches an alarm that also rolls the stage back.

A ``CloudWatchAlarm`` rule in a stage's ``BeforeEntry`` condition and one in a condition of
the same stage whose ``Result`` is ``ROLLBACK`` (an ``OnSuccess`` bake, an ``OnFailure``
check) name the same alarm. The rollback starts because that alarm fires; a stage rollback is
a new execution of the stage (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html),
and AWS does not document whether it passes the stage's before-entry condition again
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html). If it does,
the gate holds the rollback back on the very alarm that asked for it, while the release that
made it fire keeps serving.

Alarms are compared by literal name (a comma-separated list name by name) and by the alarm
resource a ``Ref`` points at (with its literal ``AlarmName``, when it has one).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name, ref_target
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import ConditionRule, condition_rules, stages
from conveyor.rules.template import Resource


def _alarms(rule: ConditionRule, ctx: Context) -> set[str]:
    """The alarms a CloudWatchAlarm rule names: literal names, and `ref:<LogicalId>` plus the
    literal AlarmName of an alarm it references."""
    name = rule.configuration.get("AlarmName")
    if isinstance(name, str):
        return {part.strip() for part in name.split(",") if part.strip()}
    if intrinsic_name(name) != "Ref":
        return set()
    target = ref_target(name)
    if target is None:
        return set()
    found = {f"ref:{target}"}
    alarm = ctx.template.resources.get(target)
    literal = alarm.properties.get("AlarmName") if alarm is not None else None
    if isinstance(literal, str):
        found.add(literal)
    return found


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for stage in stages(res):
        rules = [r for r in condition_rules(stage) if r.provider == "CloudWatchAlarm"]
        rolling = {
            alarm: r
            for r in rules
            if r.kind != "BeforeEntry" and r.result == "ROLLBACK"
            for alarm in _alarms(r, ctx)
        }
        if not rolling:
            continue
        for gate in (r for r in rules if r.kind == "BeforeEntry"):
            shared = sorted(a for a in _alarms(gate, ctx) if a in rolling)
            if not shared:
                continue
            alarm = next((a for a in shared if not a.startswith("ref:")), shared[0])
            other = rolling[alarm]
            yield Hit(
                res.logical_id,
                f"{gate.path}.Configuration.AlarmName",
                f"stage {stage.name!r} gates its entry on alarm {alarm.removeprefix('ref:')!r} "
                f"and its {other.kind} condition rolls it back on the same alarm: AWS does not "
                "document whether the rollback execution passes the before-entry gate again, "
                "and if it does the alarm that asked for the rollback holds it back; gate "
                "entry on alarms that exist before the stage and watch the ones the release "
                "can trip after it, never one alarm in both",
            )


RULE = Rule(
    id="CV104",
    title="Stage's entry gate watches an alarm that also rolls the stage back",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM114",),
    why="Issue 11: a bake (OnSuccess, ROLLBACK) that sees an alarm starts a rollback of the "
    "stage; a before-entry gate on the same alarm may hold that rollback back while the bad "
    "release keeps serving.",
    fix_cloudformation="Keep each alarm in one condition: BeforeEntry names alarms that exist "
    "before the stage (not created by its deploy), OnSuccess the alarms the release can trip.",
    fix_cdk="beforeEntry and onSuccess codepipeline.Conditions whose CloudWatchAlarm rules name "
    "different alarms.",
    fix_conveyor="Nothing to write: the gate reads the deploy's alarms:, the bake the alarms "
    "conveyor creates in the environment's stack.",
    check=check,
)
