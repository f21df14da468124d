"""What every conveyor handler shares: JSON logs, lazy AWS clients, config, idempotency, jobs.

One module for the whole handler asset. Inside Lambda the asset root is the `handlers` folder,
so this is the top-level module `_common`; in tests and for mypy it is
`conveyor.handlers._common` (each `app.py` picks the import from its `__package__`).
Only the standard library, boto3/botocore (in the Lambda Python runtime) and
aws-lambda-powertools (the AWS-managed layer, the version pyproject pins) may be used.
Anything slow to import (boto3, the idempotency utility) is imported on first use.
"""

# boto3 ships no type information; the handlers treat clients as Any at this one boundary.
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aws_lambda_powertools.logging import Logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

T = TypeVar("T")


class LambdaContext(Protocol):
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


class ConfigurationError(Exception):
    """A deployment mistake (missing or malformed environment variable), not a bad event."""


# ---------------------------------------------------------------------------------------------
# Structured logging: Powertools' Logger, one JSON object per line.

# Lambda's log levels (advanced logging controls) are TRACE, DEBUG, INFO, WARN, ERROR, FATAL;
# TRACE and FATAL are not Python levels, and Powertools passes LOG_LEVEL to logging.setLevel,
# which raises at import for "TRACE" (issue 17/9). Levels are mapped here, never passed through.
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "WARNING": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "CRITICAL",
    "CRITICAL": "CRITICAL",
}
# AWS_LAMBDA_LOG_LEVEL is set by Lambda when the function logs in JSON with an application log
# level (the construct does); it wins, as in Powertools' own precedence.
# https://docs.aws.amazon.com/powertools/python/latest/core/logger/#aws-lambda-advanced-logging-controls-alc
_LEVEL_VARIABLES = ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")

_loggers: dict[str, Logger] = {}


def log_level() -> str:
    """The Python level for the first level variable set; INFO for unknown values."""
    for name in _LEVEL_VARIABLES:
        value = os.environ.get(name, "").strip().upper()
        if value:
            return _LEVELS.get(value, "INFO")
    return "INFO"


class _StdoutHandler(logging.Handler):
    # Looks sys.stdout up on every record so test capture (and Lambda's stream) always apply.
    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # logging must never break the handler
            self.handleError(record)


def get_logger(service: str) -> Logger:
    """One Logger per service: modules of one handler share it (a second Powertools Logger of
    the same service would not own the handler that formats its lines)."""
    if service not in _loggers:
        _loggers[service] = Logger(
            service=service, level=log_level(), logger_handler=_StdoutHandler()
        )
    return _loggers[service]


def bind_request(context: object) -> None:
    """Every log line of this invocation carries its request id."""
    request_id = getattr(context, "aws_request_id", None)
    for logger in _loggers.values():
        logger.append_keys(request_id=request_id)


# ---------------------------------------------------------------------------------------------
# AWS clients: created on first use (fast cold start, and tests can stub or mock them).


def _client_config() -> Any:
    from botocore.config import Config

    # Bounded retries and timeouts: a handler must report back before its own timeout.
    return Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=15,
    )


@functools.cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=_client_config())


def client_in(service: str, region: str | None) -> Any:
    """`service`'s client in `region`: a forwarded event's resource lives in another region
    than the function's (an environment in another region forwards its CodeDeploy events to
    the pipeline's, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html).
    The function's own client when `region` is none or the function's."""
    if not region or region == os.environ.get("AWS_REGION"):
        return client(service)
    return _regional_client(service, region)


@functools.cache
def _regional_client(service: str, region: str) -> Any:
    import boto3

    return boto3.client(service, region_name=region, config=_client_config())


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Code"):
            return str(error["Code"])
    return type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Configuration from environment variables.


def require_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"environment variable {name} is required but not set; "
            "the conveyor construct that deploys this function sets it"
        )
    return value


def env_mapping(name: str) -> dict[str, str]:
    """A JSON object of strings from `name`; unset means empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ConfigurationError(f"environment variable {name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(
            f'environment variable {name} must be a JSON object of strings, e.g. {{"a": "b"}}'
        )
    return value


# ---------------------------------------------------------------------------------------------
# Idempotency: an action runs once per key, whatever Lambda or EventBridge deliver twice.

IDEMPOTENCY_TABLE_VARIABLE = "IDEMPOTENCY_TABLE_NAME"


@functools.cache
def idempotency_store() -> Any:
    """Powertools' DynamoDB persistence layer on the table the construct names."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    # Table layout is Powertools' default: partition key `id`, TTL attribute `expiration`.
    # https://docs.aws.amazon.com/powertools/python/latest/utilities/idempotency/#required-resources
    return DynamoDBPersistenceLayer(
        table_name=require_env(IDEMPOTENCY_TABLE_VARIABLE), boto3_client=client("dynamodb")
    )


def run_once(
    action: Callable[[], T],
    *,
    scope: str,
    key: str,
    context: object,
    expires_after_seconds: int,
) -> T:
    """`action()` once per (`scope`, `key`) within the expiry; a repeat gets the first result.

    The result must be JSON-serializable (it is stored). If `action` raises, nothing is kept
    and a retry runs it again; a repeat arriving while the first still runs raises
    IdempotencyAlreadyInProgressError, so Lambda retries it later.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        IdempotencyConfig,
        idempotent_function,
    )

    config = IdempotencyConfig(
        event_key_jmespath="key",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
    )
    if callable(getattr(context, "get_remaining_time_in_millis", None)):
        # An in-progress record then expires with this invocation, not after the full expiry.
        config.register_lambda_context(context)  # type: ignore[arg-type]

    def guarded(request: dict[str, str]) -> T:
        return action()

    once = idempotent_function(
        guarded,
        data_keyword_argument="request",
        persistence_store=idempotency_store(),
        config=config,
        key_prefix=scope,
    )
    result: T = once(request={"key": key})
    return result


# ---------------------------------------------------------------------------------------------
# EventBridge events, checked once at the edge.

# Fields EventBridge sets on every event it delivers; the handlers read them without guards.
# https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
_ENVELOPE_TEXT = ("id", "detail-type", "source", "time", "region")


def eventbridge_event(event: object) -> EventBridgeEvent | None:
    """`event` as Powertools' EventBridgeEvent if it has EventBridge's envelope, else None.

    After this check `get_id`, `detail_type`, `source`, `time`, `region` are non-empty strings
    and `detail` is an object; what is inside `detail` is each handler's to check.
    """
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
        return None
    if not all(isinstance(event.get(k), str) and event[k] for k in _ENVELOPE_TEXT):
        return None
    # Imported here: the data classes package loads every event source's class (benchmarks/
    # handlers.py), which a cold import does not need to pay.
    from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

    return EventBridgeEvent(event)


# ---------------------------------------------------------------------------------------------
# Time.


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string or datetime; None when unusable."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())  # reads "Z" since Python 3.11
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00
        return None


def iso_utc(moment: datetime) -> str:
    # One fixed format so stored timestamps compare correctly as strings.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------------------------------------
# Commit messages, as CodePipeline reports them.


def commit_message(summary: object) -> str:
    """The commit message in a source revision's `revisionSummary`; never raises.

    GitHub (CodeStar connection) sources put a JSON object there (`{"ProviderType": "GitHub",
    "CommitMessage": "..."}`); CodeCommit and S3 put plain text. The summary is written by
    whoever wrote the commit: a message of 1,500 `[` made json.loads raise RecursionError
    (issue 17/5), so only text that looks like an object is decoded, and any failure to decode
    means "plain text".
    https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_ArtifactRevision.html
    """
    if not isinstance(summary, str):
        return ""
    if summary.lstrip().startswith("{"):
        try:
            decoded = json.loads(summary)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, dict) and isinstance(decoded.get("CommitMessage"), str):
            return str(decoded["CommitMessage"])
    return summary


def first_line(text: str, limit: int = 120) -> str:
    """The first non-empty line, with control characters replaced, at most `limit` long.

    Notices are line-oriented ("Console: <link>"); a multi-line commit message or summary must
    not add lines of its own (issue 17/9).
    """
    for line in text.splitlines():
        cleaned = one_line(line)
        if cleaned:
            return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
    return ""


def one_line(text: str) -> str:
    """`text` on one line: line breaks (any Unicode one) and control characters become spaces."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(printable.split())


# ---------------------------------------------------------------------------------------------
# CodePipeline job actions (Lambda invoke action).

_SUMMARY_MAX = 2048  # PutJobSuccessResult executionDetails.summary
_MESSAGE_MAX = 5000  # PutJobFailureResult failureDetails.message


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str


@dataclass(frozen=True)
class ArtifactCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


@dataclass(frozen=True)
class InputArtifact:
    name: str
    location: S3Location | None


@dataclass(frozen=True)
class PipelineJob:
    id: str
    user_parameters: str
    input_artifacts: tuple[InputArtifact, ...] = ()
    credentials: ArtifactCredentials | None = None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _input_artifacts(value: object) -> tuple[InputArtifact, ...]:
    # Anything but a list (a malformed or hostile event) means no artifacts: the job must still
    # get a result, so parsing may not raise (issue 17/9).
    artifacts = []
    for item in value if isinstance(value, list) else ():
        artifact = _mapping(item)
        s3 = _mapping(_mapping(artifact.get("location")).get("s3Location"))
        bucket, key = s3.get("bucketName"), s3.get("objectKey")
        location = (
            S3Location(bucket, key) if isinstance(bucket, str) and isinstance(key, str) else None
        )
        artifacts.append(InputArtifact(str(artifact.get("name", "")), location))
    return tuple(artifacts)


def parse_pipeline_job(event: object) -> PipelineJob | None:
    """The CodePipeline job in a Lambda invoke event, or None if `event` is not one.

    Event shape: https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html
    """
    job = _mapping(_mapping(event).get("CodePipeline.job"))
    job_id = job.get("id")
    if not isinstance(job_id, str) or not job_id:
        return None
    data = _mapping(job.get("data"))
    configuration = _mapping(_mapping(data.get("actionConfiguration")).get("configuration"))
    user_parameters = configuration.get("UserParameters")
    creds = _mapping(data.get("artifactCredentials"))
    credentials = None
    if all(isinstance(creds.get(k), str) for k in ("accessKeyId", "secretAccessKey")):
        credentials = ArtifactCredentials(
            creds["accessKeyId"], creds["secretAccessKey"], str(creds.get("sessionToken", ""))
        )
    return PipelineJob(
        id=job_id,
        user_parameters=user_parameters if isinstance(user_parameters, str) else "",
        input_artifacts=_input_artifacts(data.get("inputArtifacts")),
        credentials=credentials,
    )


def _clip(text: str, limit: int) -> str:
    text = text.strip() or "(no details)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_job_success(job_id: str, summary: str) -> None:
    client("codepipeline").put_job_success_result(
        jobId=job_id, executionDetails={"summary": _clip(summary, _SUMMARY_MAX)}
    )


def report_job_failure(job_id: str, message: str, failure_type: str = "JobFailed") -> None:
    client("codepipeline").put_job_failure_result(
        jobId=job_id, failureDetails={"type": failure_type, "message": _clip(message, _MESSAGE_MAX)}
    )
