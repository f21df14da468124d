# mypy: disable-error-code="import-untyped"
"""watch_executions counts executions running past the threshold and reports the metric."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.handlers import _common as common
from conveyor.handlers.watch_executions import app

from .support import FakeContext, load_event, log_lines

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
def codepipeline(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client("codepipeline", region_name="us-east-1")

    class Clients:
        """Stands in for the cached client factory (the conftest clears its cache)."""

        def __call__(self, service: str) -> object:
            assert service == "codepipeline", f"only CodePipeline is called, not {service}"
            return client

        def cache_clear(self) -> None:
            pass

    monkeypatch.setattr(common, "client", Clients())
    monkeypatch.setenv("PIPELINE_NAME", "web-pipeline")
    monkeypatch.setenv("STUCK_MINUTES", "60")
    return Stubber(client)


def _metrics(stdout: str) -> list[dict[str, Any]]:
    """The embedded-metric-format records among the log lines."""
    return [line for line in log_lines(stdout) if "_aws" in line]


def test_handler_pages_and_writes_the_count_as_an_embedded_metric(
    codepipeline: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    codepipeline.add_response(
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
    codepipeline.add_response(
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
    with codepipeline:
        result = app.handler(load_event("watch_executions", "schedule.json"), context)
    assert result == {"status": "measured", "stuck": ["b"]}
    codepipeline.assert_no_pending_responses()
    [metric] = _metrics(capsys.readouterr().out)
    # Exactly what the alarm in constructs/execution_watch.py watches.
    assert metric["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "Conveyor",
            "Dimensions": [["PipelineName"]],
            "Metrics": [{"Name": "StuckExecutions", "Unit": "Count"}],
        }
    ]
    assert metric["PipelineName"] == "web-pipeline"
    assert metric["StuckExecutions"] in (1.0, [1.0])


def test_no_stuck_execution_still_writes_zero(
    codepipeline: Stubber, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """An alarm on a metric that stops arriving cannot clear; zero is written every run."""
    codepipeline.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": []})
    with codepipeline:
        first = app.handler(load_event("watch_executions", "schedule.json"), context)
    with Stubber(common.client("codepipeline")) as again:
        again.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": []})
        app.handler(load_event("watch_executions", "schedule.json"), context)
    assert first == {"status": "measured", "stuck": []}
    counts = [m["StuckExecutions"] for m in _metrics(capsys.readouterr().out)]
    assert counts in ([0.0, 0.0], [[0.0], [0.0]])


@pytest.mark.parametrize("minutes", ["an hour", "0", "-5", "1.5", ""])
def test_bad_threshold_is_a_configuration_error_naming_the_value(
    codepipeline: Stubber, monkeypatch: pytest.MonkeyPatch, context: FakeContext, minutes: str
) -> None:
    monkeypatch.setenv("STUCK_MINUTES", minutes)
    with pytest.raises(common.ConfigurationError, match="STUCK_MINUTES must be a whole number"):
        app.handler({}, context)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
_summary = st.fixed_dictionaries(
    {},
    optional={
        "pipelineExecutionId": st.text(max_size=40),
        "status": st.sampled_from(["InProgress", "Stopping", "Succeeded", "Failed"]),
        "startTime": st.datetimes(timezones=st.just(UTC)),
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=_json, summaries=st.lists(_summary, max_size=5))
def test_never_raises_on_any_event_or_listing(
    codepipeline: Stubber, event: Any, summaries: list[dict[str, Any]]
) -> None:
    """The schedule's event is not needed: any shape measures; any listing counts."""
    with Stubber(common.client("codepipeline")) as stubber:
        stubber.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": summaries})
        result = app.handler(event, FakeContext())
    assert result["status"] == "measured"
    assert len(result["stuck"]) <= len(summaries)


def test_missing_pipeline_name_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.delenv("PIPELINE_NAME", raising=False)
    with pytest.raises(common.ConfigurationError, match="PIPELINE_NAME"):
        app.handler({}, context)
