"""Helpers every conveyor handler shares: JSON logs, lazy AWS clients, config, job reports.

This is the canonical copy. Each handler folder holds an identical `common.py` because a Lambda
asset is one folder; edit this file, then run `python -m conveyor.handlers._vendor`.
Only the standard library and boto3/botocore (both in the Lambda Python runtime) may be used.
"""

# boto3 ships no type information; the handlers treat clients as Any at this one boundary.
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


class LambdaContext(Protocol):
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


class ConfigurationError(Exception):
    """A deployment mistake (missing or malformed environment variable), not a bad event."""


# ---------------------------------------------------------------------------------------------
# Structured logging: one JSON object per line, with the request id of the current invocation.

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _StdoutHandler(logging.Handler):
    # Looks sys.stdout up on every record so test capture (and Lambda's stream) always apply.
    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:  # logging must never break the handler
            self.handleError(record)


def get_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        # The Lambda runtime installs its own plain-text root handler; do not log twice.
        logger.propagate = False
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    return logger


def bind_request(context: object) -> None:
    _request_id.set(getattr(context, "aws_request_id", None))


# ---------------------------------------------------------------------------------------------
# AWS clients: created on first use (fast cold start, and tests can stub or mock them).


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Bounded retries and timeouts: a handler must report back before its own timeout.
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=15,
    )
    return boto3.client(service, config=config)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
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
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"environment variable {name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigurationError(
            f'environment variable {name} must be a JSON object of strings, e.g. {{"a": "b"}}'
        )
    return value


# ---------------------------------------------------------------------------------------------
# Time.


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 string or datetime; None when unusable."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
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
    raw_data: Mapping[str, Any] = field(default_factory=dict)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_pipeline_job(event: object) -> PipelineJob | None:
    """The CodePipeline job in a Lambda invoke event, or None if `event` is not one."""
    job = _mapping(_mapping(event).get("CodePipeline.job"))
    job_id = job.get("id")
    if not isinstance(job_id, str) or not job_id:
        return None
    data = _mapping(job.get("data"))
    configuration = _mapping(_mapping(data.get("actionConfiguration")).get("configuration"))
    user_parameters = configuration.get("UserParameters")
    artifacts = []
    for item in data.get("inputArtifacts") or ():
        artifact = _mapping(item)
        s3 = _mapping(_mapping(artifact.get("location")).get("s3Location"))
        bucket, key = s3.get("bucketName"), s3.get("objectKey")
        location = (
            S3Location(bucket, key) if isinstance(bucket, str) and isinstance(key, str) else None
        )
        artifacts.append(InputArtifact(str(artifact.get("name", "")), location))
    creds = _mapping(data.get("artifactCredentials"))
    credentials = None
    if all(isinstance(creds.get(k), str) for k in ("accessKeyId", "secretAccessKey")):
        credentials = ArtifactCredentials(
            creds["accessKeyId"], creds["secretAccessKey"], str(creds.get("sessionToken", ""))
        )
    return PipelineJob(
        id=job_id,
        user_parameters=user_parameters if isinstance(user_parameters, str) else "",
        input_artifacts=tuple(artifacts),
        credentials=credentials,
        raw_data=data,
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
