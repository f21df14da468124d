"""botocore Stubber clients and CodePipeline/CloudFormation answers shaped like AWS's own.

Shapes: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineState.html,
API_ListPipelineExecutions.html, API_GetPipelineExecution.html, and CloudFormation's
API_DescribeStacks.html. The Stubber validates every request and response against botocore's
service model, so a misspelt parameter fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.stub import Stubber  # type: ignore[import-untyped]

PIPELINE = "payments-pipeline"
REGION = "eu-west-1"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments-images@{DIGEST}"


def execution_id(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def summary(
    n: int,
    *,
    status: str = "Succeeded",
    rollback_of: int | None = None,
    commit: str | None = None,
) -> dict[str, Any]:
    """Execution n started n hours after START (a higher n is newer)."""
    item: dict[str, Any] = {
        "pipelineExecutionId": execution_id(n),
        "status": status,
        "startTime": START + timedelta(hours=n),
        "lastUpdateTime": START + timedelta(hours=n, minutes=20),
        "sourceRevisions": [
            {
                "actionName": "Source",
                "revisionId": commit or f"{n:040x}",
                "revisionSummary": f"change {n}\n\nbody",
            }
        ],
        "trigger": {"triggerType": "WebhookV2"},
        "executionType": "STANDARD",
    }
    if rollback_of is not None:
        item["executionType"] = "ROLLBACK"
        item["trigger"] = {"triggerType": "ManualRollback"}
        item["rollbackMetadata"] = {"rollbackTargetPipelineExecutionId": execution_id(rollback_of)}
    return item


def detail(n: int, *, version: int = 3, rollback_of: int | None = None) -> dict[str, Any]:
    execution: dict[str, Any] = {
        "pipelineName": PIPELINE,
        "pipelineVersion": version,
        "pipelineExecutionId": execution_id(n),
        "status": "Succeeded",
        "artifactRevisions": [{"name": "Source", "revisionId": f"{n:040x}"}],
        "executionType": "STANDARD",
    }
    if rollback_of is not None:
        execution["executionType"] = "ROLLBACK"
        execution["rollbackMetadata"] = {
            "rollbackTargetPipelineExecutionId": execution_id(rollback_of)
        }
    return {"pipelineExecution": execution}


def stage(
    name: str,
    n: int | None,
    *,
    status: str = "Succeeded",
    kind: str = "STANDARD",
    conditions: dict[str, str] | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {"stageName": name}
    if n is not None:
        state["latestExecution"] = {
            "pipelineExecutionId": execution_id(n),
            "status": status,
            "type": kind,
        }
    for key, value in (conditions or {}).items():
        state[key] = {"latestExecution": {"status": value, "summary": "alarm check"}}
    return state


def state(*stages: dict[str, Any], version: int = 3) -> dict[str, Any]:
    return {"pipelineName": PIPELINE, "pipelineVersion": version, "stageStates": list(stages)}


def add_state(stubber: Stubber, answer: dict[str, Any]) -> None:
    stubber.add_response("get_pipeline_state", answer, {"name": PIPELINE})


def add_detail(stubber: Stubber, n: int, **kwargs: Any) -> None:
    stubber.add_response(
        "get_pipeline_execution",
        detail(n, **kwargs),
        {"pipelineName": PIPELINE, "pipelineExecutionId": execution_id(n)},
    )


def add_succeeded(stubber: Stubber, stage_name: str, summaries: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": summaries},
        {
            "pipelineName": PIPELINE,
            "maxResults": 50,
            "filter": {"succeededInStage": {"stageName": stage_name}},
        },
    )
