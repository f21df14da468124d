"""What `conveyor status` reads: executions, stages with their conditions, what each
environment runs (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from conveyor.operate.names import EnvironmentNames
from conveyor.operate.status import assumed_cloudformation, read_status
from tests.operate.fakes import (
    IMAGE,
    PIPELINE,
    START,
    add_detail,
    add_state,
    execution_id,
    stage,
    state,
    stubbed,
    summary,
)

STAGING = EnvironmentNames("staging", "Deploy-staging", "payments-staging")
PROD = EnvironmentNames("prod", "Deploy-prod", "payments-prod")


@pytest.fixture
def clients() -> Any:
    codepipeline, pipeline_stub = stubbed("codepipeline")
    cloudformation, stack_stub = stubbed("cloudformation")
    with pipeline_stub, stack_stub:
        yield codepipeline, pipeline_stub, cloudformation, stack_stub
        pipeline_stub.assert_no_pending_responses()
        stack_stub.assert_no_pending_responses()


def _listed(stubber: Any, summaries: list[dict[str, Any]], limit: int) -> None:
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": summaries},
        {"pipelineName": PIPELINE, "maxResults": limit},
    )


def _stack(name: str, parameters: dict[str, str], outputs: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": name,
                "StackStatus": "UPDATE_COMPLETE",
                "CreationTime": START,
                "LastUpdatedTime": START.replace(hour=11),
                "Parameters": [
                    {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                ],
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def test_reads_executions_stages_and_what_each_environment_runs(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, stack_stub = clients
    add_state(
        pipeline_stub,
        state(
            stage("Source", 7),
            stage(
                "Deploy-staging",
                7,
                conditions={
                    "beforeEntryConditionState": "Succeeded",
                    "onSuccessConditionState": "InProgress",
                },
            ),
            stage("Deploy-prod", 2, status="Succeeded", kind="ROLLBACK"),
        ),
    )
    _listed(pipeline_stub, [summary(7), summary(6, status="Failed")], limit=2)
    add_detail(pipeline_stub, 2)  # prod's run is older than the two listed
    stack_stub.add_response(
        "describe_stacks",
        _stack("payments-staging", {"ImageUri": IMAGE}, {"Url": "https://staging.example.com"}),
        {"StackName": "payments-staging"},
    )
    stack_stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id payments-prod does not exist",
        expected_params={"StackName": "payments-prod"},
    )
    found = read_status(codepipeline, cloudformation, PIPELINE, [STAGING, PROD], limit=2)

    assert found.version == 3
    assert [e.id for e in found.executions] == [execution_id(7), execution_id(6)]
    assert found.executions[1].status == "Failed"
    staging_stage = found.stages[1]
    assert staging_stage.conditions == {"before_entry": "Succeeded", "on_success": "InProgress"}
    staging, prod = found.environments
    assert staging.image == IMAGE and staging.url == "https://staging.example.com"
    assert staging.stack_status == "UPDATE_COMPLETE" and staging.deployed
    assert staging.execution is not None and staging.execution.summary == "change 7\n\nbody"
    assert prod.stack_status == "NOT_DEPLOYED" and not prod.deployed
    assert prod.last_run is not None and prod.last_run.type == "ROLLBACK"
    assert prod.execution is not None and prod.execution.commit == f"{2:040x}"
    data = found.to_json()
    assert data["environments"][0]["image"] == IMAGE
    assert data["environments"][0]["commit"] == f"{7:040x}"
    assert data["stages"][2]["type"] == "ROLLBACK"


def test_a_lambda_environment_runs_a_code_object(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, stack_stub = clients
    add_state(pipeline_stub, state(stage("Deploy-staging", None)))
    stack_stub.add_response(
        "describe_stacks",
        _stack("payments-staging", {"CodeBucket": "artifacts", "CodeKey": "build/abc.zip"}, {}),
        {"StackName": "payments-staging"},
    )
    found = read_status(codepipeline, cloudformation, PIPELINE, [STAGING], limit=0)
    (staging,) = found.environments
    assert staging.code == "s3://artifacts/build/abc.zip" and staging.image is None
    assert staging.url is None and staging.execution is None
    assert found.executions == []


def test_a_lambda_release_is_told_apart_by_its_package_version(clients: Any) -> None:
    """Every release deploys a version of the same package object (PackageStore): the key alone
    reads the same for all of them, so the version the stack deploys is part of what it runs."""
    codepipeline, pipeline_stub, cloudformation, stack_stub = clients
    add_state(pipeline_stub, state(stage("Deploy-staging", None)))
    parameters = {"CodeBucket": "packages", "CodeKey": "quotes-package.zip"}
    stack_stub.add_response(
        "describe_stacks",
        _stack(
            "payments-staging",
            {**parameters, "CodeVersion": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"},
            {},
        ),
        {"StackName": "payments-staging"},
    )
    (staging,) = read_status(
        codepipeline, cloudformation, PIPELINE, [STAGING], limit=0
    ).environments
    assert staging.code == (
        "s3://packages/quotes-package.zip?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH"
    )
    assert staging.to_json()["code"] == staging.code


def test_another_accounts_stack_is_not_read(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, _ = clients  # no describe_stacks queued
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    prod = EnvironmentNames("prod", "Deploy-prod", "payments-prod", account="222222222222")
    (found,) = read_status(codepipeline, cloudformation, PIPELINE, [prod], limit=0).environments
    assert found.stack_status is None and found.account == "222222222222"
    assert found.to_json()["stack_status"] is None


def test_other_stack_errors_reach_the_caller(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, stack_stub = clients
    add_state(pipeline_stub, state(stage("Deploy-staging", None)))
    stack_stub.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="not allowed"
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        read_status(codepipeline, cloudformation, PIPELINE, [STAGING], limit=0)


FOREIGN = EnvironmentNames(
    "prod",
    "Deploy-prod",
    "payments-prod",
    account="222222222222",
    deploy_role="payments-deploy-prod",
)
ROLE = "arn:aws:iam::222222222222:role/payments-deploy-prod"
CREDENTIALS = {
    "AccessKeyId": "ASIAEXAMPLEEXAMPLE12",
    "SecretAccessKey": "secret",
    "SessionToken": "token",
    "Expiration": START,
}


def test_another_accounts_stack_is_read_through_its_deploy_role(clients: Any) -> None:
    """The pipeline's account assumes payments-deploy-prod (it trusts that account and may
    describe the stack) and reads the stack with its credentials."""
    codepipeline, pipeline_stub, cloudformation, _ = clients  # nothing read in this account
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    sts, sts_stub = stubbed("sts")
    there, there_stub = stubbed("cloudformation")
    sts_stub.add_response(
        "assume_role",
        {"Credentials": CREDENTIALS},
        {"RoleArn": ROLE, "RoleSessionName": "conveyor-status"},
    )
    there_stub.add_response(
        "describe_stacks",
        _stack("payments-prod", {"ImageUri": IMAGE}, {}),
        {"StackName": "payments-prod"},
    )
    made: list[dict[str, str]] = []

    def client(credentials: Any) -> Any:
        made.append(dict(credentials))
        return there

    with sts_stub, there_stub:
        (found,) = read_status(
            codepipeline,
            cloudformation,
            PIPELINE,
            [FOREIGN],
            limit=0,
            other_account=lambda names: assumed_cloudformation(sts, names, client),
        ).environments
        sts_stub.assert_no_pending_responses()
        there_stub.assert_no_pending_responses()
    assert made == [
        {
            "aws_access_key_id": "ASIAEXAMPLEEXAMPLE12",
            "aws_secret_access_key": "secret",
            "aws_session_token": "token",
        }
    ]
    assert found.stack_status == "UPDATE_COMPLETE" and found.image == IMAGE
    assert found.account == "222222222222" and found.not_read is None


def test_a_refused_assume_role_says_which_role_to_allow(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, _ = clients
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    sts, sts_stub = stubbed("sts")
    sts_stub.add_client_error(
        "assume_role", service_error_code="AccessDenied", service_message="not authorized"
    )
    with sts_stub:
        (found,) = read_status(
            codepipeline,
            cloudformation,
            PIPELINE,
            [FOREIGN],
            limit=0,
            other_account=lambda names: assumed_cloudformation(sts, names, lambda c: None),
        ).environments
    assert found.stack_status is None
    assert found.not_read is not None
    assert f"could not assume {ROLE} (AccessDenied)" in found.not_read
    assert "conveyor bootstrap --account 222222222222" in found.not_read
    assert "sts:AssumeRole" in found.not_read
    assert found.to_json()["not_read"] == found.not_read


def test_a_deploy_role_that_may_not_describe_the_stack_is_reported(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, _ = clients
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    there, there_stub = stubbed("cloudformation")
    there_stub.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="no"
    )
    with there_stub:
        (found,) = read_status(
            codepipeline,
            cloudformation,
            PIPELINE,
            [FOREIGN],
            limit=0,
            other_account=lambda n: there,
        ).environments
    assert found.stack_status is None
    assert found.not_read == (
        "payments-deploy-prod in account 222222222222 may not describe it (AccessDenied)"
    )


def test_another_regions_stack_is_read_in_its_region(clients: Any) -> None:
    """Review of issue 10: production in us-east-1, the pipeline in eu-west-1. Read with the
    pipeline region's client, CloudFormation answers that atlas-prod does not exist, which
    showed production as not deployed; its region's client reads it."""
    codepipeline, pipeline_stub, cloudformation, _ = clients  # nothing read in eu-west-1
    there, there_stub = stubbed("cloudformation")
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    there_stub.add_response(
        "describe_stacks",
        _stack("atlas-prod", {"ImageUri": IMAGE}, {"Url": "https://atlas.example.com"}),
        {"StackName": "atlas-prod"},
    )
    prod = EnvironmentNames("prod", "Deploy-prod", "atlas-prod", region="us-east-1")
    asked: list[str] = []

    def in_region(region: str) -> Any:
        asked.append(region)
        return there

    with there_stub:
        (found,) = read_status(
            codepipeline, cloudformation, PIPELINE, [prod], limit=0, in_region=in_region
        ).environments
        there_stub.assert_no_pending_responses()
    assert asked == ["us-east-1"]
    assert found.deployed and found.image == IMAGE and found.region == "us-east-1"
    assert found.to_json()["region"] == "us-east-1"


def test_another_regions_stack_without_a_client_there_is_not_read(clients: Any) -> None:
    codepipeline, pipeline_stub, cloudformation, _ = clients
    add_state(pipeline_stub, state(stage("Deploy-prod", None)))
    prod = EnvironmentNames("prod", "Deploy-prod", "atlas-prod", region="us-east-1")
    (found,) = read_status(codepipeline, cloudformation, PIPELINE, [prod], limit=0).environments
    assert found.stack_status is None and not found.deployed
    assert found.not_read is not None and "us-east-1" in found.not_read


def test_the_spec_names_the_region_of_an_environment_elsewhere() -> None:
    from pathlib import Path

    from conveyor.operate.names import environments
    from conveyor.spec import load_spec

    root = Path(__file__).resolve().parents[2]
    staging, prod = environments(load_spec(root / "examples" / "multi-region.yaml"))
    assert (staging.region, prod.region) == (None, "us-east-1")
