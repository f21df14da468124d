"""Read deployments from the history table: Query per environment partition, every page.

Never a Scan when the environments are known: a Query reads one partition, so cost and time
grow with that environment's history, not with the whole table. The pipeline partition is read
once for execution start times (lead time). Works with any boto3 DynamoDB client (moto in tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from conveyor.history.records import (
    ATTRIBUTES,
    PIPELINE_PARTITION,
    Deployment,
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


def _pages(client: Any, operation: str, **request: Any) -> Iterator[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    yield from paginator.paginate(**request)


def _projection() -> tuple[str, dict[str, str]]:
    names = {f"#a{i}": name for i, name in enumerate(ATTRIBUTES)}
    return ", ".join(names), names


def _query(client: Any, table: str, pk: str, since: datetime) -> Iterator[dict[str, Any]]:
    projection, names = _projection()
    names = {**names, "#pk": "pk", "#started": "started_at"}
    return _pages(
        client,
        "query",
        TableName=table,
        KeyConditionExpression="#pk = :pk",
        FilterExpression="#started >= :since",
        ProjectionExpression=projection,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={":pk": {"S": pk}, ":since": {"S": iso(since)}},
    )


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


def read_deployments(
    client: Any,
    table: str,
    app: str,
    environments: Sequence[str] | None,
    since: datetime,
) -> tuple[list[Deployment], ReadStats]:
    """Deploy-stage records started at or after `since`, oldest first, with pipeline starts."""
    pages = items = 0
    deployments: list[Deployment] = []
    starts: dict[str, datetime] = {}

    def consume(page_iter: Iterator[dict[str, Any]]) -> None:
        nonlocal pages, items
        for page in page_iter:
            pages += 1
            for item in page.get("Items", ()):
                items += 1
                deployment = from_item(item)
                if deployment is not None:
                    deployments.append(deployment)
                    continue
                start = pipeline_start(item)
                if start is not None and item.get("pk", {}).get("S", "").endswith(
                    f"#{PIPELINE_PARTITION}"
                ):
                    starts[start[0]] = start[1]

    if environments:
        for environment in environments:
            consume(_query(client, table, partition(app, environment), since))
        consume(
            _query(client, table, partition(app, PIPELINE_PARTITION), since - PIPELINE_LOOKBACK)
        )
    else:
        consume(_scan(client, table, app, since - PIPELINE_LOOKBACK))
        deployments = [d for d in deployments if d.started_at is None or d.started_at >= since]

    joined = [replace(d, pipeline_started_at=starts.get(d.execution_id)) for d in deployments]
    joined.sort(key=lambda d: (d.started_at or since, d.execution_id))
    return joined, ReadStats(pages=pages, items=items, scanned=not environments)
