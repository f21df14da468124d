"""Deployment history items as written by handlers/record_deployment (see its README).

pk `{app}#{environment}` and sk the pipeline execution id for an environment's deploy stage;
pk `{app}#pipeline` for the whole execution; sk `codedeploy#{id}` for CodeDeploy deployments.
Times are ISO 8601 UTC strings with a fixed format, so they also compare as strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PIPELINE_PARTITION = "pipeline"
CODEDEPLOY_PREFIX = "codedeploy#"
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
    def lead_time_seconds(self) -> float | None:
        """Pipeline start to the end of this environment's deploy (no commit time is recorded)."""
        start = self.pipeline_started_at or self.started_at
        if start is None or self.ended_at is None:
            return None
        return (self.ended_at - start).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "execution_id": self.execution_id,
            "outcome": self.outcome,
            "started_at": iso(self.started_at) if self.started_at else None,
            "ended_at": iso(self.ended_at) if self.ended_at else None,
            "lead_time_seconds": self.lead_time_seconds,
            "commit": self.commit,
            "commit_message": self.commit_message,
            "triggered_by": self.triggered_by,
            "image_digest": self.image_digest,
            "rolled_back": self.rolled_back,
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


def from_item(item: dict[str, Any]) -> Deployment | None:
    """A deploy-stage record as a Deployment; None for pipeline and CodeDeploy records."""
    pk, sk = _value(item, "pk"), _value(item, "sk")
    if not isinstance(pk, str) or not isinstance(sk, str) or "#" not in pk:
        return None
    environment = pk.split("#", 1)[1]
    if environment == PIPELINE_PARTITION or sk.startswith(CODEDEPLOY_PREFIX):
        return None

    def text(name: str) -> str | None:
        value = _value(item, name)
        return value if isinstance(value, str) and value else None

    return Deployment(
        environment=environment,
        execution_id=sk,
        outcome=text("outcome") or "UNKNOWN",
        started_at=parse_time(text("started_at")),
        ended_at=parse_time(text("ended_at")),
        commit=text("commit"),
        commit_message=text("commit_message"),
        triggered_by=text("triggered_by"),
        image_digest=text("image_digest"),
        rolled_back=_value(item, "rolled_back") is True,
        execution_type=text("execution_type"),
        reason=text("reason"),
    )


def pipeline_start(item: dict[str, Any]) -> tuple[str, datetime] | None:
    sk, started = _value(item, "sk"), parse_time(_value(item, "started_at"))
    if isinstance(sk, str) and started is not None:
        return sk, started
    return None
