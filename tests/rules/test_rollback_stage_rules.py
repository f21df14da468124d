"""Issue 11's rules on what a stage rollback runs again (CV107: a manual approval; CV108: a
change set executed by name), beyond their fixtures: which rollbacks count, and where each rule
stays silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_text
from conveyor.rules.model import Finding

FIXTURES = Path(__file__).parent / "fixtures"
ONE_STAGE = (FIXTURES / "CV107" / "bad.yaml").read_text()  # ChangeSet, Approve, execute
SPLIT = (FIXTURES / "CV108" / "bad.yaml").read_text()  # Approve-prod, then execute
ROLLBACK = "          OnFailure: {Result: ROLLBACK}\n"
BAKE = """          OnSuccess:
            Conditions:
              - Result: ROLLBACK
                Rules:
                  - Name: Bake
                    RuleTypeId:
                      {Category: Rule, Owner: AWS, Provider: CloudWatchAlarm, Version: '1'}
                    Configuration: {AlarmName: web-errors}
"""


def found(text: str, rule: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


def test_cv105_names_the_approval_and_where_it_belongs() -> None:
    (hit,) = found(ONE_STAGE, "CV107")
    assert hit.path.endswith("Properties.Stages.1.Actions.1")
    assert "'Deploy-prod' rolls back" in hit.message and "'Approve'" in hit.message
    assert "stage of its own before 'Deploy-prod'" in hit.message


def test_cv105_counts_a_rollback_on_success_too() -> None:
    baked = ONE_STAGE.replace(ROLLBACK, BAKE)
    assert ROLLBACK not in baked
    assert len(found(baked, "CV107")) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (ONE_STAGE.replace(ROLLBACK, ""), "the stage does not roll back"),
        (
            ONE_STAGE.replace(ROLLBACK, "          OnFailure: {Result: FAIL}\n"),
            "FAIL is no rollback",
        ),
        (ONE_STAGE.replace("PipelineType: V2", "PipelineType: V1"), "V1 has no stage rollback"),
        (SPLIT, "the approval has a stage of its own"),
    ],
)
def test_cv105_stays_silent(text: str, why: str) -> None:
    assert found(text, "CV107") == [], why


def test_cv106_names_the_change_set_whose_execution_fails_a_rollback() -> None:
    (hit,) = found(SPLIT, "CV108")
    assert hit.path.endswith("Properties.Stages.2.Actions.0")
    assert "change set 'conveyor-prod' of stack 'app-prod'" in hit.message
    assert "ActionMode CREATE_UPDATE" in hit.message


def test_cv106_reports_an_execution_whose_change_set_the_stage_makes_for_another_name() -> None:
    other = ONE_STAGE.replace("ChangeSetName: conveyor-prod\n", "ChangeSetName: review\n", 1)
    assert len(found(other, "CV108")) == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (ONE_STAGE, "the rollback makes the change set again before executing it"),
        (SPLIT.replace(ROLLBACK, ""), "the stage does not roll back"),
        (SPLIT.replace("PipelineType: V2", "PipelineType: V1"), "V1 has no stage rollback"),
        (
            SPLIT.replace("ActionMode: CHANGE_SET_EXECUTE", "ActionMode: !Ref Mode"),
            "an action mode chosen at deploy time",
        ),
    ],
)
def test_cv106_stays_silent(text: str, why: str) -> None:
    text = text.replace("Resources:", "Parameters:\n  Mode: {Type: String}\nResources:", 1)
    assert found(text, "CV108") == [], why


def test_cv106_judges_a_change_set_named_by_a_parameter_like_any_other() -> None:
    """Whatever its name, the change set is gone once the stack was updated."""
    named = SPLIT.replace("ChangeSetName: conveyor-prod}", "ChangeSetName: !Ref Name}").replace(
        "Resources:", "Parameters:\n  Name: {Type: String}\nResources:", 1
    )
    (hit,) = found(named, "CV108")
    assert "change set '${Name}'" in hit.message


# --- CV110 with production's approval in a stage of its own -----------------------------------

_GOOD_CV110 = (FIXTURES / "CV110" / "good.yaml").read_text()
_CHANGE_SET = """            - Name: ChangeSet
              RunOrder: 2
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration:
                ActionMode: CHANGE_SET_REPLACE
                StackName: quotes-prod
                ChangeSetName: conveyor-prod
                TemplatePath: Built::quotes-prod.template.json
                RoleArn: arn:aws:iam::123456789012:role/quotes-cloudformation-prod
                ParameterOverrides: OVERRIDES
              InputArtifacts: [{Name: Built}]
            - Name: Approve
              RunOrder: 3
              ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, Version: "1"}
""".replace(
    "OVERRIDES",
    '!Sub \'{"CodeBucket":"${Packages}","CodeKey":"deployed/prod/quotes-package.zip",'
    '"CodeVersion":"#{PackageProd.DEPLOYED_VERSION}"}\'',
)


def _split(between: str = "") -> str:
    """CV110's good fixture with the copy, a change set and the approval in Approve-prod, and
    the deploy in Deploy-prod after it (optionally with another stage between them)."""
    head, deploy = _GOOD_CV110.split("            - Name: Deploy\n", 1)
    head = head.replace("        - Name: Deploy-prod\n", "        - Name: Approve-prod\n", 1)
    deploy = deploy.replace("              RunOrder: 2\n", "              RunOrder: 1\n", 1)
    return (
        head
        + _CHANGE_SET
        + between
        + "        - Name: Deploy-prod\n          Actions:\n            - Name: Deploy\n"
        + deploy
    )


def test_cv110_takes_the_approved_copy_as_the_deploy_s_own() -> None:
    """Issue 11: the copy beside the change set the approval shows, deployed by the next stage,
    is production's own key; CV110 reads the pair as one release."""
    assert found(_GOOD_CV110, "CV110") == []
    assert found(_split(), "CV110") == []


def test_cv110_still_reports_a_copy_made_two_stages_before_the_deploy() -> None:
    between = """        - Name: Elsewhere
          Actions:
            - Name: Wait
              ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, Version: "1"}
"""
    hits = found(_split(between), "CV110")
    assert [h.message.split(";")[0] for h in hits] == [
        "the deployed package is a version of deployed/prod/quotes-package.zip, which stage "
        "Deploy-prod deploys too",
        "the deployed package is a version of deployed/prod/quotes-package.zip, which action "
        "MarkDeployed of stage Approve-prod writes, not this environment's stage",
    ]
