"""A stage's V2 conditions in CDK: the plan's conditions (conveyor.plan, spec-only data, which
`conveyor plan` and the diagram show) turned into StageProps arguments, so what the pipeline
does and what the plan says cannot drift apart.
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_codepipeline as codepipeline

from conveyor.plan import Condition

_RESULTS = {
    "FAIL": codepipeline.Result.FAIL,
    "ROLLBACK": codepipeline.Result.ROLLBACK,
    "RETRY": codepipeline.Result.RETRY,
}
_RETRY_MODES = {
    "FAILED_ACTIONS": codepipeline.RetryMode.FAILED_ACTIONS,
    "ALL_ACTIONS": codepipeline.RetryMode.ALL_ACTIONS,
}


def stage_conditions(conditions: tuple[Condition, ...]) -> dict[str, Any]:
    """`before_entry`, `on_success` and `on_failure` arguments of one StageProps."""
    found: dict[str, Any] = {}
    for kind in ("before_entry", "on_success"):
        chosen = [c for c in conditions if c.kind == kind]
        if chosen:
            found[kind] = codepipeline.Conditions(
                conditions=[
                    codepipeline.Condition(result=_RESULTS[c.result], rules=_rules(c))
                    for c in chosen
                ]
            )
    failure = [c for c in conditions if c.kind == "on_failure"]
    if failure:
        (condition,) = failure  # one OnFailure per stage
        found["on_failure"] = codepipeline.FailureConditions(
            result=_RESULTS[condition.result],
            retry_mode=_RETRY_MODES[condition.retry_mode] if condition.retry_mode else None,
            conditions=(
                [codepipeline.Condition(result=_RESULTS[condition.result], rules=_rules(condition))]
                if condition.rules
                else None
            ),
        )
    return found


def _rules(condition: Condition) -> list[codepipeline.Rule]:
    return [
        codepipeline.Rule(
            name=rule.name,
            provider=rule.provider,
            version="1",
            configuration=dict(rule.configuration),
            region=rule.region,
        )
        for rule in condition.rules
    ]
