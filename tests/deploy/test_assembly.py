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


def write(
    directory: Path,
    stages: list[dict[str, Any]],
    others: list[str],
    parameters: dict[str, Any] | None = None,
) -> Assembly:
    pipeline = {
        "Parameters": parameters or {},
        "Resources": {
            "P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Stages": stages}}
        },
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


def test_the_region_stacks_update_pipeline_updates_are_no_environment_s(tmp_path: Path) -> None:
    """Another region's support stack: the UpdatePipeline stage updates it (named, like the
    region, by the pipeline stack's parameter), and `conveyor deploy` still creates it."""
    region_stack = {"Fn::Join": ["", ["app-region-", {"Ref": "RegionUsEast1"}]]}
    assembly = write(
        tmp_path,
        [
            {
                "Name": "UpdatePipeline",
                "Actions": [
                    action("CodeBuild", "x"),
                    action("CloudFormation", region_stack),
                    action("CloudFormation", {"Ref": "AWS::StackName"}),
                ],
            },
            {"Name": "Deploy-prod", "Actions": [action("CloudFormation", "app-prod")]},
        ],
        ["app-region-us-east-1", "app-prod", "app-prod-bootstrap"],
        parameters={"RegionUsEast1": {"Type": "String", "Default": "us-east-1"}},
    )
    assert assembly.environment_stacks("app-pipeline") == {"prod": ["app-prod"]}
    assert assembly.updated_with_pipeline("app-pipeline") == ["app-region-us-east-1"]
    assert assembly.deployed_by_hand("app-pipeline") == [
        "app-pipeline",
        "app-region-us-east-1",
        "app-prod-bootstrap",
    ]


def test_a_stack_name_of_a_parameter_without_default_names_no_stack(tmp_path: Path) -> None:
    assembly = write(
        tmp_path,
        [
            {
                "Name": "UpdatePipeline",
                "Actions": [action("CloudFormation", {"Fn::Join": ["", ["a-", {"Ref": "P"}]]})],
            }
        ],
        ["a-x"],
        parameters={"P": {"Type": "String"}},
    )
    assert assembly.updated_with_pipeline("app-pipeline") == []


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


def test_stack_names_and_template_files_come_from_the_manifest(tmp_path: Path) -> None:
    """The CDK names an artifact by construct id; the stack name and template file may differ."""
    (tmp_path / "pipeline-x.template.json").write_text(
        json.dumps({"Resources": {"P": {"Type": "AWS::CodePipeline::Pipeline"}}})
    )
    (tmp_path / "Other.template.json").write_text(json.dumps({}))  # no Resources at all
    manifest = {
        "artifacts": {
            "Other": {"type": "aws:cloudformation:stack"},  # no properties; read first
            "Pipeline": {
                "type": "aws:cloudformation:stack",
                "properties": {
                    "stackName": "app-pipeline",
                    "templateFile": "pipeline-x.template.json",
                },
            },
            "Assets": {"type": "cdk:asset-manifest", "properties": {"stackName": "nope"}},
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assembly = Assembly.read(tmp_path)
    assert assembly.templates == {
        "Other": "Other.template.json",
        "app-pipeline": "pipeline-x.template.json",
    }
    assert assembly.pipeline_stack() == "app-pipeline"
    assert assembly.environment_stacks("app-pipeline") == {}
    assert assembly.environment_stacks("Other") == {}  # a template without resources


def test_a_manifest_without_artifacts_has_no_stacks(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0"}))
    assert Assembly.read(tmp_path).templates == {}


def test_every_action_and_stage_is_read_whatever_comes_before(tmp_path: Path) -> None:
    """Other resources before the pipeline, actions of other providers or without a type
    before a CloudFormation one, stages without actions: none ends the reading early."""
    pipeline = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "P": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Stages": [
                        {"Name": "Source"},
                        {
                            "Name": "Deploy-staging",
                            "Actions": [
                                {"Name": "Approve"},
                                action("ECS", "app-x"),
                                action("CloudFormation", "app-staging"),
                            ],
                        },
                        # Issue 11: production's change set has a stage of its own before it.
                        {"Name": "Approve-prod", "Actions": [action("CloudFormation", "app-prod")]},
                        {"Name": "Deploy-prod", "Actions": [action("CloudFormation", "app-prod")]},
                        # No configuration, no stage name: nothing to deploy, nothing to crash.
                        {"Actions": [{"ActionTypeId": {"Provider": "CloudFormation"}}]},
                        {"Actions": [action("CloudFormation", "app-prod")]},
                    ]
                },
            },
        }
    }
    (tmp_path / "app-pipeline.template.json").write_text(json.dumps(pipeline))
    artifacts = {
        name: {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
        for name in ("app-pipeline", "app-staging", "app-prod")
    }
    for name in ("app-staging", "app-prod"):
        (tmp_path / f"{name}.template.json").write_text("{}")
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    assembly = Assembly.read(tmp_path)
    assert assembly.pipeline_stack() == "app-pipeline"
    assert assembly.environment_stacks("app-pipeline") == {
        "staging": ["app-staging"],
        "prod": ["app-prod"],
        "": ["app-prod"],
    }
