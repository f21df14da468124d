"""Which stacks of a cloud assembly `conveyor deploy` touches, and which the pipeline deploys
for each environment, read from the pipeline template's CloudFormation actions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.deploy.assembly import Assembly, AssemblyError


def action(provider: str, stack: Any) -> dict[str, Any]:
    return {"ActionTypeId": {"Provider": provider}, "Configuration": {"StackName": stack}}


def write(directory: Path, stages: list[dict[str, Any]], others: list[str]) -> Assembly:
    pipeline = {
        "Resources": {
            "P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": stages}}
        }
    }
    templates = {"app-pipeline": pipeline, **{name: {"Resources": {}} for name in others}}
    artifacts: dict[str, Any] = {"tree": {"type": "cdk:tree"}}
    for name, template in templates.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (directory / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return Assembly.read(directory)


def test_environments_come_from_the_stages_that_deploy_them(tmp_path: Path) -> None:
    assembly = write(
        tmp_path,
        [
            {
                "Name": "UpdatePipeline",
                "Actions": [action("CloudFormation", {"Ref": "AWS::StackName"})],
            },
            {
                "Name": "Deploy-staging",
                "Actions": [action("CloudFormation", "app-staging"), action("ECS", "app-x")],
            },
            {
                "Name": "Deploy-prod",
                "Actions": [
                    action("CloudFormation", "app-prod"),
                    action("CloudFormation", "app-prod"),  # change set, then execute
                ],
            },
        ],
        ["app-staging", "app-prod", "app-prod-bootstrap"],
    )
    assert assembly.pipeline_stack() == "app-pipeline"
    assert assembly.environment_stacks("app-pipeline") == {
        "staging": ["app-staging"],
        "prod": ["app-prod"],
    }
    assert assembly.deployed_by_hand("app-pipeline") == ["app-pipeline", "app-prod-bootstrap"]


def test_without_environment_stacks_everything_is_deployed_by_hand(tmp_path: Path) -> None:
    assembly = write(tmp_path, [{"Name": "Deploy-prod", "Actions": [action("ECS", "x")]}], [])
    assert assembly.environment_stacks("app-pipeline") == {}
    assert assembly.deployed_by_hand("app-pipeline") == ["app-pipeline"]


def test_a_stack_named_by_an_action_but_not_synthesized_is_ignored(tmp_path: Path) -> None:
    assembly = write(
        tmp_path, [{"Name": "Deploy-prod", "Actions": [action("CloudFormation", "elsewhere")]}], []
    )
    assert assembly.environment_stacks("app-pipeline") == {}


def test_not_an_assembly(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match=r"no readable manifest\.json"):
        Assembly.read(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {}}))
    with pytest.raises(AssemblyError, match=r"no stack .* holds a pipeline"):
        Assembly.read(tmp_path).pipeline_stack()
