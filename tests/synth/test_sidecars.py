"""Sidecars (create.sidecars): extra containers in the service's task, logged to the service's
log group, their secrets read through the execution role, behind no load balancer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conveyor.spec import load_spec
from conveyor.synth import synthesize
from tests.synth.conftest import ROOT, Synthesized

OTEL = "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"
# A sidecar image mirrored into a private ECR repository of the account (Docker Hub's limits).
MIRRORED = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/envoy:v1.31.0"


def _task(example: Synthesized) -> dict[str, Any]:
    (task,) = example.resources("AWS::ECS::TaskDefinition").values()
    props: dict[str, Any] = task["Properties"]
    return props


def _containers(example: Synthesized) -> dict[str, dict[str, Any]]:
    return {c["Name"]: c for c in _task(example)["ContainerDefinitions"]}


@pytest.fixture(scope="session")
def blue_green(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The web example with blue/green releases and a sidecar secret from each store."""
    spec = yaml.safe_load((ROOT / "examples" / "web-service.yaml").read_text())
    ecs = spec["environments"][0]["deploy"]["ecs"]
    ecs["strategy"] = "blue-green"
    ecs["create"]["sidecars"][0]["secrets"] = {
        "OTEL_TOKEN": "ssm:/web/otel/token",
        "OTEL_KEY": "secretsmanager:web/otel:key",
    }
    ecs["create"]["sidecars"][0]["environment"] = {"OTEL_LEVEL": "info"}
    ecs["create"]["sidecars"][0]["port"] = 4317
    ecs["create"]["sidecars"].append({"name": "envoy", "image": MIRRORED})
    path = tmp_path_factory.mktemp("sidecars") / "conveyor.yaml"
    path.write_text(yaml.safe_dump(spec))
    outdir = Path(tmp_path_factory.mktemp("sidecars-out"))
    result = synthesize(load_spec(path), outdir)
    return Synthesized(
        name="sidecars",
        spec=load_spec(path),
        outdir=result.outdir,
        templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
        nag_report={},
    )


def test_the_example_runs_a_pinned_collector_next_to_the_app(web: Synthesized) -> None:
    containers = _containers(web)
    assert set(containers) == {"app", "otel"}
    otel = containers["otel"]
    assert otel["Image"] == OTEL
    assert otel["Essential"] is False
    assert otel["Cpu"] == 64 and otel["Memory"] == 128
    assert otel["Command"] == ["--config=/etc/ecs/ecs-default-config.yaml"]
    # No port: nothing maps to it; the app keeps its mapping and the load balancer.
    assert "PortMappings" not in otel or otel["PortMappings"] == []
    assert containers["app"]["PortMappings"][0]["ContainerPort"] == 8080
    (service,) = web.resources("AWS::ECS::Service").values()
    assert [lb["ContainerName"] for lb in service["Properties"]["LoadBalancers"]] == ["app"]


def test_each_container_logs_to_the_service_log_group_under_its_own_prefix(
    web: Synthesized,
) -> None:
    containers = _containers(web)
    options = {name: c["LogConfiguration"]["Options"] for name, c in containers.items()}
    assert options["otel"]["awslogs-group"] == options["app"]["awslogs-group"]
    assert options["otel"]["awslogs-stream-prefix"] == "otel"
    assert options["app"]["awslogs-stream-prefix"] == "app"
    assert all(c["LogConfiguration"]["LogDriver"] == "awslogs" for c in containers.values())


def test_the_root_filesystem_setting_follows_the_app_container(web: Synthesized) -> None:
    containers = _containers(web)
    assert containers["otel"].get("ReadonlyRootFilesystem") == containers["app"].get(
        "ReadonlyRootFilesystem"
    )


def _execution_policy_resources(example: Synthesized) -> list[Any]:
    role_id = _task(example)["ExecutionRoleArn"]["Fn::GetAtt"][0]
    found: list[Any] = []
    for policy in example.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = statement["Resource"]
            found.extend(resources if isinstance(resources, list) else [resources])
    return found


def test_sidecar_secrets_are_ecs_secrets_the_execution_role_may_read(
    blue_green: Synthesized,
) -> None:
    otel = _containers(blue_green)["otel"]
    secrets = {s["Name"]: json.dumps(s["ValueFrom"]) for s in otel["Secrets"]}
    assert set(secrets) == {"OTEL_TOKEN", "OTEL_KEY"}
    assert "parameter/web/otel/token" in secrets["OTEL_TOKEN"]
    assert "secret:web/otel" in secrets["OTEL_KEY"] and ":key::" in secrets["OTEL_KEY"]
    assert otel["Environment"] == [{"Name": "OTEL_LEVEL", "Value": "info"}]
    assert otel["PortMappings"][0]["ContainerPort"] == 4317
    granted = json.dumps(_execution_policy_resources(blue_green))
    assert "parameter/web/otel/token" in granted
    assert "secret:web/otel" in granted


def test_codedeploy_registers_the_sidecar_with_every_release(blue_green: Synthesized) -> None:
    """A blue/green release registers taskdef.json; a sidecar missing there would vanish."""
    _, build = blue_green.build_project()
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    document = json.dumps(variables["CONVEYOR_FILE_TASKDEF_PROD_JSON"]["Value"])
    for fragment in (
        f'\\"name\\":\\"otel\\",\\"image\\":\\"{OTEL}\\",\\"essential\\":false',
        '\\"containerPort\\":4317',
        '\\"awslogs-stream-prefix\\":\\"otel\\"',
        '\\"name\\":\\"OTEL_LEVEL\\",\\"value\\":\\"info\\"',
        '\\"name\\":\\"OTEL_TOKEN\\"',
        '\\"cpu\\":64',
        '\\"memory\\":128',
    ):
        assert fragment in document, fragment
    assert "parameter/web/otel/token" in document


def _rendered(value: Any) -> Any:
    """`value` with the stack's pseudo parameters filled in and Fn::Join joined."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(_rendered(part)) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return {"AWS::Region": "eu-west-1", "AWS::Partition": "aws"}.get(value["Ref"], value)
    if isinstance(value, list):
        return [_rendered(item) for item in value]
    return value


def test_a_sidecar_from_a_private_ecr_repository_may_be_pulled(blue_green: Synthesized) -> None:
    """Fargate pulls a private ECR image with the task's execution role: without a grant on
    the sidecar's repository every task fails with CannotPullContainerError, and the first
    deploy with it. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html"""
    assert _rendered(_containers(blue_green)["envoy"]["Image"]) == MIRRORED
    role_id = _task(blue_green)["ExecutionRoleArn"]["Fn::GetAtt"][0]
    pulls = [
        statement
        for policy in blue_green.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in statement["Action"]
    ]
    granted = [
        resource
        for statement in pulls
        for resource in _rendered(
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]
    assert "arn:aws:ecr:eu-west-1:123456789012:repository/mirror/envoy" in granted
    assert all("ecr:GetDownloadUrlForLayer" in statement["Action"] for statement in pulls)


def _pull_findings(templates: dict[str, dict[str, Any]], tmp_path: Path) -> list[Any]:
    from conveyor.rules import check_paths

    tmp_path.mkdir()
    paths = []
    for stack, template in templates.items():
        path = tmp_path / f"{stack}.template.json"
        path.write_text(json.dumps(template))
        paths.append(str(path))
    return [f for f in check_paths(paths).findings if f.rule == "CV129"]


def test_conveyor_check_agrees_and_finds_the_output_before_the_fix(
    blue_green: Synthesized, tmp_path: Path
) -> None:
    """CV129 passes the generated task (its execution role may pull the service's image and the
    private sidecar's) and finds the output before the issue 15 review fix: the same template
    without the statement on the sidecar's repository."""
    assert _pull_findings(blue_green.templates, tmp_path / "now") == []
    before = json.loads(json.dumps(blue_green.templates))
    for template in before.values():
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::IAM::Policy":
                continue
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [
                s for s in document["Statement"] if "mirror/envoy" not in json.dumps(s)
            ]
    (finding,) = _pull_findings(before, tmp_path / "before")
    assert finding.resource == next(iter(blue_green.resources("AWS::ECS::TaskDefinition")))
    assert "container envoy" in finding.message
    assert "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer" in finding.message
