"""Issue 11: a CodePipeline stage rollback marks the releases it replaced ROLLED_BACK.

A rollback is an execution of its own (executionType ROLLBACK, trigger AutomatedRollback or
ManualRollback, rollbackMetadata naming its target:
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback-view-details.html); its
stage event looks like any other (events/stage-rollback-succeeded.json), so the recorder learns
it is a rollback from GetPipelineExecution, then finds the environment's releases between the
target and the rollback in the table's start-order index."""
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from conveyor.handlers import _common as common
from conveyor.handlers.record_deployment import app
from conveyor.history.records import TIME_INDEX

from .support import FakeContext, load_event, log_lines

TARGET = "0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60"  # the last good release
OLDER = "1b6e3d2f-9c8e-4f70-8b1c-2d3e4f5a6b71"  # a release before it
MIDDLE = "2c7f4e30-ad9f-4081-9c2d-3e4f5a6b7c82"  # a release after it, still good
FAILED = "3a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"  # the release that failed
ROLLBACK = "7c1d9e2f-3a4b-4c5d-8e6f-0a1b2c3d4e5f"  # the rollback execution (the sample event's)


def test_the_recorder_queries_the_index_the_table_has() -> None:
    assert app.TIME_INDEX == TIME_INDEX


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DEPLOYMENT_TABLE_NAME", "deployments")
    monkeypatch.setenv("APP_NAME", "payments")
    monkeypatch.setenv(
        "STAGE_ENVIRONMENTS", json.dumps({"Deploy-staging": "staging", "Deploy-prod": "prod"})
    )
    monkeypatch.setenv("DEPLOYMENT_GROUP_ENVIRONMENTS", json.dumps({}))
    with mock_aws():
        keys = [("pk", "HASH"), ("sk", "RANGE")]
        boto3.client("dynamodb").create_table(
            TableName="deployments",
            KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys],
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "started_at")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": TIME_INDEX,
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "started_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield "deployments"


@pytest.fixture
def codepipeline(table: str) -> Iterator[Stubber]:
    with Stubber(common.client("codepipeline")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stub_execution(stubber: Stubber, execution_id: str, **overrides: Any) -> None:
    execution = {
        "pipelineName": "payments-pipeline",
        "pipelineExecutionId": execution_id,
        "status": "InProgress",
        "trigger": {"triggerType": "WebhookV2", "triggerDetail": "arn:aws:codeconnections:x"},
        "executionType": "STANDARD",
        **overrides,
    }
    stubber.add_response(
        "get_pipeline_execution",
        {"pipelineExecution": execution},
        {"pipelineName": "payments-pipeline", "pipelineExecutionId": execution_id},
    )
    stubber.add_response(
        "list_action_executions",
        {"actionExecutionDetails": []},
        {
            "pipelineName": "payments-pipeline",
            "filter": {"pipelineExecutionId": execution_id},
            "maxResults": 100,
        },
    )


def stage_event(execution_id: str, state: str, at: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("record_deployment", "stage-rollback-succeeded.json"))
    event["detail"].update({"execution-id": execution_id, "state": state, "start-time": at})
    event["time"] = at.replace(".000", "")
    return event


def release(stubber: Stubber, context: FakeContext, execution_id: str, state: str, at: str) -> None:
    stub_execution(stubber, execution_id)
    app.handler(stage_event(execution_id, state, at), context)


def roll_back(stubber: Stubber, context: FakeContext, target: str, trigger: str) -> None:
    stub_execution(
        stubber,
        ROLLBACK,
        status="Succeeded",
        executionType="ROLLBACK",
        trigger={"triggerType": trigger, "triggerDetail": "arn:aws:sts::123456789012:x"},
        rollbackMetadata={"rollbackTargetPipelineExecutionId": target},
    )
    app.handler(load_event("record_deployment", "stage-rollback-succeeded.json"), context)


def item(execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        boto3.resource("dynamodb")
        .Table("deployments")
        .get_item(Key={"pk": "payments#prod", "sk": execution_id})["Item"]
    )
    return found


def test_an_automatic_rollback_marks_the_failed_release_rolled_back(
    codepipeline: Stubber, context: FakeContext
) -> None:
    release(codepipeline, context, OLDER, "SUCCEEDED", "2026-03-01T09:00:00.000Z")
    release(codepipeline, context, TARGET, "SUCCEEDED", "2026-03-02T09:00:00.000Z")
    release(codepipeline, context, FAILED, "FAILED", "2026-03-02T10:00:00.000Z")

    roll_back(codepipeline, context, TARGET, "AutomatedRollback")

    failed = item(FAILED)
    assert failed["outcome"] == "ROLLED_BACK" and failed["rolled_back"] is True
    assert failed["rollback_by"] == "stage"
    assert failed["rolled_back_by"] == ROLLBACK
    assert failed["rolled_back_at"] == "2026-03-02T10:31:00.000000Z"
    for untouched in (TARGET, OLDER):
        assert item(untouched)["rolled_back"] is False, untouched
        assert item(untouched)["outcome"] == "SUCCEEDED"
    rollback = item(ROLLBACK)
    assert rollback["execution_type"] == "ROLLBACK" and rollback["rolled_back"] is False
    assert rollback["rollback_target_execution_id"] == TARGET


def test_a_manual_rollback_to_an_older_release_marks_every_release_after_it(
    codepipeline: Stubber, context: FakeContext
) -> None:
    """`conveyor rollback prod --to <older>`: the good release after the target goes too."""
    release(codepipeline, context, TARGET, "SUCCEEDED", "2026-03-02T09:00:00.000Z")
    release(codepipeline, context, MIDDLE, "SUCCEEDED", "2026-03-02T09:30:00.000Z")
    release(codepipeline, context, FAILED, "SUCCEEDED", "2026-03-02T10:00:00.000Z")

    roll_back(codepipeline, context, TARGET, "ManualRollback")

    assert [item(e)["rolled_back"] for e in (TARGET, MIDDLE, FAILED)] == [False, True, True]
    # A release that had succeeded keeps its outcome; rolled back, it no longer counts as one.
    assert item(MIDDLE)["outcome"] == "SUCCEEDED"


def test_without_the_target_s_record_only_the_release_before_the_rollback_is_marked(
    codepipeline: Stubber, context: FakeContext
) -> None:
    release(codepipeline, context, MIDDLE, "SUCCEEDED", "2026-03-02T09:30:00.000Z")
    release(codepipeline, context, FAILED, "FAILED", "2026-03-02T10:00:00.000Z")

    roll_back(codepipeline, context, TARGET, "AutomatedRollback")  # TARGET never recorded

    assert item(FAILED)["outcome"] == "ROLLED_BACK"
    assert item(MIDDLE)["rolled_back"] is False


def test_a_rollback_that_did_not_succeed_marks_nothing(
    codepipeline: Stubber, context: FakeContext
) -> None:
    release(codepipeline, context, TARGET, "SUCCEEDED", "2026-03-02T09:00:00.000Z")
    release(codepipeline, context, FAILED, "FAILED", "2026-03-02T10:00:00.000Z")
    stub_execution(
        codepipeline,
        ROLLBACK,
        executionType="ROLLBACK",
        trigger={"triggerType": "AutomatedRollback"},
        rollbackMetadata={"rollbackTargetPipelineExecutionId": TARGET},
    )
    failed_rollback = load_event("record_deployment", "stage-rollback-succeeded.json")
    failed_rollback["detail"]["state"] = "FAILED"
    app.handler(failed_rollback, context)

    assert item(FAILED)["outcome"] == "FAILED" and item(FAILED)["rolled_back"] is False


def test_a_standard_execution_marks_nothing(codepipeline: Stubber, context: FakeContext) -> None:
    release(codepipeline, context, TARGET, "SUCCEEDED", "2026-03-02T09:00:00.000Z")
    release(codepipeline, context, FAILED, "FAILED", "2026-03-02T10:00:00.000Z")
    release(codepipeline, context, ROLLBACK, "SUCCEEDED", "2026-03-02T10:24:00.000Z")

    assert item(FAILED)["rolled_back"] is False


def test_a_refused_query_still_records_the_rollback(
    codepipeline: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    release(codepipeline, context, FAILED, "FAILED", "2026-03-02T10:00:00.000Z")
    capsys.readouterr()
    with Stubber(common.client("dynamodb")) as dynamodb:
        dynamodb.add_client_error("query", "AccessDeniedException")
        stub_execution(
            codepipeline,
            ROLLBACK,
            executionType="ROLLBACK",
            trigger={"triggerType": "AutomatedRollback"},
            rollbackMetadata={"rollbackTargetPipelineExecutionId": TARGET},
        )
        event = load_event("record_deployment", "stage-rollback-succeeded.json")
        parsed = app.enrich(
            app.parse(event, app.Config.from_env()), app.Config.from_env(), app.Budget(context)
        )
    assert parsed.observation is not None and parsed.marks == ()
    warnings = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert [w["lookup"] for w in warnings] == ["dynamodb:Query"]
