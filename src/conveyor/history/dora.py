"""The four DORA metrics from a list of deployments of one environment. Pure functions.

Definitions (also in docs/commands/history.md):
- deployment frequency: successful deployments per day over the window; pipeline rollback
  executions are remediation, not changes, and are not counted.
- lead time for changes: median time from the commit to the end of this environment's
  deployment. Where the recorder could not learn the commit time (see records.Deployment
  .lead_time_start) the execution's start stands in, and `lead_times_from_commit` says how many
  of the values are true commit-to-deploy times.
- change failure rate: failed deployments (FAILED, ROLLED_BACK, or rolled back by validation or
  CodeDeploy) divided by finished ones (succeeded + failed); stopped, superseded and cancelled
  ones are neither.
- time to restore: a failure that was rolled back restored service itself, from the start of
  its deployment to the end of the rollback. Otherwise, for each run of consecutive failures,
  from the end of the first failure to the end of the next successful deployment (a fix or a
  pipeline rollback execution); median over those.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from conveyor.history.records import Deployment


@dataclass(frozen=True)
class Metrics:
    environment: str
    window_days: float
    deployments: int  # successful, non-rollback
    failures: int
    per_day: float
    lead_time_seconds: float | None
    change_failure_rate: float | None
    restore_seconds: float | None
    restores: int  # rolled-back failures, and failure streaks followed by a success
    lead_times_from_commit: int = 0  # lead times measured from the commit, not a stand-in

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _finished(deployments: Sequence[Deployment]) -> list[Deployment]:
    done = [d for d in deployments if d.ended_at is not None and (d.succeeded or d.failed)]
    return sorted(done, key=lambda d: d.ended_at or datetime.min)


def deployment_frequency(deployments: Sequence[Deployment], window_days: float) -> float:
    changes = [d for d in deployments if d.succeeded and not d.is_rollback]
    return len(changes) / window_days if window_days > 0 else 0.0


def lead_time(deployments: Sequence[Deployment]) -> float | None:
    times = [
        t
        for d in deployments
        if d.succeeded and not d.is_rollback and (t := d.lead_time_seconds) is not None
    ]
    return statistics.median(times) if times else None


def change_failure_rate(deployments: Sequence[Deployment]) -> float | None:
    changes = [d for d in _finished(deployments) if not d.is_rollback]
    if not changes:
        return None
    return sum(1 for d in changes if d.failed) / len(changes)


def restore_times(deployments: Sequence[Deployment]) -> list[float]:
    times: list[float] = []
    broken_since: datetime | None = None
    for deployment in _finished(deployments):
        assert deployment.ended_at is not None
        restored = deployment.restored_at
        if deployment.failed and restored is not None and broken_since is None:
            # Rolled back to a version that worked: the outage ended with the rollback.
            began = deployment.started_at or deployment.ended_at
            times.append(max((restored - began).total_seconds(), 0.0))
        elif deployment.failed:
            broken_since = broken_since or deployment.ended_at
        elif broken_since is not None:
            times.append((deployment.ended_at - broken_since).total_seconds())
            broken_since = None
    return times


def metrics(environment: str, deployments: Sequence[Deployment], window_days: float) -> Metrics:
    restores = restore_times(deployments)
    return Metrics(
        environment=environment,
        window_days=window_days,
        deployments=sum(1 for d in deployments if d.succeeded and not d.is_rollback),
        failures=sum(1 for d in _finished(deployments) if d.failed and not d.is_rollback),
        per_day=deployment_frequency(deployments, window_days),
        lead_time_seconds=lead_time(deployments),
        change_failure_rate=change_failure_rate(deployments),
        restore_seconds=statistics.median(restores) if restores else None,
        restores=len(restores),
        lead_times_from_commit=sum(
            1
            for d in deployments
            if d.succeeded
            and not d.is_rollback
            and d.lead_time_seconds is not None
            and (start := d.lead_time_start) is not None
            and start[0] == "commit"
        ),
    )
