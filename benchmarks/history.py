"""Time `conveyor history`'s reader and DORA metrics over a 100 000-record deployment history.

Run: .venv/bin/python benchmarks/history.py [--executions N]
Prints, for a 30-day window at the end of the history (what `conveyor history` reads by
default), the items DynamoDB reads and the wall time through the `by-start` time index against
the peer: the same window as a filtered Query of each whole partition (the reader before the
index). Both run against moto (a local fake of DynamoDB; far slower per item than the service,
so only the ratio and the item counts carry over). Then the reader plus the DORA computation
over the whole history, with the pages replayed from memory: what conveyor itself adds on top
of DynamoDB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
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

from conveyor.history import reader
from conveyor.history.dora import metrics
from conveyor.history.reader import read_deployments
from conveyor.history.records import parse_time

ENVIRONMENTS = ["staging", "prod"]
PAGE_ITEMS = 2500  # about what fits in DynamoDB's 1 MB page with the projected attributes


class _Replay:
    """A client whose paginator hands back prepared pages: no service in the loop."""

    def __init__(self, pages: dict[str, list[dict[str, Any]]]) -> None:
        self.pages = pages

    def get_paginator(self, operation: str) -> _Replay:
        return self

    def paginate(self, **request: Any) -> list[dict[str, Any]]:
        return self.pages.get(request["ExpressionAttributeValues"][":pk"]["S"], [])


def _pages_by_partition(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    partitions: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        partitions.setdefault(item["pk"]["S"], []).append(item)
    pages: dict[str, list[dict[str, Any]]] = {}
    for pk, members in partitions.items():
        members.sort(key=lambda item: item["started_at"]["S"])
        pages[pk] = [
            {"Items": members[i : i + PAGE_ITEMS]} for i in range(0, len(members), PAGE_ITEMS)
        ]
    return pages


def _scanned(client: Any) -> list[int]:
    counts: list[int] = []
    client.meta.events.register(
        "after-call.dynamodb.Query",
        lambda parsed, **_: counts.append(parsed.get("ScannedCount", 0)),
    )
    return counts


def _filtered_window(client: Any, table: str, since: Any) -> int:
    """The peer: each environment's whole partition read, the window applied as a filter."""
    found = 0
    for environment in ENVIRONMENTS:
        pages: Iterator[dict[str, Any]] = reader._query(
            client, table, f"shop#{environment}", since, indexed=False
        )
        found += sum(len(page["Items"]) for page in pages)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=34_500, help="about 2.9 items each")
    args = parser.parse_args()

    items = list(history_items("shop", args.executions))
    last = max(item["started_at"]["S"] for item in items)
    end = parse_time(last)
    assert end is not None
    window = end - timedelta(days=30)

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "bench")
        started = time.perf_counter()
        written = load(client, "bench", iter(items))
        print(
            f"{written} items ({args.executions} executions) loaded into moto in "
            f"{time.perf_counter() - started:.0f} s"
        )

        scanned = _scanned(client)
        started = time.perf_counter()
        deployments, stats = read_deployments(client, "bench", "shop", ENVIRONMENTS, window)
        indexed_seconds = time.perf_counter() - started
        indexed_read = sum(scanned)

        scanned.clear()
        started = time.perf_counter()
        peer_found = _filtered_window(client, "bench", window)
        filtered_seconds = time.perf_counter() - started
        filtered_read = sum(scanned)
    assert peer_found == len(deployments) == stats.items, (peer_found, len(deployments))

    print(f"30-day window: {len(deployments)} deployments")
    print(f"  time index (by-start):     {indexed_read:>7} items read, {indexed_seconds:6.2f} s")
    print(f"  filtered partition (peer): {filtered_read:>7} items read, {filtered_seconds:6.2f} s")
    print(
        f"  ratio peer/index: {filtered_read / max(indexed_read, 1):.0f}x items, "
        f"{filtered_seconds / indexed_seconds:.0f}x time (moto)"
    )

    pages = _pages_by_partition(items)
    since = START - timedelta(days=1)
    window_days = (end - since).total_seconds() / 86400
    started = time.perf_counter()
    everything, full = read_deployments(_Replay(pages), "bench", "shop", ENVIRONMENTS, since)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    results = [
        metrics(env, [d for d in everything if d.environment == env], window_days)
        for env in ENVIRONMENTS
    ]
    dora_seconds = time.perf_counter() - started
    print(f"whole history, pages replayed from memory: {full.items} items, {full.pages} pages")
    print(f"  reader:        {read_seconds:.2f} s")
    print(f"  DORA metrics:  {dora_seconds:.2f} s")
    print(f"  reader + DORA: {read_seconds + dora_seconds:.2f} s")
    prod = results[-1]
    print(
        f"  prod: {prod.deployments} deployments, change failure rate "
        f"{prod.change_failure_rate:.1%}, lead time {prod.lead_time_seconds or 0:.0f} s median"
    )


if __name__ == "__main__":
    main()
