"""A stage condition watches a CloudWatch alarm the template does not define.

A ``CloudWatchAlarm`` rule in a stage's ``BeforeEntry``, ``OnSuccess`` or ``OnFailure``
conditions names its alarm in ``Configuration.AlarmName``
(https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-CloudWatchAlarm.html).
An alarm can live in any stack, so a name is judged only when the template must hold it:

- the name references a resource of the template (``Ref``) that is not an alarm; or
- it is a literal, the stage deploys resources of this template (a Deploy action references
  them: the environment the gate protects is defined here), the template defines alarms and
  the name of every alarm it defines is known (written literally; an alarm without
  ``AlarmName`` gets a generated name no literal can match), and the rule names no other
  ``Region`` or ``RoleArn`` (another region's or account's alarm).

A stage that deploys another stack (CloudFormation action), a name from a parameter, an import
or a ``Fn::Sub`` with variables is not judged. A comma-separated list is read name by name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name, ref_target, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Stage, actions, condition_rules, stages
from conveyor.rules.template import Resource

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def _known_alarm_names(ctx: Context) -> frozenset[str] | None:
    """The names of the template's alarms, or None when one of them cannot be known."""
    names: set[str] = set()
    for lid in ctx.relations.of_type(*ALARM_TYPES):
        name = ctx.template.resources[lid].properties.get("AlarmName")
        if name is None:
            continue
        if not isinstance(name, str):
            return None
        names.add(name)
    return frozenset(names)


def _deploys_here(stage: Stage, res: Resource, ctx: Context) -> bool:
    deploys = [a for a in actions(res) if a.stage_index == stage.index and a.is_deploy]
    if any(a.provider == "CloudFormation" and not a.updates_own_stack for a in deploys):
        return False  # its environment is another stack, whose alarms this template cannot show
    return any(
        lid in ctx.template.resources for a in deploys for lid in references(a.configuration)
    )


def _elsewhere(rule: dict[str, object]) -> bool:
    region = rule.get("Region")
    return rule.get("RoleArn") is not None or (
        region is not None and region != {"Ref": "AWS::Region"}
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    known = ctx.memo("gate_alarm.names", lambda: _known_alarm_names(ctx))
    for stage in stages(res):
        here: bool | None = None
        for rule in condition_rules(stage):
            if rule.provider != "CloudWatchAlarm":
                continue
            name = rule.configuration.get("AlarmName")
            where = f"{rule.path}.Configuration.AlarmName"
            target = ref_target(name) if intrinsic_name(name) == "Ref" else None
            if target is not None and target in ctx.template.resources:
                kind = ctx.template.resources[target].type
                if kind not in ALARM_TYPES:
                    yield Hit(
                        res.logical_id,
                        where,
                        f"the {rule.kind} condition of stage {stage.name!r} watches "
                        f"{target} ({kind}), not a CloudWatch alarm",
                    )
                continue
            if not isinstance(name, str) or not known or _elsewhere(rule.data):
                continue
            if here is None:
                here = _deploys_here(stage, res, ctx)
            if not here:
                continue
            for missing in _missing(name, known):
                yield Hit(res.logical_id, where, _message(rule.kind, stage.name, missing, known))


def _missing(value: str, known: frozenset[str]) -> list[str]:
    if value in known:
        return []
    return [part.strip() for part in value.split(",") if part.strip() not in known]


def _message(kind: str, stage: str, missing: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(missing, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"its alarms: {', '.join(sorted(known))}"
    return (
        f"the {kind} condition of stage {stage!r} watches alarm {missing!r}, which this template "
        f"does not define although the stage deploys its resources ({hint}); a gate on an alarm "
        "that does not exist never sees the environment's health"
    )


RULE = Rule(
    id="CV101",
    title="Stage condition watches an alarm the template does not define",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM112",),
    why="Issue 11: alarm gates (BeforeEntry) and bakes (OnSuccess) protect an environment only "
    "through the alarm they name; a misspelt or removed alarm turns the gate into a no-op or a "
    "stage that can never be entered.",
    fix_cloudformation="Configuration: {AlarmName: !Ref TheAlarm} (a Ref of an "
    "AWS::CloudWatch::Alarm is its name), or the exact AlarmName of an alarm of the template.",
    fix_cdk="codepipeline.Rule(provider='CloudWatchAlarm', configuration={'AlarmName': "
    "alarm.alarm_name}, ...)",
    fix_conveyor="Nothing to write: conveyor names the environment's own alarms.",
    check=check,
)
