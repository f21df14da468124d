"""The generated table of CloudFormation handler permissions is what scripts/cfn_permissions.py
makes from cfn-lint's copy of the resource schemas today (cfn-lint is not a runtime dependency,
so the table lives in src/; a cfn-lint upgrade that changes a schema fails here)."""

from __future__ import annotations

import runpy
from pathlib import Path

from conveyor.constructs.cfn_permissions import PERMISSIONS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cfn_permissions.py"


def test_the_table_is_what_the_script_generates_from_the_schemas() -> None:
    script = runpy.run_path(str(SCRIPT))
    generated = ROOT / "src" / "conveyor" / "constructs" / "cfn_permissions.py"
    assert generated.read_text() == script["render"](), (
        "run: .venv/bin/python scripts/cfn_permissions.py"
    )


def test_the_table_holds_only_actions_iam_knows() -> None:
    """Schemas list S3 REST operations and retired names; a policy holding them is refused by
    IAM or flagged by cfn-lint."""
    actions = {action for found in PERMISSIONS.values() for action in found}
    assert "s3:PutBucketReplication" not in actions
    assert not [a for a in actions if "REST." in a]
    assert "codepipeline:UpdatePipeline" in PERMISSIONS["AWS::CodePipeline::Pipeline"]


def test_every_type_has_the_calls_cloudformation_makes() -> None:
    """A type whose schema lists no handlers (AWS::CodeBuild::Project) gets its service's
    documented calls instead of nothing."""
    assert [kind for kind, actions in PERMISSIONS.items() if not actions] == []
    assert "codebuild:CreateProject" in PERMISSIONS["AWS::CodeBuild::Project"]
