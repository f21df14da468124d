"""CV118 (issue 11, FM124) beyond its fixtures: a window or alarm gate on a stage that rolls
back is found whichever way the stage rolls back, with its line and the fix; a gate elsewhere,
a stage that does not roll back, another rule provider and a V1 pipeline are left alone. And
conveyor's own output before the fix (an environment gated on Deploy-<env>) is a true case."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.rules import check_text
from conveyor.rules.model import Finding

FIXTURES = Path(__file__).parent / "fixtures" / "CV118"
BAD = (FIXTURES / "bad.yaml").read_text()
GOOD = (FIXTURES / "good.yaml").read_text()


def found(text: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == "CV118"]


def test_cv118_finds_each_gated_stage_that_rolls_back_at_its_gate() -> None:
    staging, prod = found(BAD)
    # Deploy-staging rolls back on failure and waits for the ledger alarm.
    assert staging.path.endswith("Properties.Stages.1.BeforeEntry")
    assert "stage 'Deploy-staging' rolls back and has an alarm gate on its entry" in (
        staging.message
    )
    # Deploy-prod rolls back through its bake only (OnSuccess ROLLBACK) and has a window.
    assert prod.path.endswith("Properties.Stages.2.BeforeEntry")
    assert "stage 'Deploy-prod' rolls back and has a deployment window gate" in prod.message
    assert "AWS does not document whether it must pass that gate" in prod.message
    assert "Move the gate to a stage of its own before this one" in prod.message
    lines = BAD.splitlines()
    assert lines[prod.line - 1].strip() == "BeforeEntry:"
    assert lines[staging.line - 1].strip() == "BeforeEntry:"
    assert staging.line < prod.line


def test_cv118_names_both_kinds_of_gate_once() -> None:
    both = BAD.replace(
        "                    Configuration: {AlarmName: web-ledger-errors}\n",
        "                    Configuration: {AlarmName: web-ledger-errors}\n"
        "                  - Name: LedgerQuiet2\n"
        "                    RuleTypeId: {Category: Rule, Owner: AWS, Provider: CloudWatchAlarm,"
        ' Version: "1"}\n'
        "                    Configuration: {AlarmName: web-queue-age}\n"
        "                  - Name: StagingWindow\n"
        "                    RuleTypeId: {Category: Rule, Owner: AWS, Provider: DeploymentWindow,"
        ' Version: "1"}\n'
        '                    Configuration: {Cron: "* * 9-16 ? * MON-FRI *"}\n',
    )
    staging, _ = found(both)
    assert "has a deployment window and alarm gate on its entry" in staging.message


def test_cv118_finds_a_rollback_condition_of_on_failure_too() -> None:
    """OnFailure with a ROLLBACK condition (rules) and no top-level Result still rolls back."""
    text = BAD.replace(
        "          OnFailure: {Result: ROLLBACK}\n",
        "          OnFailure:\n"
        "            Conditions:\n"
        "              - Result: ROLLBACK\n"
        "                Rules:\n"
        "                  - Name: Errors\n"
        "                    RuleTypeId: {Category: Rule, Owner: AWS, Provider: CloudWatchAlarm,"
        ' Version: "1"}\n'
        "                    Configuration: {AlarmName: web-5xx-staging}\n",
    )
    assert [f.path.split("Properties.", 1)[1] for f in found(text)] == [
        "Stages.1.BeforeEntry",
        "Stages.2.BeforeEntry",
    ]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (GOOD, "the gate on a stage of its own; a failing (not rolling back) stage's gate"),
        (BAD.replace("PipelineType: V2", "PipelineType: V1"), "V1 has no stage conditions"),
        (
            BAD.replace("OnFailure: {Result: ROLLBACK}", "OnFailure: {Result: FAIL}").replace(
                "              - Result: ROLLBACK\n", "              - Result: FAIL\n"
            ),
            "nothing rolls back",
        ),
        (
            BAD.replace("Provider: DeploymentWindow", "Provider: LambdaInvoke").replace(
                'Provider: CloudWatchAlarm, Version: "1"}\n                    Configuration: '
                "{AlarmName: web-ledger-errors}",
                'Provider: VariableCheck, Version: "1"}\n                    Configuration: '
                "{AlarmName: web-ledger-errors}",
            ),
            "another rule provider",
        ),
    ],
)
def test_cv118_leaves_alone(text: str, why: str) -> None:
    assert found(text) == [], why


def test_cv118_finds_conveyors_own_output_before_the_fix_and_none_after() -> None:
    """Before the fix, an environment with a window and no `before` job had the gate on
    Deploy-<env>; after it, on Release-<env>, which does not roll back (the plan's stages,
    written as the pipeline's template)."""
    from conveyor.plan import plan
    from conveyor.spec import load_spec

    root = Path(__file__).resolve().parents[2]
    spec = load_spec(root / "examples" / "payments.yaml")
    prod = spec.environments[-1].model_copy(update={"before": None, "approval": False})
    spec = spec.model_copy(update={"environments": (*spec.environments[:-1], prod)})
    stages = [s for s in plan(spec).stages if s.environment == "prod"]
    assert [s.name for s in stages] == ["Release-prod", "Deploy-prod"]
    after = _template([(s.name, s.conditions) for s in stages])
    assert found(after) == []
    release, deploy = stages
    before = _template([(deploy.name, release.conditions + deploy.conditions)])
    (finding,) = found(before)
    assert "stage 'Deploy-prod' rolls back" in finding.message
    assert "deployment window and alarm gate" in finding.message


def _template(stages: list[tuple[str, tuple[object, ...]]]) -> str:
    """A V2 pipeline whose stages carry the plan's conditions as CloudFormation writes them."""
    from conveyor.plan import Condition

    kinds = {"before_entry": "BeforeEntry", "on_success": "OnSuccess", "on_failure": "OnFailure"}
    lines = [
        "Resources:",
        "  Pipeline:",
        "    Type: AWS::CodePipeline::Pipeline",
        "    Properties:",
        "      RoleArn: arn:aws:iam::123456789012:role/pipeline",
        "      ArtifactStore: {Type: S3, Location: artifacts}",
        "      PipelineType: V2",
        "      Stages:",
    ]
    for name, conditions in stages:
        lines.append(f"        - Name: {name}")
        for condition in conditions:
            assert isinstance(condition, Condition)
            key = kinds[condition.kind]
            if condition.kind == "on_failure" and not condition.rules:
                lines.append(f"          {key}: {{Result: {condition.result}}}")
                continue
            lines += [f"          {key}:", "            Conditions:"]
            lines.append(f"              - Result: {condition.result}")
            lines.append("                Rules:")
            for rule in condition.rules:
                config = ", ".join(f'{k}: "{v}"' for k, v in rule.configuration)
                lines += [
                    f"                  - Name: {rule.name}",
                    "                    RuleTypeId: {Category: Rule, Owner: AWS, "
                    f'Provider: {rule.provider}, Version: "1"}}',
                    f"                    Configuration: {{{config}}}",
                ]
        lines += [
            "          Actions:",
            "            - Name: Deploy",
            "              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: ECS,"
            ' Version: "1"}',
            "              Configuration: {ClusterName: c, ServiceName: s}",
        ]
    return "\n".join(lines) + "\n"


def test_cv118_reads_a_terraform_plan() -> None:
    """`aws_codepipeline` stages carry `before_entry`/`on_failure` blocks: the same finding on a
    plan as on its CloudFormation (issue 13's inputs)."""
    import json

    plan_path = FIXTURES.parent.parent / "inputs" / "fixtures" / "rules" / "CV074" / "bad.plan.json"
    data = json.loads(plan_path.read_text())
    window = {
        "condition": [
            {
                "result": "FAIL",
                "rule": [
                    {
                        "name": "Window",
                        "rule_type_id": [
                            {
                                "category": "Rule",
                                "owner": "AWS",
                                "provider": "DeploymentWindow",
                                "version": "1",
                            }
                        ],
                        "configuration": {"Cron": "* * 9-16 ? * MON-FRI *"},
                    }
                ],
            }
        ]
    }

    def gate(rolls_back: bool) -> str:
        copy = json.loads(json.dumps(data))

        def walk(node: object) -> None:
            if isinstance(node, dict):
                if node.get("name") == "Deploy" and "before_entry" in node:
                    node["before_entry"] = [window]
                    if rolls_back:
                        node["on_failure"] = [{"result": "ROLLBACK", "condition": []}]
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(copy)
        return json.dumps(copy)

    result = check_text(gate(rolls_back=True), name="plan.json")
    assert result.errors == []
    (hit,) = [f for f in result.findings if f.rule == "CV118"]
    assert "stage 'Deploy' rolls back and has a deployment window gate" in hit.message
    quiet = check_text(gate(rolls_back=False), name="plan.json")
    assert [f for f in quiet.findings if f.rule == "CV118"] == []
