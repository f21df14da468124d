"""What a validation check is, how it is read from its two sources (the CodePipeline action's
UserParameters, the hook's VALIDATE_* environment), and how its attempts are run within a
time budget that can be continued in a later invocation."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common
from . import http_check

logger = common.get_logger("conveyor.validate_http")

sleep: Callable[[float], None] = time.sleep  # replaced in tests
# Longest single UserParameters value CodePipeline accepts is 1000 characters, so a CA bundle
# cannot travel there; it comes from VALIDATE_CA_CERTIFICATE in both modes.
CA_VARIABLE = "VALIDATE_CA_CERTIFICATE"
# Shorter values are hidden only where they stand in the URL; anywhere else they would
# blank out ordinary words of the message.
_SHORTEST_SECRET = 4
# What http.client refuses in a request target (http/client.py,
# _contains_disallowed_url_pchar_re).
_UNSENDABLE = re.compile("[\x00-\x20\x7f]")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


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
    server_name: str | None = None
    ca_certificate: str | None = None

    @property
    def attempts(self) -> int:
        return self.retries + 1


@dataclass(frozen=True)
class Progress:
    """Where a check stands between invocations (continuation token, ECS hookDetails)."""

    attempts_done: int = 0
    last_problem: str = "not attempted"


@dataclass(frozen=True)
class Result:
    passed: bool
    summary: str
    # Set when the check is not finished and the next invocation should carry on.
    progress: Progress | None = None


# ---------------------------------------------------------------------------------------------
# Parameters, validated at the edge with messages that say what to write instead.


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError('"url" is required, e.g. "https://staging.example.com/health"')
    try:
        parts = urllib.parse.urlsplit(value.strip())
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise ParameterError(f'"url" is not a valid URL: {display_url(value)}') from exc
    if parts.scheme not in http_check.ALLOWED_SCHEMES or not hostname:
        raise ParameterError(
            f'"url" must be an http:// or https:// URL, got {display_url(value)!r}'
        )
    if _UNSENDABLE.search(value.strip()):
        # http.client refuses such a URL at every attempt, quoting the request target through
        # repr(): the escaped query no longer matches the secret to redact (issue 17/6 review).
        raise ParameterError(
            '"url" must not contain spaces or control characters; percent-encode them '
            f"(a space is %20), got {display_url(value)!r}"
        )
    return value.strip()


def _number(name: str, value: object, *, default: float, minimum: float, integer: bool) -> float:
    if value is None:
        return default
    # bool is an int in Python; `true` for a count is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f'"{name}" must be a number, got {value!r}')
    if integer and not float(value).is_integer():
        raise ParameterError(f'"{name}" must be a whole number, got {value!r}')
    if not value >= minimum:  # also refuses NaN
        raise ParameterError(f'"{name}" must be at least {minimum:g}, got {value!r}')
    if value > 86_400:  # also refuses infinity; nothing waits a day inside one deploy
        raise ParameterError(f'"{name}" must be at most 86400, got {value!r}')
    return value


def _server_name(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _HOSTNAME.match(value):
        raise ParameterError(
            f'"server_name" must be a DNS name like "app.example.com", got {value!r}'
        )
    return value.rstrip(".").lower()


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
        server_name=_server_name(values.get("server_name")),
    )


CHECK_KEYS = frozenset(
    {
        "url",
        "expect_status",
        "body_contains",
        "retries",
        "interval_seconds",
        "timeout_seconds",
        "server_name",
    }
)


def with_ca(check: Check, environ: Mapping[str, str]) -> Check:
    pem = environ.get(CA_VARIABLE, "").strip()
    if not pem:
        return check
    try:
        http_check.tls_context(pem)
    except (ValueError, OSError) as exc:  # ssl.SSLError is an OSError
        raise ParameterError(
            f"environment variable {CA_VARIABLE} is not a PEM certificate bundle ({exc})"
        ) from exc
    return replace(check, ca_certificate=pem)


def check_from_env(environ: Mapping[str, str]) -> Check:
    def value(name: str, kind: Callable[[str], Any]) -> Any:
        raw = environ.get(name, "").strip()
        if not raw:
            return None
        try:
            return kind(raw)
        except ValueError as exc:
            raise ParameterError(f"environment variable {name}={raw!r} is not a number") from exc

    check = build_check(
        {
            "url": environ.get("VALIDATE_URL"),
            "expect_status": value("VALIDATE_EXPECT_STATUS", int),
            "body_contains": environ.get("VALIDATE_BODY_CONTAINS") or None,
            "retries": value("VALIDATE_RETRIES", int),
            "interval_seconds": value("VALIDATE_INTERVAL_SECONDS", float),
            "timeout_seconds": value("VALIDATE_TIMEOUT_SECONDS", float),
            "server_name": environ.get("VALIDATE_SERVER_NAME") or None,
        }
    )
    return with_ca(check, environ)


def parse_progress(raw: object) -> Progress:
    """Progress from a continuation token or hookDetails; anything unreadable starts over."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return Progress()
    if not isinstance(raw, Mapping):
        return Progress()
    done, problem = raw.get("attempts_done"), raw.get("last_problem")
    if isinstance(done, bool) or not isinstance(done, int) or done < 0:
        return Progress()
    return Progress(done, problem if isinstance(problem, str) else "not attempted")


def dump_progress(progress: Progress) -> dict[str, Any]:
    return {"attempts_done": progress.attempts_done, "last_problem": progress.last_problem[:500]}


# ---------------------------------------------------------------------------------------------
# Secrets: a URL may carry user:password or a token in its query string (issue 17/6).


def display_url(url: str) -> str:
    """The URL without credentials, query string or fragment."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unparseable URL)"
    if ":" in host:
        host = f"[{host}]"
    if port:
        host = f"{host}:{port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def secrets_of(url: str) -> list[str]:
    """The parts of `url` that must never be shown, longest first: the user:password, the
    query and fragment in their URL context, and the password, query and fragment anywhere
    (decoded too) when they are long enough not to match ordinary words."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        password = parts.password
    except ValueError:
        return [url.strip()] if url.strip() else []
    userinfo = parts.netloc.rpartition("@")[0]
    found = [f"{userinfo}@" if userinfo else "", f"?{parts.query}" if parts.query else ""]
    found.append(f"#{parts.fragment}" if parts.fragment else "")
    loose = [p for p in (password, parts.query, parts.fragment) if p]
    loose += [urllib.parse.unquote(p) for p in loose]
    found += [p for p in loose if len(p) >= _SHORTEST_SECRET]
    return sorted({p for p in found if p}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret.endswith("@"):
            text = text.replace(secret, "***@")
        elif secret[0] in "?#":
            text = text.replace(secret, f"{secret[0]}***")
        else:
            text = text.replace(secret, "***")
    return text


# ---------------------------------------------------------------------------------------------
# Running the attempts.


def problem_of(check: Check, response: http_check.Response) -> str | None:
    if response.status != check.expect_status:
        return f"expected status {check.expect_status}, got {response.status}"
    if check.body_contains and check.body_contains not in response.body:
        return f"status {response.status} but body does not contain {check.body_contains!r}"
    return None


def probe(check: Check, seconds: float) -> str | None:
    """One attempt: None when healthy, else what was wrong."""
    request = http_check.Request(
        url=check.url,
        server_name=check.server_name,
        ca_certificate=check.ca_certificate,
        read_body=check.body_contains is not None,
    )
    try:
        response = http_check.fetch(request, seconds)
    except http_check.UnhealthyError as exc:
        return str(exc)
    return problem_of(check, response)


def run_check(
    check: Check,
    seconds_left: Callable[[], float],
    progress: Progress = Progress(),
    *,
    can_continue: bool = False,
) -> Result:
    """Attempts until one passes, they run out, or the next would not fit in `seconds_left()`.
    Then, with `can_continue`, the Result carries the progress for a later invocation."""
    target = f"GET {display_url(check.url)}"
    secrets = secrets_of(check.url)
    problem = progress.last_problem
    first = progress.attempts_done + 1
    for number in range(first, check.attempts + 1):
        # Continuing is only worth it when this invocation got somewhere.
        resumable = can_continue and number > first
        if number > 1:
            if seconds_left() < check.interval_seconds + 1:
                return _out_of_time(target, problem, number - 1, check, resumable)
            sleep(check.interval_seconds)
        left = seconds_left()
        if left < 1:
            return _out_of_time(target, problem, number - 1, check, resumable)
        problem = redact(probe(check, min(check.timeout_seconds, left)) or "", secrets)
        logger.info(
            "attempt",
            extra={"url": display_url(check.url), "attempt": number, "problem": problem or None},
        )
        if not problem:
            return Result(True, f"{target}: status {check.expect_status} on attempt {number}")
    tries = "1 attempt" if check.attempts == 1 else f"{check.attempts} attempts"
    return Result(False, f"{target}: {problem} (after {tries})")


def _out_of_time(target: str, problem: str, done: int, check: Check, can_continue: bool) -> Result:
    if can_continue:
        return Result(False, f"{target}: continuing after attempt {done}", Progress(done, problem))
    if done == 0:
        return Result(False, f"{target}: stopped before the Lambda timeout; last: {problem}")
    return Result(
        False,
        f"{target}: {problem} (attempt {done} of {check.attempts}); "
        "stopped retrying before the Lambda timeout",
    )
