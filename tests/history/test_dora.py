"""DORA metrics on a small history whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conveyor.history.dora import (
    change_failure_rate,
    deployment_frequency,
    lead_time,
    metrics,
    restore_times,
)
from conveyor.history.records import Deployment

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _deploy(
    hour: float,
    outcome: str = "SUCCEEDED",
    *,
    minutes: float = 10,
    pipeline_minutes_before: float = 20,
    rolled_back: bool = False,
    execution_type: str | None = None,
) -> Deployment:
    started = T0 + timedelta(hours=hour)
    return Deployment(
        environment="prod",
        execution_id=f"e{hour}",
        outcome=outcome,
        started_at=started,
        ended_at=started + timedelta(minutes=minutes),
        rolled_back=rolled_back,
        execution_type=execution_type,
        pipeline_started_at=started - timedelta(minutes=pipeline_minutes_before),
    )


HISTORY = [
    _deploy(0),  # lead time 30 min
    _deploy(24, pipeline_minutes_before=50),  # 60 min
    _deploy(48, "FAILED"),  # ends 48h10m: outage starts
    _deploy(49, "FAILED"),  # still broken
    _deploy(50, execution_type="ROLLBACK"),  # ends 50h10m: restored after 2 h
    _deploy(72, pipeline_minutes_before=80),  # 90 min
    _deploy(96, "ROLLED_BACK", rolled_back=True),  # ends 96h10m
    _deploy(97, minutes=40),  # ends 97h40m: restored after 1.5 h; lead 60 min
    _deploy(120, "STOPPED"),  # neither success nor failure
    _deploy(121, "SUPERSEDED"),
    _deploy(122, "IN_PROGRESS"),
]


def test_deployment_frequency_counts_successful_changes_only() -> None:
    # 4 successful changes (the rollback execution is remediation) over 10 days
    assert deployment_frequency(HISTORY, 10) == pytest.approx(0.4)


def test_lead_time_is_the_median_from_pipeline_start_to_deploy_end() -> None:
    # 30, 60, 90, 60 minutes -> median 60 minutes
    assert lead_time(HISTORY) == pytest.approx(3600)


def test_change_failure_rate_over_finished_changes() -> None:
    # failures: 2 FAILED + 1 ROLLED_BACK; finished changes: 4 succeeded + 3 failed
    assert change_failure_rate(HISTORY) == pytest.approx(3 / 7)


def test_time_to_restore_runs_from_the_first_failure_of_a_streak() -> None:
    assert restore_times(HISTORY) == [2 * 3600, 1.5 * 3600]


def test_metrics_bundle() -> None:
    result = metrics("prod", HISTORY, window_days=10)
    assert (result.deployments, result.failures, result.restores) == (4, 3, 2)
    assert result.restore_seconds == pytest.approx(1.75 * 3600)


def test_no_history_gives_no_numbers_rather_than_zero() -> None:
    result = metrics("prod", [], window_days=30)
    assert result.per_day == 0
    assert result.lead_time_seconds is None
    assert result.change_failure_rate is None
    assert result.restore_seconds is None


def test_an_unrestored_failure_has_no_restore_time_yet() -> None:
    assert restore_times([_deploy(0), _deploy(1, "FAILED")]) == []
