"""`conveyor rollback` and `conveyor status` as a user runs them: output through a pipe, the
confirmation, and every error path (exit 2, what to do). AWS is botocore's Stubber."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]
from typer.testing import CliRunner

from conveyor.cli import aws, rollback
from conveyor.cli.main import app
from tests.operate.fakes import (
    IMAGE,
    PIPELINE,
    add_detail,
    add_state,
    add_succeeded,
    execution_id,
    stage,
    state,
    stubbed,
    summary,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC = ["--spec", str(EXAMPLES / "payments.yaml")]
runner = CliRunner()


class Stubs:
    def __init__(self) -> None:
        self.codepipeline, self.pipeline = stubbed("codepipeline")
        self.cloudformation, self.stacks = stubbed("cloudformation")
        self.sts, self.assume = stubbed("sts")

    def client(self, service: str) -> Any:
        return {
            "codepipeline": self.codepipeline,
            "cloudformation": self.cloudformation,
            "sts": self.sts,
        }[service]


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubs]:
    found = Stubs()
    monkeypatch.setattr(aws.Connection, "client", lambda _self, service: found.client(service))
    with found.pipeline, found.stacks, found.assume:
        yield found
        found.pipeline.assert_no_pending_responses()
        found.stacks.assert_no_pending_responses()
        found.assume.assert_no_pending_responses()


def _on_terminal(monkeypatch: pytest.MonkeyPatch, value: bool) -> None:
    monkeypatch.setattr(rollback, "_on_terminal", lambda: value)


def _plan_prod(stubber: Stubber) -> None:
    add_state(stubber, state(stage("Deploy-staging", 3), stage("Deploy-prod", 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, "Deploy-prod", [summary(3), summary(2)])
    add_detail(stubber, 2)


def _rollback_call(stubber: Stubber) -> None:
    stubber.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(30)},
        {
            "pipelineName": PIPELINE,
            "stageName": "Deploy-prod",
            "targetPipelineExecutionId": execution_id(2),
        },
    )


# --- rollback ---------------------------------------------------------------------------------


def test_rollback_with_yes_rolls_the_stage_back(stubs: Stubs) -> None:
    _plan_prod(stubs.pipeline)
    _rollback_call(stubs.pipeline)
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"roll back to  {execution_id(2)} ({2:040x}"[:60] in result.output
    assert f"prod runs  {execution_id(3)}" in result.output
    assert f"execution {execution_id(30)} redeploys {execution_id(2)}" in result.output


def test_rollback_asks_on_a_terminal_and_does_nothing_on_no(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_terminal(monkeypatch, True)
    _plan_prod(stubs.pipeline)  # no rollback_stage queued: calling it would fail the test
    result = runner.invoke(app, ["rollback", "prod", *SPEC], input="n\n")
    assert result.exit_code == 1
    assert "Roll prod back? [y/N]" in result.output
    assert "Nothing rolled back." in result.output


def test_rollback_asks_on_a_terminal_and_rolls_back_on_yes(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_terminal(monkeypatch, True)
    _plan_prod(stubs.pipeline)
    _rollback_call(stubs.pipeline)
    result = runner.invoke(app, ["rollback", "prod", *SPEC], input="y\n")
    assert result.exit_code == 0, result.output
    assert "rolling prod back" in result.output


def test_rollback_without_a_terminal_needs_yes_before_calling_aws(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    _on_terminal(monkeypatch, False)
    result = runner.invoke(app, ["rollback", "prod", *SPEC])
    assert result.exit_code == 2
    assert "needs confirmation" in result.output and "--yes" in result.output


def test_rollback_of_an_unknown_environment_names_the_known_ones(stubs: Stubs) -> None:
    result = runner.invoke(app, ["rollback", "production", *SPEC, "--yes"])
    assert result.exit_code == 2
    assert "environments has no 'production'; roll back one of: staging, prod" in result.output


def test_rollback_after_a_failed_release_says_what_runs_is_unknown(stubs: Stubs) -> None:
    add_state(stubs.pipeline, state(stage("Deploy-prod", 4, status="Failed")))
    add_succeeded(stubs.pipeline, "Deploy-prod", [summary(3)])
    add_detail(stubs.pipeline, 3)
    stubs.pipeline.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(31)},
        {
            "pipelineName": PIPELINE,
            "stageName": "Deploy-prod",
            "targetPipelineExecutionId": execution_id(3),
        },
    )
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 0, result.output
    assert f"prod runs  unknown: its last run {execution_id(4)} Failed" in result.output
    assert f"roll back to  {execution_id(3)}" in result.output


def test_rollback_to_a_release_whose_artifacts_expired_is_refused_before_aws_is_asked(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # payments keeps artifacts 30 days (the default); execution 2 started on 2026-11-30, so by
    # 2027-01-01 its templates and build output are gone and RollbackStage would start a
    # rollback that fails. No rollback_stage queued: calling it would fail the test.
    monkeypatch.setenv("CONVEYOR_TODAY", "2027-01-01")
    _plan_prod(stubs.pipeline)
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 2
    assert "expire 30 days after they are written (retention.artifact_days)" in result.output
    assert "revert the change in git and push" in result.output


def test_rollback_that_aws_would_refuse_says_why(stubs: Stubs) -> None:
    add_state(stubs.pipeline, state(stage("Deploy-prod", 3, status="InProgress")))
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 2
    assert "Deploy-prod is running execution" in result.output


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("PipelineNotFoundException", "no pipeline payments-pipeline in eu-west-1: deploy it"),
        ("AccessDeniedException", "the credentials need codepipeline:GetPipelineState"),
        ("ThrottlingException", "AWS throttled reading payments-pipeline"),
        ("ExpiredTokenException", "the AWS credentials have expired"),
        ("InternalError", "reading payments-pipeline failed: InternalError: boom"),
    ],
)
def test_rollback_aws_errors_exit_2_with_what_to_do(stubs: Stubs, code: str, expected: str) -> None:
    stubs.pipeline.add_client_error("get_pipeline_state", code, "boom")
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_rollback_refused_by_rollback_stage_says_why(stubs: Stubs) -> None:
    _plan_prod(stubs.pipeline)
    stubs.pipeline.add_client_error(
        "rollback_stage", "UnableToRollbackStageException", "pipeline version changed"
    )
    result = runner.invoke(app, ["rollback", "prod", *SPEC, "--yes"])
    assert result.exit_code == 2
    assert "AWS cannot roll Deploy-prod back to that execution" in result.output
    assert "(AWS: pipeline version changed)" in result.output


# --- status -----------------------------------------------------------------------------------


def _status_answers(stubs: Stubs) -> None:
    add_state(
        stubs.pipeline,
        state(
            stage("Source", 7),
            stage("Deploy-staging", 7, conditions={"beforeEntryConditionState": "Succeeded"}),
            stage("Deploy-prod", 6, status="Failed"),
        ),
    )
    stubs.pipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [summary(7), summary(6, status="Failed")]},
        {"pipelineName": PIPELINE, "maxResults": 5},
    )
    stubs.stacks.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "payments-staging",
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": summary(1)["startTime"],
                    "Parameters": [{"ParameterKey": "ImageUri", "ParameterValue": IMAGE}],
                    "Outputs": [{"OutputKey": "Url", "OutputValue": "https://s.example.com"}],
                }
            ]
        },
        {"StackName": "payments-staging"},
    )
    stubs.stacks.add_client_error(
        "describe_stacks",
        "ValidationError",
        "Stack with id payments-prod does not exist",
        expected_params={"StackName": "payments-prod"},
    )


def test_status_tables_through_a_pipe(stubs: Stubs) -> None:
    _status_answers(stubs)
    result = runner.invoke(app, ["status", *SPEC])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Pipeline payments-pipeline (version 3) in eu-west-1" in out
    assert "Latest 2 executions" in out and execution_id(7) in out
    assert "before entry: Succeeded" in out
    assert "payments-images@sha256:abababababab" in out
    assert "https://s.example.com" in out
    assert "not deployed yet" in out
    assert f"{7:040x}"[:8] + " change 7" in out
    # a pipe is never wrapped: each environment is one line
    assert any("staging" in line and "https://s.example.com" in line for line in out.splitlines())


def test_status_json(stubs: Stubs) -> None:
    _status_answers(stubs)
    result = runner.invoke(app, ["status", *SPEC, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["app"] == "payments" and data["pipeline"] == PIPELINE
    assert data["region"] == "eu-west-1" and data["pipeline_version"] == 3
    staging, prod = data["environments"]
    assert staging["image"] == IMAGE and staging["url"] == "https://s.example.com"
    assert staging["commit"] == f"{7:040x}" and staging["stage_status"] == "Succeeded"
    assert prod["stack_status"] == "NOT_DEPLOYED" and prod["stage_status"] == "Failed"
    assert data["stages"][1]["conditions"] == {"before_entry": "Succeeded"}
    assert [e["status"] for e in data["executions"]] == ["Succeeded", "Failed"]


def test_status_of_a_pipeline_not_deployed_yet(stubs: Stubs) -> None:
    stubs.pipeline.add_client_error("get_pipeline_state", "PipelineNotFoundException", "not found")
    result = runner.invoke(app, ["status", *SPEC])
    assert result.exit_code == 2
    assert "no pipeline payments-pipeline in eu-west-1: deploy it first" in result.output


def test_status_denied_a_stack_names_what_it_needs(stubs: Stubs) -> None:
    add_state(stubs.pipeline, state(stage("Deploy-staging", None)))
    stubs.pipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": PIPELINE, "maxResults": 5},
    )
    stubs.stacks.add_client_error("describe_stacks", "AccessDenied", "no")
    result = runner.invoke(app, ["status", *SPEC])
    assert result.exit_code == 2
    assert "cloudformation:DescribeStacks" in result.output


def test_status_of_another_account_says_which_role_to_allow(stubs: Stubs) -> None:
    """multi-account's prod is in account 222222222222: status assumes ledger-deploy-prod
    there; refused, the table says which role and what to allow, and staging is still read."""
    ledger = "ledger-pipeline"
    stubs.pipeline.add_response(
        "get_pipeline_state",
        {
            **state(stage("Deploy-staging", None), stage("Deploy-prod", None)),
            "pipelineName": ledger,
        },
        {"name": ledger},
    )
    stubs.pipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": ledger, "maxResults": 5},
    )
    stubs.stacks.add_client_error(
        "describe_stacks",
        "ValidationError",
        "Stack with id ledger-staging does not exist",
        expected_params={"StackName": "ledger-staging"},
    )
    stubs.assume.add_client_error("assume_role", "AccessDenied", "not authorized")
    spec = ["--spec", str(EXAMPLES / "multi-account.yaml")]
    result = runner.invoke(app, ["status", *spec, "--json"])
    assert result.exit_code == 0, result.output
    staging, prod = json.loads(result.stdout)["environments"]
    assert staging["stack_status"] == "NOT_DEPLOYED"
    assert prod["stack_status"] is None and prod["account"] == "222222222222"
    assert prod["not_read"].startswith(
        "could not assume arn:aws:iam::222222222222:role/ledger-deploy-prod (AccessDenied)"
    )


def test_status_missing_spec_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--spec", str(tmp_path / "conveyor.yaml")])
    assert result.exit_code == 2
    assert "conveyor.yaml" in result.output


# --- no credentials, no profile: the real boto3 chain, no request leaves the machine ----------


@pytest.mark.parametrize("command", [["status"], ["rollback", "prod", "--yes"]])
def test_no_credentials_exits_2(no_credentials: None, command: list[str]) -> None:
    result = runner.invoke(app, [*command, *SPEC])
    assert result.exit_code == 2, result.output
    assert "no AWS credentials: set AWS_PROFILE or pass --profile" in result.output


@pytest.mark.parametrize("command", [["status"], ["rollback", "prod", "--yes"]])
def test_unknown_profile_exits_2(no_credentials: None, command: list[str]) -> None:
    result = runner.invoke(app, [*command, *SPEC, "--profile", "nobody"])
    assert result.exit_code == 2, result.output
    assert "no AWS profile 'nobody'" in result.output


def test_no_region_exits_2(
    no_credentials: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    # An S3 source names no region (a GitHub connection's ARN does), and no region: is written.
    spec = tmp_path / "conveyor.yaml"
    spec.write_text(
        "app: api\nowner: team-api\nsource: {s3: {key: api.zip}}\n"
        "build: {docker: {}}\nenvironments:\n"
        "  - {name: staging, deploy: {ecs: {cluster: c, service: s}}, "
        "validate: {http: {url: 'https://api.example.com/health'}}}\n"
        "notifications: {email: [team-api@example.com]}\n"
    )
    result = runner.invoke(app, ["status", "--spec", str(spec)])
    assert result.exit_code == 2, result.output
    assert "no AWS region" in result.output


@pytest.mark.parametrize("command", ["status", "rollback"])
def test_help_loads_no_sdk(command: str) -> None:
    # boto3 costs a quarter of a second to import: only a command that calls AWS loads it.
    code = (
        "import json, sys\n"
        "from conveyor.cli.main import app\n"
        "try:\n"
        f"    app([{command!r}, '--help'], prog_name='conveyor')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = json.loads(completed.stdout.splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in {"boto3", "botocore", "aws_cdk"}] == []
    assert f"conveyor {command}" in completed.stdout


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        (
            "s3://packages/quotes-package.zip?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH",
            "quotes-package.zip@3HL4kqtJlcpX",
        ),
        ("s3://artifacts/build/abc.zip", "abc.zip"),
    ],
)
def test_status_shows_a_lambda_release_by_its_package_version(code: str, shown: str) -> None:
    from conveyor.cli.status import _short_release
    from conveyor.operate.status import EnvironmentStatus

    found = EnvironmentStatus(name="staging", stage="Deploy-staging", stack="s", code=code)
    assert _short_release(found) == shown


def test_status_reads_an_environment_in_another_region_there(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """multi-region's prod lives in us-east-1, its pipeline in eu-west-1: its stack is read
    with a client of us-east-1 (in eu-west-1 CloudFormation says it does not exist)."""
    regions: list[str | None] = []

    def client(connection: aws.Connection, service: str) -> Any:
        if service == "cloudformation":
            regions.append(connection.region)
        return stubs.client(service)

    monkeypatch.setattr(aws.Connection, "client", client)
    atlas = "atlas-pipeline"
    stubs.pipeline.add_response(
        "get_pipeline_state",
        {"pipelineName": atlas, "pipelineVersion": 1, "stageStates": []},
        {"name": atlas},
    )
    stubs.pipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": atlas, "maxResults": 5},
    )
    for name in ("atlas-staging", "atlas-prod"):
        stubs.stacks.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": name,
                        "StackStatus": "UPDATE_COMPLETE",
                        "CreationTime": summary(1)["startTime"],
                        "Parameters": [{"ParameterKey": "ImageUri", "ParameterValue": IMAGE}],
                    }
                ]
            },
            {"StackName": name},
        )
    spec = ["--spec", str(EXAMPLES / "multi-region.yaml")]
    result = runner.invoke(app, ["status", *spec])
    assert result.exit_code == 0, result.output
    assert regions == ["eu-west-1", "us-east-1"]
    assert "UPDATE_COMPLETE in us-east-1" in result.output
