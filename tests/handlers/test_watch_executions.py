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


# ---- mutation survivors (mutmut on watch_executions/app.py) ---------------------------------


def test_an_execution_exactly_at_the_threshold_is_not_stuck_yet() -> None:
    # "running longer than N minutes" (the alarm's description): exactly N is not longer.
    assert app.stuck([_execution(60, n=1)], now=NOW, threshold=timedelta(minutes=60)) == []
    assert app.stuck([_execution(61, n=1)], now=NOW, threshold=timedelta(minutes=60)) != []


def test_a_stuck_execution_without_an_id_is_still_counted_as_unknown() -> None:
    running = {"status": "InProgress", "startTime": NOW - timedelta(hours=2)}
    assert app.stuck([running], now=NOW, threshold=timedelta(minutes=60)) == ["?"]


def _page(*minutes_ago: int, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "pipelineExecutionSummaries": [
            {
                "pipelineExecutionId": f"e-{m}",
                "status": "Succeeded",
                "startTime": NOW - timedelta(minutes=m),
            }
            for m in minutes_ago
        ]
    }
    if token:
        page["nextToken"] = token
    return page


HORIZON_MINUTES = int(app.HORIZON.total_seconds() // 60)


def test_listing_stops_at_the_first_page_older_than_the_horizon(codepipeline: Stubber) -> None:
    """CodePipeline ends executions within 35 days: pages further back cannot hold one still
    running, so the watch does not read a long history every few minutes."""
    codepipeline.add_response(
        "list_pipeline_executions", _page(10, HORIZON_MINUTES + 1, token="page-2")
    )
    with codepipeline:
        listed = list(app._executions("web-pipeline", NOW))
    codepipeline.assert_no_pending_responses()
    assert [e["pipelineExecutionId"] for e in listed] == ["e-10", f"e-{HORIZON_MINUTES + 1}"]


def test_listing_goes_on_while_the_oldest_is_within_the_horizon(codepipeline: Stubber) -> None:
    # Exactly at the horizon is still within it; a page without start times says nothing.
    codepipeline.add_response(
        "list_pipeline_executions", _page(10, HORIZON_MINUTES, token="page-2")
    )
    codepipeline.add_response(
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [{"pipelineExecutionId": "no-start"}], "nextToken": "p3"},
        {"pipelineName": "web-pipeline", "maxResults": 100, "nextToken": "page-2"},
    )
    codepipeline.add_response(
        "list_pipeline_executions",
        {"nextToken": "p4"},  # a page without summaries
        {"pipelineName": "web-pipeline", "maxResults": 100, "nextToken": "p3"},
    )
    codepipeline.add_response(
        "list_pipeline_executions",
        _page(20),
        {"pipelineName": "web-pipeline", "maxResults": 100, "nextToken": "p4"},
    )
    with codepipeline:
        listed = list(app._executions("web-pipeline", NOW))
    codepipeline.assert_no_pending_responses()
    assert len(listed) == 4


def test_stuck_minutes_defaults_to_an_hour_and_accepts_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STUCK_MINUTES", raising=False)
    assert app._threshold() == timedelta(minutes=60)
    monkeypatch.setenv("STUCK_MINUTES", " 1 ")
    assert app._threshold() == timedelta(minutes=1)


def test_stuck_executions_are_logged_with_pipeline_threshold_and_event(
    codepipeline: Stubber,
    monkeypatch: pytest.MonkeyPatch,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What on-call reads next to the alarm: which executions, of which pipeline, against
    which threshold, found by which scheduled event and invocation."""
    monkeypatch.setenv("STUCK_MINUTES", "119")
    now = datetime.now(UTC)
    codepipeline.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "e-stuck",
                    "status": "InProgress",
                    "startTime": now - timedelta(hours=3),
                }
            ]
        },
    )
    event = load_event("watch_executions", "schedule.json")
    with codepipeline:
        app.handler(event, context)
    [line] = [line for line in log_lines(capsys.readouterr().out) if line.get("level") == "WARNING"]
    assert line["message"] == "stuck executions"
    assert line["pipeline"] == "web-pipeline"
    assert line["executions"] == ["e-stuck"]
    assert line["minutes"] == 119 and isinstance(line["minutes"], int)
    assert line["event_id"] == event["id"]
    assert line["request_id"] == context.aws_request_id
