"""Reading the history table (moto): paging through a realistic 10 000-record history, Query
only, a window read through the time index, the pipeline-start join for older records, and one
deployment per stage record (CodeDeploy records folded in)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
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
    assert calls["Query"] == stats.pages > 2  # one page per MB: the reader followed every page
    # Stage records carry their execution's start: the pipeline partition is not read.
    assert stats.items == written - 3500
    staging = [d for d in deployments if d.environment == "staging"]
    prod = [d for d in deployments if d.environment == "prod"]
    assert len(staging) == 3500
    assert len(staging) + len(prod) + 3500 == written
    assert all(d.pipeline_started_at is not None for d in deployments)
    assert [d.started_at for d in deployments] == sorted(d.started_at for d in deployments)  # type: ignore[type-var]

    result = metrics("prod", prod, window_days=3500 * 1.5 / 24)
    assert 0.05 < (result.change_failure_rate or 0) < 0.2
    assert result.lead_time_seconds is not None and result.lead_time_seconds > 15 * 60
    assert result.lead_times_from_commit == result.deployments


def _scanned_counts(client: Any) -> list[int]:
    """ScannedCount of every Query: the items DynamoDB read (and bills), filtered or not."""
    counts: list[int] = []

    def count(parsed: dict[str, Any], **kwargs: Any) -> None:
        counts.append(parsed.get("ScannedCount", 0))

    client.meta.events.register("after-call.dynamodb.Query", count)
    return counts


def test_a_window_reads_only_the_items_inside_it(client: Any) -> None:
    load(client, TABLE, history_items("shop", 400))
    since = START + timedelta(minutes=90 * 380)
    scanned = _scanned_counts(client)

    deployments, stats = read_deployments(client, TABLE, "shop", ["staging"], since)

    assert 15 <= len(deployments) <= 20
    assert all(d.started_at is not None and d.started_at >= since for d in deployments)
    # A filter would read all 400 staging items and drop 380; the index reads the window.
    assert sum(scanned) == len(deployments) == stats.items
    assert stats.indexed


def test_a_table_without_the_index_is_still_read(client: Any) -> None:
    client.delete_table(TableName=TABLE)
    create_table(client, TABLE, time_index=False)
    load(client, TABLE, history_items("shop", 100, legacy=True))
    since = START + timedelta(minutes=90 * 50)

    deployments, stats = read_deployments(client, TABLE, "shop", ["staging"], since)

    assert not stats.indexed
    assert 45 <= len(deployments) <= 50
    assert all(d.started_at is not None and d.started_at >= since for d in deployments)
    # records without their execution's start get it from the pipeline partition
    assert all(d.pipeline_started_at is not None for d in deployments)
    assert all(d.lead_time_start and d.lead_time_start[0] == "pipeline start" for d in deployments)


def test_without_environments_the_reader_scans_for_this_app_only(client: Any) -> None:
    load(client, TABLE, history_items("shop", 20))
    load(client, TABLE, history_items("other", 20, seed=1))
    calls = _count_calls(client)
    deployments, stats = read_deployments(client, TABLE, "shop", None, START)
    assert stats.scanned and calls["Scan"] >= 1 and calls["Query"] == 0
    assert {d.environment for d in deployments} == {"staging", "prod"}
    assert len([d for d in deployments if d.environment == "staging"]) == 20


def _put(client: Any, **attributes: object) -> None:
    item = {k: {"BOOL": v} if isinstance(v, bool) else {"S": str(v)} for k, v in attributes.items()}
    client.put_item(TableName=TABLE, Item=item)


def test_codedeploy_records_fold_into_their_stage_deployment(client: Any) -> None:
    execution = "0a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a60"
    _put(
        client,
        pk="shop#prod",
        sk=execution,
        outcome="FAILED",
        started_at="2026-01-02T10:00:00.000000Z",
        ended_at="2026-01-02T10:20:00.000000Z",
        pipeline_started_at="2026-01-02T09:40:00.000000Z",
        rolled_back=False,
    )
    _put(
        client,
        pk="shop#prod",
        sk="codedeploy#d-AAAAAAAAA",
        outcome="ROLLED_BACK",
        started_at="2026-01-02T10:02:00.000000Z",
        ended_at="2026-01-02T10:12:00.000000Z",
        rolled_back=True,
        rolled_back_by="d-BBBBBBBBB",
    )
    _put(
        client,
        pk="shop#prod",
        sk="codedeploy#d-BBBBBBBBB",
        outcome="SUCCEEDED",
        started_at="2026-01-02T10:12:00.000000Z",
        ended_at="2026-01-02T10:15:00.000000Z",
        rolled_back=False,
        rollback_of="d-AAAAAAAAA",
    )
    # A CodeDeploy run outside the stage's time belongs to another deployment.
    _put(
        client,
        pk="shop#prod",
        sk="codedeploy#d-CCCCCCCCC",
        outcome="ROLLED_BACK",
        started_at="2026-01-03T10:02:00.000000Z",
        rolled_back=True,
    )

    deployments, _ = read_deployments(client, TABLE, "shop", ["prod"], START)

    [deployment] = deployments
    assert deployment.execution_id == execution
    assert deployment.rolled_back and deployment.failed
    assert deployment.rollback_by == "codedeploy"
    assert deployment.rolled_back_at == datetime(2026, 1, 2, 10, 15, tzinfo=UTC)
    result = metrics("prod", deployments, window_days=30)
    assert (result.deployments, result.failures, result.restores) == (0, 1, 1)
    assert result.restore_seconds == 15 * 60  # deploy start to the end of CodeDeploy's rollback
