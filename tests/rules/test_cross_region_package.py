"""CV127 judges what a pipeline template proves: an action its ArtifactStores place in another
region than the pipeline's, handed a bucket of this template (the pipeline's region) under a
parameter named for code. An action in the pipeline's region, a bucket named by literal, a
parameter named for something else, and a pipeline without ArtifactStores are not judged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths

OWN = {"Ref": "AWS::Region"}
PARAMETER_REGION = {"Ref": "RegionUsWest2"}


def _store(region: Any) -> dict[str, Any]:
    return {"Region": region, "ArtifactStore": {"Type": "S3", "Location": "artifacts"}}


def _messages(
    tmp_path: Path, *, region: Any, overrides: Any, stores: list[Any] | None = None
) -> list[str]:
    action: dict[str, Any] = {
        "Name": "Deploy",
        "ActionTypeId": {
            "Category": "Deploy",
            "Owner": "AWS",
            "Provider": "CloudFormation",
            "Version": "1",
        },
        "Configuration": {
            "ActionMode": "CREATE_UPDATE",
            "StackName": "shop-prod",
            "ParameterOverrides": overrides,
        },
    }
    if region is not None:
        action["Region"] = region
    properties: dict[str, Any] = {
        "RoleArn": "arn:aws:iam::111111111111:role/p",
        "Stages": [{"Name": "Deploy-prod", "Actions": [action]}],
    }
    if stores is not None:
        properties["ArtifactStores"] = stores
    template = {
        "Parameters": {"RegionUsWest2": {"Type": "String", "Default": "us-west-2"}},
        "Resources": {
            "Packages": {"Type": "AWS::S3::Bucket"},
            "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": properties},
        },
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(template, indent=1))
    result = check_paths([path])
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV127"]


BOTH = [_store(OWN), _store("us-west-2")]
BY_PARAMETER = [_store(OWN), _store(PARAMETER_REGION)]
REF = {"Fn::Sub": '{"CodeBucket":"${Packages}","CodeKey":"app.zip"}'}
GET_ATT = {"Fn::Join": ["", ['{"PackageBucket":"', {"Fn::GetAtt": ["Packages", "Arn"]}, '"}']]}


@pytest.mark.parametrize(
    ("region", "stores", "overrides"),
    [("us-west-2", BOTH, REF), (PARAMETER_REGION, BY_PARAMETER, REF), ("us-west-2", BOTH, GET_ATT)],
    ids=["literal-region", "region-parameter", "get-att"],
)
def test_a_bucket_of_the_pipelines_region_handed_to_another_region_is_found(
    tmp_path: Path, region: Any, stores: list[Any], overrides: Any
) -> None:
    (message,) = _messages(tmp_path, region=region, overrides=overrides, stores=stores)
    assert "action 'Deploy' (stage 'Deploy-prod') deploys in" in message
    assert "bucket Packages of this template" in message
    assert "only from a bucket in the function's region" in message


@pytest.mark.parametrize(
    ("region", "stores", "overrides"),
    [
        # The action in the pipeline's own region (no Region, or AWS::Region).
        (None, BOTH, REF),
        (OWN, BOTH, REF),
        # The bucket of the action's region, by name.
        ("us-west-2", BOTH, '{"CodeBucket":"shop-packages-111111111111-us-west-2"}'),
        # A parameter named for something else: may be read across regions.
        ("us-west-2", BOTH, {"Fn::Sub": '{"ConfigBucket":"${Packages}"}'}),
        # No ArtifactStores listing the pipeline's own region: which region is whose is unknown.
        ("us-west-2", None, REF),
        ("us-west-2", [_store("us-west-2")], REF),
    ],
    ids=["no-region", "own-region", "regional-bucket", "config", "no-stores", "one-store"],
)
def test_what_the_template_does_not_prove_is_not_judged(
    tmp_path: Path, region: Any, stores: list[Any] | None, overrides: Any
) -> None:
    assert _messages(tmp_path, region=region, overrides=overrides, stores=stores) == []


# --- an approval that sends the approver to read that stack without its region ---------------

NOTICE = (
    "Deploy shop to prod? Read `aws cloudformation describe-change-set --stack-name shop-prod "
    "--change-set-name release`"
)


def _approval_messages(
    tmp_path: Path, *, region: Any, notice: Any, stack: str = "shop-prod"
) -> list[str]:
    change_set: dict[str, Any] = {
        "Name": "ChangeSet",
        "ActionTypeId": {
            "Category": "Deploy",
            "Owner": "AWS",
            "Provider": "CloudFormation",
            "Version": "1",
        },
        "Configuration": {
            "ActionMode": "CHANGE_SET_REPLACE",
            "StackName": stack,
            "ChangeSetName": "release",
        },
        "RunOrder": 1,
    }
    if region is not None:
        change_set["Region"] = region
    approve = {
        "Name": "Approve",
        "ActionTypeId": {
            "Category": "Approval",
            "Owner": "AWS",
            "Provider": "Manual",
            "Version": "1",
        },
        "Configuration": {"CustomData": notice},
        "RunOrder": 2,
    }
    template = {
        "Parameters": {"RegionUsWest2": {"Type": "String", "Default": "us-west-2"}},
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "RoleArn": "arn:aws:iam::111111111111:role/p",
                    "ArtifactStores": BY_PARAMETER,
                    "Stages": [{"Name": "Approve-prod", "Actions": [change_set, approve]}],
                },
            }
        },
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(template, indent=1))
    result = check_paths([path])
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV127"]


def test_an_approval_reading_a_stack_of_another_region_without_it_is_found(
    tmp_path: Path,
) -> None:
    (message,) = _approval_messages(tmp_path, region=PARAMETER_REGION, notice=NOTICE)
    assert "approval 'Approve' (stage 'Approve-prod')" in message
    assert "stack shop-prod" in message and "without --region" in message


@pytest.mark.parametrize(
    ("region", "notice", "stack"),
    [
        # The command names the region (as conveyor writes it: the region parameter).
        (
            PARAMETER_REGION,
            {"Fn::Join": ["", [NOTICE[:-1] + " --region ", PARAMETER_REGION, "`"]]},
            "shop-prod",
        ),
        # The stack is deployed in the pipeline's own region.
        (None, NOTICE, "shop-prod"),
        # The notice reads another stack (a name that only starts like it).
        (PARAMETER_REGION, NOTICE, "shop-pro"),
        # No AWS CLI command: a console link or prose carries its own region.
        (PARAMETER_REGION, "Deploy shop to prod? See stack shop-prod.", "shop-prod"),
    ],
    ids=["with-region", "own-region", "other-stack", "no-command"],
)
def test_an_approval_with_the_region_or_about_the_own_region_is_not_judged(
    tmp_path: Path, region: Any, notice: Any, stack: str
) -> None:
    assert _approval_messages(tmp_path, region=region, notice=notice, stack=stack) == []
