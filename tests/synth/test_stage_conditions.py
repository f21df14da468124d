"""CodePipeline V2 stage conditions in the generated pipelines: alarm gates and bakes read
alarms that the environment's own stack creates (by name: they live in another stack), a
window gates where the spec asks for one, and rolling services roll back on the same alarms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.synth.conftest import EXAMPLES, Synthesized


def _stages(s: Synthesized) -> list[dict[str, Any]]:
    (pipeline,) = s.resources("AWS::CodePipeline::Pipeline").values()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def _rules(stage: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [rule for c in stage.get(key, {}).get("Conditions", []) for rule in c["Rules"]]


def _alarm_names(template: dict[str, Any]) -> set[str]:
    return {
        r["Properties"]["AlarmName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_every_gated_alarm_is_one_its_environment_stack_creates_or_the_spec_names(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    for env in s.spec.environments:
        (stage,) = [st for st in _stages(s) if st["Name"] == f"Deploy-{env.name}"]
        gated = {
            r["Configuration"]["AlarmName"]
            for key in ("BeforeEntry", "OnSuccess")
            for r in _rules(stage, key)
            if r["RuleTypeId"]["Provider"] == "CloudWatchAlarm"
        }
        stack = f"{s.spec.app}-{env.name}" + (f"-{s.spec.suffix}" if s.spec.suffix else "")
        created = _alarm_names(s.templates[stack])
        assert gated <= created | set(env.user_alarms), (env.name, gated - created)
        if env in s.spec.foreign_environments:
            # Another account's alarms: the pipeline role cannot read them.
            assert gated == set()
        else:
            assert gated == created | set(env.user_alarms), env.name


def test_production_watches_its_alarms_after_the_deploy_and_rolls_back_on_alarm(
    synthesized: dict[str, Synthesized],
) -> None:
    s = synthesized["payments"]
    (prod,) = [st for st in _stages(s) if st["Name"] == "Deploy-prod"]
    (condition,) = prod["OnSuccess"]["Conditions"]
    assert condition["Result"] == "ROLLBACK"
    watched = {r["Configuration"]["AlarmName"]: r["Configuration"] for r in condition["Rules"]}
    assert set(watched) == {"payments-5xx-prod", "payments-unhealthy-prod"}
    prod_spec = next(e for e in s.spec.environments if e.name == "prod")
    assert {c["WaitTime"] for c in watched.values()} == {str(prod_spec.bake_minutes)}
    (staging,) = [st for st in _stages(s) if st["Name"] == "Deploy-staging"]
    assert "OnSuccess" not in staging  # no bake outside production unless asked


def test_rules_declare_their_type_fully(synthesized: dict[str, Synthesized]) -> None:
    for s in synthesized.values():
        for stage in _stages(s):
            for key in ("BeforeEntry", "OnSuccess"):
                for rule in _rules(stage, key):
                    assert rule["RuleTypeId"]["Version"] == "1"
                    assert rule["RuleTypeId"]["Owner"] == "AWS"


@pytest.mark.parametrize("example", ["web-service", "validated-service", "multi-account"])
def test_a_created_rolling_service_rolls_back_on_its_alarms_beside_the_circuit_breaker(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    s = synthesized[example]
    rolling = 0
    for stack, template in s.templates.items():
        # A CodeDeploy-controlled service (multi-account's production) rolls back through its
        # deployment group's alarms instead; ECS takes no deployment alarms for it.
        services = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::ECS::Service"
            and r["Properties"].get("DeploymentController", {}).get("Type") != "CODE_DEPLOY"
        ]
        rolling += len(services)
        for service in services:
            config = service["Properties"]["DeploymentConfiguration"]
            assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
            alarms = config["Alarms"]
            assert alarms["Enable"] is True and alarms["Rollback"] is True, stack
            names = {_name(template, n) for n in alarms["AlarmNames"]}
            assert names == _alarm_names(template), stack
    assert rolling, f"{example} has no created rolling service"


def _name(template: dict[str, Any], value: Any) -> str:
    """An alarm's name, given literally or as a Ref to the alarm."""
    if isinstance(value, dict):
        name: str = template["Resources"][value["Ref"]]["Properties"]["AlarmName"]
        return name
    return str(value)
