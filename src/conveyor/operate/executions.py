"""Pipeline executions as CodePipeline reports them, parsed once into typed objects.

ListPipelineExecutions returns summaries (start time, source revisions, execution type);
GetPipelineExecution returns the pipeline version and artifact revisions but no start time.
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecutionSummary.html
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineExecution.html
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ROLLBACK = "ROLLBACK"
SUCCEEDED = "Succeeded"
RUNNING = frozenset({"InProgress", "Stopping"})


@dataclass(frozen=True)
class Execution:
    id: str
    status: str
    type: str = "STANDARD"
    started: datetime | None = None
    updated: datetime | None = None
    trigger: str | None = None
    commit: str | None = None
    summary: str | None = None
    # For a rollback execution: the execution whose artifacts and variables it redeployed.
    rollback_of: str | None = None
    pipeline_version: int | None = None

    @property
    def is_rollback(self) -> bool:
        return self.type == ROLLBACK

    @property
    def short_commit(self) -> str:
        return (self.commit or "")[:8]

    @property
    def headline(self) -> str:
        """The commit and the first line of its message, as one short line."""
        first_line = (self.summary or "").strip().splitlines()[0] if self.summary else ""
        return " ".join(part for part in (self.short_commit, first_line[:60]) if part) or "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "started": _iso(self.started),
            "updated": _iso(self.updated),
            "trigger": self.trigger,
            "commit": self.commit,
            "summary": self.summary,
            "rollback_of": self.rollback_of,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _revision(revisions: Any) -> tuple[str | None, str | None]:
    """The first source revision: the commit (or S3 object version) and its summary."""
    for revision in revisions if isinstance(revisions, list) else []:
        if isinstance(revision, Mapping) and revision.get("revisionId"):
            return str(revision["revisionId"]), _text(revision.get("revisionSummary"))
    return None, None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _rollback_target(data: Mapping[str, Any]) -> str | None:
    metadata = data.get("rollbackMetadata")
    if not isinstance(metadata, Mapping):
        return None
    return _text(metadata.get("rollbackTargetPipelineExecutionId"))


def from_summary(data: Mapping[str, Any]) -> Execution:
    commit, summary = _revision(data.get("sourceRevisions"))
    trigger = data.get("trigger") or {}
    return Execution(
        id=str(data["pipelineExecutionId"]),
        status=str(data.get("status", "")),
        type=str(data.get("executionType") or "STANDARD"),
        started=data.get("startTime"),
        updated=data.get("lastUpdateTime"),
        trigger=_text(trigger.get("triggerType")),
        commit=commit,
        summary=summary,
        rollback_of=_rollback_target(data),
    )


def from_detail(data: Mapping[str, Any]) -> Execution:
    commit, summary = _revision(data.get("artifactRevisions"))
    trigger = data.get("trigger") or {}
    version = data.get("pipelineVersion")
    return Execution(
        id=str(data["pipelineExecutionId"]),
        status=str(data.get("status", "")),
        type=str(data.get("executionType") or "STANDARD"),
        trigger=_text(trigger.get("triggerType")),
        commit=commit,
        summary=summary,
        rollback_of=_rollback_target(data),
        pipeline_version=version if isinstance(version, int) else None,
    )


def detail(client: Any, pipeline: str, execution_id: str) -> Execution:
    response = client.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=execution_id
    )
    return from_detail(response["pipelineExecution"])


def listed(
    client: Any,
    pipeline: str,
    *,
    succeeded_in_stage: str | None = None,
    page_size: int = 50,
    most: int = 500,
) -> Iterator[Execution]:
    """Executions, newest first, at most `most` of them (every page is a request)."""
    request: dict[str, Any] = {
        "pipelineName": pipeline,
        "PaginationConfig": {"PageSize": min(page_size, 100)},
    }
    if succeeded_in_stage is not None:
        request["filter"] = {"succeededInStage": {"stageName": succeeded_in_stage}}
    seen = 0
    for page in client.get_paginator("list_pipeline_executions").paginate(**request):
        for summary in page.get("pipelineExecutionSummaries", []):
            yield from_summary(summary)
            seen += 1
            if seen >= most:
                return
