"""A Lambda environment in another region of the pipeline's account (issue 10,
examples/lambda-multi-region.yaml): that region's stack holds a package store beside the
artifact store, the pipeline copies each release's package there and hands production's stack
that bucket (never the pipeline region's: CV127), the function's CodeDeploy application, group
and hook live in production's stack there, and its deployment events are forwarded to the
pipeline's region."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths
from tests.synth.conftest import Synthesized

REGION = "us-east-1"
REGION_STACK = "fares-region-us-east-1"
PRODUCTION = "fares-prod"


@pytest.fixture(scope="module")
def example(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["lambda-multi-region"]


def _of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _actions(example: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    return [
        (stage["Name"], action)
        for stage in example.pipeline()["Properties"]["Stages"]
        for action in stage["Actions"]
    ]


def test_the_region_stack_holds_a_package_store_that_keeps_deployed_packages(
    example: Synthesized,
) -> None:
    template = example.templates[REGION_STACK]
    buckets = [b["Properties"] for b in _of(template, "AWS::S3::Bucket").values()]
    (store,) = [b for b in buckets if "fares-packages-" in _text(b.get("BucketName"))]
    assert REGION not in _text(store["BucketName"])  # its own region, as AWS::Region
    assert store["VersioningConfiguration"] == {"Status": "Enabled"}
    encryption = store["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    rules = {r["Id"]: r for r in store["LifecycleConfiguration"]["Rules"]}
    # The pipeline store's rules: a current deployed package never expires (PackageStore).
    assert rules["keep-deployed-releases"]["Prefix"] == "deployed/"
    assert all("ExpirationInDays" not in r for r in rules.values())
    # No image repository: nothing is built as an image.
    assert not _of(template, "AWS::ECR::Repository")


def test_production_deploys_its_regions_copy_and_staging_the_pipelines(
    example: Synthesized,
) -> None:
    overrides = {
        stage: action["Configuration"]["ParameterOverrides"]
        for stage, action in _actions(example)
        if "ParameterOverrides" in action["Configuration"]
    }
    assert set(overrides) == {"Deploy-staging", "Approve-prod", "Deploy-prod"}
    for stage, value in overrides.items():
        references = [p["Ref"] for p in value["Fn::Join"][1] if isinstance(p, dict)]
        if stage.endswith("-prod"):
            # By name: the account, and the region as the pipeline stack's parameter.
            assert '{"CodeBucket":"fares-packages-' in value["Fn::Join"][1][0]
            assert references[0] == "AWS::AccountId"
            assert references[1].startswith("DeliveryRegionUsEast1")
            assert example.template["Parameters"][references[1]]["Default"] == REGION
        else:
            (bucket,) = references
            assert bucket.startswith("DeliveryPackagesBucket")


def test_production_marks_its_copy_in_its_region(example: Synthesized) -> None:
    marks = {
        stage: {v["name"]: v["value"] for v in json.loads(_resolved(a))}
        for stage, a in _actions(example)
        if a["Name"] == "MarkDeployed"
    }
    assert set(marks) == {"Deploy-staging", "Approve-prod"}
    assert "DEPLOYED_BUCKET" not in marks["Deploy-staging"]
    assert marks["Approve-prod"]["DEPLOYED_BUCKET"].startswith("fares-packages-")
    assert marks["Approve-prod"]["DEPLOYED_REGION"] == "<region>"


def _resolved(action: dict[str, Any]) -> str:
    """The action's EnvironmentVariables with the account and region references written out."""
    value = action["Configuration"]["EnvironmentVariables"]
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(
        p
        if isinstance(p, str)
        else "123456789012"
        if p == {"Ref": "AWS::AccountId"}
        else "<region>"
        for p in parts
    )


def test_the_functions_deployment_lives_in_production_there_and_its_events_come_here(
    example: Synthesized,
) -> None:
    template = example.templates[PRODUCTION]
    assert _of(template, "AWS::CodeDeploy::Application")
    (group,) = _of(template, "AWS::CodeDeploy::DeploymentGroup").values()
    assert group["Properties"]["DeploymentGroupName"] == "fares-deploy-prod"
    (function,) = [
        f
        for f in _of(template, "AWS::Lambda::Function").values()
        if "CodeBucket" in _text(f["Properties"]["Code"])
    ]
    assert function["Properties"]["Code"]["S3Bucket"] == {"Ref": "CodeBucket"}
    (alias,) = _of(template, "AWS::Lambda::Alias").values()
    policy = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert "ApplicationName" in policy and "DeploymentGroupName" in policy
    (rule,) = [
        r
        for r in _of(template, "AWS::Events::Rule").values()
        if r["Properties"].get("Name") == "fares-deployment-events-prod"
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.codedeploy"]
    assert pattern["detail"] == {"application": ["fares-deploy-prod"]}
    (target,) = rule["Properties"]["Targets"]
    assert "PipelineRegion" in _text(target["Arn"])
    assert template["Parameters"]["PipelineRegion"]["Default"] == "eu-west-1"
    # Staging, beside the pipeline, forwards nothing.
    staging = example.templates["fares-staging"]
    assert "PipelineRegion" not in staging.get("Parameters", {})


def test_conveyor_check_passes_the_output_and_reports_the_pipeline_regions_bucket(
    example: Synthesized, tmp_path: Path
) -> None:
    """CV127 on generated output: production's stack handed the pipeline region's package
    bucket (the bad shape this slice removes) is reported; the output as generated is not."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(example.template))
    assert [f for f in check_paths([good]).findings if f.rule == "CV127"] == []
    bad_template = copy.deepcopy(example.template)
    (bucket,) = [
        lid
        for lid in _of(bad_template, "AWS::S3::Bucket")
        if lid.startswith("DeliveryPackagesBucket")
    ]
    for stage in _pipeline_of(bad_template)["Properties"]["Stages"]:
        for action in stage["Actions"]:
            if stage["Name"].endswith("-prod") and "ParameterOverrides" in action["Configuration"]:
                action["Configuration"]["ParameterOverrides"] = {
                    "Fn::Join": [
                        "",
                        [
                            '{"CodeBucket":"',
                            {"Ref": bucket},
                            '","CodeKey":"deployed/prod/fares-package.zip",'
                            '"CodeVersion":"#{PackageProd.DEPLOYED_VERSION}"}',
                        ],
                    ]
                }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_template))
    found = [f for f in check_paths([bad]).findings if f.rule == "CV127"]
    assert found
    assert all("Approve-prod" in f.message or "Deploy-prod" in f.message for f in found)


def _pipeline_of(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = [
        p
        for p in _of(template, "AWS::CodePipeline::Pipeline").values()
        if p["Properties"]["Name"] == "fares-pipeline"
    ]
    return found


def test_the_history_and_notices_may_read_production_s_deployments_in_its_region(
    example: Synthesized,
) -> None:
    """The handlers look a forwarded deployment up where it ran (handlers/_common.client_in)."""
    readers = [
        statement
        for policy in _of(example.template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "codedeploy:GetDeployment"
    ]
    assert len(readers) >= 2  # the recorder's and the notifier's
    for statement in readers:
        text = _text(statement["Resource"])
        assert "deploymentgroup:fares-deploy-prod/fares-deploy-prod" in text
        # Production's group in its region (the pipeline stack's parameter), staging's here.
        (prod,) = [r for r in statement["Resource"] if "fares-deploy-prod" in _text(r)]
        assert "DeliveryRegionUsEast1" in _text(prod)
        (staging,) = [r for r in statement["Resource"] if "fares-deploy-staging" in _text(r)]
        assert '"AWS::Region"' in _text(staging)
