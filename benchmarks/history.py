"""Time `conveyor history`'s reader over a 10 000-record deployment history.

Run: .venv/bin/python benchmarks/history.py
Prints two numbers: the reader against moto (dominated by moto's own request handling), and the
reader alone over the same pages replayed from memory (what conveyor adds on top of DynamoDB).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Fake credentials for moto; nothing leaves this process.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)

import boto3  # type: ignore[import-untyped]
from moto import mock_aws
from tests.history.generate import START, create_table, history_items, load

from conveyor.history.dora import metrics
from conveyor.history.reader import read_deployments


class _Replay:
    """A client whose paginator hands back recorded pages: no service in the loop."""

    def __init__(self, pages: dict[str, list[dict[str, Any]]]) -> None:
        self.pages = pages

    def get_paginator(self, operation: str) -> _Replay:
        return self

    def paginate(self, **request: Any) -> list[dict[str, Any]]:
        return self.pages[request["ExpressionAttributeValues"][":pk"]["S"]]


def main() -> None:
    since = START - timedelta(days=1)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "bench")
        written = load(client, "bench", history_items("shop", 3500))
        recorded: dict[str, list[dict[str, Any]]] = {}
        for pk in ("shop#staging", "shop#prod", "shop#pipeline"):
            paginator = client.get_paginator("query")
            recorded[pk] = list(
                paginator.paginate(
                    TableName="bench",
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": pk}},
                )
            )
        started = time.perf_counter()
        deployments, stats = read_deployments(client, "bench", "shop", ["staging", "prod"], since)
        with_moto = time.perf_counter() - started

    started = time.perf_counter()
    replayed, _ = read_deployments(_Replay(recorded), "bench", "shop", ["staging", "prod"], since)
    prod = [d for d in replayed if d.environment == "prod"]
    metrics("prod", prod, window_days=220)
    alone = time.perf_counter() - started
    print(f"{written} items, {stats.pages} pages, {len(deployments)} deployments")
    print(f"reader + moto:            {with_moto:.2f} s")
    print(f"reader + DORA, no service: {alone:.3f} s")


if __name__ == "__main__":
    main()
