"""Reading the history table (moto): paging through a realistic 10 000-record history, Query
only, the pipeline-start join for lead time, and the window bound."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from conveyor.history.dora import metrics
from conveyor.history.reader import read_deployments

from .generate import START, create_table, history_items, load

TABLE = "shop-deployments"


@pytest.fixture
def client() -> Any:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(dynamodb, TABLE)
        yield dynamodb


def _count_calls(client: Any) -> dict[str, int]:
    calls = {"Query": 0, "Scan": 0}

    def count(model: Any, **kwargs: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1

    client.meta.events.register("before-call.dynamodb.*", count)
    return calls


def test_ten_thousand_records_are_paged_with_queries_only(client: Any) -> None:
    started = time.perf_counter()
    written = load(client, TABLE, history_items("shop", 3500))
    build_seconds = time.perf_counter() - started
    assert written >= 10_000

    calls = _count_calls(client)
    started = time.perf_counter()
    deployments, stats = read_deployments(
        client, TABLE, "shop", ["staging", "prod"], START - timedelta(days=1)
    )
    read_seconds = time.perf_counter() - started
    print(f"\nbuilt {written} items in {build_seconds:.1f} s; read in {read_seconds:.2f} s")

    assert calls["Scan"] == 0
    assert calls["Query"] == stats.pages > 3  # one page per MB: the reader followed every page
    assert stats.items == written
    staging = [d for d in deployments if d.environment == "staging"]
    prod = [d for d in deployments if d.environment == "prod"]
    assert len(staging) == 3500
    assert len(staging) + len(prod) + 3500 == written
    assert all(d.pipeline_started_at is not None for d in deployments)
    assert [d.started_at for d in deployments] == sorted(d.started_at for d in deployments)  # type: ignore[type-var]

    result = metrics("prod", prod, window_days=3500 * 1.5 / 24)
    assert 0.05 < (result.change_failure_rate or 0) < 0.2
    assert result.lead_time_seconds is not None and result.lead_time_seconds > 15 * 60


def test_window_excludes_older_deployments(client: Any) -> None:
    load(client, TABLE, history_items("shop", 100))
    since = START + timedelta(minutes=90 * 50)
    deployments, _ = read_deployments(client, TABLE, "shop", ["staging"], since)
    assert 45 <= len(deployments) <= 50
    assert all(d.started_at is not None and d.started_at >= since for d in deployments)
    # executions started before the window but deployed inside it still get their lead time
    assert all(d.pipeline_started_at is not None for d in deployments)


def test_without_environments_the_reader_scans_for_this_app_only(client: Any) -> None:
    load(client, TABLE, history_items("shop", 20))
    load(client, TABLE, history_items("other", 20, seed=1))
    calls = _count_calls(client)
    deployments, stats = read_deployments(client, TABLE, "shop", None, START)
    assert stats.scanned and calls["Scan"] >= 1 and calls["Query"] == 0
    assert {d.environment for d in deployments} == {"staging", "prod"}
    assert len([d for d in deployments if d.environment == "staging"]) == 20


def test_codedeploy_records_are_not_counted_as_deployments(client: Any) -> None:
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "shop#prod"},
            "sk": {"S": "codedeploy#d-ABCDEFGHI"},
            "outcome": {"S": "SUCCEEDED"},
            "started_at": {"S": "2026-01-02T00:00:00.000000Z"},
        },
    )
    deployments, _ = read_deployments(client, TABLE, "shop", ["prod"], START)
    assert deployments == []
