"""Deployment history items as written by handlers/record_deployment (see its README).

pk `{app}#{environment}` and sk the pipeline execution id for an environment's deploy stage;
pk `{app}#pipeline` for the whole execution; sk `codedeploy#{id}` for CodeDeploy deployments.
Times are ISO 8601 UTC strings with a fixed format, so they also compare as strings.

One deployment is one deploy-stage record. CodeDeploy records describe the same deployment in
more detail (and CodeDeploy's own rollback deployments are not deployments of a change): they
are folded into the stage record they ran in, never counted on their own.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

PIPELINE_PARTITION = "pipeline"
CODEDEPLOY_PREFIX = "codedeploy#"
# The table's global secondary index: same partition key, `started_at` as sort key, so a time
# window is a key condition and reads only the items inside it (constructs/deployment_history).
TIME_INDEX = "by-start"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Only what the command shows or computes with: less to transfer on every page.
ATTRIBUTES = (
    "pk",
    "sk",
    "outcome",
    "started_at",
    "ended_at",
    "commit",
    "commit_message",
    "triggered_by",
    "image_digest",
    "rolled_back",
    "execution_type",
    "reason",
    "committed_at",
    "pipeline_started_at",
    "rolled_back_at",
    "rollback_by",
    "rollback_of",
)


def partition(app: str, environment: str) -> str:
    return f"{app}#{environment}"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    """The recorder's own format, so a `since` bound compares correctly with stored strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Deployment:
    environment: str
    execution_id: str
    outcome: str
    started_at: datetime | None
    ended_at: datetime | None
    commit: str | None = None
    commit_message: str | None = None
    triggered_by: str | None = None
    image_digest: str | None = None
    rolled_back: bool = False
    execution_type: str | None = None
    reason: str | None = None
    pipeline_started_at: datetime | None = None  # start of the whole execution, for lead time
    committed_at: datetime | None = None
    rolled_back_at: datetime | None = None
    rollback_by: str | None = None  # "validation", "codedeploy", "stage" (a stage rollback)

    @property
    def failed(self) -> bool:
        return self.outcome in {"FAILED", "ROLLED_BACK"} or self.rolled_back

    @property
    def succeeded(self) -> bool:
        return self.outcome == "SUCCEEDED" and not self.rolled_back

    @property
    def is_rollback(self) -> bool:
        return self.execution_type == "ROLLBACK"

    @property
    def lead_time_start(self) -> tuple[str, datetime] | None:
        """Where lead time starts: the commit when it is known, else the pipeline's start."""
        for source, moment in (
            ("commit", self.committed_at),
            ("pipeline start", self.pipeline_started_at),
            ("deploy start", self.started_at),
        ):
            if moment is not None:
                return source, moment
        return None

    @property
    def lead_time_seconds(self) -> float | None:
        start = self.lead_time_start
        if start is None or self.ended_at is None:
            return None
        return (self.ended_at - start[1]).total_seconds()

    @property
    def restored_at(self) -> datetime | None:
        """When a rollback put the previous version back; None if not rolled back."""
        if not self.rolled_back:
            return None
        return self.rolled_back_at or self.ended_at

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "execution_id": self.execution_id,
            "outcome": self.outcome,
            "started_at": iso(self.started_at) if self.started_at else None,
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "lead_time_seconds": self.lead_time_seconds,
            "lead_time_from": start[0] if (start := self.lead_time_start) else None,
            "committed_at": iso(self.committed_at) if self.committed_at else None,
            "commit": self.commit,
            "commit_message": self.commit_message,
            "triggered_by": self.triggered_by,
            "image_digest": self.image_digest,
            "rolled_back": self.rolled_back,
            "rolled_back_at": iso(self.rolled_back_at) if self.rolled_back_at else None,
            "rollback_by": self.rollback_by,
            "execution_type": self.execution_type,
            "reason": self.reason,
        }


def _value(item: dict[str, Any], name: str) -> Any:
    """A plain value from a low-level DynamoDB attribute ({"S": ...}, {"BOOL": ...})."""
    attribute = item.get(name)
    if not isinstance(attribute, dict) or not attribute:
        return None
    kind, value = next(iter(attribute.items()))
    return None if kind == "NULL" else value


def _text(item: dict[str, Any], name: str) -> str | None:
    value = _value(item, name)
    return value if isinstance(value, str) and value else None


def _keys(item: dict[str, Any]) -> tuple[str, str] | None:
    """(environment, sk) of an item in an environment partition; None for anything else."""
    pk, sk = _value(item, "pk"), _value(item, "sk")
    if not isinstance(pk, str) or not isinstance(sk, str) or "#" not in pk:
        return None
    environment = pk.split("#", 1)[1]
    return None if environment == PIPELINE_PARTITION else (environment, sk)


def from_item(item: dict[str, Any]) -> Deployment | None:
    """A deploy-stage record as a Deployment; None for pipeline and CodeDeploy records."""
    keys = _keys(item)
    if keys is None or keys[1].startswith(CODEDEPLOY_PREFIX):
        return None
    rolled_back = _value(item, "rolled_back") is True
    return Deployment(
        environment=keys[0],
        execution_id=keys[1],
        outcome=_text(item, "outcome") or "UNKNOWN",
        started_at=parse_time(_text(item, "started_at")),
        ended_at=parse_time(_text(item, "ended_at")),
        commit=_text(item, "commit"),
        commit_message=_text(item, "commit_message"),
        triggered_by=_text(item, "triggered_by"),
        image_digest=_text(item, "image_digest"),
        rolled_back=rolled_back,
        execution_type=_text(item, "execution_type"),
        reason=_text(item, "reason"),
        pipeline_started_at=parse_time(_text(item, "pipeline_started_at")),
        committed_at=parse_time(_text(item, "committed_at")),
        rolled_back_at=parse_time(_text(item, "rolled_back_at")) if rolled_back else None,
        rollback_by=_text(item, "rollback_by") if rolled_back else None,
    )


@dataclass(frozen=True)
class CodeDeployRun:
    """A CodeDeploy deployment record: detail of the stage deployment it ran in."""

    environment: str
    deployment_id: str
    started_at: datetime | None
    ended_at: datetime | None
    rolled_back: bool
    rollback_of: str | None


def codedeploy_from_item(item: dict[str, Any]) -> CodeDeployRun | None:
    keys = _keys(item)
    if keys is None or not keys[1].startswith(CODEDEPLOY_PREFIX):
        return None
    return CodeDeployRun(
        environment=keys[0],
        deployment_id=keys[1].removeprefix(CODEDEPLOY_PREFIX),
        started_at=parse_time(_text(item, "started_at")),
        ended_at=parse_time(_text(item, "ended_at")),
        rolled_back=_value(item, "rolled_back") is True,
        rollback_of=_text(item, "rollback_of"),
    )


class CodeDeployRuns:
    """CodeDeploy records by environment, in start order, for folding into stage records."""

    def __init__(self, runs: Iterable[CodeDeployRun]) -> None:
        self._by_environment: dict[str, list[CodeDeployRun]] = {}
        for run in sorted(
            (r for r in runs if r.started_at is not None), key=lambda r: r.started_at or _EPOCH
        ):
            self._by_environment.setdefault(run.environment, []).append(run)
        self._starts = {
            env: [r.started_at or _EPOCH for r in runs]
            for env, runs in self._by_environment.items()
        }

    def started_within(
        self, environment: str, start: datetime, end: datetime | None
    ) -> list[CodeDeployRun]:
        runs = self._by_environment.get(environment, [])
        starts = self._starts.get(environment, [])
        last = len(runs) if end is None else bisect.bisect_right(starts, end)
        return runs[bisect.bisect_left(starts, start) : last]


def fold_codedeploy(deployment: Deployment, runs: CodeDeployRuns) -> Deployment:
    """The stage deployment with what CodeDeploy says about the runs that started inside it.

    CodeDeploy events carry no pipeline execution id, but a conveyor deployment group is only
    deployed by its own environment's stage, so the runs that started between the stage's start
    and end are that stage's (its deploy and, after a failure, CodeDeploy's own rollback).
    """
    if deployment.started_at is None or deployment.rolled_back:
        return deployment
    inside = runs.started_within(deployment.environment, deployment.started_at, deployment.ended_at)
    undone = {run.deployment_id: run for run in inside if run.rolled_back and not run.rollback_of}
    if not undone:
        return deployment
    ends = [r.ended_at for r in inside if r.rollback_of in undone and r.ended_at is not None]
    return replace(
        deployment,
        rolled_back=True,
        rolled_back_at=max(ends) if ends else list(undone.values())[-1].ended_at,
        rollback_by="codedeploy",
    )


def pipeline_start(item: dict[str, Any]) -> tuple[str, datetime] | None:
    sk, started = _value(item, "sk"), parse_time(_value(item, "started_at"))
    if isinstance(sk, str) and started is not None:
        return sk, started
    return None
