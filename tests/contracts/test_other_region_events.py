"""An environment in another region (examples/multi-region.yaml): ECS tells of its service's
deployments on that region's default bus; its stack's rule forwards them to the pipeline
region's default bus, as a role allowed to put events there, and the pipeline's rollback notice
matches the forwarded event (AWS's sample, set to that service and region: forwarding keeps an
event's source, region, resources and detail).
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html"""

from __future__ import annotations

import copy
import json

import pytest
from moto.events.models import EventPattern

from tests.contracts.model import Example
from tests.contracts.test_event_patterns import SAMPLES

ENVIRONMENT = "atlas-prod"


def _forwarded_failure(example: Example) -> dict[str, object]:
    """ECS's SERVICE_DEPLOYMENT_FAILED sample about production's service, in its region."""
    (service,) = [s for s in example.of_type("AWS::ECS::Service") if s.stack == ENVIRONMENT]
    event = copy.deepcopy(SAMPLES["ecs-deployment-state"]["event"])
    event["account"], event["region"] = example.account, service.resolver.region
    event["resources"] = [service.arn]
    return dict(event)


@pytest.mark.parametrize("example", ["multi-region"], indirect=True)
def test_the_environment_forwards_its_service_events_to_the_pipelines_region(
    example: Example,
) -> None:
    event = _forwarded_failure(example)
    assert event["region"] != example.region  # the service lives in the other region
    (rule,) = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack == ENVIRONMENT and r.value("Name") == "atlas-service-events-prod"
    ]
    pattern = EventPattern.load(json.dumps(rule.value("EventPattern")))
    assert pattern.matches_event(event)  # type: ignore[arg-type]
    (target,) = rule.value("Targets")
    bus = f"arn:aws:events:{example.region}:{example.account}:event-bus/default"
    assert target["Arn"] == bus
    role = example.role(target["RoleArn"])
    assert "events.amazonaws.com" in str(role.trust)
    assert example.allows(role, "events:PutEvents", bus)
    other = f"arn:aws:events:{example.region}:{example.account}:event-bus/someone-else"
    assert not example.allows(role, "events:PutEvents", other)


@pytest.mark.parametrize("example", ["multi-region"], indirect=True)
def test_the_pipelines_rollback_notice_matches_the_forwarded_event(example: Example) -> None:
    event = _forwarded_failure(example)
    rollbacks = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack == example.pipeline.stack and "ecs-rollback" in str(r.value("Name"))
    ]
    assert rollbacks
    for rule in rollbacks:
        pattern = EventPattern.load(json.dumps(rule.value("EventPattern")))
        assert pattern.matches_event(event)  # type: ignore[arg-type]


LAMBDA_ENVIRONMENT = "fares-prod"


def _forwarded_deployment(example: Example, state: str) -> dict[str, object]:
    """CodeDeploy's sample deployment event about production's alias shift, in its region:
    conveyor names the application and its one group alike."""
    (group,) = [
        g
        for g in example.of_type("AWS::CodeDeploy::DeploymentGroup")
        if g.stack == LAMBDA_ENVIRONMENT
    ]
    name = group.value("DeploymentGroupName")
    region = group.resolver.region
    event = copy.deepcopy(SAMPLES["codedeploy-deployment-state"]["event"])
    event["account"], event["region"] = example.account, region
    event["resources"] = [
        f"arn:aws:codedeploy:{region}:{example.account}:application:{name}",
        f"arn:aws:codedeploy:{region}:{example.account}:deploymentgroup:{name}/{name}",
    ]
    event["detail"].update(
        {"region": region, "application": name, "deploymentGroup": name, "state": state}
    )
    return dict(event)


@pytest.mark.parametrize("example", ["lambda-multi-region"], indirect=True)
def test_the_lambda_environment_forwards_its_deployment_events_to_the_pipelines_region(
    example: Example,
) -> None:
    event = _forwarded_deployment(example, "FAILURE")
    assert event["region"] != example.region  # the function lives in the other region
    (rule,) = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack == LAMBDA_ENVIRONMENT and r.value("Name") == "fares-deployment-events-prod"
    ]
    pattern = EventPattern.load(json.dumps(rule.value("EventPattern")))
    assert pattern.matches_event(event)  # type: ignore[arg-type]
    # Another application's deployments stay where they are.
    foreign = copy.deepcopy(event)
    foreign["detail"]["application"] = "someone-else"  # type: ignore[index]
    assert not pattern.matches_event(foreign)  # type: ignore[arg-type]
    (target,) = rule.value("Targets")
    bus = f"arn:aws:events:{example.region}:{example.account}:event-bus/default"
    assert target["Arn"] == bus
    role = example.role(target["RoleArn"])
    assert "events.amazonaws.com" in str(role.trust)
    assert example.allows(role, "events:PutEvents", bus)
    other = f"arn:aws:events:{example.region}:{example.account}:event-bus/someone-else"
    assert not example.allows(role, "events:PutEvents", other)


@pytest.mark.parametrize("example", ["lambda-multi-region"], indirect=True)
@pytest.mark.parametrize("state", ["START", "SUCCESS", "FAILURE", "STOP"])
def test_the_pipelines_history_and_notices_match_the_forwarded_deployment_event(
    example: Example, state: str
) -> None:
    """The history records every state; the notices and rollback notices hear what they
    listen for: together, each forwarded state reaches at least the history."""
    event = _forwarded_deployment(example, state)
    listening = [
        r
        for r in example.of_type("AWS::Events::Rule")
        if r.stack == example.pipeline.stack
        and "aws.codedeploy" in json.dumps(r.value("EventPattern"))
    ]
    assert listening
    matched = {
        str(r.value("Name"))
        for r in listening
        if EventPattern.load(json.dumps(r.value("EventPattern"))).matches_event(event)  # type: ignore[arg-type]
    }
    assert "fares-history-deployments" in matched
