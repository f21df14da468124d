"""Issue 11's rules on V2 stage conditions, beyond their fixtures: where each is sure enough to
speak (an alarm of another stack is never reported) and where it stays silent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules.model import Finding
from conveyor.rules.template import parse


def found(text: str, rule: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


def pipeline(stage_extra: str = "", *, mode: str = "QUEUED", deploy: str = "") -> str:
    deploy = deploy or (
        "ActionTypeId: {Category: Deploy, Owner: AWS, Provider: ECS, Version: '1'}\n"
        "              Configuration: {ClusterName: !Ref Cluster, ServiceName: web}"
    )
    return f"""Resources:
  Cluster:
    Type: AWS::ECS::Cluster
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties: {{AlarmName: {ALARM_NAME}, Namespace: N, MetricName: M, Statistic: Sum,
      Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: GreaterThanThreshold}}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      ArtifactStore: {{Type: S3, Location: a}}
      PipelineType: V2
      ExecutionMode: {mode}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {{Category: Source, Owner: AWS, Provider: S3, Version: '1'}}
              Configuration: {{S3Bucket: s, S3ObjectKey: k}}
              OutputArtifacts: [{{Name: Src}}]
        - Name: Deploy
{stage_extra}
          Actions:
            - Name: Deploy
              {deploy}
              InputArtifacts: [{{Name: Src}}]
"""


ALARM_NAME = "web-errors"


def gate(name: str, *, kind: str = "BeforeEntry", result: str = "FAIL", extra: str = "") -> str:
    return f"""          {kind}:
            Conditions:
              - Result: {result}
                Rules:
                  - Name: Gate
                    RuleTypeId:
                      {{Category: Rule, Owner: AWS, Provider: CloudWatchAlarm, Version: '1'}}
                    Configuration: {{AlarmName: {name}}}{extra}"""


def test_cv101_reads_each_name_of_a_list() -> None:
    hits = found(pipeline(gate("'web-errors,web-latency'")), "CV101")
    assert len(hits) == 1
    assert "'web-latency'" in hits[0].message
    assert hits[0].path.endswith("BeforeEntry.Conditions.0.Rules.0.Configuration.AlarmName")


def test_cv101_judges_on_success_and_on_failure_conditions_too() -> None:
    for kind, result in (("OnSuccess", "ROLLBACK"), ("OnFailure", "ROLLBACK")):
        hits = found(pipeline(gate("web-eror", kind=kind, result=result)), "CV101")
        assert [f"the {kind} condition" in f.message for f in hits] == [True]
        assert "did you mean 'web-errors'?" in hits[0].message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (pipeline(gate("web-errors")), "the exact name"),
        (pipeline(gate("!Ref Errors")), "a Ref of the alarm"),
        (
            pipeline(gate("other", extra="\n                    RoleArn: arn:aws:iam::1:role/r")),
            "another account's alarm",
        ),
        (
            pipeline(
                gate("other"),
                deploy="ActionTypeId: {Category: Deploy, Owner: AWS, Provider: ECS, "
                "Version: '1'}\n              Configuration: {ClusterName: c, ServiceName: web}",
            ),
            "the stage deploys nothing of this template",
        ),
        (
            pipeline(gate("other")).replace(
                "AlarmName: web-errors,", "AlarmName: !Sub '${AWS::StackName}-e',"
            ),
            "a template alarm's name is not known",
        ),
        (
            pipeline(gate("other")).replace(
                "    Type: AWS::CloudWatch::Alarm", "    Type: AWS::SQS::Queue"
            ),
            "the template defines no alarm",
        ),
    ],
)
def test_cv101_stays_silent_where_the_alarm_may_be_elsewhere(text: str, why: str) -> None:
    assert found(text, "CV101") == [], why


def test_cv100_names_each_stage_that_rolls_back() -> None:
    text = pipeline("          OnFailure: {Result: ROLLBACK}", mode="PARALLEL")
    (hit,) = found(text, "CV100")
    assert hit.path.endswith("Properties.Stages.1") and "ExecutionMode QUEUED" in hit.message
    bake = pipeline(gate("!Ref Errors", kind="OnSuccess", result="ROLLBACK"), mode="PARALLEL")
    assert len(found(bake, "CV100")) == 1  # an OnSuccess rollback counts too
    assert found(text.replace("PARALLEL", "SUPERSEDED"), "CV100") == []


# --- CV102 -------------------------------------------------------------------------------------


def test_cv102_says_parallel_mode_must_go_too() -> None:
    (hit,) = found(pipeline(mode="PARALLEL"), "CV102")
    assert "switch the pipeline to ExecutionMode QUEUED" in hit.message
    assert found(pipeline("          OnFailure: {Result: ROLLBACK}"), "CV102") == []


def test_cv102_leaves_a_result_chosen_at_deploy_time_alone() -> None:
    text = pipeline("          OnFailure: {Result: !Ref Result}").replace(
        "Resources:", "Parameters:\n  Result: {Type: String}\nResources:", 1
    )
    assert found(text, "CV102") == []
    assert len(found(pipeline(), "CV102")) == 1  # the same stage without OnFailure


def _self_update_stage(*, region_run_order: int, self_run_order: int = 2) -> str:
    """A V2 pipeline whose self-update stage also updates another stack (no OnFailure)."""
    return f"""Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      ArtifactStore: {{Type: S3, Location: a}}
      PipelineType: V2
      ExecutionMode: QUEUED
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {{Category: Source, Owner: AWS, Provider: S3, Version: '1'}}
              Configuration: {{S3Bucket: b, S3ObjectKey: k}}
              OutputArtifacts: [{{Name: Src}}]
        - Name: UpdatePipeline
          Actions:
            - Name: Other
              ActionTypeId: {{Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: '1'}}
              Configuration: {{ActionMode: CREATE_UPDATE, StackName: app-region-us-east-1,
                TemplatePath: Src::r.json, RoleArn: arn:aws:iam::123456789012:role/r}}
              InputArtifacts: [{{Name: Src}}]
              RunOrder: {region_run_order}
            - Name: SelfUpdate
              ActionTypeId: {{Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: '1'}}
              Configuration: {{ActionMode: CREATE_UPDATE, StackName: !Ref AWS::StackName,
                TemplatePath: Src::p.json, RoleArn: arn:aws:iam::123456789012:role/c}}
              InputArtifacts: [{{Name: Src}}]
              RunOrder: {self_run_order}
"""


def test_cv102_leaves_the_stacks_the_self_update_updates_first_to_the_pipeline() -> None:
    """Another region's support stack updated before the pipeline's own stack (conveyor's
    UpdatePipeline stage) goes with the pipeline's definition; a stack the same stage deploys
    after (or beside) the self-update is a release, judged as any."""
    assert found(_self_update_stage(region_run_order=1), "CV102") == []
    (hit,) = found(_self_update_stage(region_run_order=3), "CV102")
    assert "stage 'UpdatePipeline' deploys (Other)" in hit.message
    assert len(found(_self_update_stage(region_run_order=2), "CV102")) == 1


def test_cv102_judges_an_earlier_build_s_release_before_the_self_update_as_a_release() -> None:
    """What goes with the pipeline's definition is what its self-update stage made or the
    source; a stack deployed there from an earlier stage's build output is a release."""
    built = _self_update_stage(region_run_order=1).replace(
        "        - Name: UpdatePipeline\n",
        "        - Name: Build\n"
        "          Actions:\n"
        "            - Name: Build\n"
        "              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, "
        "Version: '1'}\n"
        "              Configuration: {ProjectName: build}\n"
        "              InputArtifacts: [{Name: Src}]\n"
        "              OutputArtifacts: [{Name: Built}]\n"
        "        - Name: UpdatePipeline\n",
    )
    built = built.replace(
        "TemplatePath: Src::r.json, RoleArn: arn:aws:iam::123456789012:role/r}\n"
        "              InputArtifacts: [{Name: Src}]",
        "TemplatePath: Built::r.json, RoleArn: arn:aws:iam::123456789012:role/r}\n"
        "              InputArtifacts: [{Name: Built}]",
    )
    assert "InputArtifacts: [{Name: Built}]" in built
    (hit,) = found(built, "CV102")
    assert "stage 'UpdatePipeline' deploys (Other)" in hit.message


# --- the same rules on Terraform plans (stage conditions and execution mode are mapped) -------


def _terraform(
    stage_extra: dict[str, object], *, mode: str = "QUEUED", unknown: bool = False
) -> str:
    from tests.rules.inputs.test_terraform import plan, resource

    deploy = {
        "name": "Deploy",
        "category": "Deploy",
        "owner": "AWS",
        "provider": "ECS",
        "version": "1",
        "configuration": {"ClusterName": "app", "ServiceName": "web"},
        "input_artifacts": ["src"],
    }
    source = {
        "name": "Source",
        "category": "Source",
        "owner": "AWS",
        "provider": "S3",
        "version": "1",
        "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
        "output_artifacts": ["src"],
    }
    values = {
        "name": "p",
        "pipeline_type": "V2",
        "execution_mode": mode,
        "stage": [
            {"name": "Source", "action": [source]},
            {"name": "Deploy", "action": [deploy], **stage_extra},
        ],
    }
    after_unknown = {"stage": [{}, {"on_failure": [{"result": True}]}]} if unknown else None
    return plan(resource("aws_codepipeline.p", values, unknown=after_unknown))


ROLLBACK_TF: dict[str, Any] = {"on_failure": [{"result": "ROLLBACK"}]}


def test_terraform_stages_are_judged_with_their_conditions() -> None:
    def rules(text: str) -> set[str]:
        result = check_text(text, name="plan.json")
        assert result.errors == []
        return {f.rule for f in result.findings if f.rule in {"CV100", "CV101", "CV102"}}

    assert rules(_terraform({})) == {"CV102"}

    assert rules(_terraform(ROLLBACK_TF)) == set()
    assert rules(_terraform(ROLLBACK_TF, mode="PARALLEL")) == {"CV100"}
    assert rules(_terraform({}, mode="PARALLEL")) == {"CV102"}
    assert rules(_terraform({"on_failure": [{"result": None}]}, unknown=True)) == set()
    assert rules(_terraform({"on_failure": [{"result": None}]}, mode="PARALLEL", unknown=True)) == (
        set()
    )
    gate = {
        "before_entry": [
            {
                "condition": [
                    {
                        "result": "FAIL",
                        "rule": [
                            {
                                "name": "gate",
                                "rule_type_id": [
                                    {
                                        "category": "Rule",
                                        "owner": "AWS",
                                        "provider": "CloudWatchAlarm",
                                        "version": "1",
                                    }
                                ],
                                "configuration": {"AlarmName": "a"},
                            }
                        ],
                    }
                ]
            }
        ],
        **ROLLBACK_TF,
    }
    assert rules(_terraform(gate, mode="PARALLEL")) == {"CV100"}  # ROLLBACK read beside a gate


# --- CV103: a gate on an alarm the stage's own deploy creates (seen across a cdk.out) ------


def _stack_with_alarm(name: str) -> str:
    alarm = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "Namespace": "AWS/ApplicationELB",
            "MetricName": "HTTPCode_Target_5XX_Count",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 5,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    }
    return json.dumps({"Resources": {"Errors": alarm}})


def _cfn_deploy(mode: str = "CREATE_UPDATE", path: str = "Synth::web-prod.template.json") -> str:
    return (
        "ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: '1'}\n"
        f"              Configuration: {{ActionMode: {mode}, StackName: web-prod, "
        f"TemplatePath: '{path}', RoleArn: 'arn:aws:iam::1:role/c', ChangeSetName: c}}"
    )


def _cdk_out(tmp_path: Path, pipeline_text: str, *, staging: bool = False) -> list[Finding]:
    """The pipeline's template beside web-prod's (alarm web-5xx-prod) and, when asked,
    web-staging's (alarm web-5xx-staging), as `cdk synth` writes them."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    (out / "web-pipeline.template.json").write_text(_as_json(pipeline_text))
    (out / "web-prod.template.json").write_text(_stack_with_alarm("web-5xx-prod"))
    if staging:
        (out / "web-staging.template.json").write_text(_stack_with_alarm("web-5xx-staging"))
    result = check_paths([out])
    assert result.errors == []
    return [f for f in result.findings if f.rule == "CV103"]


def _as_json(text: str) -> str:
    """A YAML template with short-form intrinsics, written as the JSON a cdk.out holds."""
    return json.dumps(parse(text, name="t.yaml", suffix=".yaml").data)


def test_cv103_reads_the_stack_the_stage_deploys_from_the_same_cdk_out(tmp_path: Path) -> None:
    text = pipeline(gate("web-5xx-prod"), deploy=_cfn_deploy())
    (hit,) = _cdk_out(tmp_path, text)
    assert hit.resource == "Pipeline" and hit.file.endswith("web-pipeline.template.json")
    assert "'web-5xx-prod', which web-prod.template.json creates" in hit.message
    assert "deployed by this stage's action 'Deploy'" in hit.message
    assert hit.path.endswith("BeforeEntry.Conditions.0.Rules.0.Configuration.AlarmName")


def test_cv103_counts_a_change_set_of_the_stage_as_its_deploy(tmp_path: Path) -> None:
    text = pipeline(gate("web-5xx-prod"), deploy=_cfn_deploy("CHANGE_SET_REPLACE"))
    assert len(_cdk_out(tmp_path, text)) == 1


@pytest.mark.parametrize(
    ("stage_extra", "deploy", "why"),
    [
        (gate("web-5xx-prod", kind="OnSuccess", result="ROLLBACK"), "", "a bake, not a gate"),
        (gate("web-ledger-errors"), "", "an alarm the stack does not create"),
        (gate("web-5xx-prod"), "Synth::web-dr.template.json", "another stack's alarm"),
        (gate("web-5xx-prod"), "{'Fn::Sub': x}", "a template path not written literally"),
    ],
)
def test_cv103_stays_silent_on_alarms_the_stage_does_not_create(
    tmp_path: Path, stage_extra: str, deploy: str, why: str
) -> None:
    action = _cfn_deploy() if not deploy else _cfn_deploy(path=deploy)
    if deploy.startswith("{"):
        action = action.replace(f"'{deploy}'", deploy)
    assert _cdk_out(tmp_path, pipeline(stage_extra, deploy=action)) == [], why


def test_cv103_needs_the_deployed_template_in_the_same_run(tmp_path: Path) -> None:
    text = pipeline(gate("web-5xx-prod"), deploy=_cfn_deploy())
    assert found(text, "CV103") == []  # the pipeline alone: the stack it deploys is not seen
    alone = tmp_path / "web-pipeline.template.json"
    alone.write_text(_as_json(text))
    assert [f for f in check_paths([alone]).findings if f.rule == "CV103"] == []


# --- CV104: one alarm in the entry gate and a rollback condition of the same stage ----------


def test_cv104_names_the_shared_alarm_and_the_condition_that_rolls_back() -> None:
    both = gate("web-errors") + "\n" + gate("web-errors", kind="OnFailure", result="ROLLBACK")
    (hit,) = found(pipeline(both), "CV104")
    assert "alarm 'web-errors' and its OnFailure condition rolls it back" in hit.message
    assert hit.path.endswith("BeforeEntry.Conditions.0.Rules.0.Configuration.AlarmName")


def test_cv104_matches_a_ref_with_the_name_of_the_alarm_it_points_at() -> None:
    both = (
        gate("'other,web-errors'") + "\n" + gate("!Ref Errors", kind="OnSuccess", result="ROLLBACK")
    )
    assert len(found(pipeline(both), "CV104")) == 1


def test_cv104_leaves_disjoint_alarms_and_fail_results_alone() -> None:
    disjoint = gate("web-ledger") + "\n" + gate("web-errors", kind="OnSuccess", result="ROLLBACK")
    assert found(pipeline(disjoint), "CV104") == []
    failing = gate("web-errors") + "\n" + gate("web-errors", kind="OnSuccess", result="FAIL")
    assert found(pipeline(failing), "CV104") == []


def test_cv103_follows_a_change_set_executed_in_the_gated_stage_to_its_template(
    tmp_path: Path,
) -> None:
    """A change set created (and approved) in an earlier stage, executed in the gated one: the
    executing action names no TemplatePath, the action that created the change set does."""
    execute = (
        "ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: '1'}\n"
        "              Configuration: {ActionMode: CHANGE_SET_EXECUTE, StackName: web-prod, "
        "ChangeSetName: c}"
    )
    text = pipeline(gate("web-5xx-prod"), deploy=execute).replace(
        "        - Name: Deploy\n",
        "        - Name: Approve\n"
        "          Actions:\n"
        "            - Name: ChangeSet\n"
        f"              {_cfn_deploy('CHANGE_SET_REPLACE')}\n"
        "              InputArtifacts: [{Name: Src}]\n"
        "        - Name: Deploy\n",
        1,
    )
    (hit,) = _cdk_out(tmp_path, text)
    assert "stage 'Deploy' gates its entry" in hit.message
    assert "deployed by this stage's action 'Deploy'" in hit.message
    other = text.replace("ChangeSetName: c}", "ChangeSetName: other}", 1)
    (tmp_path / "other").mkdir()
    assert _cdk_out(tmp_path / "other", other) == []  # another change set: not this template


def _staging_then_prod(staging_gate: str, prod_gate: str) -> str:
    staging = _cfn_deploy(path="Synth::web-staging.template.json")
    prod = gate(prod_gate)
    return pipeline(gate(staging_gate), deploy=staging) + (
        "        - Name: Deploy-prod\n"
        f"{prod}\n"
        "          Actions:\n"
        "            - Name: Deploy\n"
        f"              {_cfn_deploy()}\n"
        "              InputArtifacts: [{Name: Src}]\n"
    )


def test_cv103_reports_a_gate_on_a_later_stages_alarm_and_spares_an_earlier_ones(
    tmp_path: Path,
) -> None:
    """Staging gated on production's alarm: production's stack does not exist before the first
    release reaches it, which it never does while staging waits. Production gated on
    staging's alarm: staging's stage created it before."""
    (hit,) = _cdk_out(tmp_path, _staging_then_prod("web-5xx-prod", "web-ledger"), staging=True)
    assert "stage 'Deploy' gates its entry on alarm 'web-5xx-prod'" in hit.message
    assert "deployed by the later stage 'Deploy-prod''s action 'Deploy'" in hit.message
    (tmp_path / "earlier").mkdir()
    earlier = _staging_then_prod("web-ledger", "web-5xx-staging")
    assert _cdk_out(tmp_path / "earlier", earlier, staging=True) == []
    (tmp_path / "own").mkdir()
    own = _staging_then_prod("web-ledger", "'web-5xx-staging,web-5xx-prod'")
    (hit,) = _cdk_out(tmp_path / "own", own, staging=True)
    assert "stage 'Deploy-prod' gates its entry on alarm 'web-5xx-prod'" in hit.message


def test_cv103_reads_only_the_stacks_beside_the_pipeline(tmp_path: Path) -> None:
    """Two cdk.out folders checked together may hold stacks of one file name: a pipeline is
    judged against its own folder's."""
    text = pipeline(gate("web-5xx-prod"), deploy=_cfn_deploy())
    (tmp_path / "a").mkdir()
    assert len(_cdk_out(tmp_path / "a", text)) == 1
    other = tmp_path / "b" / "cdk.out"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text("{}")
    (other / "web-prod.template.json").write_text(_stack_with_alarm("web-5xx-prod"))
    (tmp_path / "c" / "cdk.out").mkdir(parents=True)
    (tmp_path / "c" / "cdk.out" / "manifest.json").write_text("{}")
    (tmp_path / "c" / "cdk.out" / "web-pipeline.template.json").write_text(_as_json(text))
    (tmp_path / "c" / "cdk.out" / "web-prod.template.json").write_text(_stack_with_alarm("x"))
    result = check_paths([other, tmp_path / "c" / "cdk.out"])
    assert [f for f in result.findings if f.rule == "CV103"] == []
