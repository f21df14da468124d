# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from conveyor.handlers import _common as common
from conveyor.handlers.record_deployment import app

from .support import FakeContext, load_event, log_lines

EXECUTION_ID = "3a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
COMMIT = "9f1c2ab7d0e4c5b6a7f8e9d0c1b2a3f4e5d6c7b8"
COMMITTED_AT = "2026-03-02T09:41:07.000000Z"
DIGEST = "sha256:4b1c6e2f0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"


def create_table(name: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def all_items(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = boto3.resource("dynamodb").Table(name).scan()["Items"]
    return sorted(items, key=lambda item: (item["pk"], item["sk"]))


def get_item(pk: str, sk: str, table: str = "deployments") -> dict[str, Any]:
    item: dict[str, Any] = (
        boto3.resource("dynamodb").Table(table).get_item(Key={"pk": pk, "sk": sk})["Item"]
    )
    return item


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYMENT_TABLE_NAME", "deployments")
    monkeypatch.setenv("APP_NAME", "payments")
    monkeypatch.setenv(
        "STAGE_ENVIRONMENTS", json.dumps({"Deploy-staging": "staging", "Deploy-prod": "prod"})
    )
    monkeypatch.setenv("DEPLOYMENT_GROUP_ENVIRONMENTS", json.dumps({"payments-api-prod": "prod"}))


@pytest.fixture
def table(env: None) -> Iterator[str]:
    with mock_aws():
        create_table("deployments")
        yield "deployments"


@pytest.fixture
def codepipeline(table: str) -> Iterator[Stubber]:
    with Stubber(common.client("codepipeline")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def codedeploy(table: str) -> Iterator[Stubber]:
    with Stubber(common.client("codedeploy")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stub_execution(stubber: Stubber, **overrides: Any) -> None:
    execution: dict[str, Any] = {
        "pipelineName": "payments-pipeline",
        "pipelineVersion": 3,
        "pipelineExecutionId": EXECUTION_ID,
        "status": "InProgress",
        "artifactRevisions": [
            {
                "name": "Source",
                "revisionId": COMMIT,
                "revisionSummary": json.dumps(
                    {"ProviderType": "GitHub", "CommitMessage": "Fix rounding in refunds"}
                ),
                "revisionUrl": f"https://github.com/acme/payments/commit/{COMMIT}",
            }
        ],
        "trigger": {
            "triggerType": "StartPipelineExecution",
            "triggerDetail": "arn:aws:sts::123456789012:assumed-role/Deployer/alice",
        },
        "executionType": "STANDARD",
        **overrides,
    }
    stubber.add_response(
        "get_pipeline_execution",
        {"pipelineExecution": execution},
        {"pipelineName": "payments-pipeline", "pipelineExecutionId": EXECUTION_ID},
    )
    stubber.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {
                    "pipelineExecutionId": EXECUTION_ID,
                    "stageName": "Build",
                    "actionName": "Image",
                    "status": "Succeeded",
                    "output": {"outputVariables": {"IMAGE_DIGEST": DIGEST, "OTHER": "x"}},
                }
            ]
        },
        {
            "pipelineName": "payments-pipeline",
            "filter": {"pipelineExecutionId": EXECUTION_ID},
            "maxResults": 100,
        },
    )


# --- configuration errors: a missing setting is a deployment bug and must say so (FM53/FM66) ---


@pytest.mark.parametrize("missing", ["DEPLOYMENT_TABLE_NAME", "APP_NAME"])
def test_missing_required_env_var_names_it(
    env: None, monkeypatch: pytest.MonkeyPatch, context: FakeContext, missing: str
) -> None:
    monkeypatch.delenv(missing)
    event = load_event("record_deployment", "pipeline-execution-started.json")
    with pytest.raises(common.ConfigurationError, match=f"{missing} is required"):
        app.handler(event, context)


@pytest.mark.parametrize("raw", ["{not json", '["Deploy-staging"]', '{"Deploy-staging": 1}'])
def test_malformed_stage_environments_is_a_configuration_error(
    env: None, monkeypatch: pytest.MonkeyPatch, context: FakeContext, raw: str
) -> None:
    monkeypatch.setenv("STAGE_ENVIRONMENTS", raw)
    with pytest.raises(common.ConfigurationError, match="STAGE_ENVIRONMENTS"):
        app.handler(load_event("record_deployment", "stage-execution-started.json"), context)


# --- pipeline and environment records ---


def test_pipeline_execution_record_with_commit_trigger_and_digest(
    codepipeline: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    stub_execution(codepipeline)
    stub_execution(codepipeline)
    started = load_event("record_deployment", "pipeline-execution-started.json")
    succeeded = load_event("record_deployment", "pipeline-execution-succeeded.json")

    assert app.handler(started, context)["status"] == "recorded"
    first = get_item("payments#pipeline", EXECUTION_ID)
    assert first["outcome"] == "IN_PROGRESS"
    assert "ended_at" not in first

    result = app.handler(succeeded, context)

    assert result == {"status": "recorded", "pk": "payments#pipeline", "sk": EXECUTION_ID}
    item = get_item("payments#pipeline", EXECUTION_ID)
    assert item["app"] == "payments"
    assert item["pipeline"] == "payments-pipeline"
    assert item["execution_id"] == EXECUTION_ID
    assert item["commit"] == COMMIT
    assert item["commit_message"] == "Fix rounding in refunds"
    assert item["image_digest"] == DIGEST
    assert item["trigger_type"] == "StartPipelineExecution"
    assert item["triggered_by"] == "arn:aws:sts::123456789012:assumed-role/Deployer/alice"
    assert item["started_at"] == "2026-03-02T10:00:00.000000Z"
    assert item["ended_at"] == "2026-03-02T10:14:30.000000Z"
    assert item["outcome"] == "SUCCEEDED"
    assert item["rolled_back"] is False
    logs = log_lines(capsys.readouterr().out)
    recorded = [line for line in logs if line["message"] == "recorded"]
    assert recorded[-1]["outcome"] == "SUCCEEDED"
    assert recorded[-1]["request_id"] == context.aws_request_id


def test_mapped_stage_writes_environment_record(
    codepipeline: Stubber, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    event = load_event("record_deployment", "stage-execution-succeeded.json")

    assert app.handler(event, context)["pk"] == "payments#staging"

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["environment"] == "staging"
    assert item["stage"] == "Deploy-staging"
    assert item["outcome"] == "SUCCEEDED"
    assert item["commit"] == COMMIT
    assert item["image_digest"] == DIGEST
    # Only a terminal event was seen, so the start is the earliest time we know of.
    assert item["started_at"] == item["ended_at"] == "2026-03-02T10:12:00.000000Z"


def test_unmapped_stage_is_ignored_without_writing(
    table: str, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("record_deployment", "stage-execution-started.json")
    event["detail"]["stage"] = "Build"

    result = app.handler(event, context)

    assert result["status"] == "ignored"
    assert "'Build' is not mapped in STAGE_ENVIRONMENTS" in result["reason"]
    assert all_items(table) == []
    ignored = log_lines(capsys.readouterr().out)[-1]
    assert ignored["message"] == "ignored"
    assert ignored["detail_type"] == "CodePipeline Stage Execution State Change"


def test_lookup_access_denied_still_records_and_warns(
    codepipeline: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    codepipeline.add_client_error("get_pipeline_execution", "AccessDeniedException")
    codepipeline.add_client_error("list_action_executions", "PipelineExecutionNotFoundException")

    app.handler(load_event("record_deployment", "pipeline-execution-started.json"), context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert item["outcome"] == "IN_PROGRESS"
    assert "commit" not in item
    # The event itself names the trigger, so that survives a failed lookup.
    assert item["trigger_type"] == "WebhookV2"
    warnings = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert [w["lookup"] for w in warnings] == [
        "codepipeline:GetPipelineExecution",
        "codepipeline:ListActionExecutions",
    ]
    assert warnings[0]["error"] == "AccessDeniedException"


def test_rollback_execution_names_its_target(codepipeline: Stubber, context: FakeContext) -> None:
    stub_execution(
        codepipeline,
        executionType="ROLLBACK",
        trigger={"triggerType": "AutomatedRollback"},
        rollbackMetadata={
            "rollbackTargetPipelineExecutionId": "0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60"
        },
    )

    app.handler(load_event("record_deployment", "stage-execution-started.json"), context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["execution_type"] == "ROLLBACK"
    assert item["triggered_by"] == "AutomatedRollback"
    assert item["rollback_target_execution_id"] == "0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60"


def test_late_start_event_does_not_reopen_a_finished_execution(
    codepipeline: Stubber, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    stub_execution(codepipeline)
    stub_execution(codepipeline)
    app.handler(load_event("record_deployment", "pipeline-execution-succeeded.json"), context)
    app.handler(load_event("record_deployment", "pipeline-execution-started.json"), context)
    app.handler(load_event("record_deployment", "pipeline-execution-started.json"), context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert item["outcome"] == "SUCCEEDED"
    assert item["started_at"] == "2026-03-02T10:00:00.000000Z"
    assert item["ended_at"] == "2026-03-02T10:14:30.000000Z"


def test_resumed_execution_clears_end_until_it_finishes_again(
    codepipeline: Stubber, context: FakeContext
) -> None:
    failed = load_event("record_deployment", "pipeline-execution-succeeded.json")
    failed["detail"]["state"] = "FAILED"
    resumed = copy.deepcopy(failed)
    resumed["detail"]["state"] = "RESUMED"
    resumed["time"] = "2026-03-02T10:20:00Z"
    for event in (failed, resumed):
        stub_execution(codepipeline)
        app.handler(event, context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert item["outcome"] == "IN_PROGRESS"
    assert "ended_at" not in item


# --- CodeDeploy deployments and rollbacks ---


def deployment_info(deployment_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "deploymentInfo": {
            "applicationName": "payments-prod",
            "deploymentGroupName": "payments-api-prod",
            "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "deploymentId": deployment_id,
            "status": status,
            "computePlatform": "Lambda",
            "revision": {
                "revisionType": "AppSpecContent",
                "appSpecContent": {
                    "content": json.dumps(
                        {
                            "version": 0.0,
                            "Resources": [
                                {
                                    "api": {
                                        "Type": "AWS::Lambda::Function",
                                        "Properties": {
                                            "Name": "payments-api",
                                            "Alias": "live",
                                            "CurrentVersion": "41",
                                            "TargetVersion": "42",
                                        },
                                    }
                                }
                            ],
                        }
                    )
                },
            },
            **extra,
        }
    }


def test_failed_deployment_with_rollback_is_rolled_back(
    codedeploy: Stubber, context: FakeContext
) -> None:
    codedeploy.add_response(
        "get_deployment",
        deployment_info(
            "d-7ZJ2WQ1XA",
            "Failed",
            errorInformation={"code": "ALARM_ACTIVE", "message": "Alarm payments-5xx is ALARM"},
            rollbackInfo={"rollbackDeploymentId": "d-9QK4RT2YB"},
        ),
        {"deploymentId": "d-7ZJ2WQ1XA"},
    )

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["outcome"] == "ROLLED_BACK"
    assert item["rolled_back"] is True
    assert item["reason"] == "Alarm payments-5xx is ALARM"
    assert item["function_version"] == "42"
    assert item["previous_function_version"] == "41"
    assert item["deployment_group"] == "payments-api-prod"
    assert item["ended_at"] == "2026-03-02T11:05:00.000000Z"


def test_rollback_deployment_marks_the_deployment_it_undid(
    codedeploy: Stubber, context: FakeContext
) -> None:
    # GetDeployment on the failed deployment raced its rollback: no rollbackInfo yet.
    codedeploy.add_response(
        "get_deployment", deployment_info("d-7ZJ2WQ1XA", "Failed"), {"deploymentId": "d-7ZJ2WQ1XA"}
    )
    codedeploy.add_response(
        "get_deployment",
        deployment_info(
            "d-9QK4RT2YB",
            "InProgress",
            rollbackInfo={"rollbackTriggeringDeploymentId": "d-7ZJ2WQ1XA"},
        ),
        {"deploymentId": "d-9QK4RT2YB"},
    )

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)
    assert get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")["outcome"] == "FAILED"
    app.handler(load_event("record_deployment", "codedeploy-rollback-start.json"), context)

    original = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert original["outcome"] == "ROLLED_BACK"
    assert original["rolled_back"] is True
    assert original["rolled_back_by"] == "d-9QK4RT2YB"
    rollback = get_item("payments#prod", "codedeploy#d-9QK4RT2YB")
    assert rollback["rollback_of"] == "d-7ZJ2WQ1XA"
    assert rollback["outcome"] == "IN_PROGRESS"
    assert rollback["rolled_back"] is False


def test_codedeploy_lookup_failure_records_state_only(
    codedeploy: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    codedeploy.add_client_error("get_deployment", "AccessDeniedException")

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    logs = log_lines(capsys.readouterr().out)
    assert [line["level"] for line in logs] == ["WARNING", "INFO"]  # nothing crashed
    assert (logs[0]["lookup"], logs[0]["error"], logs[0]["deployment_id"]) == (
        "codedeploy:GetDeployment",
        "AccessDeniedException",
        "d-7ZJ2WQ1XA",
    )

    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["outcome"] == "FAILED"
    assert item["rolled_back"] is False
    assert "function_version" not in item


@pytest.mark.parametrize("time", [None, "yesterday", "0001-01-01T00:00:00+01:00", 1700000000])
def test_event_without_usable_time_is_ignored(
    table: str, context: FakeContext, time: object
) -> None:
    event = load_event("record_deployment", "pipeline-execution-started.json")
    event["time"] = time

    assert app.handler(event, context) == {
        "status": "ignored",
        "reason": "event has no usable 'time'",
    }
    assert all_items(table) == []


def test_unmapped_deployment_group_is_ignored(table: str, context: FakeContext) -> None:
    event = load_event("record_deployment", "codedeploy-deployment-failure.json")
    event["detail"]["deploymentGroup"] = "someone-elses-group"

    assert app.handler(event, context)["status"] == "ignored"
    assert all_items(table) == []


def test_dynamodb_errors_propagate_so_eventbridge_retries(
    env: None, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        app, "lookup_deployment", lambda _id, _budget, _region=None: app.DeploymentFacts({})
    )
    with mock_aws(), pytest.raises(Exception, match="ResourceNotFoundException"):
        app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)


# --- properties ---

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    samples = [
        load_event("record_deployment", name)
        for name in (
            "pipeline-execution-started.json",
            "stage-execution-succeeded.json",
            "codedeploy-deployment-failure.json",
        )
    ]

    @st.composite
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(samples)))
        for container in (event, event["detail"]):
            for key in list(container):
                action = draw(st.sampled_from(["keep", "keep", "drop", "replace"]))
                if action == "drop":
                    del container[key]
                elif action == "replace":
                    container[key] = draw(_json)
        return event

    return mutate()


@pytest.fixture
def offline_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    facts = {
        "d-7ZJ2WQ1XA": app.DeploymentFacts(
            {"function_version": "42"}, reason="Alarm payments-5xx is ALARM", rolled_back=True
        ),
        "d-9QK4RT2YB": app.DeploymentFacts(
            {"rollback_of": "d-7ZJ2WQ1XA"}, rollback_of="d-7ZJ2WQ1XA"
        ),
    }

    def pipeline_facts(
        pipeline: str, execution_id: str, stage: str | None, budget: app.Budget
    ) -> app.PipelineFacts:
        found = {"commit": COMMIT, "image_digest": DIGEST, "committed_at": COMMITTED_AT}
        if stage == "Deploy-prod":  # validation rolled prod back
            found.update(rollback_by="validation", rolled_back_at="2026-03-02T10:33:00.000000Z")
        return app.PipelineFacts(found, rolled_back=stage == "Deploy-prod")

    monkeypatch.setattr(app, "lookup_pipeline_execution", pipeline_facts)
    monkeypatch.setattr(
        app,
        "lookup_deployment",
        lambda deployment_id, budget, region=None: facts.get(deployment_id, facts["d-9QK4RT2YB"]),
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=_json | _mutations())
def test_never_raises_on_arbitrary_or_partial_events(
    table: str, offline_lookups: None, event: Any
) -> None:
    result = app.handler(event, FakeContext())
    assert result["status"] in {"recorded", "ignored"}
    if result["status"] == "ignored":
        assert isinstance(result["reason"], str)


def _sequence() -> list[dict[str, Any]]:
    def at(name: str, time: str, **detail: Any) -> dict[str, Any]:
        event = load_event("record_deployment", name)
        event["time"] = time
        event["detail"].update(detail)
        return event

    pipeline, stage = "pipeline-execution-started.json", "stage-execution-started.json"
    failure, rollback = "codedeploy-deployment-failure.json", "codedeploy-rollback-start.json"
    return [
        at(pipeline, "2026-03-02T10:00:00Z"),
        at(stage, "2026-03-02T10:06:00Z"),
        at(stage, "2026-03-02T10:08:00Z", state="FAILED"),
        at(pipeline, "2026-03-02T10:08:00Z", state="FAILED"),
        at(stage, "2026-03-02T10:20:00Z", state="RESUMED"),
        at(pipeline, "2026-03-02T10:20:00Z", state="RESUMED"),
        at(stage, "2026-03-02T10:25:00Z", state="SUCCEEDED"),
        at(stage, "2026-03-02T10:26:00Z", stage="Deploy-prod"),
        at(failure, "2026-03-02T10:27:00Z", state="START"),
        at(failure, "2026-03-02T10:31:00Z"),
        at(rollback, "2026-03-02T10:31:00Z"),
        at(rollback, "2026-03-02T10:33:00Z", state="SUCCESS"),
        at(stage, "2026-03-02T10:33:00Z", stage="Deploy-prod", state="FAILED"),
        at(pipeline, "2026-03-02T10:33:00Z", state="FAILED"),
    ]


SEQUENCE = _sequence()
_reference: list[list[dict[str, Any]]] = []


def _replay(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    name = f"deployments-{uuid.uuid4().hex}"
    create_table(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEPLOYMENT_TABLE_NAME", name)
        for event in events:
            app.handler(copy.deepcopy(event), FakeContext())
    return all_items(name)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.permutations(SEQUENCE),
    duplicates=st.lists(st.sampled_from(SEQUENCE), max_size=5),
)
def test_final_history_is_independent_of_order_and_duplicates(
    table: str,
    offline_lookups: None,
    order: list[dict[str, Any]],
    duplicates: list[dict[str, Any]],
) -> None:
    if not _reference:
        _reference.append(_replay(SEQUENCE))
    expected = _reference[0]

    assert _replay([*order, *duplicates]) == expected


def test_reference_history_is_what_happened(table: str, offline_lookups: None) -> None:
    items = {(item["pk"], item["sk"]): item for item in _replay(SEQUENCE)}

    assert items["payments#pipeline", EXECUTION_ID]["outcome"] == "FAILED"
    staging = items["payments#staging", EXECUTION_ID]
    assert (staging["outcome"], staging["started_at"], staging["ended_at"]) == (
        "SUCCEEDED",
        "2026-03-02T10:06:00.000000Z",
        "2026-03-02T10:25:00.000000Z",
    )
    prod = items["payments#prod", EXECUTION_ID]
    assert (prod["outcome"], prod["rolled_back"], prod["rollback_by"]) == (
        "ROLLED_BACK",
        True,
        "validation",
    )
    assert staging["committed_at"] == COMMITTED_AT
    assert staging["pipeline_started_at"] == "2026-03-02T10:00:00.000000Z"
    failed = items["payments#prod", "codedeploy#d-7ZJ2WQ1XA"]
    assert (failed["outcome"], failed["rolled_back"]) == ("ROLLED_BACK", True)
    assert failed["started_at"] == "2026-03-02T10:27:00.000000Z"
    assert items["payments#prod", "codedeploy#d-9QK4RT2YB"]["outcome"] == "SUCCEEDED"
    assert len(items) == 5


# === lookups: hostile answers, throttling, paging, commit time, validation rollbacks (issue 17) ===

LIST_REQUEST = {
    "pipelineName": "payments-pipeline",
    "filter": {"pipelineExecutionId": EXECUTION_ID},
    "maxResults": 100,
}
GET_REQUEST = {"pipelineName": "payments-pipeline", "pipelineExecutionId": EXECUTION_ID}


def _execution(**overrides: Any) -> dict[str, Any]:
    return {
        "pipelineExecution": {
            "pipelineName": "payments-pipeline",
            "pipelineExecutionId": EXECUTION_ID,
            "status": "InProgress",
            "artifactRevisions": [{"name": "Source", "revisionId": COMMIT}],
            **overrides,
        }
    }


def _source_action(**variables: str) -> dict[str, Any]:
    return {
        "pipelineExecutionId": EXECUTION_ID,
        "stageName": "Source",
        "actionName": "Source",
        "status": "Succeeded",
        "input": {
            "actionTypeId": {
                "category": "Source",
                "owner": "AWS",
                "provider": "CodeStarSourceConnection",
                "version": "1",
            }
        },
        "output": {"outputVariables": {"CommitId": COMMIT, **variables}},
    }


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Pauses are recorded and advance a fake clock: budgets are tested without waiting."""
    pauses: list[float] = []
    monkeypatch.setattr(app, "_sleep", pauses.append)
    monkeypatch.setattr(app, "_clock", lambda: sum(pauses))
    return pauses


def _warnings(out: str) -> list[dict[str, Any]]:
    return [line for line in log_lines(out) if line["level"] == "WARNING"]


# --- defect 5: a commit message or any hostile field must not crash the recorder ---


def test_a_commit_message_of_1500_brackets_is_recorded(
    codepipeline: Stubber, context: FakeContext
) -> None:
    stub_execution(
        codepipeline,
        artifactRevisions=[{"name": "Source", "revisionId": COMMIT, "revisionSummary": "[" * 1500}],
    )

    result = app.handler(load_event("record_deployment", "stage-execution-started.json"), context)

    assert result["status"] == "recorded"
    item = get_item("payments#staging", EXECUTION_ID)
    assert item["commit"] == COMMIT
    assert item["commit_message"] == "[" * 500
    assert item["image_digest"] == DIGEST


@pytest.mark.parametrize(
    ("summary", "recorded"),
    [
        ('{"ProviderType": "GitHub", "CommitMessage": "  Fix refunds "}', "Fix refunds"),
        (' \n{"CommitMessage": "Fix refunds"}', "Fix refunds"),
        ('{"CommitMessage": "   "}', None),
        ('{"CommitMessage": 7}', '{"CommitMessage": 7}'),
        ("{" * 1500, "{" * 500),
        ("  Fix refunds  ", "Fix refunds"),
        ("   ", None),
        ("", None),
        (None, None),
        (["Fix refunds"], None),
        ("x" * 600, "x" * 500),
    ],
)
def test_the_recorded_commit_message_is_the_shared_one_trimmed(
    summary: object, recorded: str | None
) -> None:
    """record_deployment decodes the summary with _common.commit_message (as notify does) and
    keeps at most 500 characters, no attribute for an empty message."""
    assert app._commit_message(summary) == recorded


def test_an_appspec_of_1500_brackets_is_recorded(codedeploy: Stubber, context: FakeContext) -> None:
    info = deployment_info("d-7ZJ2WQ1XA", "Failed")
    info["deploymentInfo"]["revision"]["appSpecContent"]["content"] = "[" * 1500
    codedeploy.add_response("get_deployment", info, {"deploymentId": "d-7ZJ2WQ1XA"})

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["outcome"] == "FAILED"
    assert item["deployment_config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"


class _Answers:
    """A CodePipeline client that answers with whatever shape a test gives it."""

    def __init__(self, execution: object, actions: object) -> None:
        self.execution, self.actions = execution, actions

    def get_pipeline_execution(self, **_: Any) -> Any:
        return self.execution

    def list_action_executions(self, **_: Any) -> Any:
        return self.actions


def _answer_with(patch: pytest.MonkeyPatch, execution: object, actions: object) -> None:
    real = common.client
    answers = _Answers(execution, actions)

    def client(service: str) -> Any:
        return answers if service == "codepipeline" else real(service)

    client.cache_clear = real.cache_clear  # type: ignore[attr-defined]  # conftest clears it
    patch.setattr(common, "client", client)


@pytest.mark.parametrize(
    ("execution", "actions"),
    [
        ({"pipelineExecution": {"artifactRevisions": "Source"}}, {"actionExecutionDetails": 7}),
        ({"pipelineExecution": {"variables": {"IMAGE_DIGEST": 1}}}, None),
        ({"pipelineExecution": {"artifactRevisions": [None, 3]}}, {"nextToken": ["x"]}),
        ("not a mapping", {"actionExecutionDetails": [{"output": {"outputVariables": [1]}}]}),
    ],
)
def test_unexpected_lookup_shapes_still_record_the_event(
    table: str, context: FakeContext, monkeypatch: pytest.MonkeyPatch, execution: Any, actions: Any
) -> None:
    _answer_with(monkeypatch, execution, actions)

    app.handler(load_event("record_deployment", "stage-execution-started.json"), context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["outcome"] == "IN_PROGRESS"
    assert item["started_at"] == "2026-03-02T10:06:00.000000Z"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(execution=_json, actions=_json)
def test_any_lookup_answer_still_records_the_event(
    table: str, monkeypatch: pytest.MonkeyPatch, execution: Any, actions: Any
) -> None:
    with monkeypatch.context() as patch:
        _answer_with(patch, execution, actions)
        result = app.handler(
            load_event("record_deployment", "stage-execution-succeeded.json"), FakeContext()
        )
    assert result == {"status": "recorded", "pk": "payments#staging", "sk": EXECUTION_ID}
    assert get_item("payments#staging", EXECUTION_ID)["outcome"] == "SUCCEEDED"


# --- defect 9: throttled lookups are retried within the time budget, then reported ---


def test_throttled_lookups_are_retried_with_backoff(
    codepipeline: Stubber, context: FakeContext, no_sleep: list[float]
) -> None:
    codepipeline.add_client_error("get_pipeline_execution", "ThrottlingException")
    codepipeline.add_client_error("get_pipeline_execution", "ThrottlingException")
    stub_execution(codepipeline)

    app.handler(load_event("record_deployment", "stage-execution-succeeded.json"), context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["commit"] == COMMIT
    assert item["image_digest"] == DIGEST
    assert len(no_sleep) == 2
    assert 0.125 <= no_sleep[0] <= 0.25 and 0.25 <= no_sleep[1] <= 0.5  # doubling, jittered


def test_throttling_past_the_budget_records_what_is_known_and_counts_it(
    codepipeline: Stubber, no_sleep: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    # 8.3 s left and the writes need 8 s: the first pause (at most 0.25 s) fits, the second not.
    for _ in range(2):
        codepipeline.add_client_error("get_pipeline_execution", "ThrottlingException")
    codepipeline.add_client_error("list_action_executions", "AccessDeniedException")

    app.handler(
        load_event("record_deployment", "stage-execution-succeeded.json"),
        FakeContext(remaining_ms=8_300),
    )

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["outcome"] == "SUCCEEDED"
    assert "commit" not in item
    assert len(no_sleep) == 1
    warnings = _warnings(capsys.readouterr().out)
    assert [w["lookup"] for w in warnings] == [
        "codepipeline:GetPipelineExecution",
        "codepipeline:ListActionExecutions",
    ]
    throttled = warnings[0]
    assert throttled["error"] == "ThrottlingException"
    # CloudWatch embedded metric format: the log line is also a metric.
    assert throttled["EnrichmentIncomplete"] == 1
    assert throttled["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "EnrichmentIncomplete", "Unit": "Count"}
    ]
    assert throttled["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Lookup"]]
    assert throttled["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "conveyor"
    assert abs(throttled["_aws"]["Timestamp"] - time.time() * 1000) < 60_000  # milliseconds
    assert throttled["message"] == "lookup failed; recording without it"
    assert throttled["Lookup"] == "codepipeline:GetPipelineExecution"


def test_other_lookup_errors_are_not_retried(
    codedeploy: Stubber, context: FakeContext, no_sleep: list[float]
) -> None:
    codedeploy.add_client_error("get_deployment", "DeploymentDoesNotExistException")

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    assert no_sleep == []
    assert get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")["outcome"] == "FAILED"


def test_throttled_codedeploy_lookup_is_retried(
    codedeploy: Stubber, context: FakeContext, no_sleep: list[float]
) -> None:
    codedeploy.add_client_error("get_deployment", "ThrottlingException")
    codedeploy.add_response(
        "get_deployment", deployment_info("d-7ZJ2WQ1XA", "Failed"), {"deploymentId": "d-7ZJ2WQ1XA"}
    )

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    assert get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")["function_version"] == "42"
    assert len(no_sleep) == 1


def test_action_executions_are_read_across_pages(
    codepipeline: Stubber, context: FakeContext
) -> None:
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [_source_action()], "nextToken": "page-2"},
        LIST_REQUEST,
    )
    codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                {"stageName": "Build", "output": {"outputVariables": {"IMAGE_DIGEST": DIGEST}}}
            ]
        },
        {**LIST_REQUEST, "nextToken": "page-2"},
    )

    app.handler(load_event("record_deployment", "stage-execution-succeeded.json"), context)

    assert get_item("payments#staging", EXECUTION_ID)["image_digest"] == DIGEST


# --- DORA: commit time and pipeline start ---


@pytest.mark.parametrize(
    ("variables", "created", "expected"),
    [
        (
            {"CommitterDate": "2026-03-02T09:41:07Z", "AuthorDate": "2026-03-01T08:00:00Z"},
            None,
            "2026-03-02T09:41:07.000000Z",
        ),
        ({"AuthorDate": "2026-03-02T09:30:00+01:00"}, None, "2026-03-02T08:30:00.000000Z"),
        ({}, datetime(2026, 3, 2, 9, 50, tzinfo=UTC), "2026-03-02T09:50:00.000000Z"),
        (
            {"AuthorDate": "2026-03-02T09:30:00Z"},
            datetime(2026, 3, 2, 9, 50, tzinfo=UTC),
            "2026-03-02T09:30:00.000000Z",
        ),
    ],
)
def test_commit_time_from_source_variables_then_artifact_revision(
    codepipeline: Stubber,
    context: FakeContext,
    variables: dict[str, str],
    created: datetime | None,
    expected: str,
) -> None:
    revision: dict[str, Any] = {"name": "Source", "revisionId": COMMIT}
    if created is not None:
        revision["created"] = created
    codepipeline.add_response(
        "get_pipeline_execution", _execution(artifactRevisions=[revision]), GET_REQUEST
    )
    codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [_source_action(**variables)]},
        LIST_REQUEST,
    )

    app.handler(load_event("record_deployment", "stage-execution-succeeded.json"), context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["committed_at"] == expected
    assert item["pipeline_started_at"] == "2026-03-02T10:00:00.000000Z"
    # The revision time the variables made unnecessary is not stored beside them.
    assert [key for key in item if key.startswith("_")] == []


def test_another_sources_dates_are_not_this_commits(
    codepipeline: Stubber, context: FakeContext
) -> None:
    other = _source_action(AuthorDate="2020-01-01T00:00:00Z")
    other["output"]["outputVariables"]["CommitId"] = "0" * 40
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [other, _source_action(AuthorDate="2026-03-02T09:00:00Z")]},
        LIST_REQUEST,
    )

    app.handler(load_event("record_deployment", "stage-execution-succeeded.json"), context)

    assert get_item("payments#staging", EXECUTION_ID)["committed_at"] == (
        "2026-03-02T09:00:00.000000Z"
    )


def test_only_source_actions_give_the_commit_time(
    codepipeline: Stubber, context: FakeContext
) -> None:
    # A build action that exports a variable named like a source's date is not the commit.
    build = {
        "pipelineExecutionId": EXECUTION_ID,
        "stageName": "Build",
        "actionName": "Image",
        "status": "Succeeded",
        "input": {
            "actionTypeId": {
                "category": "Build",
                "owner": "AWS",
                "provider": "CodeBuild",
                "version": "1",
            }
        },
        "output": {"outputVariables": {"AuthorDate": "2020-01-01T00:00:00Z"}},
    }
    revision = {
        "name": "Source",
        "revisionId": COMMIT,
        "created": datetime(2026, 3, 2, 9, 50, tzinfo=UTC),
    }
    codepipeline.add_response(
        "get_pipeline_execution", _execution(artifactRevisions=[revision]), GET_REQUEST
    )
    codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [build, _source_action()]},
        LIST_REQUEST,
    )

    app.handler(load_event("record_deployment", "stage-execution-succeeded.json"), context)

    # The source gave no date variable, so the artifact revision's time is the commit time.
    assert get_item("payments#staging", EXECUTION_ID)["committed_at"] == (
        "2026-03-02T09:50:00.000000Z"
    )


def test_a_crash_reading_action_details_records_the_event_and_counts_it(
    codepipeline: Stubber,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A bug on some action-detail shape must cost only the enrichment it feeds, and the
    # EnrichmentIncomplete line must say which lookup, which pipeline and what went wrong.
    def crash(*_: Any) -> dict[str, Any]:
        raise KeyError("outputVariables")

    monkeypatch.setattr(app, "_action_attributes", crash)
    stub_execution(codepipeline)

    result = app.handler(load_event("record_deployment", "stage-execution-started.json"), context)

    assert result["status"] == "recorded"
    item = get_item("payments#staging", EXECUTION_ID)
    assert item["commit"] == COMMIT  # GetPipelineExecution's part is kept
    [warning] = _warnings(capsys.readouterr().out)
    assert warning["lookup"] == "codepipeline:ListActionExecutions"
    assert warning["error"] == "KeyError"
    assert warning["pipeline"] == "payments-pipeline"
    assert warning["EnrichmentIncomplete"] == 1


def test_pipeline_start_keeps_the_earliest_delivery(table: str, context: FakeContext) -> None:
    for start in ("2026-03-02T10:00:05Z", "2026-03-02T10:00:00Z", "2026-03-02T10:00:09Z"):
        event = load_event("record_deployment", "stage-execution-started.json")
        event["detail"]["start-time"] = start
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(app, "lookup_pipeline_execution", lambda *args: app.PipelineFacts())
            app.handler(event, context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["pipeline_started_at"] == "2026-03-02T10:00:00.000000Z"


# --- rollbacks done by validation (the contract with validate_http) ---


def _failed_validation(message: str, at: datetime) -> dict[str, Any]:
    return {
        "pipelineExecutionId": EXECUTION_ID,
        "stageName": "Deploy-staging",
        "actionName": "Validate",
        "status": "Failed",
        "lastUpdateTime": at,
        "output": {
            "executionResult": {
                "externalExecutionSummary": message,
                "errorDetails": {"code": "JobFailed", "message": message},
            }
        },
    }


# What validate_http reported when it rolled a Lambda alias back itself, before issue 11 made
# the stage's own rollback the only one: the history of pipelines deployed before then.
_VALIDATE_HTTP_FAILURE_MESSAGE = (
    "Validation failed: status 503. Rollback: alias f:live rolled back from version 7 to 6."
)


def test_a_rollback_by_validation_marks_the_stage_rolled_back(
    codepipeline: Stubber, context: FakeContext
) -> None:
    message = _VALIDATE_HTTP_FAILURE_MESSAGE
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions",
        {
            "actionExecutionDetails": [
                _failed_validation(message, datetime(2026, 3, 2, 10, 11, 30, tzinfo=UTC))
            ]
        },
        LIST_REQUEST,
    )
    event = load_event("record_deployment", "stage-execution-succeeded.json")
    event["detail"]["state"] = "FAILED"

    app.handler(event, context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["outcome"] == "ROLLED_BACK"
    assert item["rolled_back"] is True
    assert item["rollback_by"] == "validation"
    assert item["rolled_back_at"] == "2026-03-02T10:11:30.000000Z"
    assert item["rollback_detail"] == "alias f:live rolled back from version 7 to 6"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Validation failed: GET https://x/health: expected status 200, got 503 (after 6 "
            "attempts). Rollback: ECS service api rolled back from api:43 to "
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:42.",
            "ECS service api rolled back from api:43 to "
            "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:42",
        ),
        ("Validation failed: x. Rollback: no rollback configured.", None),
        ("Validation failed: x. Rollback: ROLLBACK FAILED (Boom: rolled back from a to b).", None),
        ("Validation failed: GET https://x/: status 503", None),
        ("Rollback: alias f:live rolled back from version 7", None),
        ("Rollback:  rolled back from 7 to 6.", None),
        ("Rollback: x rolled back from a to b.", "x rolled back from a to b"),
        (
            "Validation failed: GET /?Rollback: x rolled back from a to b. "
            "Rollback: no rollback configured.",
            None,
        ),
        ("Rollback: x rolled back from  to 6.", None),
        (
            "Validation failed: x. Rollback: CodeDeploy deployment d-7ZJ2WQ1XA stopped and "
            "rolled back.",
            "CodeDeploy deployment d-7ZJ2WQ1XA stopped and rolled back",
        ),
        (
            "Validation failed: x. Rollback: CodeDeploy deployment d-9QK4RT2YB returns "
            "payments-api-prod to the revision before d-7ZJ2WQ1XA.",
            "CodeDeploy deployment d-9QK4RT2YB returns payments-api-prod to the revision "
            "before d-7ZJ2WQ1XA",
        ),
        (
            "Validation failed: x. Rollback: CodeDeploy deployment d-7ZJ2WQ1XA ended Failed; "
            "CodeDeploy rolls it back.",
            None,
        ),
        (
            "Validation failed: x. Rollback: the last deployment d-9QK4RT2YB is a rollback "
            "already; not rolled back again.",
            None,
        ),
        (
            "Validation failed: x. Rollback: alias f:live already serves version 6, below the "
            "deployed 7; not rolled back again.",
            None,
        ),
    ],
)
def test_validation_rollback_contract(message: str, expected: str | None) -> None:
    assert app.validation_rollback(message) == expected


def test_a_failed_rollback_is_not_a_rollback(codepipeline: Stubber, context: FakeContext) -> None:
    message = (
        "Validation failed: x. Rollback: ROLLBACK FAILED (AccessDenied: no); roll back by hand."
    )
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions",
        {"actionExecutionDetails": [_failed_validation(message, datetime(2026, 3, 2, tzinfo=UTC))]},
        LIST_REQUEST,
    )
    event = load_event("record_deployment", "stage-execution-succeeded.json")
    event["detail"]["state"] = "FAILED"

    app.handler(event, context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert (item["outcome"], item["rolled_back"]) == ("FAILED", False)
    assert "rollback_by" not in item


def test_the_recorded_history_reads_as_one_deployment_per_stage(
    table: str, offline_lookups: None
) -> None:
    """End to end: events in any order → records → `conveyor history`'s reader. The CodeDeploy
    records (the failed deployment and CodeDeploy's rollback) fold into the prod stage record."""
    from conveyor.history.dora import metrics
    from conveyor.history.reader import read_deployments
    from tests.history.generate import create_table as create_indexed_table

    client = boto3.client("dynamodb")
    create_indexed_table(client, "history")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEPLOYMENT_TABLE_NAME", "history")
        for event in reversed(SEQUENCE):
            app.handler(copy.deepcopy(event), FakeContext())

    deployments, stats = read_deployments(
        client, "history", "payments", ["staging", "prod"], datetime(2026, 3, 2, tzinfo=UTC)
    )

    assert stats.indexed
    assert [(d.environment, d.outcome, d.rolled_back) for d in deployments] == [
        ("staging", "SUCCEEDED", False),
        ("prod", "ROLLED_BACK", True),
    ]
    assert deployments[1].committed_at == datetime(2026, 3, 2, 9, 41, 7, tzinfo=UTC)
    prod = metrics("prod", [deployments[1]], window_days=1)
    assert (prod.deployments, prod.failures, prod.restores) == (0, 1, 1)


def test_another_stages_rollback_is_not_this_stages(
    codepipeline: Stubber, context: FakeContext
) -> None:
    elsewhere = _failed_validation(
        "Validation failed: x. Rollback: ECS service api rolled back from api:3 to api:2.",
        datetime(2026, 3, 2, tzinfo=UTC),
    )
    elsewhere["stageName"] = "Deploy-prod"
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": [elsewhere]}, LIST_REQUEST
    )
    event = load_event("record_deployment", "stage-execution-succeeded.json")
    event["detail"]["state"] = "FAILED"

    app.handler(event, context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert (item["outcome"], item["rolled_back"]) == ("FAILED", False)


def test_ecs_appspec_names_the_task_definition(codedeploy: Stubber, context: FakeContext) -> None:
    info = deployment_info("d-7ZJ2WQ1XA", "Failed")
    task = "arn:aws:ecs:us-east-1:123456789012:task-definition/payments-api:42"
    info["deploymentInfo"]["revision"]["appSpecContent"]["content"] = json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {"TaskDefinition": task},
                    }
                }
            ],
        }
    )
    codedeploy.add_response("get_deployment", info, {"deploymentId": "d-7ZJ2WQ1XA"})

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["task_definition"] == task
    assert "function_version" not in item


# --- what a record keeps from the event and the lookups (mutation survivors) ---


def test_pipeline_record_keeps_region_commit_link_and_every_source_revision(
    codepipeline: Stubber, context: FakeContext
) -> None:
    config_commit = "0123456789abcdef0123456789abcdef01234567"
    stub_execution(
        codepipeline,
        artifactRevisions=[
            {
                "name": "Source",
                "revisionId": COMMIT,
                "revisionSummary": "  " + "x" * 600 + "  ",
                "revisionUrl": f"https://github.com/acme/payments/commit/{COMMIT}",
            },
            {"name": "Config", "revisionId": config_commit},
            {"name": "Empty"},
        ],
    )

    app.handler(load_event("record_deployment", "pipeline-execution-started.json"), context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert item["region"] == "us-east-1"
    assert item["commit"] == COMMIT
    assert item["commit_url"] == f"https://github.com/acme/payments/commit/{COMMIT}"
    # A plain-text summary is kept stripped and clipped to 500 characters.
    assert item["commit_message"] == "x" * 500
    assert item["source_revisions"] == {"Source": COMMIT, "Config": config_commit}
    assert item["pipeline_started_at"] == "2026-03-02T10:00:00.000000Z"


def test_a_pipeline_variable_names_what_was_deployed(
    codepipeline: Stubber, context: FakeContext
) -> None:
    # A V2 pipeline-level variable (GetPipelineExecution's `variables`) carries the digest when
    # no action output does.
    pipeline_digest = "sha256:" + "ab" * 32
    codepipeline.add_response(
        "get_pipeline_execution",
        _execution(
            variables=[
                {"name": "IMAGE_DIGEST", "resolvedValue": pipeline_digest},
                {"name": "RELEASE_NOTE", "resolvedValue": "not an artifact"},
            ]
        ),
        GET_REQUEST,
    )
    codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": []}, LIST_REQUEST
    )

    app.handler(load_event("record_deployment", "stage-execution-started.json"), context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert item["image_digest"] == pipeline_digest
    assert "function_version" not in item


def test_a_trigger_without_detail_is_credited_to_its_type(
    codepipeline: Stubber, context: FakeContext
) -> None:
    codepipeline.add_client_error("get_pipeline_execution", "AccessDeniedException")
    codepipeline.add_client_error("list_action_executions", "AccessDeniedException")
    event = load_event("record_deployment", "pipeline-execution-started.json")
    event["detail"]["execution-trigger"] = {"trigger-type": "StartPipelineExecution"}

    app.handler(event, context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert (item["trigger_type"], item["triggered_by"]) == ("StartPipelineExecution",) * 2


def test_codedeploy_record_names_its_application_and_configuration(
    codedeploy: Stubber, context: FakeContext
) -> None:
    codedeploy.add_response(
        "get_deployment", deployment_info("d-7ZJ2WQ1XA", "Failed"), {"deploymentId": "d-7ZJ2WQ1XA"}
    )

    app.handler(load_event("record_deployment", "codedeploy-deployment-failure.json"), context)

    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["codedeploy_application"] == "payments-prod"
    assert item["deployment_config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert item["deployment_id"] == "d-7ZJ2WQ1XA"
    assert item["outcome"] == "FAILED"
    assert item["rolled_back"] is False
    assert "reason" not in item


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (
            "pipeline-execution-started.json",
            {"detail-type": "CodeBuild Build State Change"},
            "unsupported detail-type 'CodeBuild Build State Change'",
        ),
        (
            "pipeline-execution-started.json",
            {"detail": {"pipeline": "p", "execution-id": "not-a-uuid", "state": "STARTED"}},
            "pipeline event without valid pipeline, execution-id or state",
        ),
        (
            "pipeline-execution-started.json",
            {"detail": {"pipeline": "p q", "execution-id": EXECUTION_ID, "state": "STARTED"}},
            "pipeline event without valid pipeline, execution-id or state",
        ),
        (
            "pipeline-execution-started.json",
            {"detail": {"pipeline": "p", "execution-id": EXECUTION_ID, "state": "PAUSED"}},
            "pipeline event without valid pipeline, execution-id or state",
        ),
        (
            "codedeploy-deployment-failure.json",
            {"detail": {"deploymentId": "d-short", "deploymentGroup": "g", "state": "FAILURE"}},
            "CodeDeploy event without valid deploymentId, group or state",
        ),
        (
            "codedeploy-deployment-failure.json",
            {
                "detail": {
                    "deploymentId": "d-7ZJ2WQ1XA",
                    "deploymentGroup": "payments-api-prod",
                    "state": "CREATED",
                }
            },
            "CodeDeploy event without valid deploymentId, group or state",
        ),
    ],
)
def test_ignored_events_say_why_and_write_nothing(
    table: str, context: FakeContext, name: str, change: dict[str, Any], reason: str
) -> None:
    event = {**load_event("record_deployment", name), **change}

    assert app.handler(event, context) == {"status": "ignored", "reason": reason}
    assert all_items(table) == []


@pytest.mark.parametrize(
    "context",
    [object(), type("Broken", (), {"get_remaining_time_in_millis": lambda self: 1 / 0})()],
)
def test_a_context_without_remaining_time_still_allows_lookups(
    context: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_clock", lambda: 100.0)
    # Lambda's 30 s are assumed, less the reserve for the writes: 22 s for lookups.
    budget = app.Budget(context)
    assert budget.allows(21.9)
    assert not budget.allows(22.0)


def test_the_budget_keeps_the_whole_write_reserve(
    context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "_clock", lambda: 100.0)
    context.remaining_ms = 10_000
    budget = app.Budget(context)
    assert budget.allows(1.9)
    assert not budget.allows(2.0)  # a lookup may not eat into the 8 s the writes need


def test_free_text_is_clipped_so_no_item_nears_the_item_limit(
    codepipeline: Stubber, context: FakeContext
) -> None:
    codepipeline.add_client_error("get_pipeline_execution", "AccessDeniedException")
    codepipeline.add_client_error("list_action_executions", "AccessDeniedException")
    event = load_event("record_deployment", "pipeline-execution-started.json")
    event["region"] = "r" * 1500
    event["detail"]["execution-trigger"] = {
        "trigger-type": "T" * 1500,
        "trigger-detail": "d" * 1500,
    }

    app.handler(event, context)

    item = get_item("payments#pipeline", EXECUTION_ID)
    assert (item["region"], item["trigger_type"], item["triggered_by"]) == (
        "r" * 1000,
        "T" * 1000,
        "d" * 1000,
    )
    unsupported = {**event, "detail-type": "x" * 1500}
    assert app.handler(unsupported, context)["reason"] == (
        "unsupported detail-type " + repr("x" * 1500)[:1000]
    )


def test_a_rollback_named_only_in_the_error_details_after_other_actions_counts(
    codepipeline: Stubber, context: FakeContext
) -> None:
    # CodePipeline returns the job failure message as the action's errorDetails.message; the
    # summary may be absent, and other stages' actions come first in the listing.
    elsewhere = _failed_validation(
        "Rollback: ECS service api rolled back from api:9 to api:8.",
        at=datetime(2026, 3, 2, tzinfo=UTC),
    )
    elsewhere["stageName"] = "Deploy-prod"
    validation = _failed_validation(
        "Validation failed: x. Rollback: ECS service api rolled back from api:3 to api:2.",
        datetime(2026, 3, 2, 10, 5, tzinfo=UTC),
    )
    del validation["output"]["executionResult"]["externalExecutionSummary"]
    codepipeline.add_response("get_pipeline_execution", _execution(), GET_REQUEST)
    codepipeline.add_response(
        "list_action_executions", {"actionExecutionDetails": [elsewhere, validation]}, LIST_REQUEST
    )
    event = load_event("record_deployment", "stage-execution-succeeded.json")
    event["detail"]["state"] = "FAILED"

    app.handler(event, context)

    item = get_item("payments#staging", EXECUTION_ID)
    assert (item["outcome"], item["rolled_back"]) == ("ROLLED_BACK", True)
    assert item["rollback_detail"] == "ECS service api rolled back from api:3 to api:2"


def test_a_forwarded_deployment_of_another_region_is_looked_up_there(
    table: str, context: FakeContext
) -> None:
    """An environment in another region forwards its CodeDeploy events to the pipeline's
    region (docs/pipelines.md, 'Other regions'): the deployment exists only in its own."""
    event = load_event("record_deployment", "codedeploy-deployment-failure.json")
    event["region"] = event["detail"]["region"] = "us-west-2"
    there = common.client_in("codedeploy", "us-west-2")
    assert there is not common.client("codedeploy")
    assert there.meta.region_name == "us-west-2"
    with Stubber(there) as stubber, Stubber(common.client("codedeploy")) as here:
        stubber.add_response(
            "get_deployment",
            deployment_info("d-7ZJ2WQ1XA", "Failed"),
            {"deploymentId": "d-7ZJ2WQ1XA"},
        )
        app.handler(event, context)
        stubber.assert_no_pending_responses()
        here.assert_no_pending_responses()
    item = get_item("payments#prod", "codedeploy#d-7ZJ2WQ1XA")
    assert item["region"] == "us-west-2"
    assert item["deployment_config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"


def test_a_deployment_of_the_functions_region_uses_its_own_client() -> None:
    assert common.client_in("codedeploy", "us-east-1") is common.client("codedeploy")
    assert common.client_in("codedeploy", None) is common.client("codedeploy")
