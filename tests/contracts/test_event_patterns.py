"""Every EventBridge rule of every example fires for the AWS event it is written for, and only
for this pipeline's resources.

The events are AWS's own samples (tests/contracts/events/*.json, each citing the page it is
copied from), with the identifiers (pipeline, project, application, bucket, repository) set to
this example's; matching is moto's EventBridge pattern engine.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located

EVENTS = Path(__file__).parent / "events"
SAMPLES: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))
}
Identifiers = dict[str, Any]  # dotted path in the event -> value


def _pipeline(example: Example) -> list[Identifiers]:
    """The delivery pipeline, and the pull-request pipeline when there is one."""
    pipelines = [example.pipeline]
    if example.pull_request_pipeline is not None:
        pipelines.append(example.pull_request_pipeline)
    return [{"detail.pipeline": p.value("Name"), "resources": [p.arn]} for p in pipelines]


def _projects(example: Example) -> list[Identifiers]:
    return [
        {"detail.project-name": p.value("Name")} for p in example.of_type("AWS::CodeBuild::Project")
    ]


def _deployment_groups(example: Example) -> list[Identifiers]:
    found = []
    for group in example.of_type("AWS::CodeDeploy::DeploymentGroup"):
        application = group.value("ApplicationName")
        name = group.resolver.name(group.lid)
        found.append({"detail.application": application, "detail.deploymentGroup": name})
    return found


def _services(example: Example) -> list[Identifiers]:
    """Services the templates define, and those an ECS deploy action names (existing ones)."""
    arns = {service.arn for service in example.of_type("AWS::ECS::Service")}
    for _, action in example.actions():
        config = action.get("Configuration", {})
        if "ClusterName" in config and "RoleArn" in action:
            account = action["RoleArn"].split(":")[4]
            service = f"service/{config['ClusterName']}/{config['ServiceName']}"
            arns.add(f"arn:aws:ecs:{example.region}:{account}:{service}")
    return [{"resources": [arn]} for arn in sorted(arns)]


def _job_tasks(example: Example) -> list[Identifiers]:
    """The tasks a schedule starts: in its cluster, in the group RunTask gives a task started
    without one ("family:<family>", the sample's), with the schedule's task definition."""
    found = []
    for schedule in example.of_type("AWS::Scheduler::Schedule"):
        target = schedule.value("Target")
        revision = target["EcsParameters"]["TaskDefinitionArn"]
        family = revision.split(":task-definition/", 1)[1].split(":", 1)[0]
        found.append(
            {
                "detail.clusterArn": target["Arn"],
                "detail.group": f"family:{family}",
                "detail.taskDefinitionArn": revision,
                "detail.containers.0.name": "app",
            }
        )
    return found


def _s3_source(example: Example) -> list[Identifiers]:
    found = []
    for _, action in example.actions():
        config = action.get("Configuration", {})
        if "S3Bucket" in config:
            bucket, key = config["S3Bucket"], config["S3ObjectKey"]
            found.append({"detail.bucket.name": bucket, "detail.object.key": key})
    return found


def _codecommit_source(example: Example) -> list[Identifiers]:
    found = []
    for _, action in example.actions():
        config = action.get("Configuration", {})
        if "RepositoryName" in config:
            arn = (
                f"arn:aws:codecommit:{example.region}:{example.account}:{config['RepositoryName']}"
            )
            found.append({"resources": [arn], "detail.referenceName": config["BranchName"]})
    return found


# Which of the example's resources each sample event can be about.
IDENTIFIED_BY: dict[str, Callable[[Example], list[Identifiers]]] = {
    "codepipeline-pipeline-execution": _pipeline,
    "codepipeline-stage-execution": _pipeline,
    "codepipeline-action-execution-approval": _pipeline,
    "codebuild-build-state": _projects,
    "codedeploy-deployment-state": _deployment_groups,
    "ecs-deployment-state": _services,
    "ecs-task-state": _job_tasks,
    "ecs-task-state-sidecar-stopped": _job_tasks,
    "ecs-task-state-out-of-memory": _job_tasks,
    "ecs-task-state-sidecar-crash": _job_tasks,
    "s3-object-created": _s3_source,
    "codecommit-repository-state": _codecommit_source,
}


def _set(event: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = event
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value


def events_about(example: Example, foreign: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sample event, in every documented state, about each of the example's resources
    (or, with foreign=True, about somebody else's resources of the same kinds)."""
    for name, sample in SAMPLES.items():
        for identifiers in IDENTIFIED_BY[name](example):
            for state in sample["states"]:
                event = copy.deepcopy(sample["event"])
                event["account"], event["region"] = example.account, example.region
                _set(event, sample["state_field"], state)
                for path, value in identifiers.items():
                    if foreign:
                        value = (
                            [f"{v}-of-someone-else" for v in value]
                            if isinstance(value, list)
                            else f"{value}-of-someone-else"
                        )
                    _set(event, path, value)
                yield f"{name}:{state}", event


def pattern_rules(example: Example) -> list[Located]:
    return [
        rule for rule in example.of_type("AWS::Events::Rule") if "EventPattern" in rule.properties
    ]


def as_eventbridge_reads(value: Any) -> Any:
    """The event as EventBridge matches it: a field inside an array of objects
    (detail.containers[].exitCode) is matched against that field of every element, as if the
    array were one object holding a list per field. moto's matcher flattens objects only, so
    the array is folded here first (the ECS Task State Change rules of jobs need it).
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html"""
    if isinstance(value, dict):
        return {key: as_eventbridge_reads(item) for key, item in value.items()}
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        folded: dict[str, list[Any]] = {}
        for item in value:
            for key, field in as_eventbridge_reads(item).items():
                folded.setdefault(key, []).extend(field if isinstance(field, list) else [field])
        return folded
    return value


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    loaded = EventPattern.load(json.dumps(pattern))
    return bool(loaded.matches_event(as_eventbridge_reads(event)))


def matching(rule: Located, events: Iterator[tuple[str, dict[str, Any]]]) -> list[str]:
    pattern = rule.value("EventPattern")
    return [name for name, event in events if matches(pattern, event)]


def test_every_sample_names_its_aws_source() -> None:
    assert set(SAMPLES) == set(IDENTIFIED_BY)
    for sample in SAMPLES.values():
        assert sample["copied_from"].startswith("https://docs.aws.amazon.com/")


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_every_rule_fires_for_an_aws_event_about_this_pipeline(example: Example) -> None:
    rules = pattern_rules(example)
    assert rules, f"{example.name}: no EventBridge rule with a pattern"
    never = [rule.lid for rule in rules if not matching(rule, events_about(example))]
    assert never == [], f"{example.name}: rules that no AWS event about this pipeline matches"


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_no_rule_fires_for_another_pipelines_events(example: Example) -> None:
    leaks = {
        rule.lid: found
        for rule in pattern_rules(example)
        if (found := matching(rule, events_about(example, foreign=True)))
    }
    assert leaks == {}


def _pattern_values(pattern: dict[str, Any], path: str) -> list[Any]:
    node: Any = pattern
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return []
        node = node[key]
    return node if isinstance(node, list) else [node]


def undocumented_states(pattern: dict[str, Any]) -> list[str]:
    """Plain values a pattern expects in a sample's state field that AWS never sends there.
    A rule listing one real state and one misspelt one (CodePipeline's FAILED where CodeDeploy
    sends FAILURE) still fires for some event, so firing at all cannot catch it."""
    types = set(_pattern_values(pattern, "detail-type"))
    found = []
    for name, sample in SAMPLES.items():
        if sample["event"]["detail-type"] not in types:
            continue
        for value in _pattern_values(pattern, sample["state_field"]):
            if isinstance(value, str) and value not in sample["states"]:
                found.append(f"{name}: {sample['state_field']} {value!r}")
    return found


def test_undocumented_states_are_found() -> None:
    codedeploy = {
        "detail-type": ["CodeDeploy Deployment State-change Notification"],
        "detail": {"state": ["FAILURE", "FAILED", {"prefix": "ST"}]},
    }
    assert undocumented_states(codedeploy) == ["codedeploy-deployment-state: detail.state 'FAILED'"]
    assert undocumented_states({"detail": {"state": ["FAILED"]}}) == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_every_state_a_rule_expects_is_one_aws_sends(example: Example) -> None:
    wrong = {
        rule.lid: found
        for rule in pattern_rules(example)
        if (found := undocumented_states(rule.value("EventPattern")))
    }
    assert wrong == {}
