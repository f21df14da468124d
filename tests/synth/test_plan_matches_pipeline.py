"""`conveyor plan`, `diagram` and `cost` describe the pipeline `synth` builds: same stages, same
actions, same run orders, same providers."""

from __future__ import annotations

from typing import Any

import pytest

from conveyor.plan import Condition, Rule, plan
from tests.synth.conftest import EXAMPLES, Synthesized


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_plan_matches_the_synthesized_pipeline(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    pipeline = s.pipeline()
    built = [
        (
            stage["Name"],
            sorted(
                (a["Name"], a["RunOrder"], a["ActionTypeId"]["Provider"]) for a in stage["Actions"]
            ),
        )
        for stage in pipeline["Properties"]["Stages"]
    ]
    planned = [
        (stage.name, sorted((a.name, a.run_order, a.provider) for a in stage.actions))
        for stage in plan(s.spec).stages
    ]
    assert planned == built


def _region(rule: dict[str, Any], parameters: dict[str, Any]) -> str | None:
    """A rule's Region: a literal, or the pipeline stack's parameter naming another region
    (region_tokens.regions_as_parameters), by its default."""
    region = rule.get("Region")
    if isinstance(region, dict):
        return str(parameters[region["Ref"]]["Default"])
    return region


def _conditions_of(stage: dict[str, Any], parameters: dict[str, Any]) -> list[Condition]:
    """A synthesized stage's conditions, read back into the plan's terms."""
    found = []
    for key, kind in (("BeforeEntry", "before_entry"), ("OnSuccess", "on_success")):
        for condition in stage.get(key, {}).get("Conditions", []):
            rules = tuple(
                Rule(
                    name=rule["Name"],
                    provider=rule["RuleTypeId"]["Provider"],
                    configuration=tuple(rule["Configuration"].items()),
                    region=_region(rule, parameters),
                )
                for rule in condition["Rules"]
            )
            found.append(Condition(kind, condition["Result"], rules))  # type: ignore[arg-type]
    failure = stage.get("OnFailure")
    if failure is not None:
        mode = failure.get("RetryConfiguration", {}).get("RetryMode")
        found.append(Condition("on_failure", failure["Result"], retry_mode=mode))
    return found


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_plan_shows_the_conditions_the_pipeline_has(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """Rollback, retry, alarm gates, bake and windows: the plan says what the template does."""
    s = synthesized[example]
    pipeline = s.pipeline()
    parameters = s.template.get("Parameters", {})
    built = {
        stage["Name"]: _conditions_of(stage, parameters)
        for stage in pipeline["Properties"]["Stages"]
    }
    planned = {stage.name: list(stage.conditions) for stage in plan(s.spec).stages}
    assert planned == built


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_every_environment_stage_rolls_back_and_the_build_retries(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    pipeline = s.pipeline()
    properties = pipeline["Properties"]
    assert properties["PipelineType"] == "V2"
    # PARALLEL would disable the rollback below (the spec refuses it).
    assert properties["ExecutionMode"] == s.spec.pipeline.execution_mode.upper()
    for stage in properties["Stages"]:
        if stage["Name"].startswith("Deploy-"):
            assert stage["OnFailure"] == {"Result": "ROLLBACK"}
        elif stage["Name"] == "Build":
            assert stage["OnFailure"] == {
                "Result": "RETRY",
                "RetryConfiguration": {"RetryMode": "FAILED_ACTIONS"},
            }
        else:
            assert "OnFailure" not in stage
