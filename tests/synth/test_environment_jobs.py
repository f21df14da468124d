"""Jobs inside an environment's stage: `tests` against the deployed environment after its
validation, `before` ahead of the deploy (after production's approval). Both run the source
revision in CodeBuild with the environment's names injected, and a failure fails the stage,
which rolls back."""

from __future__ import annotations

import json
from typing import Any

from tests.synth.conftest import Synthesized


def _stage(s: Synthesized, name: str) -> dict[str, Any]:
    pipeline = s.pipeline()
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    (stage,) = [st for st in stages if st["Name"] == name]
    return stage


def _variables(action: dict[str, Any]) -> dict[str, str]:
    raw = json.loads(action["Configuration"]["EnvironmentVariables"])
    return {v["name"]: v["value"] for v in raw}


def _project(s: Synthesized, action: dict[str, Any]) -> dict[str, Any]:
    ref = action["Configuration"]["ProjectName"]["Ref"]
    project: dict[str, Any] = s.template["Resources"][ref]
    return project


def test_staging_tests_run_after_validate_against_its_url_and_report_junit(
    synthesized: dict[str, Synthesized],
) -> None:
    s = synthesized["payments"]
    actions = {a["Name"]: a for a in _stage(s, "Deploy-staging")["Actions"]}
    tests = actions["Tests"]
    assert tests["RunOrder"] > actions["Validate"]["RunOrder"] > actions["Deploy"]["RunOrder"]
    assert [i["Name"] for i in tests["InputArtifacts"]] == ["Source"]
    variables = _variables(tests)
    # The stack's Url output, from this execution's deploy action.
    assert variables["APP_URL"] == "#{StackStaging.Url}"
    assert variables["CONVEYOR_ENVIRONMENT"] == "staging"
    assert variables["SERVICE_NAME"] == "payments-service-staging"
    assert variables["CLUSTER_NAME"] == "payments-cluster-staging"
    assert variables["IMAGE_URI"] == "#{Build.IMAGE_URI}"
    project = _project(s, tests)["Properties"]
    assert project["Name"] == "payments-tests-staging"
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["reports"] == {"junit": {"files": ["reports/smoke.xml"], "file-format": "JUNITXML"}}
    assert spec["phases"]["build"]["commands"][0] == "set -euo pipefail"
    assert project["Environment"]["PrivilegedMode"] is False


def test_production_runs_its_before_job_after_the_approval_and_before_the_deploy(
    synthesized: dict[str, Synthesized],
) -> None:
    """Issue 11: in Release-prod, after Approve-prod, so neither waits in (nor is re-run by) a
    rollback of Deploy-prod: a rollback re-running a forward migration with the old release
    would meet a database the new one already migrated. Its stage holds the gate (window and
    alarm) again, so an approval given after the window closed runs no migration then, and
    Deploy-prod holds none, so a migration is never left without its code (review defect 5)
    and a rollback never waits at a gate (FM124). The image's mark runs first in Release-prod:
    an image expired while the approval waited fails the stage before the migration runs."""
    s = synthesized["payments"]
    (pipeline,) = s.resources("AWS::CodePipeline::Pipeline").values()
    names = [stage["Name"] for stage in pipeline["Properties"]["Stages"]]
    assert names[-3:] == ["Approve-prod", "Release-prod", "Deploy-prod"]
    approval = {a["Name"] for a in _stage(s, "Approve-prod")["Actions"]}
    assert "Approve" in approval and "Before" not in approval and "MarkDeployed" not in approval
    mark, before = sorted(_stage(s, "Release-prod")["Actions"], key=lambda a: a["RunOrder"])
    assert (mark["Name"], mark["RunOrder"]) == ("MarkDeployed", 1)
    assert (before["Name"], before["RunOrder"]) == ("Before", 2)
    assert _variables(mark)["DEPLOY_ENVIRONMENT"] == "prod"
    deploy = {a["Name"] for a in _stage(s, "Deploy-prod")["Actions"]}
    assert not deploy & {"Before", "Approve", "MarkDeployed"} and "Deploy" in deploy

    def gate(stage: str) -> list[tuple[str, str]]:
        conditions = _stage(s, stage).get("BeforeEntry", {}).get("Conditions", [])
        return [
            (rule["RuleTypeId"]["Provider"], condition["Result"])
            for condition in conditions
            for rule in condition["Rules"]
        ]

    held = [("CloudWatchAlarm", "FAIL"), ("DeploymentWindow", "FAIL")]
    assert gate("Approve-prod") == gate("Release-prod") == held
    assert gate("Deploy-prod") == []
    assert "OnFailure" not in _stage(s, "Release-prod")  # nothing to roll back: nothing deployed
    variables = _variables(before)
    # The release is not deployed yet: no URL of it to give.
    assert "APP_URL" not in variables
    assert variables["CONVEYOR_ENVIRONMENT"] == "prod"
    assert "Tests" not in approval


def test_environment_jobs_get_no_permission_in_the_environment(
    synthesized: dict[str, Synthesized],
) -> None:
    """Like every conveyor job: logs, reports, artifacts (and the key for them); no ECS, no
    CloudFormation, no Lambda."""
    s = synthesized["payments"]
    names = {"payments-tests-staging", "payments-before-prod"}
    projects = [
        p
        for p in s.resources("AWS::CodeBuild::Project").values()
        if p["Properties"]["Name"] in names
    ]
    assert len(projects) == 2
    roles = {p["Properties"]["ServiceRole"]["Fn::GetAtt"][0] for p in projects}
    for policy in s.resources("AWS::IAM::Policy").values():
        attached = {r["Ref"] for r in policy["Properties"]["Roles"] if isinstance(r, dict)}
        if not attached & roles:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert action.split(":")[0] in {"logs", "codebuild", "s3", "kms"}, action
