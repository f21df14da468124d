"""Post-deployment HTTP validation (FM63): a CodePipeline action, a CodeDeploy lifecycle hook,
or an ECS native blue/green lifecycle hook.

Whatever happens — bad parameters, an unreachable URL, a bug here, the Lambda timeout closing
in — the job or hook gets a result. A CodePipeline job without one hangs for up to an hour; a
CodeDeploy hook without one holds traffic shifting until the deployment times out.

Each job or hook execution is decided once and only reported again on a retry: a duplicated or
retried invocation never re-runs the check.

A failed check only fails the job or hook; it rolls nothing back itself (issue 11). Whoever owns
the deployment puts the last good release back: the stage's OnFailure ROLLBACK (a CodePipeline
action), CodeDeploy (its lifecycle hook) or ECS (its hook). A rollback here as well was a second
rollback racing the first: CodeDeploy takes one deployment per group at a time.
https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html
https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import functools
import json
import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common
from . import check as checks

logger = common.get_logger("conveyor.validate_http")

# Kept back from the check for the report (its retries included): it must happen before the
# Lambda timeout (issue 17/3).
CHECK_RESERVE_SECONDS = 20.0
# What the report itself leaves of the invocation.
REPORT_KEEP_SECONDS = 0.5
# Used when the context cannot say (local runs): as if the function had a minute.
DEFAULT_REMAINING_SECONDS = 60.0
_SUMMARY_MAX = 2048  # PutJobSuccessResult executionDetails.summary
_MESSAGE_MAX = 5000  # PutJobFailureResult failureDetails.message
_TOKEN_MAX = 2048  # PutJobSuccessResult continuationToken
# Errors that mean another invocation already reported this job or hook:
# https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobFailureResult.html
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_PutLifecycleEventHookExecutionStatus.html
ALREADY_REPORTED = frozenset(
    {"InvalidJobStateException", "LifecycleEventAlreadyCompletedException"}
)


@dataclass(frozen=True)
class Outcome:
    """What was decided for one job or hook execution: reported, and re-reported on retry."""

    status: str  # "succeeded" | "failed" | "continue"
    message: str
    progress: checks.Progress | None = None


# ---------------------------------------------------------------------------------------------
# Time: every AWS call and every attempt is bounded by what is left of the invocation.


class Budget:
    def __init__(self, context: object) -> None:
        self.context = context
        self._remaining = getattr(context, "get_remaining_time_in_millis", None)

    def left(self) -> float:
        if not callable(self._remaining):
            return DEFAULT_REMAINING_SECONDS
        return float(self._remaining()) / 1000

    def for_check(self) -> float:
        return self.left() - CHECK_RESERVE_SECONDS

    def client(self, service: str, *, keep: float = REPORT_KEEP_SECONDS) -> Any:
        """A client whose every call, retries included, ends `keep` seconds before the
        Lambda timeout at the latest. The report is always attempted: with under a second
        left it gets one try of a second's connect and read."""
        seconds = self.left() - keep
        attempts = 2 if seconds >= 6 else 1
        per_attempt = seconds / attempts - (1 if attempts > 1 else 0)  # standard-mode backoff
        connect = max(1, min(3, int(per_attempt / 3)))
        read = max(1, int(per_attempt - connect))
        return _client(service, connect, read, attempts)


@functools.lru_cache(maxsize=64)
def _client(service: str, connect: int, read: int, attempts: int) -> Any:
    from botocore.config import Config

    config = Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return new_client(service, config)


def new_client(service: str, config: Any) -> Any:
    import boto3

    return boto3.client(service, config=config)


# ---------------------------------------------------------------------------------------------
# Deciding once per job / hook execution.

_decided: dict[str, Outcome] = {}
# A job or hook execution is over within a day (CodePipeline's Lambda action limit).
DECISION_EXPIRES_SECONDS = 86_400


def decide_once(key: str, decide: Callable[[], Outcome], context: object = None) -> Outcome:
    """The outcome stored for `key`, or decide it now. With the idempotency table
    (IDEMPOTENCY_TABLE_NAME) the record is Powertools': any environment, any retry, and a
    concurrent duplicate waits. Without it, an in-memory record covers retries that reach the
    same warm environment."""
    if os.environ.get(common.IDEMPOTENCY_TABLE_VARIABLE):
        stored = common.run_once(
            lambda: _dump(decide()),
            scope="validate_http",
            key=key,
            context=context,
            expires_after_seconds=DECISION_EXPIRES_SECONDS,
        )
        return _load(stored)
    if key in _decided:
        logger.info("already decided; reporting again", extra={"key": key})
        return _decided[key]
    outcome = decide()
    _decided[key] = outcome
    return outcome


def _dump(outcome: Outcome) -> dict[str, Any]:
    progress = outcome.progress
    return {
        "status": outcome.status,
        "message": outcome.message,
        "progress": None if progress is None else checks.dump_progress(progress),
    }


def _load(stored: Mapping[str, Any]) -> Outcome:
    progress = stored.get("progress")
    return Outcome(
        str(stored["status"]),
        str(stored["message"]),
        None if progress is None else checks.parse_progress(progress),
    )


def _error_text(exc: BaseException, secrets: list[str]) -> str:
    text = f"validation handler error: {type(exc).__name__}: {exc}"
    logger.error(
        "handler error",
        extra={
            "error": checks.redact(text, secrets),
            "trace": checks.redact("".join(traceback.format_exception(exc)), secrets),
        },
    )
    return checks.redact(text, secrets)


def _check(
    check: checks.Check, progress: checks.Progress, budget: Budget, *, can_continue: bool, job: bool
) -> Outcome:
    secrets = checks.secrets_of(check.url)
    try:
        result = checks.run_check(check, budget.for_check, progress, can_continue=can_continue)
    except Exception as exc:  # a bug here must still end the job, not hang it
        result = checks.Result(False, _error_text(exc, secrets))
    if result.passed:
        return Outcome("succeeded", result.summary)
    if result.progress is not None:
        return Outcome("continue", result.summary, result.progress)
    if not job:  # a lifecycle hook reports a status; the summary is only logged
        return Outcome("failed", result.summary)
    return Outcome("failed", checks.redact(f"Validation failed: {result.summary}.", secrets))


# ---------------------------------------------------------------------------------------------
# CodePipeline job.


@dataclass(frozen=True)
class Job:
    id: str
    user_parameters: str
    continuation_token: str | None


def parse_job(event: object) -> Job | None:
    """The parts of a CodePipeline job event this handler reads; None if it is not one.
    https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html"""
    job = event.get("CodePipeline.job") if isinstance(event, Mapping) else None
    if not isinstance(job, Mapping) or not isinstance(job.get("id"), str) or not job["id"]:
        return None
    data = job.get("data")
    if not isinstance(data, Mapping):
        data = {}
    action = data.get("actionConfiguration")
    configuration = action.get("configuration") if isinstance(action, Mapping) else None
    raw = configuration.get("UserParameters") if isinstance(configuration, Mapping) else None
    token = data.get("continuationToken")
    return Job(
        id=job["id"],
        user_parameters=raw if isinstance(raw, str) else "",
        continuation_token=token if isinstance(token, str) and token else None,
    )


def parse_user_parameters(raw: str) -> checks.Check:
    try:
        values = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise checks.ParameterError(f"UserParameters is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise checks.ParameterError(
            'UserParameters must be a JSON object like {"url": "https://…"}'
        )
    unknown = set(values) - checks.CHECK_KEYS
    if unknown:
        raise checks.ParameterError(
            f"unknown UserParameters keys {sorted(unknown)}; expected some of "
            f"{sorted(checks.CHECK_KEYS)}"
        )
    return checks.with_ca(checks.build_check(values), os.environ)


def handle_pipeline_job(job: Job, context: object) -> dict[str, Any]:
    budget = Budget(context)
    try:
        check = parse_user_parameters(job.user_parameters)
    except checks.ParameterError as exc:
        outcome = Outcome("failed", f"validate_http: invalid UserParameters: {exc}")
        return _report_job(job.id, outcome, budget, "ConfigurationError")
    except Exception as exc:  # a bug in parsing must still end the job
        return _report_job(job.id, Outcome("failed", _error_text(exc, [])), budget)
    progress = checks.parse_progress(job.continuation_token)
    outcome = decide_once(
        f"job#{job.id}#{progress.attempts_done}",
        lambda: _check(check, progress, budget, can_continue=True, job=True),
        context,
    )
    return _report_job(job.id, outcome, budget)


def _clip(text: str, limit: int) -> str:
    text = text.strip() or "(no details)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _continuation_token(progress: checks.Progress) -> str:
    """The progress as JSON within the token limit. The problem text is shortened, never the
    JSON: cut JSON no longer parses, and the next invocation would restart at attempt 1."""
    problem = progress.last_problem
    while True:
        token = json.dumps(checks.dump_progress(checks.Progress(progress.attempts_done, problem)))
        if len(token) <= _TOKEN_MAX:
            return token
        problem = problem[: len(problem) // 2]  # ends: with no problem text the token fits


def _report_job(
    job_id: str, outcome: Outcome, budget: Budget, failure_type: str = "JobFailed"
) -> dict[str, Any]:
    codepipeline = budget.client("codepipeline")
    try:
        if outcome.status == "failed":
            codepipeline.put_job_failure_result(
                jobId=job_id,
                failureDetails={
                    "type": failure_type,
                    "message": _clip(outcome.message, _MESSAGE_MAX),
                },
            )
        elif outcome.status == "continue":
            assert outcome.progress is not None
            # A continuation token makes CodePipeline invoke the action again with it:
            # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html
            codepipeline.put_job_success_result(
                jobId=job_id,
                continuationToken=_continuation_token(outcome.progress),
                executionDetails={"summary": _clip(outcome.message, _SUMMARY_MAX)},
            )
        else:
            codepipeline.put_job_success_result(
                jobId=job_id, executionDetails={"summary": _clip(outcome.message, _SUMMARY_MAX)}
            )
    except Exception as exc:
        if common.error_code(exc) not in ALREADY_REPORTED:
            raise  # Lambda retries; the decided outcome is reported again, nothing re-runs
        logger.warning("job already has a result", extra={"job_id": job_id})
        return {"status": "already-reported", "message": outcome.message}
    log = logger.warning if outcome.status == "failed" else logger.info
    log("reported", extra={"job_id": job_id, "status": outcome.status, "summary": outcome.message})
    return {"status": outcome.status, "message": outcome.message}


# ---------------------------------------------------------------------------------------------
# Lifecycle hooks: CodeDeploy (report through its API) and ECS native blue/green (return).


def _hook_outcome(
    key: str, budget: Budget, progress: checks.Progress, can_continue: bool
) -> Outcome:
    try:
        check = checks.check_from_env(os.environ)
    except checks.ParameterError as exc:
        return Outcome("failed", f"invalid VALIDATE_* configuration: {exc}")
    return decide_once(
        key,
        lambda: _check(check, progress, budget, can_continue=can_continue, job=False),
        budget.context,
    )


def handle_hook(deployment_id: str, hook_id: str, context: object) -> dict[str, Any]:
    """CodeDeploy rolls back on Failed; a hook gets no second invocation to continue in."""
    budget = Budget(context)
    outcome = _hook_outcome(f"hook#{hook_id}", budget, checks.Progress(), can_continue=False)
    status = "Succeeded" if outcome.status == "succeeded" else "Failed"
    try:
        budget.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_id, status=status
        )
    except Exception as exc:
        if common.error_code(exc) not in ALREADY_REPORTED:
            raise
        logger.warning("hook already completed", extra={"deployment_id": deployment_id})
        return {"status": "already-reported", "message": outcome.message}
    log = logger.info if status == "Succeeded" else logger.warning
    log(
        "reported",
        extra={"deployment_id": deployment_id, "status": status, "summary": outcome.message},
    )
    return {"status": status.lower(), "message": outcome.message}


def handle_ecs_hook(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    """ECS reads hookStatus from the return value; FAILED rolls the deployment back and
    IN_PROGRESS invokes the hook again after callBackDelay seconds, with the hookDetails
    returned here: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html"""
    stage = str(event.get("lifecycleStage"))
    progress = checks.parse_progress(event.get("hookDetails"))
    execution = event.get("executionId") or event.get("resourceArn")
    if not execution:
        # The decision is keyed on the deployment: without an id, a warm container could hand
        # an earlier deployment's stored decision (possibly SUCCEEDED) to this one. ECS always
        # sends executionId, so an event without it is one we cannot read: fail closed.
        message = "the ECS hook event names no executionId or resourceArn: failing closed"
        logger.warning("hook event without ids", extra={"stage": stage})
        return {"hookStatus": "FAILED", "message": message}
    execution = str(execution)
    try:
        outcome = _hook_outcome(
            f"ecs#{execution}#{stage}#{progress.attempts_done}",
            Budget(context),
            progress,
            can_continue=True,
        )
    except Exception as exc:
        if not _already_in_progress(exc):
            raise
        # A duplicate invocation while the first still checks: ECS invokes hooks synchronously
        # and reads an error as FAILED (a rollback), so ask to be called again instead; the
        # next call reports the first invocation's stored decision.
        logger.warning("the same hook step is being checked already; asking ECS to call again")
        return {
            "hookStatus": "IN_PROGRESS",
            "callBackDelay": _interval_from_env(),
            "hookDetails": checks.dump_progress(progress),
            "message": "the same validation step is still running in another invocation",
        }
    if outcome.status == "continue":
        assert outcome.progress is not None
        delay = _interval_from_env()
        logger.info("continuing", extra={"lifecycle_stage": stage, "summary": outcome.message})
        return {
            "hookStatus": "IN_PROGRESS",
            "callBackDelay": delay,
            "hookDetails": checks.dump_progress(outcome.progress),
            "message": outcome.message,
        }
    status = "SUCCEEDED" if outcome.status == "succeeded" else "FAILED"
    log = logger.info if status == "SUCCEEDED" else logger.warning
    log("reported", extra={"lifecycle_stage": stage, "status": status, "summary": outcome.message})
    return {"hookStatus": status, "message": outcome.message}


def _already_in_progress(exc: BaseException) -> bool:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    return isinstance(exc, IdempotencyAlreadyInProgressError)


def _interval_from_env() -> int:
    try:
        return max(1, round(float(os.environ.get("VALIDATE_INTERVAL_SECONDS", "") or 10)))
    except (ValueError, OverflowError):
        return 10


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    job = parse_job(event)
    if job is not None:
        return handle_pipeline_job(job, context)
    body: Mapping[str, Any] = event if isinstance(event, Mapping) else {}
    if isinstance(body.get("lifecycleStage"), str) and "executionDetails" in body:
        return handle_ecs_hook(body, context)
    deployment_id, hook_id = body.get("DeploymentId"), body.get("LifecycleEventHookExecutionId")
    if isinstance(deployment_id, str) and isinstance(hook_id, str) and deployment_id and hook_id:
        return handle_hook(deployment_id, hook_id, context)
    # Nobody to report to: say so loudly; raising would only make Lambda retry the same event.
    logger.error("ignored: neither a CodePipeline job nor a lifecycle hook")
    return {"status": "ignored", "message": "not a CodePipeline job or lifecycle hook event"}
