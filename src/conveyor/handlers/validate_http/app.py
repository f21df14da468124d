"""Post-deployment HTTP validation (FM63), as a CodePipeline action or a CodeDeploy hook.

Whatever happens — bad parameters, an unreachable URL, a bug here, the Lambda timeout closing
in — the job or hook gets a result. A CodePipeline job without one hangs for up to an hour; a
CodeDeploy hook without one holds traffic shifting until the deployment times out.
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from . import common
else:  # Lambda imports app.py as a top-level module from the asset folder
    import common

logger = common.get_logger("conveyor.validate_http")

# Seconds kept back from the Lambda timeout for rollback and reporting calls.
SAFETY_MARGIN_SECONDS = 10.0
MAX_BODY_BYTES = 1_000_000
ALLOWED_SCHEMES = ("http", "https")

sleep: Callable[[float], None] = time.sleep  # replaced in tests


class ParameterError(ValueError):
    pass


@dataclass(frozen=True)
class Check:
    url: str
    expect_status: int = 200
    body_contains: str | None = None
    retries: int = 5
    interval_seconds: float = 10
    timeout_seconds: float = 5


@dataclass(frozen=True)
class EcsService:
    cluster: str
    service: str
    # A service in another account is rolled back through a role there (the deploy role).
    role_arn: str | None = None


@dataclass(frozen=True)
class LambdaAlias:
    function: str
    alias: str


Rollback = EcsService | LambdaAlias | None


@dataclass(frozen=True)
class Result:
    passed: bool
    summary: str


# ---------------------------------------------------------------------------------------------
# Configuration parsing (validated at the edge, with messages that say what to write instead).


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError('"url" is required, e.g. "https://staging.example.com/health"')
    try:
        parts = urllib.parse.urlsplit(value.strip())
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise ParameterError(f'"url" is not a valid URL ({exc}): {value!r}') from exc
    if parts.scheme not in ALLOWED_SCHEMES or not hostname:
        raise ParameterError(f'"url" must be an http:// or https:// URL, got {value!r}')
    return value.strip()


def _number(name: str, value: object, *, default: float, minimum: float, integer: bool) -> float:
    if value is None:
        return default
    # bool is an int in Python; `true` for a count is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f'"{name}" must be a number, got {value!r}')
    if integer and not float(value).is_integer():
        raise ParameterError(f'"{name}" must be a whole number, got {value!r}')
    if value < minimum:
        raise ParameterError(f'"{name}" must be at least {minimum:g}, got {value!r}')
    return value


def build_check(values: Mapping[str, Any]) -> Check:
    status = int(
        _number(
            "expect_status", values.get("expect_status"), default=200, minimum=100, integer=True
        )
    )
    if status > 599:
        raise ParameterError(f'"expect_status" must be an HTTP status, got {status}')
    body_contains = values.get("body_contains")
    if body_contains is not None and not isinstance(body_contains, str):
        raise ParameterError('"body_contains" must be a string or null')
    return Check(
        url=_url(values.get("url")),
        expect_status=status,
        body_contains=body_contains or None,
        retries=int(_number("retries", values.get("retries"), default=5, minimum=0, integer=True)),
        interval_seconds=_number(
            "interval_seconds", values.get("interval_seconds"), default=10, minimum=0, integer=False
        ),
        timeout_seconds=_number(
            "timeout_seconds", values.get("timeout_seconds"), default=5, minimum=0.1, integer=False
        ),
    )


_KEYS = {"url", "expect_status", "body_contains", "retries", "interval_seconds", "timeout_seconds"}


def parse_user_parameters(raw: str) -> tuple[Check, Rollback]:
    try:
        values = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"UserParameters is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise ParameterError('UserParameters must be a JSON object like {"url": "https://…"}')
    unknown = set(values) - _KEYS - {"rollback"}
    if unknown:
        raise ParameterError(
            f"unknown UserParameters keys {sorted(unknown)}; expected some of "
            f"{sorted(_KEYS | {'rollback'})}"
        )
    return build_check(values), _rollback(values.get("rollback"))


def _rollback(value: object) -> Rollback:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"ecs"} and isinstance(value["ecs"], dict):
        ecs = value["ecs"]
        role = ecs.get("role_arn")
        if (
            isinstance(ecs.get("cluster"), str)
            and isinstance(ecs.get("service"), str)
            and (role is None or (isinstance(role, str) and role.startswith("arn:")))
            and set(ecs) <= {"cluster", "service", "role_arn"}
        ):
            return EcsService(ecs["cluster"], ecs["service"], role)
    if isinstance(value, dict) and set(value) == {"lambda"} and isinstance(value["lambda"], dict):
        fn = value["lambda"]
        if isinstance(fn.get("function"), str) and isinstance(fn.get("alias"), str):
            return LambdaAlias(fn["function"], fn["alias"])
    raise ParameterError(
        '"rollback" must be null, {"ecs": {"cluster": "…", "service": "…", '
        '"role_arn": optional}} '
        'or {"lambda": {"function": "…", "alias": "…"}}'
    )


def check_from_env(environ: Mapping[str, str]) -> Check:
    def value(name: str, kind: Callable[[str], Any]) -> Any:
        raw = environ.get(name, "").strip()
        if not raw:
            return None
        try:
            return kind(raw)
        except ValueError as exc:
            raise ParameterError(f"environment variable {name}={raw!r} is not a number") from exc

    return build_check(
        {
            "url": environ.get("VALIDATE_URL"),
            "expect_status": value("VALIDATE_EXPECT_STATUS", int),
            "body_contains": environ.get("VALIDATE_BODY_CONTAINS") or None,
            "retries": value("VALIDATE_RETRIES", int),
            "interval_seconds": value("VALIDATE_INTERVAL_SECONDS", float),
            "timeout_seconds": value("VALIDATE_TIMEOUT_SECONDS", float),
        }
    )


# ---------------------------------------------------------------------------------------------
# The HTTP check.


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    # urllib follows redirects to ftp:// by default; a health check must never leave HTTP(S).
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        scheme = urllib.parse.urlsplit(newurl).scheme
        if scheme not in ALLOWED_SCHEMES:
            fp.close()
            raise urllib.error.URLError(f"refused redirect to a {scheme or 'relative'}: URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand so only HTTP(S) handlers exist: no file://, ftp:// or data: support at all.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _HttpOnlyRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


@dataclass(frozen=True)
class Attempt:
    status: int | None
    body: str
    error: str | None


def probe(url: str, timeout: float) -> Attempt:
    request = urllib.request.Request(  # noqa: S310 - scheme checked in _url, redirects in _HttpOnlyRedirects
        url, headers={"User-Agent": "conveyor-validate-http/1"}, method="GET"
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            body = response.read(MAX_BODY_BYTES)
            return Attempt(response.status, body.decode("utf-8", "replace"), None)
    except urllib.error.HTTPError as exc:
        redirect = exc.headers.get("Location", "") if exc.headers is not None else ""
        location = urllib.parse.urlsplit(str(redirect))
        if 300 <= exc.code < 400 and location.scheme not in (*ALLOWED_SCHEMES, ""):
            # urllib itself refuses file:// and similar before asking the redirect handler.
            exc.close()
            return Attempt(None, "", f"refused redirect to a {location.scheme}: URL")
        try:
            body = exc.read(MAX_BODY_BYTES) if exc.fp else b""
        finally:
            exc.close()
        return Attempt(exc.code, body.decode("utf-8", "replace"), None)
    except TimeoutError:
        return Attempt(None, "", f"timed out after {timeout:g}s")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return Attempt(None, "", f"timed out after {timeout:g}s")
        return Attempt(None, "", f"request failed: {reason}")


def _problem(check: Check, attempt: Attempt) -> str | None:
    if attempt.error:
        return attempt.error
    if attempt.status != check.expect_status:
        return f"expected status {check.expect_status}, got {attempt.status}"
    if check.body_contains and check.body_contains not in attempt.body:
        return f"status {attempt.status} but body does not contain {check.body_contains!r}"
    return None


def display_url(url: str) -> str:
    """The URL without credentials or query string, which may carry secrets."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def seconds_left(context: object) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return 60.0
    return float(remaining()) / 1000 - SAFETY_MARGIN_SECONDS


def run_check(check: Check, context: object) -> Result:
    target = f"GET {display_url(check.url)}"
    attempts = check.retries + 1
    problem = "not attempted"
    for number in range(1, attempts + 1):
        left = seconds_left(context)
        if left < 1:
            return Result(False, f"{target}: stopped before the Lambda timeout; last: {problem}")
        attempt = probe(check.url, min(check.timeout_seconds, left))
        problem = _problem(check, attempt) or ""
        logger.info(
            "attempt",
            extra={
                "url": display_url(check.url),
                "attempt": number,
                "status": attempt.status,
                "problem": problem or None,
            },
        )
        if not problem:
            return Result(True, f"{target}: status {attempt.status} on attempt {number}")
        if number < attempts:
            if seconds_left(context) < check.interval_seconds + 1:
                return Result(
                    False,
                    f"{target}: {problem} (attempt {number} of {attempts}); "
                    "stopped retrying before the Lambda timeout",
                )
            sleep(check.interval_seconds)
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return Result(False, f"{target}: {problem} (after {tries})")


# ---------------------------------------------------------------------------------------------
# Rollback for the pipeline action (CodeDeploy rolls back its own deployments).


def _revision(task_definition_arn: str) -> tuple[str, int]:
    family, _, revision = task_definition_arn.rsplit("/", 1)[-1].rpartition(":")
    return family, int(revision)


def _ecs_client(target: EcsService) -> Any:
    if target.role_arn is None:
        return common.client("ecs")
    import boto3

    credentials = common.client("sts").assume_role(
        RoleArn=target.role_arn, RoleSessionName="conveyor-validate-rollback"
    )["Credentials"]
    return boto3.client(
        "ecs",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def rollback_ecs(target: EcsService) -> str:
    """Point the service at the highest ACTIVE revision of its family below the current one."""
    ecs = _ecs_client(target)
    services = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"]
    if not services:
        raise RuntimeError(f"ECS service {target.service} not found in cluster {target.cluster}")
    current = services[0]["taskDefinition"]
    family, revision = _revision(current)
    candidates: list[tuple[int, str]] = []
    token: str | None = None
    while True:
        page = ecs.list_task_definitions(
            familyPrefix=family, status="ACTIVE", **({"nextToken": token} if token else {})
        )
        for arn in page.get("taskDefinitionArns", ()):
            other_family, other_revision = _revision(arn)
            # familyPrefix is a prefix match: payments-api also matches payments-api-worker.
            if other_family == family and other_revision < revision:
                candidates.append((other_revision, arn))
        token = page.get("nextToken")
        if not token:
            break
    if not candidates:
        raise RuntimeError(f"no earlier ACTIVE revision of task definition family {family}")
    previous = max(candidates)[1]
    ecs.update_service(cluster=target.cluster, service=target.service, taskDefinition=previous)
    return f"ECS service {target.service} rolled back from {family}:{revision} to {previous}"


def rollback_lambda(target: LambdaAlias) -> str:
    """Point the alias at the highest published version below the one it serves now."""
    lambda_ = common.client("lambda")
    alias = lambda_.get_alias(FunctionName=target.function, Name=target.alias)
    current = alias["FunctionVersion"]
    if not current.isdigit():
        raise RuntimeError(f"alias {target.alias} points at {current}, which has no predecessor")
    versions: list[int] = []
    marker: str | None = None
    while True:
        page = lambda_.list_versions_by_function(
            FunctionName=target.function, **({"Marker": marker} if marker else {})
        )
        versions += [
            int(v["Version"])
            for v in page.get("Versions", ())
            if v["Version"].isdigit() and int(v["Version"]) < int(current)
        ]
        marker = page.get("NextMarker")
        if not marker:
            break
    if not versions:
        raise RuntimeError(f"{target.function} has no published version before {current}")
    previous = str(max(versions))
    # Clearing the routing config also ends any canary weight left on the new version.
    lambda_.update_alias(
        FunctionName=target.function,
        Name=target.alias,
        FunctionVersion=previous,
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    return (
        f"alias {target.function}:{target.alias} rolled back from version {current} to {previous}"
    )


def perform_rollback(target: Rollback) -> str:
    if target is None:
        return "no rollback configured"
    try:
        if isinstance(target, EcsService):
            return rollback_ecs(target)
        return rollback_lambda(target)
    except Exception as exc:
        logger.exception("rollback failed", extra={"target": repr(target)})
        return f"ROLLBACK FAILED ({common.error_code(exc)}: {exc}); roll back by hand"


# ---------------------------------------------------------------------------------------------
# Entry points.


def handle_pipeline_job(job: common.PipelineJob, context: object) -> dict[str, Any]:
    try:
        check, target = parse_user_parameters(job.user_parameters)
    except ParameterError as exc:
        message = f"validate_http: invalid UserParameters: {exc}"
        logger.error("invalid configuration", extra={"job_id": job.id, "error": str(exc)})
        common.report_job_failure(job.id, message, "ConfigurationError")
        return {"status": "failed", "message": message}
    except Exception as exc:  # a bug in parsing must still end the job
        logger.exception("parameter parsing crashed", extra={"job_id": job.id})
        message = f"validation handler error: {type(exc).__name__}: {exc}"
        common.report_job_failure(job.id, message)
        return {"status": "failed", "message": message}
    try:
        result = run_check(check, context)
    except Exception as exc:  # a bug here must still end the job, not hang it
        logger.exception("check crashed", extra={"job_id": job.id})
        result = Result(False, f"validation handler error: {type(exc).__name__}: {exc}")
    if result.passed:
        common.report_job_success(job.id, result.summary)
        logger.info("passed", extra={"job_id": job.id, "summary": result.summary})
        return {"status": "succeeded", "message": result.summary}
    message = f"Validation failed: {result.summary}. Rollback: {perform_rollback(target)}."
    common.report_job_failure(job.id, message)
    logger.warning("failed", extra={"job_id": job.id, "summary": message})
    return {"status": "failed", "message": message}


def handle_hook(deployment_id: str, hook_id: str, context: object) -> dict[str, Any]:
    try:
        result = run_check(check_from_env(os.environ), context)
    except ParameterError as exc:
        result = Result(False, f"invalid VALIDATE_* configuration: {exc}")
    except Exception as exc:
        logger.exception("check crashed", extra={"deployment_id": deployment_id})
        result = Result(False, f"validation handler error: {type(exc).__name__}: {exc}")
    status = "Succeeded" if result.passed else "Failed"
    common.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=hook_id, status=status
    )
    log = logger.info if result.passed else logger.warning
    log(
        "reported",
        extra={"deployment_id": deployment_id, "status": status, "summary": result.summary},
    )
    return {"status": status.lower(), "message": result.summary}


def handle_ecs_hook(stage: str, context: object) -> dict[str, Any]:
    """ECS native blue/green lifecycle hook: ECS reads the returned hookStatus (no API call);
    FAILED rolls the deployment back. Any error of the check itself is a FAILED too."""
    try:
        result = run_check(check_from_env(os.environ), context)
    except ParameterError as exc:
        result = Result(False, f"invalid VALIDATE_* configuration: {exc}")
    except Exception as exc:
        logger.exception("check crashed", extra={"lifecycle_stage": stage})
        result = Result(False, f"validation handler error: {type(exc).__name__}: {exc}")
    status = "SUCCEEDED" if result.passed else "FAILED"
    log = logger.info if result.passed else logger.warning
    log("reported", extra={"lifecycle_stage": stage, "status": status, "summary": result.summary})
    return {"hookStatus": status, "message": result.summary}


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    job = common.parse_pipeline_job(event)
    if job is not None:
        return handle_pipeline_job(job, context)
    body = event if isinstance(event, Mapping) else {}
    stage = body.get("lifecycleStage")
    if isinstance(stage, str) and "executionDetails" in body:
        return handle_ecs_hook(stage, context)
    deployment_id, hook_id = body.get("DeploymentId"), body.get("LifecycleEventHookExecutionId")
    if isinstance(deployment_id, str) and isinstance(hook_id, str) and deployment_id and hook_id:
        return handle_hook(deployment_id, hook_id, context)
    # Nobody to report to: say so loudly; raising would only make Lambda retry the same event.
    logger.error("ignored: neither a CodePipeline job nor a CodeDeploy lifecycle hook")
    return {"status": "ignored", "message": "not a CodePipeline job or CodeDeploy hook event"}
