"""CV121 judges only what a template proves: a cross-region action needs a store in its region
(ArtifactStores), and a single ArtifactStore cannot serve actions in two regions; a region
hidden in a parameter, or a single region that may be the pipeline's own, is not judged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths


def _store(region: Any) -> dict[str, Any]:
    return {"Region": region, "ArtifactStore": {"Type": "S3", "Location": "artifacts"}}


def _action(name: str, region: Any = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "Name": name,
        "ActionTypeId": {
            "Category": "Deploy",
            "Owner": "AWS",
            "Provider": "CloudFormation",
            "Version": "1",
        },
        "Configuration": {"ActionMode": "CREATE_UPDATE", "StackName": f"shop-{name}"},
    }
    if region is not None:
        action["Region"] = region
    return action


def _messages(tmp_path: Path, stores: dict[str, Any], *regions: Any) -> list[str]:
    source = {
        "Name": "Source",
        "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "S3", "Version": "1"},
        "Configuration": {"S3Bucket": "source", "S3ObjectKey": "app.zip"},
    }
    deploys = [_action(f"env{index}", region) for index, region in enumerate(regions)]
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "RoleArn": "arn:aws:iam::111111111111:role/p",
                    **stores,
                    "Stages": [
                        {"Name": "Source", "Actions": [source]},
                        {"Name": "Deploy", "Actions": deploys},
                    ],
                },
            }
        }
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(template, indent=1))
    result = check_paths([path])
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV121"]


OWN = {"Ref": "AWS::Region"}
SINGLE = {"ArtifactStore": {"Type": "S3", "Location": "artifacts"}}


def test_an_action_region_missing_from_artifact_stores_is_found(tmp_path: Path) -> None:
    stores = {"ArtifactStores": [_store(OWN), _store("us-west-2")]}
    messages = _messages(tmp_path, stores, "us-west-2", "ap-south-1")
    assert len(messages) == 1
    assert "'env1' (stage 'Deploy') runs in ap-south-1" in messages[0]
    assert "its regions: the pipeline's own region (AWS::Region), us-west-2" in messages[0]


def test_the_pipelines_own_region_must_be_a_store_too(tmp_path: Path) -> None:
    stores = {"ArtifactStores": [_store("us-west-2")]}
    messages = _messages(tmp_path, stores, OWN, "us-west-2")
    assert len(messages) == 1
    assert "runs in the pipeline's own region (AWS::Region)" in messages[0]


def test_one_store_and_two_regions_is_found(tmp_path: Path) -> None:
    messages = _messages(tmp_path, SINGLE, "eu-west-1", "us-west-2")
    assert len(messages) == 1
    assert "actions run in eu-west-1, us-west-2" in messages[0]
    assert "Replace ArtifactStore with ArtifactStores" in messages[0]


@pytest.mark.parametrize(
    ("stores", "regions"),
    [
        pytest.param(SINGLE, ("eu-west-1",), id="one store, one region: may be its own"),
        pytest.param(SINGLE, ("eu-west-1", OWN), id="one literal beside its own: may be equal"),
        pytest.param(SINGLE, (None, None), id="no action names a region"),
        pytest.param(
            {"ArtifactStores": [_store(OWN), _store({"Ref": "ProdRegion"})]},
            ("us-west-2",),
            id="a store's region is a parameter",
        ),
        pytest.param(
            {"ArtifactStores": [_store(OWN)]},
            ({"Ref": "ProdRegion"},),
            id="the action's region is a parameter",
        ),
        pytest.param(
            {"ArtifactStores": [_store({"Fn::Sub": "${AWS::Region}"}), _store("us-west-2")]},
            (OWN, "us-west-2"),
            id="every region has its store",
        ),
    ],
)
def test_what_a_template_does_not_prove_is_not_found(
    tmp_path: Path, stores: dict[str, Any], regions: tuple[Any, ...]
) -> None:
    assert _messages(tmp_path, stores, *regions) == []
