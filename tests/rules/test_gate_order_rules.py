"""Issue 11's rules on the order of gate, approval and job (CV114) and on change set names
shared by executions (CV115), beyond their fixtures: what each finds, and where it stays
silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_text
from conveyor.rules.model import Finding

FIXTURES = Path(__file__).parent / "fixtures"
UNGATED = (FIXTURES / "CV114" / "bad.yaml").read_text()  # gate on Deploy-prod only
GATED = (FIXTURES / "CV114" / "good.yaml").read_text()  # Approve-prod, Before-prod gated
_START = GATED.index("          BeforeEntry:")
GATE = GATED[_START : GATED.index("          Actions:", _START)]  # Approve-prod's
FIXED_NAME = (FIXTURES / "CV115" / "bad.yaml").read_text()
PER_EXECUTION = "release-#{codepipeline.PipelineExecutionId}"


def found(text: str, rule: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


def test_cv114_finds_the_approval_and_the_job_after_it() -> None:
    approval, job = found(UNGATED, "CV114")
    assert approval.path.endswith("Properties.Stages.1.Actions.1")
    assert "approval 'Approve'" in approval.message
    assert "stage 'Deploy-prod' holds one" in approval.message
    assert "CloudWatchAlarm and DeploymentWindow" in approval.message
    assert job.path.endswith("Properties.Stages.1.Actions.2")
    assert "job 'Migrate'" in job.message and "a migration stays applied" in job.message


def test_cv114_a_gate_before_the_approval_does_not_cover_the_job_after_it() -> None:
    """The approval may come after the window closed: the job needs the gate read again."""
    gate = GATE
    gated_once = UNGATED.replace(
        "        - Name: Approve-prod\n", "        - Name: Approve-prod\n" + gate
    )
    (job,) = found(gated_once, "CV114")
    assert "job 'Migrate'" in job.message


def test_cv114_a_gate_of_another_kind_does_not_count() -> None:
    """An alarm gate before the approval does not keep it inside the deployment window."""
    gate = GATE
    alarms_only = gate[: gate.index("                  - Name: WindowA")]
    text = UNGATED.replace(
        "        - Name: Approve-prod\n", "        - Name: Approve-prod\n" + alarms_only
    )
    assert [f.path.rsplit(".", 1)[-1] for f in found(text, "CV114")] == ["1", "2"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (GATED, "the gate before the approval and again before the job"),
        (UNGATED.replace("PipelineType: V2", "PipelineType: V1"), "V1 has no stage conditions"),
        (
            UNGATED.replace("Provider: DeploymentWindow", "Provider: LambdaInvoke").replace(
                "Provider: CloudWatchAlarm", "Provider: VariableCheck"
            ),
            "no window or alarm gate",
        ),
        (
            # A stage that changes something between the approval and the gated stage: the
            # gate is that later release step's, not the approval's.
            UNGATED.replace(
                "        - Name: Deploy-prod\n",
                "        - Name: Deploy-eu\n"
                "          Actions:\n"
                "            - Name: Deploy\n"
                "              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: ECS,"
                ' Version: "1"}\n'
                "              Configuration: {ClusterName: eu, ServiceName: app}\n"
                "              InputArtifacts: [{Name: Src}]\n"
                "        - Name: Deploy-prod\n",
            ),
            "another deploy between them",
        ),
    ],
)
def test_cv114_stays_silent(text: str, why: str) -> None:
    assert found(text, "CV114") == [], why


def test_cv115_names_the_change_set_and_both_stages() -> None:
    (hit,) = found(FIXED_NAME, "CV115")
    assert hit.path.endswith("Properties.Stages.1.Actions.0")
    assert "change set 'release-prod' of stack 'app-prod'" in hit.message
    assert "(stage 'Approve-prod')" in hit.message and "stage 'Deploy-prod'" in hit.message
    assert PER_EXECUTION in hit.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (FIXED_NAME.replace("release-prod", f'"{PER_EXECUTION}"'), "a name per execution"),
        (
            FIXED_NAME.replace(
                "ChangeSetName: release-prod\n                TemplatePath",
                "ChangeSetName: review-prod\n                TemplatePath",
                1,
            ),
            "the approver's change set is another one than the deploy stage executes",
        ),
        (
            # Made and executed in one stage only: one execution holds a stage at a time.
            FIXED_NAME[: FIXED_NAME.index("        - Name: Approve-prod\n")]
            + FIXED_NAME[FIXED_NAME.index("        - Name: Deploy-prod\n") :],
            "made and executed in the same stage",
        ),
    ],
)
def test_cv115_stays_silent(text: str, why: str) -> None:
    assert found(text, "CV115") == [], why
