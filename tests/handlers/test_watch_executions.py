# mypy: disable-error-code="import-untyped"
"""watch_executions counts executions running past the threshold and reports the metric."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from conveyor.handlers import _common as common
from conveyor.handlers.watch_executions import app

from .support import FakeContext, load_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _execution(minutes_ago: int, status: str = "InProgress", n: int = 0) -> dict[str, Any]:
    return {
        "pipelineExecutionId": f"0000000{n}-aaaa-bbbb-cccc-dddddddddddd",
        "status": status,
        "startTime": NOW - timedelta(minutes=minutes_ago),
    }


def test_only_long_running_in_progress_executions_are_stuck() -> None:
    executions: list[dict[str, Any]] = [
        _execution(90, n=1),
        _execution(30, n=2),
        _execution(120, "Succeeded", n=3),
        _execution(200, "Stopping", n=4),
        {"status": "InProgress"},  # no start time: cannot judge, not counted
    ]
    ids = app.stuck(executions, now=NOW, threshold=timedelta(minutes=60))
    assert ids == [
        "00000001-aaaa-bbbb-cccc-dddddddddddd",
        "00000004-aaaa-bbbb-cccc-dddddddddddd",
    ]


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> tuple[Stubber, Stubber]:
    codepipeline = boto3.client("codepipeline", region_name="us-east-1")
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    made = {"codepipeline": codepipeline, "cloudwatch": cloudwatch}

    class Clients:
        """Stands in for the cached client factory (the conftest clears its cache)."""

        def __call__(self, service: str) -> object:
            return made[service]

        def cache_clear(self) -> None:
            pass

    monkeypatch.setattr(common, "client", Clients())
    return Stubber(codepipeline), Stubber(cloudwatch)


def test_handler_pages_and_puts_the_count(
    clients: tuple[Stubber, Stubber], monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.setenv("PIPELINE_NAME", "web-pipeline")
    monkeypatch.setenv("STUCK_MINUTES", "60")
    pipeline, cloudwatch = clients
    now = datetime.now(UTC)
    pipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "a",
                    "status": "InProgress",
                    "startTime": now - timedelta(minutes=5),
                }
            ],
            "nextToken": "page-2",
        },
        {"pipelineName": "web-pipeline", "maxResults": 100},
    )
    pipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "b",
                    "status": "InProgress",
                    "startTime": now - timedelta(hours=3),
                }
            ]
        },
        {"pipelineName": "web-pipeline", "maxResults": 100, "nextToken": "page-2"},
    )
    cloudwatch.add_response(
        "put_metric_data",
        {},
        {
            "Namespace": "Conveyor",
            "MetricData": [
                {
                    "MetricName": "StuckExecutions",
                    "Dimensions": [{"Name": "PipelineName", "Value": "web-pipeline"}],
                    "Value": 1.0,
                    "Unit": "Count",
                }
            ],
        },
    )
    with pipeline, cloudwatch:
        result = app.handler(load_event("watch_executions", "schedule.json"), context)
    assert result == {"status": "measured", "stuck": ["b"]}
    pipeline.assert_no_pending_responses()
    cloudwatch.assert_no_pending_responses()


def test_missing_pipeline_name_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.delenv("PIPELINE_NAME", raising=False)
    with pytest.raises(common.ConfigurationError, match="PIPELINE_NAME"):
        app.handler({}, context)


def test_bad_threshold_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.setenv("PIPELINE_NAME", "web-pipeline")
    monkeypatch.setenv("STUCK_MINUTES", "an hour")
    with pytest.raises(common.ConfigurationError, match="STUCK_MINUTES"):
        app.handler({}, context)
