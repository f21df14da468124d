"""CV086 and CloudFormation change sets: creating a change set changes nothing, so the approval
may come after it (that is how the approver sees what will change); executing it deploys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conveyor.rules import check_paths


def _action(name: str, category: str, provider: str, run_order: int, mode: str = "") -> Any:
    action: dict[str, Any] = {
        "Name": name,
        "ActionTypeId": {
            "Category": category,
            "Owner": "AWS",
            "Provider": provider,
            "Version": "1",
        },
        "RunOrder": run_order,
        "Configuration": {"StackName": "shop-prod", "ChangeSetName": "conveyor-prod"},
    }
    if mode:
        action["Configuration"]["ActionMode"] = mode
    return action


def _findings(tmp_path: Path, stage_actions: list[Any]) -> list[str]:
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "RoleArn": "arn:aws:iam::111111111111:role/p",
                    "Stages": [
                        {"Name": "Source", "Actions": [_action("Source", "Source", "S3", 1)]},
                        {"Name": "Deploy-prod", "Actions": stage_actions},
                    ],
                },
            }
        }
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(template, indent=1))
    return [f.message for f in check_paths([path]).findings if f.rule == "CV086"]


def test_change_set_then_approval_then_execute_passes(tmp_path: Path) -> None:
    assert (
        _findings(
            tmp_path,
            [
                _action("ChangeSet", "Deploy", "CloudFormation", 1, "CHANGE_SET_REPLACE"),
                _action("Approve", "Approval", "Manual", 2),
                _action("Deploy", "Deploy", "CloudFormation", 3, "CHANGE_SET_EXECUTE"),
            ],
        )
        == []
    )


def test_executing_the_change_set_before_the_approval_is_found(tmp_path: Path) -> None:
    assert _findings(
        tmp_path,
        [
            _action("ChangeSet", "Deploy", "CloudFormation", 1, "CHANGE_SET_REPLACE"),
            _action("Deploy", "Deploy", "CloudFormation", 2, "CHANGE_SET_EXECUTE"),
            _action("Approve", "Approval", "Manual", 3),
        ],
    ) == ["production deploy action 'Deploy' has no manual approval before it"]


def test_a_stack_update_without_approval_is_found(tmp_path: Path) -> None:
    assert _findings(
        tmp_path, [_action("Deploy", "Deploy", "CloudFormation", 1, "CREATE_UPDATE")]
    ) == ["production deploy action 'Deploy' has no manual approval before it"]
