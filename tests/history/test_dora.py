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
    commit_minutes_before: float | None = None,
    rolled_back_after: float | None = None,
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
        committed_at=None
        if commit_minutes_before is None
        else started - timedelta(minutes=commit_minutes_before),
        rolled_back_at=None
        if rolled_back_after is None
        else started + timedelta(minutes=rolled_back_after),
    )


HISTORY = [
    _deploy(0),  # lead time 30 min
    _deploy(24, pipeline_minutes_before=50),  # 60 min
    _deploy(48, "FAILED"),  # ends 48h10m: outage starts
    _deploy(49, "FAILED"),  # still broken
    _deploy(50, execution_type="ROLLBACK"),  # ends 50h10m: restored after 2 h
    _deploy(72, pipeline_minutes_before=80),  # 90 min
    _deploy(96, "ROLLED_BACK", rolled_back=True),  # rolled back: restored itself in 10 min
    _deploy(97, minutes=40),  # ends 97h40m; lead 60 min
    _deploy(120, "STOPPED"),  # neither success nor failure
    _deploy(121, "SUPERSEDED"),
    _deploy(122, "IN_PROGRESS"),
]


def test_deployment_frequency_counts_successful_changes_only() -> None:
    # 4 successful changes (the rollback execution is remediation) over 10 days
    assert deployment_frequency(HISTORY, 10) == pytest.approx(0.4)


def test_without_commit_times_lead_time_runs_from_the_pipeline_start() -> None:
    # 30, 60, 90, 60 minutes -> median 60 minutes
    assert lead_time(HISTORY) == pytest.approx(3600)


def test_change_failure_rate_over_finished_changes() -> None:
    # failures: 2 FAILED + 1 ROLLED_BACK; finished changes: 4 succeeded + 3 failed
    assert change_failure_rate(HISTORY) == pytest.approx(3 / 7)


def test_time_to_restore_runs_from_the_first_failure_of_a_streak() -> None:
    # the streak at 48h-49h ends with the rollback execution at 50h10m; the rolled-back
    # deployment at 96h was restored by its own rollback (deploy start to rollback end)
    assert restore_times(HISTORY) == [2 * 3600, 10 * 60]


def test_a_rollback_restores_at_its_own_time() -> None:
    rolled = _deploy(0, "ROLLED_BACK", minutes=30, rolled_back=True, rolled_back_after=12)
    assert restore_times([rolled, _deploy(5)]) == [12 * 60]


def test_a_rollback_inside_an_outage_does_not_end_it() -> None:
    # broken since 0h10m; the rollback at 1h only goes back to the broken version
    history = [
        _deploy(0, "FAILED"),
        _deploy(1, "ROLLED_BACK", rolled_back=True, rolled_back_after=5),
        _deploy(3),
    ]
    assert restore_times(history) == [3 * 3600]


def test_lead_time_runs_from_the_commit_when_it_is_known() -> None:
    history = [
        _deploy(0, commit_minutes_before=120),  # 130 min from the commit
        _deploy(1, commit_minutes_before=50),  # 60 min
        _deploy(2),  # no commit time: 30 min from the pipeline's start
    ]
    assert lead_time(history) == pytest.approx(60 * 60)
    assert metrics("prod", history, window_days=1).lead_times_from_commit == 2


def test_metrics_bundle() -> None:
    result = metrics("prod", HISTORY, window_days=10)
    assert (result.deployments, result.failures, result.restores) == (4, 3, 2)
    assert result.restore_seconds == pytest.approx((2 * 3600 + 600) / 2)
    assert result.lead_times_from_commit == 0


def test_no_history_gives_no_numbers_rather_than_zero() -> None:
    result = metrics("prod", [], window_days=30)
    assert result.per_day == 0
    assert result.lead_time_seconds is None
    assert result.change_failure_rate is None
    assert result.restore_seconds is None


def test_an_unrestored_failure_has_no_restore_time_yet() -> None:
    assert restore_times([_deploy(0), _deploy(1, "FAILED")]) == []


def test_order_of_the_input_does_not_matter() -> None:
    assert restore_times(list(reversed(HISTORY))) == restore_times(HISTORY)


@pytest.mark.parametrize(("window", "per_day"), [(0.5, 8.0), (0, 0.0), (-1, 0.0)])
def test_frequency_over_short_or_empty_windows(window: float, per_day: float) -> None:
    assert deployment_frequency(HISTORY, window) == per_day


def test_a_rollback_as_fast_as_the_deploy_restores_in_zero_seconds() -> None:
    rolled = _deploy(0, "ROLLED_BACK", rolled_back=True, rolled_back_after=0)
    assert restore_times([rolled]) == [0.0]


def test_metrics_carry_every_number_into_json() -> None:
    result = metrics("prod", HISTORY, window_days=10).to_json()
    assert result == {
        "environment": "prod",
        "window_days": 10,
        "deployments": 4,
        "failures": 3,
        "per_day": pytest.approx(0.4),
        "lead_time_seconds": pytest.approx(3600),
        "change_failure_rate": pytest.approx(3 / 7),
        "restore_seconds": pytest.approx(3900),
        "restores": 2,
        "lead_times_from_commit": 0,
    }
