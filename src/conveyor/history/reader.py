"""Read deployments from the history table: one Query per environment on the time index.

The table's `by-start` index sorts each partition by `started_at`, so a window is a key condition:
DynamoDB reads only the items inside it, and cost and time grow with the window, not with the
environment's whole history. Tables deployed before the index existed are read with a filtered
Query of the partition until the next deploy adds it. The pipeline partition is read only for
records written before stage records carried their execution's start time (lead time). Without
known environments the reader scans for the app, and says so. Works with any boto3 DynamoDB
client (moto in tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from conveyor.history.records import (
    ATTRIBUTES,
    PIPELINE_PARTITION,
    TIME_INDEX,
    CodeDeployRun,
    CodeDeployRuns,
    Deployment,
    codedeploy_from_item,
    fold_codedeploy,
    from_item,
    iso,
    partition,
    pipeline_start,
)

# An execution can wait for an approval for days before it reaches an environment; its start
# time is looked up this far before the window so its lead time is still known.
PIPELINE_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class ReadStats:
    pages: int
    items: int
    scanned: bool
    indexed: bool = True


def _pages(client: Any, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    yield from paginator.paginate(**request)


def _projection() -> tuple[str, dict[str, str]]:
    names = {f"#a{i}": name for i, name in enumerate(ATTRIBUTES)}
    return ", ".join(names), names


def _query(
    client: Any, table: str, pk: str, since: datetime, *, indexed: bool
) -> Iterator[dict[str, Any]]:
    projection, names = _projection()
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": projection,
        "ExpressionAttributeNames": {**names, "#pk": "pk", "#started": "started_at"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":since": {"S": iso(since)}},
    }
    if indexed:
        request["IndexName"] = TIME_INDEX
        request["KeyConditionExpression"] = "#pk = :pk AND #started >= :since"
    else:
        request["KeyConditionExpression"] = "#pk = :pk"
        request["FilterExpression"] = "#started >= :since"
    return _pages(client, "query", **request)


def _scan(client: Any, table: str, app: str, since: datetime) -> Iterator[dict[str, Any]]:
    projection, names = _projection()
    names = {**names, "#pk": "pk", "#started": "started_at"}
    return _pages(
        client,
        "scan",
        TableName=table,
        FilterExpression="begins_with(#pk, :prefix) AND #started >= :since",
        ProjectionExpression=projection,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={":prefix": {"S": f"{app}#"}, ":since": {"S": iso(since)}},
    )


def _missing_index(exc: Exception) -> bool:
    # DynamoDB says "ValidationException: The table does not have the specified index" (moto:
    # ResourceNotFoundException "Invalid index"); a missing table never mentions an index.
    error = getattr(exc, "response", {}).get("Error", {})
    return error.get("Code") in {"ValidationException", "ResourceNotFoundException"} and (
        "index" in str(error.get("Message", "")).lower()
    )


class _Collector:
    def __init__(self) -> None:
        self.pages = self.items = 0
        self.deployments: list[Deployment] = []
        self.runs: list[CodeDeployRun] = []
        self.starts: dict[str, datetime] = {}

    def consume(self, pages: Iterator[dict[str, Any]]) -> None:
        for page in pages:
            self.pages += 1
            for item in page.get("Items", ()):
                self.items += 1
                self._take(item)

    def _take(self, item: dict[str, Any]) -> None:
        deployment = from_item(item)
        if deployment is not None:
            self.deployments.append(deployment)
            return
        run = codedeploy_from_item(item)
        if run is not None:
            self.runs.append(run)
            return
        start = pipeline_start(item)
        if start is not None and item.get("pk", {}).get("S", "").endswith(f"#{PIPELINE_PARTITION}"):
            self.starts[start[0]] = start[1]


def _read_environments(
    client: Any, table: str, app: str, environments: Sequence[str], since: datetime
) -> tuple[_Collector, bool]:
    collector = _Collector()
    indexed = True
    for environment in environments:
        try:
            collector.consume(
                _query(client, table, partition(app, environment), since, indexed=indexed)
            )
        except Exception as exc:
            if not indexed or not _missing_index(exc):
                raise
            indexed = False
            collector.consume(
                _query(client, table, partition(app, environment), since, indexed=False)
            )
    if any(d.pipeline_started_at is None for d in collector.deployments):
        pipeline = partition(app, PIPELINE_PARTITION)
        collector.consume(
            _query(client, table, pipeline, since - PIPELINE_LOOKBACK, indexed=indexed)
        )
    return collector, indexed


def read_deployments(
    client: Any,
    table: str,
    app: str,
    environments: Sequence[str] | None,
    since: datetime,
) -> tuple[list[Deployment], ReadStats]:
    """Deploy-stage records started at or after `since`, oldest first, one per deployment."""
    if environments:
        collector, indexed = _read_environments(client, table, app, environments, since)
        deployments = collector.deployments
    else:
        collector, indexed = _Collector(), False
        collector.consume(_scan(client, table, app, since - PIPELINE_LOOKBACK))
        deployments = [
            d for d in collector.deployments if d.started_at is None or d.started_at >= since
        ]

    stats = ReadStats(
        pages=collector.pages, items=collector.items, scanned=not environments, indexed=indexed
    )
    return _joined(collector, deployments, since), stats


def deployments_from_items(items: Sequence[dict[str, Any]], since: datetime) -> list[Deployment]:
    """What `read_deployments` returns, from items already in hand (the bundled demo sample):
    every deployment of every environment started at or after `since`."""
    collector = _Collector()
    collector.consume(iter([{"Items": list(items)}]))
    deployments = [
        d for d in collector.deployments if d.started_at is None or d.started_at >= since
    ]
    return _joined(collector, deployments, since)


def _joined(
    collector: _Collector, deployments: list[Deployment], since: datetime
) -> list[Deployment]:
    """Deployments with their execution's start and their CodeDeploy detail, oldest first."""
    runs = CodeDeployRuns(collector.runs)
    joined = [
        fold_codedeploy(
            replace(
                d, pipeline_started_at=d.pipeline_started_at or collector.starts.get(d.execution_id)
            ),
            runs,
        )
        for d in deployments
    ]
    joined.sort(key=lambda d: (d.started_at or since, d.execution_id))
    return joined
