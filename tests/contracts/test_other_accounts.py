"""Environments in another account (issue 10): what runs there is allowed there.

- The CodeDeployToECS action of a blue/green environment there runs as a role there; its needs
  (and the pipeline role's right to assume it, and the artifact bucket and key policies that let
  it read taskdef.json and appspec.yaml) are judged with every other action in
  test_iam_sufficiency; here: that the action's role really is the other account's.
- A failed validation acts nowhere (issue 11): the stage's rollback deploys the last good
  release there with the action roles above; the validator may assume no role there.
- CodeDeploy's events there reach the pipeline account's default bus (the forwarding rule's role
  and the bus policy), where the history and notice rules match them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.events.models import EventPattern

from conveyor.rules.runtime_contracts import FORWARD_EVENTS_NEEDS
from conveyor.spec.models import Environment
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.evaluator import Caller, evaluate
from tests.contracts.model import Example, Located
from tests.contracts.obligations import (
    Obligation,
    action_type,
)
from tests.contracts.test_event_patterns import SAMPLES
from tests.synth.conftest import ROOT, Synthesized


def _uses_codedeploy(env: Environment) -> bool:
    ecs = env.deploy.ecs
    return env.deploy.lambda_ is not None or (
        ecs is not None and ecs.create is not None and ecs.strategy == "blue-green"
    )


def _refused(example: Example, obligations: list[Obligation]) -> list[str]:
    return [
        f"{o} -> {verdict.why}"
        for o in obligations
        if not (verdict := example.allows(o.role, o.action, o.resource, dict(o.context)))
    ]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_a_validation_in_another_account_assumes_no_role_there(example: Example) -> None:
    """Issue 11: the validation used to roll the environment back there as its deploy role,
    racing the stage's own rollback; now it names no target, and may assume no role at all."""
    for stage, action in example.actions():
        if action_type(action) != "Invoke/AWS/Lambda":
            continue
        parameters = json.loads(action["Configuration"]["UserParameters"])
        if "url" not in parameters:
            continue  # not a validation
        assert "rollback" not in parameters, stage
        function = example.by_name("AWS::Lambda::Function", action["Configuration"]["FunctionName"])
        assert function is not None
        validator = example.role(function.value("Role"))
        spec = example.synthesized.spec
        for env in spec.foreign_environments:
            there = f"arn:aws:iam::{env.account}:role/{spec.app}-deploy-{env.name}"
            assert not example.allows(validator, "sts:AssumeRole", there), stage


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_codedeploy_to_ecs_in_another_account_runs_as_a_role_there(example: Example) -> None:
    foreign = {
        e.name: e.account
        for e in example.synthesized.spec.foreign_environments
        if e.deploy.ecs is not None and _uses_codedeploy(e)
    }
    seen = {}
    for stage, action in example.actions():
        if action_type(action) == "Deploy/AWS/CodeDeployToECS":
            seen[stage.removeprefix("Deploy-")] = example.role(action["RoleArn"]).account
    assert {k: v for k, v in seen.items() if k in foreign} == foreign


def _bus_policy(example: Example) -> dict[str, Any]:
    return {
        "Statement": [
            located.value("Statement") for located in example.of_type("AWS::Events::EventBusPolicy")
        ]
    }


def _forwarding_rules(example: Example) -> list[tuple[Located, dict[str, Any]]]:
    """Rules whose target is another account's event bus, with that target."""
    found = []
    for rule in example.of_type("AWS::Events::Rule"):
        for target in rule.value("Targets") or []:
            arn = target["Arn"]
            if ":event-bus/" in arn and arn.split(":")[4] != rule.resolver.account:
                found.append((rule, target))
    return found


def _forwarded(example: Example) -> dict[str, list[str]]:
    """Source -> what the rules forwarding to the pipeline account's bus select (CodeDeploy
    applications, ECS service ARNs), once each forwarding rule's role was found allowed to put
    its events there (its identity policy and the bus policy, by the real evaluator)."""
    pipeline_bus = f"arn:aws:events:{example.region}:{example.account}:event-bus/default"
    forwarded: dict[str, list[str]] = {}
    refused = []
    for rule, target in _forwarding_rules(example):
        assert target["Arn"] == pipeline_bus
        role = example.role(target["RoleArn"])
        assert "events.amazonaws.com" in json.dumps(role.trust)
        pattern = rule.value("EventPattern")
        (source,) = pattern["source"]
        needs = [n for n in FORWARD_EVENTS_NEEDS if ("events:source", source) in n.context]
        assert needs, f"{rule.lid}: no need for {source}"
        for need in needs:
            for action in need.actions:
                verdict = evaluate(
                    Caller(arn=role.arn),
                    action,
                    pipeline_bus,
                    identity=role.policies,
                    resource_policy=_bus_policy(example),
                    resource_account=example.account,
                    context={"aws:SourceAccount": role.account, **dict(need.context)},
                )
                if not verdict:
                    refused.append(f"{rule.lid} {action}: {verdict.why} ({need.source})")
        selected = (
            pattern["detail"]["application"] if source == "aws.codedeploy" else pattern["resources"]
        )
        forwarded.setdefault(source, []).extend(selected)
    assert refused == []
    return forwarded


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_codedeploy_events_in_another_account_reach_the_pipeline_account(
    example: Example,
) -> None:
    spec = example.synthesized.spec
    expected = sorted(
        f"{spec.app}-deploy-{e.name}" for e in spec.foreign_environments if _uses_codedeploy(e)
    )
    assert sorted(_forwarded(example).get("aws.codedeploy", [])) == expected


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_pipeline_s_rules_match_codedeploy_events_from_the_other_account(
    example: Example,
) -> None:
    """A forwarded event keeps its account (the environment's) and its source: the history
    recorder and the rollback notice match it as they match the pipeline account's own."""
    spec = example.synthesized.spec
    sample = SAMPLES["codedeploy-deployment-state"]
    listening = [
        rule
        for rule in example.of_type("AWS::Events::Rule")
        if rule.resolver.account == example.account
        and "aws.codedeploy" in json.dumps(rule.value("EventPattern") or {})
    ]
    for env in spec.foreign_environments:
        if not _uses_codedeploy(env):
            continue
        application = f"{spec.app}-deploy-{env.name}"
        matched = set()
        for state in sample["states"]:
            event = copy.deepcopy(sample["event"])
            event["account"], event["region"] = env.account, example.region
            event["detail"]["state"] = state
            event["detail"]["application"] = application
            event["detail"]["deploymentGroup"] = application
            for rule in listening:
                pattern = EventPattern.load(json.dumps(rule.value("EventPattern")))
                if pattern.matches_event(event):
                    matched.add(rule.resolver.name(rule.lid) or rule.lid)
        assert any("history" in name for name in matched), (env.name, matched)


# --- ECS rolling / native blue/green in another account (issue 14, defect 9) ---------------------


@pytest.fixture(scope="module")
def ecs_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Example:
    """multi-account.yaml with production rolling (ECS rolls it back itself) in its account."""
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    spec = parse_spec((ROOT / "examples" / "multi-account.yaml").read_text())
    data = spec.model_dump(by_alias=True, exclude_unset=True)
    for env in data["environments"]:
        if env["name"] == "prod":
            env["deploy"]["ecs"] = {"strategy": "rolling", "create": env["deploy"]["ecs"]["create"]}
    spec = type(spec).model_validate(data)
    result = synthesize(spec, tmp_path_factory.mktemp("ecs-elsewhere"), nag=True)
    return Example(
        Synthesized(
            name="ecs-elsewhere",
            spec=spec,
            outdir=result.outdir,
            templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
            nag_report=json.loads((result.outdir / "validation-report.json").read_text()),
        )
    )


def test_ecs_rollbacks_in_another_account_reach_the_pipeline_s_rollback_notice(
    ecs_elsewhere: Example,
) -> None:
    """ECS tells of a failed (rolled back) deployment on the service's own account's bus. A
    SERVICE_DEPLOYMENT_FAILED event of production's service, in production's account: the
    bootstrap stack's rule there forwards it, its role may put it on the pipeline account's
    bus (whose policy admits aws.ecs from that account), and the pipeline's ECS rollback rule
    matches it. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
    """
    example = ecs_elsewhere
    (prod,) = example.synthesized.spec.foreign_environments
    assert prod.account is not None and prod.account != example.account
    service = (
        f"arn:aws:ecs:{example.region}:{prod.account}:"
        "service/ledger-cluster-prod/ledger-service-prod"
    )
    assert _forwarded(example).get("aws.ecs") == [service]
    event = copy.deepcopy(SAMPLES["ecs-deployment-state"]["event"])
    event["account"], event["region"], event["resources"] = prod.account, example.region, [service]
    event["detail"]["eventName"] = "SERVICE_DEPLOYMENT_FAILED"

    def matching(account: str) -> list[str]:
        return [
            rule.resolver.name(rule.lid) or rule.lid
            for rule in example.of_type("AWS::Events::Rule")
            if rule.resolver.account == account
            and rule.value("EventPattern")  # not a schedule
            and EventPattern.load(json.dumps(rule.value("EventPattern"))).matches_event(event)
        ]

    assert matching(prod.account) == ["ledger-service-events-prod"]
    assert matching(example.account) == ["ledger-team-ecs-rollback"]
    # Somebody else's service in that account is neither forwarded nor noticed.
    event["resources"] = [service.replace("ledger-service-prod", "other")]
    assert matching(prod.account) == [] and matching(example.account) == []
