"""CV112 (a deployment a stage rollback redeploys watches alarms the bad release holds) and
CV113 (CodeDeploy's own rollback and the stage's both deploy one group), on hand-written
cdk.out folders: the pipeline's template beside the stacks it deploys."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths
from conveyor.rules.template import parse

FIXTURES = Path(__file__).parent / "fixtures"


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = parse(path.read_text(), name=path.name, suffix=path.suffix).data
    return data


def _cdk_out(tmp_path: Path, pipeline: dict[str, Any], stacks: dict[str, Any]) -> list[Any]:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    (out / "shop-pipeline.template.json").write_text(json.dumps(pipeline))
    for name, template in stacks.items():
        (out / f"{name}.template.json").write_text(json.dumps(template))
    result = check_paths([out])
    assert result.errors == []
    return [f for f in result.findings if f.rule in ("CV112", "CV113")]


def _bad_pipeline() -> dict[str, Any]:
    return _json(FIXTURES / "CV112" / "bad.yaml")


def _shop_prod() -> dict[str, Any]:
    return _json(FIXTURES / "CV112" / "shop-prod.template.json")


def _stage(pipeline: dict[str, Any]) -> dict[str, Any]:
    stage: dict[str, Any] = pipeline["Resources"]["Pipeline"]["Properties"]["Stages"][1]
    return stage


def test_cv112_reports_the_bake_alarm_the_group_watches_and_the_redeploy(tmp_path: Path) -> None:
    hits = _cdk_out(tmp_path, _bad_pipeline(), {"shop-prod": _shop_prod()})
    bake, redeploy = sorted(hits, key=lambda f: f.path, reverse=True)
    assert bake.path.endswith("OnSuccess.Conditions.0.Rules.0.Configuration.AlarmName")
    assert "rolls back when alarm 'shop-5xx-prod' fires" in bake.message
    assert "deployment group 'shop-deploy-prod' (shop-prod.template.json)" in bake.message
    # The stack deploy and the CodeDeploy action redeploy the same group: reported once.
    assert redeploy.path.endswith("Properties.Stages.1.Actions.0")
    assert "measure more than its release (shop-5xx-prod)" in redeploy.message
    assert all(f.rule == "CV112" for f in hits)


def test_cv112_finds_the_group_through_the_codedeploy_action_alone(tmp_path: Path) -> None:
    pipeline = _bad_pipeline()
    stage = _stage(pipeline)
    del stage["OnSuccess"]
    stage["Actions"] = stage["Actions"][1:]  # the stack is deployed elsewhere
    (hit,) = _cdk_out(tmp_path, pipeline, {"shop-prod": _shop_prod()})
    assert hit.path.endswith("Properties.Stages.1.Actions.0") and "'CodeDeploy'" in hit.message


def test_cv112_reports_an_ecs_service_watching_the_load_balancer_s_alarms(tmp_path: Path) -> None:
    stack = _shop_prod()
    del stack["Resources"]["DeploymentGroup"]
    stack["Resources"]["Service"] = {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "DeploymentConfiguration": {
                "Alarms": {"AlarmNames": ["shop-5xx-prod"], "Enable": True, "Rollback": True}
            }
        },
    }
    pipeline = _bad_pipeline()
    _stage(pipeline)["Actions"] = _stage(pipeline)["Actions"][:1]
    hits = _cdk_out(tmp_path, pipeline, {"shop-prod": stack})
    assert len(hits) == 2
    assert all("ECS service 'Service' (shop-prod.template.json)" in f.message for f in hits)


def _lambda_stack(*, executed_version: bool, named_after_version: bool) -> dict[str, Any]:
    stack = _json(FIXTURES / "CV112" / "quotes-prod.template.json")
    alarm = stack["Resources"]["RevisionErrors"]["Properties"]
    if not executed_version:
        alarm["Dimensions"] = alarm["Dimensions"][:2]
    if not named_after_version:
        alarm["AlarmName"] = "quotes-errors-prod-revision"
    return stack


@pytest.mark.parametrize(
    ("executed_version", "named_after_version", "found"),
    [
        (True, True, 0),  # one version's alarm, a new one each release
        (False, True, 1),  # every version behind the alias
        (True, False, 1),  # one version's, but updated in place: it keeps its ALARM state
    ],
)
def test_cv112_accepts_only_a_lambda_version_s_own_alarm(
    tmp_path: Path, executed_version: bool, named_after_version: bool, found: int
) -> None:
    pipeline = _json(FIXTURES / "CV112" / "good.yaml")
    stack = _lambda_stack(
        executed_version=executed_version, named_after_version=named_after_version
    )
    hits = _cdk_out(tmp_path, pipeline, {"quotes-prod": stack})
    assert len(hits) == found
    assert all("quotes-deploy-prod" in f.message for f in hits)


def test_cv112_stays_silent_when_the_stage_does_not_roll_back(tmp_path: Path) -> None:
    pipeline = _bad_pipeline()
    stage = _stage(pipeline)
    del stage["OnFailure"]
    stage["OnSuccess"]["Conditions"][0]["Result"] = "FAIL"
    assert _cdk_out(tmp_path, pipeline, {"shop-prod": _shop_prod()}) == []


def test_cv112_needs_the_deployed_stack_in_the_same_run(tmp_path: Path) -> None:
    alone = tmp_path / "shop-pipeline.template.json"
    alone.write_text(json.dumps(_bad_pipeline()))
    assert [f for f in check_paths([alone]).findings if f.rule == "CV112"] == []


def test_cv113_reports_a_self_rolling_back_group_in_a_rolling_back_stage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    shutil.copy(FIXTURES / "CV113" / "bad.yaml", bad)
    (hit,) = [f for f in check_paths([bad]).findings if f.rule == "CV113"]
    assert hit.path.endswith("Properties.Stages.1.Actions.0")
    assert "deployment group 'api-servers'" in hit.message
    assert "one deployment per group at a time" in hit.message


def test_cv113_ignores_ecs_blue_green_whose_rollback_is_a_reroute(tmp_path: Path) -> None:
    """CodeDeployToECS: CodeDeploy rolls back inside the failed deployment (CV112 judges its
    alarms); the stage rollback meets no second deployment."""
    pipeline = _bad_pipeline()
    del _stage(pipeline)["OnSuccess"]
    stack = _shop_prod()
    del stack["Resources"]["DeploymentGroup"]["Properties"]["AlarmConfiguration"]
    assert _cdk_out(tmp_path, pipeline, {"shop-prod": stack}) == []


def test_cv073_leaves_the_rollback_to_the_stage_that_owns_it() -> None:
    """A group a rolling-back stage deploys with a CodeDeploy action must not roll back itself
    (CV113), so CV073 does not ask it to; a group no such stage deploys still must."""
    result = check_paths([FIXTURES / "CV113" / "good.yaml"])
    assert {f.resource for f in result.findings if f.rule == "CV073"} == {"StagingServers"}
