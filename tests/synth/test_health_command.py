"""create.health_command: the service container's ECS health check, in the stack's task
definition and in the taskdef.json every CodeDeploy release registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conveyor.spec import load_spec
from conveyor.synth import synthesize
from tests.synth.conftest import ROOT, Synthesized

COMMAND = ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]


@pytest.fixture(scope="session")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The web example with blue/green releases and a health command."""
    spec = yaml.safe_load((ROOT / "examples" / "web-service.yaml").read_text())
    ecs = spec["environments"][0]["deploy"]["ecs"]
    ecs["strategy"] = "blue-green"
    ecs["create"]["health_command"] = COMMAND
    path = tmp_path_factory.mktemp("health") / "conveyor.yaml"
    path.write_text(yaml.safe_dump(spec))
    outdir = Path(tmp_path_factory.mktemp("health-out"))
    result = synthesize(load_spec(path), outdir)
    return Synthesized(
        name="health",
        spec=load_spec(path),
        outdir=result.outdir,
        templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
        nag_report={},
    )


def _containers(example: Synthesized) -> dict[str, dict[str, Any]]:
    (task,) = example.resources("AWS::ECS::TaskDefinition").values()
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def test_the_service_container_runs_the_health_command(checked: Synthesized) -> None:
    containers = _containers(checked)
    assert containers["app"]["HealthCheck"] == {
        "Command": COMMAND,
        "Interval": 10,
        "Retries": 3,
        "StartPeriod": 60,
        "Timeout": 5,
    }
    # The sidecar keeps its own image's behaviour: the command is the service's.
    assert "HealthCheck" not in containers["otel"]


def test_without_a_health_command_the_container_has_none(web: Synthesized) -> None:
    assert "HealthCheck" not in _containers(web)["app"]


def test_codedeploy_registers_the_health_check_with_every_release(checked: Synthesized) -> None:
    """taskdef.json replaces the task definition at each blue/green release: a health check
    missing there would be gone after the first one."""
    _, build = checked.build_project()
    variables = {v["Name"]: v for v in build["Properties"]["Environment"]["EnvironmentVariables"]}
    document = json.dumps(variables["CONVEYOR_FILE_TASKDEF_PROD_JSON"]["Value"])
    expected = json.dumps(
        {
            "healthCheck": {
                "command": COMMAND,
                "interval": 10,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 60,
            }
        },
        separators=(",", ":"),
    )[1:-1]
    assert json.dumps(expected)[1:-1] in document
