"""Stuck executions (FM73): count the pipeline's executions running longer than a threshold.

Invoked on a schedule by EventBridge. CodePipeline emits no event while an execution hangs
(a deploy that never stabilises, an approval nobody answers), so this handler looks, and
writes the count as a CloudWatch metric in embedded metric format (Powertools Metrics): the
log line is the metric, so the function needs no cloudwatch:PutMetricData right.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common

logger = common.get_logger("conveyor.watch_executions")

NAMESPACE = "Conveyor"
METRIC = "StuckExecutions"
# Executions are listed newest first; once a page is older than this, nothing further can be
# in progress (CodePipeline ends executions after at most 35 days).
HORIZON = timedelta(days=35)


def stuck(
    executions: Iterable[Mapping[str, Any]], *, now: datetime, threshold: timedelta
) -> list[str]:
    """Ids of executions still in progress that started more than `threshold` before `now`."""
    found = []
    for execution in executions:
        if execution.get("status") not in {"InProgress", "Stopping"}:
            continue
        started = common.parse_time(execution.get("startTime"))
        if started is not None and now - started > threshold:
            found.append(str(execution.get("pipelineExecutionId", "?")))
    return found


def _executions(pipeline: str, now: datetime) -> Iterable[Mapping[str, Any]]:
    codepipeline = common.client("codepipeline")
    token: str | None = None
    while True:
        page = codepipeline.list_pipeline_executions(
            pipelineName=pipeline, maxResults=100, **({"nextToken": token} if token else {})
        )
        summaries = page.get("pipelineExecutionSummaries", [])
        yield from summaries
        token = page.get("nextToken")
        oldest = min(
            (t for s in summaries if (t := common.parse_time(s.get("startTime"))) is not None),
            default=None,
        )
        if not token or (oldest is not None and now - oldest > HORIZON):
            return


def _threshold() -> timedelta:
    raw = os.environ.get("STUCK_MINUTES", "60").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise common.ConfigurationError(
            f"STUCK_MINUTES must be a whole number of minutes of at least 1, not {raw!r}"
        )
    return timedelta(minutes=int(raw))


def put_metric(pipeline: str, stuck_count: int) -> None:
    """The count as one EMF log line: exactly the namespace, name and dimension the alarm in
    constructs/execution_watch.py watches, and no `service` dimension."""
    # Imported on first use, like the AWS clients: Metrics is not needed to import the handler.
    from aws_lambda_powertools.metrics import Metrics, MetricUnit

    metrics = Metrics(namespace=NAMESPACE)
    metrics.add_dimension(name="PipelineName", value=pipeline)
    metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=stuck_count)
    metrics.flush_metrics()


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    pipeline = common.require_env("PIPELINE_NAME")
    threshold = _threshold()
    # Whatever invoked the function (the schedule, a test, a replay from the failed-events
    # queue), "now" is the clock: a replayed event's time would count old executions stuck.
    scheduled = common.eventbridge_event(event)
    now = datetime.now(UTC)
    ids = stuck(_executions(pipeline, now), now=now, threshold=threshold)
    put_metric(pipeline, len(ids))
    if ids:
        logger.warning(
            "stuck executions",
            extra={
                "pipeline": pipeline,
                "executions": ids,
                "minutes": int(threshold.total_seconds() // 60),
                "event_id": scheduled.get_id if scheduled else None,
            },
        )
    return {"status": "measured", "stuck": ids}
