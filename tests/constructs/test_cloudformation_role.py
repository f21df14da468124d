"""An environment stack's CloudFormation role takes its actions from the schema table."""

from __future__ import annotations

import pytest

from conveyor.constructs.cloudformation_role import required_actions


def test_a_type_missing_from_the_table_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"AWS::RDS::DBInstance: add the type to scripts/"):
        required_actions(["AWS::ECS::Service", "AWS::RDS::DBInstance"])


def test_custom_resources_need_no_table_entry() -> None:
    assert required_actions(["Custom::S3AutoDeleteObjects"]) == []


def test_actions_are_the_union_of_the_types() -> None:
    actions = required_actions(["AWS::ECS::Service", "AWS::Logs::LogGroup"])
    assert "ecs:CreateService" in actions and "logs:CreateLogGroup" in actions
    assert actions == sorted(set(actions))
