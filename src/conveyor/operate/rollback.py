"""Roll one environment's stage back to an earlier successful execution (RollbackStage).

CodePipeline re-runs the stage with the artifacts and variables of the target execution: the
environment's stack is deployed again with that release's image or package.
https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_RollbackStage.html

What AWS accepts as a target, and so what this module looks for before asking
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html):
- an execution that succeeded in the stage (found as AWS's own guide does, with
  ListPipelineExecutions filtered on `succeededInStage`,
  https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback-manual.html);
- not itself a rollback execution;
- started in the pipeline's current structure version.
And one thing AWS checks only once the rollback runs: the target's artifacts (its templates and
build output) must still be in the artifact bucket, which expires them
`retention.artifact_days` after they are written; an older target is refused here, before a
rollback AWS would start and then fail.
Without `--to`, the target is the newest such execution that started before the release the
stage runs now: when the stage's latest run succeeded, that run (or, for a rollback, the
execution it restored) is what runs, and the one before it is the target; when the latest run
failed or stopped, the newest success is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from conveyor.operate.executions import RUNNING, SUCCEEDED, Execution, detail, listed

EXECUTION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Each page of ListPipelineExecutions is a request; a stage rolled back further than this many
# successful executions is better served by --to.
SEARCH_LIMIT = 500


class RollbackError(Exception):
    """A rollback AWS would refuse, or one with nothing to go back to: the message says why and
    what to do instead."""


@dataclass(frozen=True)
class StageRun:
    """The stage's latest run (GetPipelineState's latestExecution)."""

    execution_id: str
    status: str


@dataclass(frozen=True)
class RollbackPlan:
    pipeline: str
    stage: str
    latest: StageRun
    live: Execution | None  # the release the stage runs now, when known
    target: Execution


def stage_state(state: dict[str, Any], stage: str) -> dict[str, Any]:
    for found in state.get("stageStates", []):
        if found.get("stageName") == stage:
            return dict(found)
    names = ", ".join(str(s.get("stageName")) for s in state.get("stageStates", []))
    raise RollbackError(
        f"the deployed pipeline {state.get('pipelineName', '')} has no stage {stage} (it has: "
        f"{names}); it predates this environment in conveyor.yaml: push the change (the "
        "pipeline updates itself on its next run) or run `conveyor deploy`"
    )


def _latest(stage: dict[str, Any]) -> StageRun | None:
    latest = stage.get("latestExecution")
    if not isinstance(latest, dict) or not latest.get("pipelineExecutionId"):
        return None
    return StageRun(execution_id=str(latest["pipelineExecutionId"]), status=str(latest["status"]))


def plan(
    client: Any,
    pipeline: str,
    stage: str,
    *,
    to: str | None = None,
    artifact_days: int | None = None,
    today: date | None = None,
) -> RollbackPlan:
    """What a rollback of `stage` would do; raises RollbackError with the reason otherwise.

    With `artifact_days` (the spec's retention.artifact_days) and `today`, a target whose
    artifacts have expired is refused too."""
    if to is not None and not EXECUTION_ID.match(to):
        raise RollbackError(
            f"--to {to!r} is not an execution id (like 1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d); "
            "`conveyor status` lists the recent ones"
        )
    state = client.get_pipeline_state(name=pipeline)
    version = state.get("pipelineVersion")
    latest = _latest(stage_state(state, stage))
    if latest is None:
        raise RollbackError(f"{stage} has never run: there is nothing to roll back")
    if latest.status in RUNNING:
        raise RollbackError(
            f"{stage} is running execution {latest.execution_id} ({latest.status}): wait for it "
            "to finish, or stop it, then roll back"
        )
    live = _live(client, pipeline, latest)
    target = (
        _chosen(client, pipeline, stage, to)
        if to is not None
        else _previous(client, pipeline, stage, live)
    )
    if live is not None and target.id == live.id:
        raise RollbackError(f"{stage} already runs execution {target.id}: nothing to roll back")
    checked = detail(client, pipeline, target.id)
    if isinstance(version, int) and checked.pipeline_version not in (None, version):
        raise RollbackError(
            f"execution {target.id} ran on version {checked.pipeline_version} of the pipeline, "
            f"which is at version {version} now; AWS rolls a stage back only to executions of "
            "the current pipeline structure. Release the old commit instead: revert the change "
            "in git and push"
        )
    if artifact_days is not None and today is not None:
        _check_artifacts_kept(target, artifact_days, today)
    return RollbackPlan(pipeline, stage, latest, live, target)


def _check_artifacts_kept(target: Execution, artifact_days: int, today: date) -> None:
    """Refuse a target whose artifacts the artifact bucket has expired.

    The bucket's lifecycle rule expires every object `artifact_days` after it is written,
    rounded up to the next midnight UTC
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html), and
    the rollback reads the target's own artifacts ("CodePipeline will use the variables and
    artifacts from the execution to which it is rolling back",
    https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html). Its first
    artifacts are written the day it started; S3 removes expired objects asynchronously, so a
    day's margin: refused only when they have certainly been expired for a day."""
    if target.started is None:
        return
    started = target.started.date()
    if today < started + timedelta(days=artifact_days + 2):
        return
    raise RollbackError(
        f"execution {target.id} started on {started.isoformat()}: the pipeline's artifacts "
        "(its templates and build output, which the rollback runs again) expire "
        f"{artifact_days} days after they are written (retention.artifact_days), so AWS would "
        "start the rollback and fail it. Release the old commit instead: revert the change in "
        "git and push"
    )


def _live(client: Any, pipeline: str, latest: StageRun) -> Execution | None:
    """The execution whose release the stage runs, when its latest run succeeded."""
    if latest.status != SUCCEEDED:
        return None
    run = detail(client, pipeline, latest.execution_id)
    if run.rollback_of:  # a rollback run: the release it restored is what runs
        return detail(client, pipeline, run.rollback_of)
    return run


def _chosen(client: Any, pipeline: str, stage: str, execution_id: str) -> Execution:
    for execution in listed(client, pipeline, succeeded_in_stage=stage, most=SEARCH_LIMIT):
        if execution.id == execution_id:
            if execution.is_rollback:
                raise RollbackError(
                    f"execution {execution_id} is itself a rollback; AWS rolls back only to a "
                    f"standard execution: use --to {execution.rollback_of or 'THE_ONE_IT_RESTORED'}"
                )
            return execution
    raise RollbackError(
        f"execution {execution_id} did not succeed in {stage} (not among its newest "
        f"{SEARCH_LIMIT} successful executions): AWS rolls back only to an execution that "
        "succeeded in the stage"
    )


def _previous(client: Any, pipeline: str, stage: str, live: Execution | None) -> Execution:
    passed_live = live is None
    for execution in listed(client, pipeline, succeeded_in_stage=stage, most=SEARCH_LIMIT):
        if not passed_live:
            assert live is not None
            passed_live = execution.id == live.id
            continue
        if not execution.is_rollback:
            return execution
    if live is not None and not passed_live:
        raise RollbackError(
            f"the release {stage} runs (execution {live.id}) is not among the newest "
            f"{SEARCH_LIMIT} successful executions of the stage: name the target with --to"
        )
    raise RollbackError(
        f"no earlier successful execution of {stage} to roll back to"
        + (f" (it runs {live.id}, its first)" if live is not None else "")
    )


def start(client: Any, rollback: RollbackPlan) -> str:
    """Start the rollback; returns the new (rollback) execution's id."""
    response = client.rollback_stage(
        pipelineName=rollback.pipeline,
        stageName=rollback.stage,
        targetPipelineExecutionId=rollback.target.id,
    )
    return str(response["pipelineExecutionId"])
