"""The pipeline updates itself: UpdatePipeline right after Source, before anything builds or
deploys; CloudFormation restarts the pipeline on its new definition; the stage's roles do what
it needs and no more."""

from __future__ import annotations

from typing import Any

import pytest

import conveyor
from conveyor.stages.self_update import self_update_buildspec
from tests.synth.conftest import EXAMPLES, Synthesized

NAMES = [p.stem for p in EXAMPLES]


def pipeline(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.pipeline()


def update_actions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    stages = pipeline(synthesized)["Properties"]["Stages"]
    (stage,) = [s for s in stages if s["Name"] == "UpdatePipeline"]
    return {a["Name"]: a for a in stage["Actions"]}


@pytest.mark.parametrize("example", NAMES)
def test_update_pipeline_comes_right_after_source(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    stages = [s["Name"] for s in pipeline(synthesized[example])["Properties"]["Stages"]]
    assert stages[:3] == ["Source", "UpdatePipeline", "Build"]


@pytest.mark.parametrize("example", NAMES)
def test_the_pipeline_restarts_on_its_new_definition(
    synthesized: dict[str, Synthesized], example: str
) -> None:
    assert pipeline(synthesized[example])["Properties"]["RestartExecutionOnUpdate"] is True


def test_synth_then_update_the_stack_the_pipeline_lives_in(web: Synthesized) -> None:
    actions = update_actions(web)
    synth, update = actions["Synth"], actions["UpdatePipeline"]
    assert synth["ActionTypeId"]["Provider"] == "CodeBuild"
    assert [a["Name"] for a in synth["InputArtifacts"]] == ["Source"]
    assert [a["Name"] for a in synth["OutputArtifacts"]] == ["Synth", "Handlers"]
    assert synth["RunOrder"] < update["RunOrder"]
    assert update["ActionTypeId"] == {
        "Category": "Deploy",
        "Owner": "AWS",
        "Provider": "CloudFormation",
        "Version": "1",
    }
    config = update["Configuration"]
    assert config["ActionMode"] == "CREATE_UPDATE"
    assert config["StackName"] == {"Ref": "AWS::StackName"}
    assert config["TemplatePath"] == "Synth::web-pipeline.template.json"
    assert config["Capabilities"] == "CAPABILITY_NAMED_IAM"
    # conveyor deploy passes no parameters either: both take conveyor.yaml's defaults.
    assert "ParameterOverrides" not in config
    deployment_role = web.resource(config["RoleArn"]["Fn::GetAtt"][0])
    principal = deployment_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert principal["Principal"] == {"Service": "cloudformation.amazonaws.com"}


def project(synthesized: Synthesized) -> dict[str, Any]:
    (found,) = [
        r
        for r in synthesized.resources("AWS::CodeBuild::Project").values()
        if r["Properties"]["Name"] == f"{synthesized.spec.app}-update-pipeline"
    ]
    return found


def test_the_synth_job_is_unprivileged_encrypted_logged_and_pinned(web: Synthesized) -> None:
    props = project(web)["Properties"]
    assert props["Environment"]["PrivilegedMode"] is False
    assert "EncryptionKey" in props
    group = props["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]
    assert web.resource(group)["Properties"]["RetentionInDays"] == 30
    variables = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
    assert variables == {
        "CONVEYOR_REQUIREMENT": f"conveyor[cdk]=={conveyor.__version__}",
        "CONVEYOR_SPEC": "conveyor.yaml",
        "PIPELINE_STACK": "web-pipeline",
    }


def test_the_buildspec_writes_both_artifacts_from_fixed_folders() -> None:
    artifacts = self_update_buildspec()["artifacts"]
    assert set(artifacts) == {"secondary-artifacts"}
    assert {name: a["base-directory"] for name, a in artifacts["secondary-artifacts"].items()} == {
        "Synth": ".conveyor/synth",
        "Handlers": ".conveyor/handlers",
    }
