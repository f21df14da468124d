"""CodePipeline V2 stage conditions in the generated pipelines: alarm gates and bakes read
alarms that the environment's own stack creates (by name: they live in another stack), a
window gates where the spec asks for one, and no ECS deployment watches the service's alarms."""

from __future__ import annotations

from typing import Any

import pytest

from tests.synth.conftest import EXAMPLES, Synthesized


def _stages(s: Synthesized) -> list[dict[str, Any]]:
    pipeline = s.pipeline()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def _rules(stage: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [rule for c in stage.get(key, {}).get("Conditions", []) for rule in c["Rules"]]


def _alarm_names(template: dict[str, Any]) -> set[str]:
    """The environment's alarms, named literally; a release's own alarms (named after its
    Lambda version, an Fn::Join) are CodeDeploy's, never a stage condition's."""
    return {
        r["Properties"]["AlarmName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and isinstance(r["Properties"]["AlarmName"], str)
    }


def _alarm_rules(stage: dict[str, Any], key: str) -> set[str]:
    return {
        r["Configuration"]["AlarmName"]
        for r in _rules(stage, key)
        if r["RuleTypeId"]["Provider"] == "CloudWatchAlarm"
    }


@pytest.mark.parametrize("example", [p.stem for p in EXAMPLES])
def test_gates_read_existing_alarms_and_bakes_the_ones_the_environment_stack_creates(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """The first release deploys the environment's stack, which creates its alarms: a gate
    before entry on them would read alarms that do not exist yet. The on-success bake runs
    after the deploy created them. No alarm is in both (a rollback the bake starts must not
    meet a gate on the alarm that started it)."""
    s = synthesized[example]
    for env in s.spec.environments:
        (stage,) = [st for st in _stages(s) if st["Name"] == f"Deploy-{env.name}"]
        # The gate holds the environment's first stage and the first after its approval
        # (plan.gated_stage_names), each reading the same alarms.
        own = [
            st
            for st in _stages(s)
            if st["Name"] in {f"{kind}-{env.name}" for kind in ("Approve", "Before", "Deploy")}
        ]
        gates = [_alarm_rules(st, "BeforeEntry") for st in own if "BeforeEntry" in st]
        entry = set().union(*gates)
        assert all(gate == entry for gate in gates), env.name
        bake = _alarm_rules(stage, "OnSuccess")
        stack = f"{s.spec.app}-{env.name}" + (f"-{s.spec.suffix}" if s.spec.suffix else "")
        created = _alarm_names(s.templates[stack])
        assert not entry & created, (env.name, entry & created)
        assert not entry & bake, (env.name, entry & bake)
        if env in s.spec.foreign_environments:
            # Another account's alarms: the pipeline role cannot read them.
            assert entry | bake == set()
            continue
        assert entry == set(env.user_alarms), env.name
        # A dead-letter queue's alarm (a worker's, a job's) is created but no bake's: it stays
        # in ALARM until its messages are redriven, and would roll back every later release
        # (Environment.alarm_kinds).
        bakeable = {name for name in created if "-dlq-" not in name}
        if env.is_worker or env.is_job:
            assert created - bakeable, (env.name, created)
        assert bake == (bakeable if env.bake_minutes else set()), env.name


def test_the_pipeline_role_reads_exactly_the_alarms_its_rules_name(
    synthesized: dict[str, Synthesized],
) -> None:
    """CloudWatchAlarm rules run with the pipeline role, which may cloudwatch:DescribeAlarms
    on the alarms its rules name and nothing else (no `*`)."""
    for name, s in synthesized.items():
        named = {
            alarm
            for stage in _stages(s)
            for key in ("BeforeEntry", "OnSuccess")
            for alarm in _alarm_rules(stage, key)
        }
        granted: set[str] = set()
        for policy in _pipeline_role_policies(s):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                if "cloudwatch:DescribeAlarms" in (
                    [actions] if isinstance(actions, str) else actions
                ):
                    resources = statement["Resource"]
                    for arn in [resources] if not isinstance(resources, list) else resources:
                        assert arn != "*", name
                        granted.add(_arn_alarm(arn))
        assert granted == named, (name, granted ^ named)


def _pipeline_role_policies(s: Synthesized) -> list[dict[str, Any]]:
    role = s.pipeline()["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    for template in s.templates.values():
        if role in template["Resources"]:
            return [
                r
                for r in template["Resources"].values()
                if r["Type"] == "AWS::IAM::Policy"
                and {"Ref": role} in r["Properties"].get("Roles", [])
            ]
    raise AssertionError("no pipeline")


def _arn_alarm(arn: Any) -> str:
    """The alarm name at the end of an alarm ARN, literal or built with Fn::Join."""
    if isinstance(arn, dict):
        parts = arn["Fn::Join"][1]
        text = "".join(p for p in parts if isinstance(p, str))
    else:
        text = arn
    return str(text).rsplit(":alarm:", 1)[1]


def test_production_watches_its_alarms_after_the_deploy_and_rolls_back_on_alarm(
    synthesized: dict[str, Synthesized],
) -> None:
    s = synthesized["payments"]
    (prod,) = [st for st in _stages(s) if st["Name"] == "Deploy-prod"]
    (condition,) = prod["OnSuccess"]["Conditions"]
    assert condition["Result"] == "ROLLBACK"
    watched = {r["Configuration"]["AlarmName"]: r["Configuration"] for r in condition["Rules"]}
    assert set(watched) == {"payments-5xx-prod", "payments-unhealthy-prod"}
    # Before entry of Approve-prod and of Release-prod (issue 11, review defect 5): the ledger's
    # alarm (it exists before any release) and the window; Deploy-prod follows its migration
    # and rolls back, so a rollback never waits at a gate (FM124).
    assert "BeforeEntry" not in prod
    for name in ("Approve-prod", "Release-prod"):
        (stage,) = [st for st in _stages(s) if st["Name"] == name]
        (gate,) = stage["BeforeEntry"]["Conditions"]
        assert gate["Result"] == "FAIL"
        assert [r["RuleTypeId"]["Provider"] for r in gate["Rules"]] == [
            "CloudWatchAlarm",
            "DeploymentWindow",
        ]
        assert gate["Rules"][0]["Configuration"] == {"AlarmName": "payments-ledger-errors"}
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


@pytest.mark.parametrize(
    "example", ["web-service", "validated-service", "multi-account", "native-blue-green"]
)
def test_a_created_ecs_service_deployment_watches_no_alarm_of_the_service(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    """Issue 11 review defect 1: a stage rollback deploys the last good release while the bad
    one still serves; an ECS deployment watching the service's (load balancer's) alarms would
    fail it and return to the bad release. ECS judges the new tasks by the circuit breaker;
    the service's alarms exist for the pipeline's bake (ecs_service.ECS_DEPLOYMENTS_WATCH)."""
    s = synthesized[example]
    ecs_controlled = 0
    for stack, template in s.templates.items():
        services = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::ECS::Service"
            and r["Properties"].get("DeploymentController", {}).get("Type") != "CODE_DEPLOY"
        ]
        ecs_controlled += len(services)
        for service in services:
            config = service["Properties"]["DeploymentConfiguration"]
            assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
            assert "Alarms" not in config, stack
            assert {"5xx", "unhealthy"} <= {n.split("-")[1] for n in _alarm_names(template)}
    assert ecs_controlled, f"{example} has no service ECS deploys"


def test_every_alarm_codedeploy_watches_in_the_examples_is_its_release_s_own(
    synthesized: dict[str, Synthesized],
) -> None:
    """Issue 11 review defect 1: CodeDeploy stops (and rolls back) a deployment whose alarm is
    in ALARM, so a stage rollback's deployment must not watch an alarm the bad release holds
    in ALARM. Every alarm a deployment group watches measures one Lambda version (the
    ExecutedVersion dimension, the version this stack publishes) and is named after it, so
    each release replaces it (a new alarm starts without data); ECS groups watch none."""
    watched = 0
    for name, s in synthesized.items():
        for stack, template in s.templates.items():
            resources = template["Resources"]
            for group in (
                r for r in resources.values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
            ):
                alarms = group["Properties"].get("AlarmConfiguration", {}).get("Alarms", [])
                if (
                    group["Properties"].get("DeploymentStyle", {}).get("DeploymentOption")
                    == ("WITH_TRAFFIC_CONTROL")
                    and "ECSServices" in group["Properties"]
                ):
                    assert alarms == [], (name, stack)
                    continue
                assert alarms, (name, stack)
                for alarm in alarms:
                    (alarm_id,) = [
                        lid
                        for lid, r in resources.items()
                        if r["Type"] == "AWS::CloudWatch::Alarm"
                        and r["Properties"]["AlarmName"] == alarm["Name"]
                    ] or [alarm["Name"]["Ref"]]
                    props = resources[alarm_id]["Properties"]
                    dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
                    version = dimensions["ExecutedVersion"]
                    (version_id, attribute) = version["Fn::GetAtt"]
                    assert resources[version_id]["Type"] == "AWS::Lambda::Version"
                    assert attribute == "Version"
                    assert version in props["AlarmName"]["Fn::Join"][1], (name, alarm_id)
                    watched += 1
                # The alias update (CodeDeploy's deployment) comes after the group's, which it
                # references: the deployment reads the group watching this release's alarms.
                group_id = next(lid for lid, r in resources.items() if r is group)
                aliases = [
                    r
                    for r in resources.values()
                    if r["Type"] == "AWS::Lambda::Alias"
                    and r.get("UpdatePolicy", {})
                    .get("CodeDeployLambdaAliasUpdate", {})
                    .get("DeploymentGroupName")
                    == {"Ref": group_id}
                ]
                assert len(aliases) == 1, (name, stack)
    assert watched, "no example's CodeDeploy group watches an alarm"
