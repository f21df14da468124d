# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from conveyor.handlers import _common as common
from conveyor.handlers.validate_http import app, check, http_check

from .support import FakeContext, create_idempotency_table, load_event, log_lines, record_calls
from .validate_http_servers import APP_NAME, Pki, Routes, make_pki, serve, serve_tls_then

JOB_ID = "11111111-abcd-1111-abcd-111111111111"
HOOK = {"DeploymentId": "d-7ZJ2WQ1XA", "LifecycleEventHookExecutionId": "hook-execution-1"}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve() as origin:
        yield origin


@pytest.fixture(scope="module")
def other_server() -> Iterator[str]:
    with serve() as origin:
        yield origin.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_server(pki: Pki) -> Iterator[str]:
    with serve(pki.server_context) as origin:
        yield origin


@pytest.fixture(autouse=True)
def fresh_state(
    monkeypatch: pytest.MonkeyPatch, server: str, other_server: str
) -> Iterator[list[float]]:
    slept: list[float] = []
    monkeypatch.setattr(check, "sleep", slept.append)
    Routes.flaky_calls = 0
    Routes.other_origin = other_server
    Routes.plain_origin = server
    Routes.seen_hosts = []
    Routes.seen_requests = []
    app._decided.clear()
    app._client.cache_clear()
    yield slept
    app._decided.clear()
    app._client.cache_clear()


@pytest.fixture
def no_sleep(fresh_state: list[float]) -> list[float]:
    return fresh_state


@dataclass
class Stubbed:
    stubber: Stubber
    calls: list[tuple[str, dict[str, Any]]]


@dataclass
class Aws:
    """Clients the handler creates: stubbed for the services a test stubs, real (for moto or a
    black hole) for the rest; every config the handler asked for is kept."""

    monkeypatch: pytest.MonkeyPatch
    stubs: dict[str, Stubbed] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    configs: list[tuple[str, Any]] = field(default_factory=list)
    endpoint: str | None = None

    def stub(self, service: str) -> Stubbed:
        if service not in self.stubs:
            client = boto3.client(service)
            stubbed = Stubbed(Stubber(client), record_calls(client))
            stubbed.stubber.activate()
            self.stubs[service] = stubbed
            self.clients[service] = client
        return self.stubs[service]

    def new_client(self, service: str, config: Any) -> Any:
        self.configs.append((service, config))
        if service in self.clients:
            return self.clients[service]
        return boto3.client(service, config=config, endpoint_url=self.endpoint)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    fake = Aws(monkeypatch)
    monkeypatch.setattr(app, "new_client", fake.new_client)
    yield fake
    for stubbed in fake.stubs.values():
        stubbed.stubber.assert_no_pending_responses()
        stubbed.stubber.deactivate()


@pytest.fixture
def codepipeline(aws: Aws) -> Stubbed:
    return aws.stub("codepipeline")


@pytest.fixture
def codedeploy(aws: Aws) -> Stubbed:
    return aws.stub("codedeploy")


@pytest.fixture
def lambda_(aws: Aws) -> Stubbed:
    return aws.stub("lambda")


def job_event(params: dict[str, Any] | str, token: str | None = None) -> dict[str, Any]:
    event = load_event("validate_http", "codepipeline-job.json")
    config = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    config["UserParameters"] = params if isinstance(params, str) else json.dumps(params)
    if token is not None:
        event["CodePipeline.job"]["data"]["continuationToken"] = token
    return event


def expect_success(codepipeline: Stubbed) -> None:
    codepipeline.stubber.add_response(
        "put_job_success_result", {}, {"jobId": JOB_ID, "executionDetails": ANY}
    )


def expect_failure(codepipeline: Stubbed) -> None:
    codepipeline.stubber.add_response(
        "put_job_failure_result", {}, {"jobId": JOB_ID, "failureDetails": ANY}
    )


def reported_failure(codepipeline: Stubbed) -> dict[str, str]:
    [(name, params)] = codepipeline.calls
    assert name == "PutJobFailureResult"
    details: dict[str, str] = params["failureDetails"]
    return details


def reported_summary(codepipeline: Stubbed) -> str:
    [(name, params)] = codepipeline.calls
    assert name == "PutJobSuccessResult"
    summary: str = params["executionDetails"]["summary"]
    return summary


# --- CodePipeline action: the check itself ---


def test_healthy_endpoint_succeeds_the_job(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_success(codepipeline)

    result = app.handler(job_event({"url": f"{server}/ok", "body_contains": "ok"}), context)

    assert result["status"] == "succeeded"
    assert reported_summary(codepipeline) == f"GET {server}/ok: status 200 on attempt 1"
    logs = log_lines(capsys.readouterr().out)
    assert {line["request_id"] for line in logs} == {context.aws_request_id}


def test_failing_status_retries_then_fails_the_job(
    server: str, codepipeline: Stubbed, context: FakeContext, no_sleep: list[float]
) -> None:
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}/error", "retries": 2, "interval_seconds": 3}), context)

    failure = reported_failure(codepipeline)
    assert failure["type"] == "JobFailed"
    assert failure["message"] == (
        f"Validation failed: GET {server}/error: expected status 200, got 500 (after 3 attempts)."
    )
    assert no_sleep == [3, 3]


def test_recovering_endpoint_passes_on_a_later_attempt(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_success(codepipeline)

    app.handler(job_event({"url": f"{server}/flaky", "retries": 3, "interval_seconds": 0}), context)

    assert reported_summary(codepipeline).endswith("on attempt 3")


def test_body_mismatch_fails_with_the_expected_text(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_failure(codepipeline)

    app.handler(
        job_event({"url": f"{server}/degraded", "body_contains": "status: ok", "retries": 0}),
        context,
    )

    assert (
        "status 200 but body does not contain 'status: ok'"
        in reported_failure(codepipeline)["message"]
    )


def test_slow_endpoint_times_out(server: str, codepipeline: Stubbed, context: FakeContext) -> None:
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}/slow", "timeout_seconds": 0.2, "retries": 0}), context)

    assert "timed out after 0.2s" in reported_failure(codepipeline)["message"]


def test_a_dripping_body_cannot_outlast_the_timeout(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    """Issue 17/3: a byte every 0.5 s never trips a per-read timeout; the whole request has
    one deadline, so a 2 s check fails as timed out instead of passing after 8 s."""
    expect_failure(codepipeline)

    app.handler(
        job_event(
            {"url": f"{server}/drip", "timeout_seconds": 2, "retries": 0, "body_contains": "ok"}
        ),
        context,
    )

    assert "timed out after 2s" in reported_failure(codepipeline)["message"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/redirect-ftp", "refused redirect to a ftp: URL"),
        ("/redirect-file", "refused redirect to a file: URL"),
        ("/redirect-other-host", "refused redirect to another host (localhost)"),
        ("/redirect-loop", "more than 5 redirects"),
    ],
)
def test_redirects_that_leave_the_checked_service_are_unhealthy(
    server: str, codepipeline: Stubbed, context: FakeContext, path: str, expected: str
) -> None:
    """Issue 17/9: a redirect to another host proves nothing about this deployment."""
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}{path}", "retries": 0}), context)

    assert expected in reported_failure(codepipeline)["message"]


def test_http_redirects_on_the_same_host_are_followed(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_success(codepipeline)

    assert app.handler(job_event({"url": f"{server}/redirect-ok"}), context)["status"] == (
        "succeeded"
    )


def test_unreachable_endpoint_fails(codepipeline: Stubbed, context: FakeContext) -> None:
    expect_failure(codepipeline)

    app.handler(job_event({"url": "http://127.0.0.1:9/health", "retries": 0}), context)

    assert "request failed" in reported_failure(codepipeline)["message"]


def test_unresolvable_host_fails(codepipeline: Stubbed, context: FakeContext) -> None:
    expect_failure(codepipeline)

    app.handler(job_event({"url": "http://does-not-exist.invalid/health", "retries": 0}), context)

    assert "cannot resolve host" in reported_failure(codepipeline)["message"]


def test_credentials_and_query_never_reach_the_report_or_logs(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17/6."""
    expect_failure(codepipeline)
    url = server.replace("http://", "http://user:hunter2@") + "/error?token=s3cr3t#frag"

    app.handler(job_event({"url": url, "retries": 0}), context)

    message = reported_failure(codepipeline)["message"]
    logs = capsys.readouterr().out
    assert f"GET {server}/error:" in message
    for secret in ("hunter2", "s3cr3t", "frag"):
        assert secret not in message
        assert secret not in logs


@pytest.mark.parametrize("character", ["\x01", "\x7f", " ", "\x00"])
def test_a_url_with_a_control_character_is_refused_without_its_secrets(
    server: str,
    codepipeline: Stubbed,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
    character: str,
) -> None:
    """Issue 17/6, review: http.client refuses such a URL with a message quoting the request
    target (path and query) through repr(), which escapes the control character, so the
    query no longer matched the secret to redact and reached the job failure and the logs."""
    expect_failure(codepipeline)
    url = f"{server}/ok?token=SUPERSECRET{character}x"

    app.handler(job_event({"url": url, "retries": 0}), context)

    failure = reported_failure(codepipeline)
    logs = capsys.readouterr().out
    assert failure["type"] == "ConfigurationError"
    assert (
        '"url" must not contain spaces or control characters; percent-encode them (a space is '
        f"%20), got '{server}/ok'" in failure["message"]
    )
    assert "SUPERSECRET" not in failure["message"] + logs


def test_credentials_in_the_url_are_sent_as_basic_auth(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_success(codepipeline)
    url = server.replace("http://", "http://user:hunter2@") + "/auth"

    assert app.handler(job_event({"url": url, "retries": 0}), context)["status"] == "succeeded"


def test_a_crash_message_carrying_the_url_is_redacted(
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def explode(check_: check.Check, seconds: float) -> str | None:
        raise RuntimeError(f"cannot open {check_.url}")

    monkeypatch.setattr(check, "probe", explode)
    expect_failure(codepipeline)

    app.handler(job_event({"url": "https://u:pw-secret@x/health?key=k-secret"}), context)

    message = reported_failure(codepipeline)["message"]
    logs = capsys.readouterr().out
    assert "validation handler error: RuntimeError: cannot open https://***@x/health?***" in message
    assert "pw-secret" not in message + logs
    assert "k-secret" not in message + logs


# --- TLS: the app's certificate, reached through another name (issue 14/5), custom CA ---


def test_tls_to_an_address_the_certificate_does_not_name_fails(
    tls_server: str,
    pki: Pki,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The load balancer's own name is not on the app's certificate: without server_name every
    check fails (and every deploy rolls back)."""
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{tls_server}/ok", "retries": 0}), context)

    assert "TLS certificate not valid" in reported_failure(codepipeline)["message"]


def test_server_name_sends_sni_and_host_and_verifies_that_name(
    tls_server: str,
    pki: Pki,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    expect_success(codepipeline)

    result = app.handler(
        job_event({"url": f"{tls_server}/ok", "retries": 0, "server_name": APP_NAME}), context
    )

    assert result["status"] == "succeeded"
    port = tls_server.rsplit(":", 1)[1]
    assert Routes.seen_hosts == [f"{APP_NAME}:{port}"]


def test_server_name_for_another_name_still_fails(
    tls_server: str,
    pki: Pki,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    expect_failure(codepipeline)

    app.handler(
        job_event({"url": f"{tls_server}/ok", "retries": 0, "server_name": "other.example"}),
        context,
    )

    assert "TLS certificate not valid" in reported_failure(codepipeline)["message"]


def test_without_the_custom_ca_the_private_certificate_is_refused(
    tls_server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_failure(codepipeline)

    app.handler(
        job_event({"url": f"{tls_server}/ok", "retries": 0, "server_name": APP_NAME}), context
    )

    assert "TLS certificate not valid" in reported_failure(codepipeline)["message"]


def test_redirect_to_the_app_name_goes_to_the_same_address(
    tls_server: str,
    pki: Pki,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    expect_success(codepipeline)
    params = {"url": f"{tls_server}/redirect-app-name", "retries": 0, "server_name": APP_NAME}

    assert app.handler(job_event(params), context)["status"] == "succeeded"


def test_redirect_from_https_to_http_is_unhealthy(
    tls_server: str,
    pki: Pki,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    expect_failure(codepipeline)
    params = {"url": f"{tls_server}/redirect-to-http", "retries": 0, "server_name": APP_NAME}

    app.handler(job_event(params), context)

    assert "refused redirect from https to http" in reported_failure(codepipeline)["message"]


def test_a_ca_variable_that_is_not_pem_is_a_configuration_error(
    codepipeline: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, "not a certificate")
    expect_failure(codepipeline)

    app.handler(job_event({"url": "https://x/health"}), context)

    failure = reported_failure(codepipeline)
    assert failure["type"] == "ConfigurationError"
    assert "VALIDATE_CA_CERTIFICATE is not a PEM certificate bundle" in failure["message"]


# --- CodePipeline action: bad parameters are reported, never raised ---


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("{not json", "UserParameters is not valid JSON"),
        (
            '["https://x"]',
            'invalid UserParameters: UserParameters must be a JSON object like {"url": "https://…"}',
        ),
        ("", "UserParameters is not valid JSON"),
        ("[" * 5000, "UserParameters is not valid JSON"),
        ({"expect_status": 200}, '"url" is required'),
        ({"url": "file:///etc/passwd"}, "must be an http:// or https:// URL"),
        ({"url": "ftp://example.com/x"}, "must be an http:// or https:// URL"),
        ({"url": "http://[::1/health"}, '"url" is not a valid URL'),
        ({"url": "http://x:port/health"}, '"url" is not a valid URL'),
        ({"url": "https:///health"}, "must be an http:// or https:// URL"),
        ({"url": "https://x", "retries": True}, '"retries" must be a number'),
        ({"url": "https://x", "retries": 1.5}, '"retries" must be a whole number'),
        ({"url": "https://x", "timeout_seconds": 0}, '"timeout_seconds" must be at least 0.1'),
        ({"url": "https://x", "interval_seconds": 1e9}, '"interval_seconds" must be at most'),
        ({"url": "https://x", "expect_status": 700}, '"expect_status" must be an HTTP status'),
        ({"url": "https://x", "body_contains": 3}, '"body_contains" must be a string'),
        ({"url": "https://x", "server_name": "a b"}, '"server_name" must be a DNS name'),
        (
            {"url": "https://x", "expected": 200},
            "unknown UserParameters keys ['expected']; expected some of ['body_contains', "
            "'expect_status', 'interval_seconds', 'retries', 'server_name', "
            "'timeout_seconds', 'url']",
        ),
    ],
)
def test_invalid_user_parameters_fail_as_configuration_error(
    codepipeline: Stubbed, context: FakeContext, params: dict[str, Any] | str, expected: str
) -> None:
    expect_failure(codepipeline)

    result = app.handler(job_event(params), context)

    failure = reported_failure(codepipeline)
    assert failure["type"] == "ConfigurationError"
    assert expected in failure["message"]
    assert result["status"] == "failed"


def test_own_crash_is_reported_as_failure(
    codepipeline: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(check_: check.Check, seconds: float) -> str | None:
        raise RuntimeError("socket library on fire")

    monkeypatch.setattr(check, "probe", explode)
    expect_failure(codepipeline)

    app.handler(job_event({"url": "https://x/health"}), context)

    assert (
        "validation handler error: RuntimeError: socket library on fire"
        in (reported_failure(codepipeline)["message"])
    )


def test_failure_to_report_is_raised_not_swallowed(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    codepipeline.stubber.add_client_error("put_job_success_result", "AccessDeniedException")

    with pytest.raises(ClientError, match="AccessDenied"):
        app.handler(job_event({"url": f"{server}/ok"}), context)


def test_crash_while_parsing_parameters_is_still_reported(
    codepipeline: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(raw: str) -> check.Check:
        raise MemoryError("parser exhausted")

    monkeypatch.setattr(app, "parse_user_parameters", explode)
    expect_failure(codepipeline)

    result = app.handler(job_event({"url": "https://x"}), context)

    assert result["message"] == "validation handler error: MemoryError: parser exhausted"
    assert reported_failure(codepipeline)["type"] == "JobFailed"


# --- time budget: stop with a margin and report instead of hanging ---


class ShrinkingContext(FakeContext):
    """Loses `step_ms` every time the handler asks how much time is left."""

    def __init__(self, remaining_ms: int, step_ms: int) -> None:
        super().__init__(remaining_ms=remaining_ms)
        self.step_ms = step_ms

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= self.step_ms
        return self.remaining_ms + self.step_ms


class RealContext(FakeContext):
    """Runs out in real time, like Lambda's."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def test_no_attempt_when_the_lambda_is_about_to_time_out(
    server: str, codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []
    monkeypatch.setattr(check, "probe", lambda c, seconds: attempts.append(c.url))
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}/ok"}), FakeContext(remaining_ms=20_500))

    assert attempts == []
    assert "stopped before the Lambda timeout" in reported_failure(codepipeline)["message"]


def test_long_checks_continue_in_the_next_invocation(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    """Issue 17/4: the attempts that do not fit are handed to CodePipeline's next invocation
    through a continuation token instead of failing the deploy."""
    params = {"url": f"{server}/error", "retries": 10, "interval_seconds": 10}
    codepipeline.stubber.add_response(
        "put_job_success_result",
        {},
        {"jobId": JOB_ID, "executionDetails": ANY, "continuationToken": ANY},
    )

    result = app.handler(job_event(params), ShrinkingContext(remaining_ms=50_000, step_ms=10_000))

    assert result["status"] == "continue"
    [(_, sent)] = codepipeline.calls
    token = json.loads(sent["continuationToken"])
    assert token == {"attempts_done": 2, "last_problem": "expected status 200, got 500"}
    assert sent["executionDetails"]["summary"] == f"GET {server}/error: continuing after attempt 2"

    codepipeline.calls.clear()
    expect_failure(codepipeline)
    app.handler(job_event(params, token=sent["continuationToken"]), FakeContext())
    message = reported_failure(codepipeline)["message"]
    assert "expected status 200, got 500 (after 11 attempts)" in message


def test_a_continuation_token_with_a_long_non_ascii_problem_keeps_the_attempts(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    """Review of issue 17: the token's JSON was cut at 2048 characters; a problem quoting
    non-ASCII text (escaped to 6 characters each) then no longer parsed, so the next invocation
    started again from attempt 1 and the check never ran out of attempts."""
    params = {"url": f"{server}/ok", "body_contains": "é" * 400, "retries": 10}
    codepipeline.stubber.add_response(
        "put_job_success_result",
        {},
        {"jobId": JOB_ID, "executionDetails": ANY, "continuationToken": ANY},
    )

    app.handler(job_event(params), ShrinkingContext(remaining_ms=50_000, step_ms=10_000))

    [(_, sent)] = codepipeline.calls
    assert len(sent["continuationToken"]) <= 2048
    token = json.loads(sent["continuationToken"])
    assert token["attempts_done"] == 2
    assert token["last_problem"].startswith("status 200 but body does not contain 'éé")


def test_an_invocation_without_room_for_one_attempt_does_not_continue_forever(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    expect_failure(codepipeline)
    token = json.dumps({"attempts_done": 3, "last_problem": "expected status 200, got 500"})

    app.handler(
        job_event({"url": f"{server}/error", "retries": 10, "interval_seconds": 10}, token=token),
        FakeContext(remaining_ms=25_000),
    )

    message = reported_failure(codepipeline)["message"]
    assert "got 500 (attempt 3 of 11); stopped retrying before the Lambda timeout" in message


def test_aws_clients_fit_their_retries_into_the_time_left() -> None:
    budget = app.Budget(FakeContext(remaining_ms=12_000))
    client = budget.client("ecs", keep=5)
    config = client.meta.config
    attempts = config.retries["total_max_attempts"]
    assert attempts * (config.connect_timeout + config.read_timeout) <= 12 - 5
    # The report is still attempted with no time left: one short try.
    last = app.Budget(FakeContext(remaining_ms=0)).client("codepipeline").meta.config
    assert (last.connect_timeout, last.read_timeout) == (1, 1)
    assert last.retries["total_max_attempts"] == 1


# --- no rollback of its own (issue 11): the stage's OnFailure ROLLBACK owns it ---


def test_a_failed_check_fails_the_job_and_calls_nothing_but_codepipeline(
    server: str, codepipeline: Stubbed, context: FakeContext, aws: Aws
) -> None:
    """A second rollback here raced the stage's: CodeDeploy takes one deployment per group at
    a time, and the stage rollback deploys the last good release itself."""
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}/error", "retries": 0}), context)

    assert reported_failure(codepipeline)["message"] == (
        f"Validation failed: GET {server}/error: expected status 200, got 500 (after 1 attempt)."
    )
    assert [service for service, _ in aws.configs] == ["codepipeline"]


def test_a_rollback_target_from_an_older_pipeline_is_refused_not_acted_on(
    codepipeline: Stubbed, context: FakeContext, aws: Aws
) -> None:
    """UserParameters and the function are one stack's: a "rollback" key is a configuration
    error (the job fails, the stage rolls back), never a rollback here."""
    expect_failure(codepipeline)
    target = {"ecs": {"cluster": "payments-staging", "service": "api"}}

    app.handler(job_event({"url": "https://x", "rollback": target}), context)

    failure = reported_failure(codepipeline)
    assert failure["type"] == "ConfigurationError"
    assert "unknown UserParameters keys ['rollback']" in failure["message"]
    assert [service for service, _ in aws.configs] == ["codepipeline"]


def test_a_job_that_already_has_a_result_is_left_alone(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    """Issue 17/9: InvalidJobStateException means another invocation reported; the handler
    returns instead of raising (which would make Lambda run the check again)."""
    codepipeline.stubber.add_client_error("put_job_failure_result", "InvalidJobStateException")

    result = app.handler(job_event({"url": f"{server}/error", "retries": 0}), context)

    assert result["status"] == "already-reported"


# --- CodeDeploy lifecycle hook ---


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    monkeypatch.setenv("VALIDATE_URL", f"{server}/ok")
    monkeypatch.setenv("VALIDATE_RETRIES", "1")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "0")


def expect_hook_status(codedeploy: Stubbed, status: str) -> None:
    codedeploy.stubber.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": HOOK["LifecycleEventHookExecutionId"]},
        {
            "deploymentId": HOOK["DeploymentId"],
            "lifecycleEventHookExecutionId": HOOK["LifecycleEventHookExecutionId"],
            "status": status,
        },
    )


def test_hook_reports_succeeded_for_a_healthy_endpoint(
    hook_env: None, codedeploy: Stubbed, context: FakeContext
) -> None:
    expect_hook_status(codedeploy, "Succeeded")

    event = load_event("validate_http", "codedeploy-hook-after-allow-test-traffic.json")
    event["LifecycleEventHookExecutionId"] = HOOK["LifecycleEventHookExecutionId"]

    assert app.handler(event, context)["status"] == "succeeded"


def test_hook_reports_failed_and_leaves_rollback_to_codedeploy(
    hook_env: None,
    server: str,
    codedeploy: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VALIDATE_URL", f"{server}/degraded")
    monkeypatch.setenv("VALIDATE_BODY_CONTAINS", "status: ok")
    expect_hook_status(codedeploy, "Failed")

    result = app.handler(dict(HOOK), context)

    assert result["status"] == "failed"
    assert "does not contain 'status: ok' (after 2 attempts)" in result["message"]
    assert [name for name, _ in codedeploy.calls] == ["PutLifecycleEventHookExecutionStatus"]


def test_hook_already_completed_is_not_checked_again(
    hook_env: None, codedeploy: Stubbed, context: FakeContext
) -> None:
    """Issue 17/9: a duplicate delivery after the hook completed neither raises (a Lambda
    retry) nor runs the check a second time."""
    expect_hook_status(codedeploy, "Succeeded")
    codedeploy.stubber.add_client_error(
        "put_lifecycle_event_hook_execution_status", "LifecycleEventAlreadyCompletedException"
    )
    assert app.handler(dict(HOOK), context)["status"] == "succeeded"
    seen = len(Routes.seen_hosts)

    assert app.handler(dict(HOOK), context)["status"] == "already-reported"
    assert len(Routes.seen_hosts) == seen


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VALIDATE_URL", "", '"url" is required'),
        ("VALIDATE_URL", "file:///etc/passwd", "http:// or https://"),
        ("VALIDATE_RETRIES", "many", "VALIDATE_RETRIES='many' is not a number"),
        ("VALIDATE_EXPECT_STATUS", "2OO", "VALIDATE_EXPECT_STATUS='2OO' is not a number"),
        ("VALIDATE_SERVER_NAME", "-bad-", '"server_name" must be a DNS name'),
    ],
)
def test_hook_misconfiguration_reports_failed(
    hook_env: None,
    codedeploy: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(name, value)
    expect_hook_status(codedeploy, "Failed")

    result = app.handler(dict(HOOK), context)

    assert expected in result["message"]


def test_hook_crash_still_reports_failed(
    hook_env: None, codedeploy: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> check.Result:
        raise KeyError("boom")

    monkeypatch.setattr(check, "run_check", explode)
    expect_hook_status(codedeploy, "Failed")

    assert "validation handler error: KeyError" in app.handler(dict(HOOK), context)["message"]


# --- ECS native blue/green lifecycle hook ---


def test_ecs_lifecycle_hook_returns_the_status_ecs_reads(
    hook_env: None, server: str, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS native blue/green reads hookStatus from the return value; no API call is made."""
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    assert app.handler(event, context)["hookStatus"] == "SUCCEEDED"

    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_RETRIES", "0")
    event["executionId"] = "another-execution"
    failed = app.handler(event, context)
    assert failed["hookStatus"] == "FAILED"
    assert "expected status 200, got 500" in failed["message"]


def test_ecs_lifecycle_hook_continues_with_in_progress(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17/4: attempts that do not fit go on after callBackDelay, with the progress
    handed back by ECS in hookDetails."""
    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_RETRIES", "3")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "15")
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")

    first = app.handler(event, ShrinkingContext(remaining_ms=40_000, step_ms=5_000))

    assert first["hookStatus"] == "IN_PROGRESS"
    assert first["callBackDelay"] == 15
    assert first["hookDetails"] == {
        "attempts_done": 1,
        "last_problem": "expected status 200, got 500",
    }
    again = app.handler({**event, "hookDetails": first["hookDetails"]}, FakeContext())
    assert again["hookStatus"] == "FAILED"
    assert "(after 4 attempts)" in again["message"]


def test_a_concurrent_duplicate_ecs_hook_call_asks_to_be_called_again(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS reads a raised error as FAILED and rolls back: a duplicate arriving while the first
    invocation still checks must answer IN_PROGRESS with the progress it was given."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    def busy(*args: object, **kwargs: object) -> object:
        raise IdempotencyAlreadyInProgressError("in progress")

    monkeypatch.setenv(common.IDEMPOTENCY_TABLE_VARIABLE, "idempotency")
    monkeypatch.setenv("VALIDATE_URL", f"{server}/health")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "12")
    monkeypatch.setattr(common, "run_once", busy)
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    details = {"attempts_done": 2, "last_problem": "expected status 200, got 500"}

    result = app.handler({**event, "hookDetails": details}, FakeContext())

    assert result["hookStatus"] == "IN_PROGRESS"
    assert result["callBackDelay"] == 12
    assert result["hookDetails"] == details


def test_other_errors_of_an_ecs_hook_still_raise(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("table unreachable")

    monkeypatch.setenv(common.IDEMPOTENCY_TABLE_VARIABLE, "idempotency")
    monkeypatch.setenv("VALIDATE_URL", f"{server}/health")
    monkeypatch.setattr(common, "run_once", broken)
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    with pytest.raises(RuntimeError, match="table unreachable"):
        app.handler(event, FakeContext())


def test_ecs_lifecycle_hook_misconfiguration_fails_the_hook(
    context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VALIDATE_URL", raising=False)
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    result = app.handler(event, context)
    assert result["hookStatus"] == "FAILED"
    assert '"url" is required' in result["message"]


def test_unknown_event_is_ignored_loudly(
    context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.handler({"hello": "world"}, context)["status"] == "ignored"
    assert log_lines(capsys.readouterr().out)[-1]["level"] == "ERROR"


def test_sample_job_event_parses_to_its_documented_meaning() -> None:
    job = app.parse_job(load_event("validate_http", "codepipeline-job.json"))
    assert job is not None
    check_ = app.parse_user_parameters(job.user_parameters)
    assert check_ == check.Check(
        url="https://staging.payments.example.com/health",
        expect_status=200,
        body_contains="ok",
        retries=5,
        interval_seconds=10,
        timeout_seconds=5,
    )


def test_common_is_still_vendored_here() -> None:
    # The handler reads its own events; common stays for logging and error codes.
    assert callable(common.error_code)
    assert http_check.MAX_REDIRECTS == 5
    assert Path(app.__file__).parent.name == "validate_http"


# --- what mutation testing found unprotected in app.py ---


@pytest.mark.parametrize(
    ("remaining_ms", "keep", "expected"),
    [
        (60_000, 0.5, (3, 25, 2)),  # 59.5 s: two tries of 3 + 25 s, a second of backoff
        (6_500, 0.5, (1, 1, 2)),  # exactly 6 s: still two tries
        (6_400, 0.5, (1, 4, 1)),  # under 6 s: one try
        (5_000, 0.5, (1, 3, 1)),
        (10_000, 5.0, (1, 4, 1)),  # kept back: 5 s
        (6_000, 5.0, (1, 1, 1)),  # one second is enough for one short try
        (14_500, 0.5, (2, 4, 2)),  # 14 s: two tries of 2 + 4 s
        (0, 0.5, (1, 1, 1)),  # the report is still attempted
    ],
)
def test_each_client_fits_its_calls_into_the_time_it_has(
    remaining_ms: int, keep: float, expected: tuple[int, int, int]
) -> None:
    config = app.Budget(FakeContext(remaining_ms=remaining_ms)).client("ecs", keep=keep)
    config = config.meta.config
    found = (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"])
    assert found == expected
    assert config.retries["mode"] == "standard"


def test_without_a_context_the_budget_is_a_minute() -> None:
    budget = app.Budget(object())
    assert budget.left() == 60
    assert budget.for_check() == 40


def _logged(capsys: pytest.CaptureFixture[str], message: str) -> list[dict[str, Any]]:
    return [line for line in log_lines(capsys.readouterr().out) if line["message"] == message]


def test_reports_are_logged_with_what_was_reported(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_failure(codepipeline)
    app.handler(job_event({"url": f"{server}/error", "retries": 0}), context)
    [line] = _logged(capsys, "reported")
    assert line["level"] == "WARNING"
    assert line["job_id"] == JOB_ID
    assert line["status"] == "failed"
    assert line["summary"].startswith(f"Validation failed: GET {server}/error")

    app._decided.clear()
    expect_success(codepipeline)
    app.handler(job_event({"url": f"{server}/ok", "retries": 0}), context)
    [line] = _logged(capsys, "reported")
    assert (line["level"], line["status"]) == ("INFO", "succeeded")


def test_a_crash_is_logged_with_its_trace(
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def explode(check_: check.Check, seconds: float) -> str | None:
        raise RuntimeError("socket library on fire")

    monkeypatch.setattr(check, "probe", explode)
    expect_failure(codepipeline)
    app.handler(job_event({"url": "https://x/health"}), context)

    [line] = _logged(capsys, "handler error")
    assert line["level"] == "ERROR"
    assert line["error"] == "validation handler error: RuntimeError: socket library on fire"
    assert line["trace"].startswith("Traceback (most recent call last):\n  File ")
    assert line["trace"].endswith("RuntimeError: socket library on fire\n")


def test_an_already_reported_job_says_so(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    codepipeline.stubber.add_client_error("put_job_success_result", "InvalidJobStateException")

    result = app.handler(job_event({"url": f"{server}/ok", "retries": 0}), context)

    assert result == {
        "status": "already-reported",
        "message": f"GET {server}/ok: status 200 on attempt 1",
    }
    [line] = _logged(capsys, "job already has a result")
    assert (line["level"], line["job_id"]) == ("WARNING", JOB_ID)


def test_a_decided_job_is_reported_again_without_a_second_check(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_success(codepipeline)
    expect_success(codepipeline)
    event = job_event({"url": f"{server}/ok", "retries": 0})
    first = app.handler(event, context)
    capsys.readouterr()

    assert app.handler(event, context) == first
    assert len(Routes.seen_hosts) == 1
    [line] = _logged(capsys, "already decided; reporting again")
    assert line["key"] == f"job#{JOB_ID}#0"


def test_configuration_errors_are_reported_with_their_type_and_result(
    codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_failure(codepipeline)
    result = app.handler(job_event({"url": "ftp://x"}), context)
    assert result == {
        "status": "failed",
        "message": "validate_http: invalid UserParameters: "
        "\"url\" must be an http:// or https:// URL, got 'ftp://x'",
    }
    assert reported_failure(codepipeline)["type"] == "ConfigurationError"


def test_long_messages_are_clipped_to_what_codepipeline_accepts(
    codepipeline: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check, "probe", lambda c, seconds: "x" * 6000)
    expect_failure(codepipeline)
    app.handler(job_event({"url": "https://x/health", "retries": 0}), context)
    message = reported_failure(codepipeline)["message"]
    assert len(message) == 5000 and message.endswith("…")

    codepipeline.calls.clear()
    app._decided.clear()
    monkeypatch.setattr(check, "probe", lambda c, seconds: None)
    monkeypatch.setattr(check, "display_url", lambda url: "y" * 3000)
    expect_success(codepipeline)
    app.handler(job_event({"url": "https://x/health", "retries": 0}), context)
    summary = reported_summary(codepipeline)
    assert len(summary) == 2048 and summary.endswith("…")


def test_hook_time_budget_comes_from_the_lambda_context(
    hook_env: None, codedeploy: Stubbed, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_hook_status(codedeploy, "Failed")

    result = app.handler(dict(HOOK), FakeContext(remaining_ms=20_500))

    assert result == {
        "status": "failed",
        "message": f"GET {Routes.plain_origin}/ok: stopped before the Lambda timeout; "
        "last: not attempted",
    }
    [line] = _logged(capsys, "reported")
    assert line["level"] == "WARNING"
    assert (line["deployment_id"], line["status"]) == (HOOK["DeploymentId"], "Failed")
    assert line["summary"] == result["message"]


def test_hook_success_is_logged_as_info(
    hook_env: None, codedeploy: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_hook_status(codedeploy, "Succeeded")
    result = app.handler(dict(HOOK), context)
    assert result == {
        "status": "succeeded",
        "message": f"GET {Routes.plain_origin}/ok: status 200 on attempt 1",
    }
    [line] = _logged(capsys, "reported")
    assert (line["level"], line["status"]) == ("INFO", "Succeeded")


def test_a_completed_hook_says_so(
    hook_env: None, codedeploy: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    codedeploy.stubber.add_client_error(
        "put_lifecycle_event_hook_execution_status", "LifecycleEventAlreadyCompletedException"
    )
    result = app.handler(dict(HOOK), context)
    assert result == {
        "status": "already-reported",
        "message": f"GET {Routes.plain_origin}/ok: status 200 on attempt 1",
    }
    [line] = _logged(capsys, "hook already completed")
    assert (line["level"], line["deployment_id"]) == ("WARNING", HOOK["DeploymentId"])


def test_a_hook_report_refused_for_another_reason_raises(
    hook_env: None, codedeploy: Stubbed, context: FakeContext
) -> None:
    codedeploy.stubber.add_client_error(
        "put_lifecycle_event_hook_execution_status", "AccessDeniedException"
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        app.handler(dict(HOOK), context)


def test_hook_executions_are_decided_once_each(
    hook_env: None, codedeploy: Stubbed, context: FakeContext
) -> None:
    expect_hook_status(codedeploy, "Succeeded")
    expect_hook_status(codedeploy, "Succeeded")
    app.handler(dict(HOOK), context)
    app.handler(dict(HOOK), context)
    assert len(Routes.seen_hosts) == 1
    assert list(app._decided) == [f"hook#{HOOK['LifecycleEventHookExecutionId']}"]


def test_ecs_hook_results_and_logs(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    assert app.handler(event, FakeContext(remaining_ms=20_500)) == {
        "hookStatus": "FAILED",
        "message": f"GET {server}/ok: stopped before the Lambda timeout; last: not attempted",
    }
    [line] = _logged(capsys, "reported")
    assert line["level"] == "WARNING"
    assert (line["lifecycle_stage"], line["status"]) == ("POST_TEST_TRAFFIC_SHIFT", "FAILED")
    assert list(app._decided) == [f"ecs#{event['executionId']}#POST_TEST_TRAFFIC_SHIFT#0"]

    app._decided.clear()
    assert app.handler(event, FakeContext())["hookStatus"] == "SUCCEEDED"
    [line] = _logged(capsys, "reported")
    assert (line["level"], line["status"]) == ("INFO", "SUCCEEDED")


def test_ecs_hook_continuation_is_logged_and_keyed_by_progress(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_RETRIES", "3")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "15")
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    del event["executionId"]

    first = app.handler(event, ShrinkingContext(remaining_ms=40_000, step_ms=5_000))

    assert first["message"] == f"GET {server}/error: continuing after attempt 1"
    [line] = _logged(capsys, "continuing")
    assert (line["lifecycle_stage"], line["summary"]) == (
        "POST_TEST_TRAFFIC_SHIFT",
        first["message"],
    )
    assert list(app._decided) == [f"ecs#{event['resourceArn']}#POST_TEST_TRAFFIC_SHIFT#0"]


@pytest.mark.parametrize(
    ("value", "delay"),
    [("", 10), ("2.6", 3), ("0", 1), ("soon", 10), ("1e400", 10)],
)
def test_ecs_callback_delay_follows_the_interval(
    monkeypatch: pytest.MonkeyPatch, value: str, delay: int
) -> None:
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", value)
    assert app._interval_from_env() == delay


def test_a_job_event_without_configuration_is_a_configuration_error(
    codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_failure(codepipeline)
    event = {"CodePipeline.job": {"id": JOB_ID, "data": {"continuationToken": ""}}}
    app.handler(event, context)
    assert "UserParameters is not valid JSON" in reported_failure(codepipeline)["message"]


@pytest.mark.parametrize(
    "event",
    [
        {"CodePipeline.job": {"id": ""}},
        {"CodePipeline.job": {"id": 7}},
        {"CodePipeline.job": "job"},
        {"DeploymentId": "d-1", "LifecycleEventHookExecutionId": ""},
        {"DeploymentId": "", "LifecycleEventHookExecutionId": "h"},
        {"DeploymentId": 1, "LifecycleEventHookExecutionId": "h"},
        {"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"},
        {"lifecycleStage": 3, "executionDetails": {}},
        ["CodePipeline.job"],
    ],
)
def test_events_that_name_nobody_to_report_to_are_ignored(
    event: Any, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.handler(event, context) == {
        "status": "ignored",
        "message": "not a CodePipeline job or lifecycle hook event",
    }
    [line] = _logged(capsys, "ignored: neither a CodePipeline job nor a lifecycle hook")
    assert line["level"] == "ERROR"


def test_job_parsing_reads_the_three_fields() -> None:
    event = job_event({"url": "https://x"}, token="t")
    assert app.parse_job(event) == app.Job(JOB_ID, '{"url": "https://x"}', "t")
    event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]["UserParameters"] = 5
    assert app.parse_job(event) == app.Job(JOB_ID, "", "t")
    event["CodePipeline.job"]["data"] = []
    assert app.parse_job(event) == app.Job(JOB_ID, "", None)


def test_a_codedeploy_hook_never_hands_attempts_to_a_next_invocation(
    hook_env: None, server: str, codedeploy: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CodeDeploy invokes a hook once: attempts that do not fit end it as Failed."""
    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_RETRIES", "3")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "15")
    expect_hook_status(codedeploy, "Failed")

    result = app.handler(dict(HOOK), ShrinkingContext(remaining_ms=40_000, step_ms=5_000))

    assert result["message"] == (
        f"GET {server}/error: expected status 200, got 500 (attempt 1 of 4); "
        "stopped retrying before the Lambda timeout"
    )
    assert app._decided[f"hook#{HOOK['LifecycleEventHookExecutionId']}"].status == "failed"


def test_an_ecs_hook_event_without_ids_fails_closed_and_stores_no_decision(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed on nothing, a stored decision could be handed to another deployment: refuse."""
    monkeypatch.setenv("VALIDATE_URL", f"{server}/ok")
    event = {"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "executionDetails": {}}
    result = app.handler(event, FakeContext())
    assert result["hookStatus"] == "FAILED"
    assert "no executionId or resourceArn" in result["message"]
    assert list(app._decided) == []


def test_job_parsing_accepts_only_a_text_continuation_token() -> None:
    for token in ("", {"attempts_done": 3}, 3):
        event = job_event({"url": "https://x"})
        event["CodePipeline.job"]["data"]["continuationToken"] = token
        job = app.parse_job(event)
        assert job is not None and job.continuation_token is None


def test_messages_are_clipped_only_past_the_limit() -> None:
    assert app._clip("x" * 10, 10) == "x" * 10
    assert app._clip("x" * 11, 10) == "x" * 9 + "…"
    assert app._clip("  ", 20) == "(no details)"


def test_with_the_idempotency_table_a_retry_anywhere_reports_the_first_decision(
    server: str,
    codepipeline: Stubbed,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 17/2 with Powertools Idempotency: the retry lands in another environment (no
    memory of the first), reads the decision from the table, and does not check again: the
    report carries the first decision's own words."""
    with mock_aws():
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", create_idempotency_table("idempotency"))
        codepipeline.stubber.add_client_error("put_job_failure_result", "ThrottlingException")
        event = job_event({"url": f"{server}/error", "retries": 0})
        with pytest.raises(ClientError, match="Throttling"):
            app.handler(event, context)
        seen = len(Routes.seen_hosts)
        first = codepipeline.calls[-1][1]["failureDetails"]["message"]

        app._decided.clear()
        expect_failure(codepipeline)
        app.handler(event, context)

    assert len(Routes.seen_hosts) == seen
    assert codepipeline.calls[-1][1]["failureDetails"]["message"] == first
    assert app._decided == {}


def test_with_the_idempotency_table_a_retried_continuation_hands_on_the_same_progress(
    server: str, codepipeline: Stubbed, no_sleep: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored decision keeps the progress: a retry after a throttled report continues
    from the attempts the first invocation made, without checking again."""
    params = {"url": f"{server}/error", "retries": 10, "interval_seconds": 10}
    with mock_aws():
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", create_idempotency_table("idempotency"))
        codepipeline.stubber.add_client_error("put_job_success_result", "ThrottlingException")
        with pytest.raises(ClientError, match="Throttling"):
            app.handler(job_event(params), ShrinkingContext(remaining_ms=50_000, step_ms=10_000))
        seen = len(Routes.seen_hosts)

        app._decided.clear()
        codepipeline.stubber.add_response(
            "put_job_success_result",
            {},
            {"jobId": JOB_ID, "executionDetails": ANY, "continuationToken": ANY},
        )
        result = app.handler(job_event(params), FakeContext())

    assert result["status"] == "continue"
    assert len(Routes.seen_hosts) == seen
    first, retry = (sent for _, sent in codepipeline.calls[-2:])
    assert retry["continuationToken"] == first["continuationToken"]
    progress = json.loads(retry["continuationToken"])
    assert progress["attempts_done"] >= 1  # however many the first invocation had time for
    assert progress["last_problem"] == "expected status 200, got 500"


# --- what mutation testing found unprotected in check.py ---


def _configuration_error(codepipeline: Stubbed, params: dict[str, Any]) -> str:
    expect_failure(codepipeline)
    app.handler(job_event(params), FakeContext())
    failure = reported_failure(codepipeline)
    assert failure["type"] == "ConfigurationError"
    return failure["message"]


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, '"url" is required, e.g. "https://staging.example.com/health"'),
        (
            {"url": "https:///health"},
            "\"url\" must be an http:// or https:// URL, got 'https:///health'",
        ),
        (
            {"url": "ftp://u:pw@[::1]:21/x?token=t"},
            "\"url\" must be an http:// or https:// URL, got 'ftp://[::1]:21/x'",
        ),
        ({"url": "http://[::1/health"}, '"url" is not a valid URL: (unparseable URL)'),
        (
            {"url": "https://x", "expect_status": "200"},
            "\"expect_status\" must be a number, got '200'",
        ),
        (
            {"url": "https://x", "expect_status": 200.5},
            '"expect_status" must be a whole number, got 200.5',
        ),
        ({"url": "https://x", "expect_status": 99}, '"expect_status" must be at least 100, got 99'),
        (
            {"url": "https://x", "expect_status": 600},
            '"expect_status" must be an HTTP status, got 600',
        ),
        ({"url": "https://x", "body_contains": ["ok"]}, '"body_contains" must be a string or null'),
        (
            {"url": "https://x", "interval_seconds": 86_400.5},
            '"interval_seconds" must be at most 86400, got 86400.5',
        ),
    ],
)
def test_parameter_errors_name_the_key_and_what_to_write(
    codepipeline: Stubbed, params: dict[str, Any], problem: str
) -> None:
    message = _configuration_error(codepipeline, params)
    assert message == f"validate_http: invalid UserParameters: {problem}"


def _parsed(**params: Any) -> check.Check:
    return app.parse_user_parameters(json.dumps({"url": "https://x/health", **params}))


def test_parameters_left_out_take_the_documented_defaults() -> None:
    assert _parsed() == check.Check(
        url="https://x/health",
        expect_status=200,
        body_contains=None,
        retries=5,
        interval_seconds=10,
        timeout_seconds=5,
        server_name=None,
    )


@pytest.mark.parametrize(
    ("params", "field", "value"),
    [
        ({"expect_status": 100}, "expect_status", 100),
        ({"expect_status": 204}, "expect_status", 204),
        ({"expect_status": 599}, "expect_status", 599),
        ({"interval_seconds": 86_400}, "interval_seconds", 86_400),
        ({"interval_seconds": 0.5}, "interval_seconds", 0.5),
        ({"server_name": ""}, "server_name", None),
        ({"server_name": "Mail.Example.BOX."}, "server_name", "mail.example.box"),
    ],
)
def test_parameters_at_their_limits_are_accepted(
    params: dict[str, Any], field: str, value: object
) -> None:
    assert getattr(_parsed(**params), field) == value


def test_hook_environment_sets_the_expected_status_and_the_timeout(
    hook_env: None, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALIDATE_RETRIES", "0")
    monkeypatch.setenv("VALIDATE_EXPECT_STATUS", "204")
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    assert app.handler(event, FakeContext()) == {
        "hookStatus": "FAILED",
        "message": f"GET {server}/ok: expected status 204, got 200 (after 1 attempt)",
    }

    app._decided.clear()
    monkeypatch.setenv("VALIDATE_URL", f"{server}/slow")
    monkeypatch.setenv("VALIDATE_EXPECT_STATUS", "200")
    monkeypatch.setenv("VALIDATE_TIMEOUT_SECONDS", "0.2")
    assert app.handler(event, FakeContext())["message"] == (
        f"GET {server}/slow: timed out after 0.2s (after 1 attempt)"
    )


@pytest.mark.parametrize(
    ("last_problem", "shown"),
    [("expected status 200, got 500", "expected status 200, got 500"), (7, "not attempted")],
)
def test_a_token_without_attempts_done_keeps_its_last_problem(
    server: str, codepipeline: Stubbed, last_problem: object, shown: str
) -> None:
    expect_failure(codepipeline)
    token = json.dumps({"attempts_done": 0, "last_problem": last_problem})

    app.handler(job_event({"url": f"{server}/ok"}, token=token), FakeContext(remaining_ms=20_500))

    assert reported_failure(codepipeline)["message"] == (
        f"Validation failed: GET {server}/ok: stopped before the Lambda timeout; last: {shown}."
    )


def test_the_token_keeps_the_first_500_characters_of_the_problem(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    params = {"url": f"{server}/ok", "body_contains": "x" * 600, "retries": 10}
    codepipeline.stubber.add_response(
        "put_job_success_result",
        {},
        {"jobId": JOB_ID, "executionDetails": ANY, "continuationToken": ANY},
    )

    app.handler(job_event(params), ShrinkingContext(remaining_ms=50_000, step_ms=10_000))

    [(_, sent)] = codepipeline.calls
    problem = json.loads(sent["continuationToken"])["last_problem"]
    assert problem == f"status 200 but body does not contain '{'x' * 600}'"[:500]


@pytest.mark.parametrize(
    ("url", "problem", "shown"),
    [
        (
            # The password holds an @; a secret (the password) sorts before its userinfo.
            "https://admin:zzzz-p@ss@x/health?a=1#ab",
            "saw https://admin:zzzz-p@ss@x/health?a=1#ab then zzzz-p@ss, ?a=1 and #ab",
            "saw https://***@x/health?***#*** then ***, ?*** and #***",
        ),
        (
            # Short query and fragment are hidden only in their URL context; an encoded
            # password starting with X is hidden in both spellings.
            "https://u:Xp%2Fss-word@x/health?k=frag1#frag",
            "echoed Xp%2Fss-word, Xp/ss-word, token k=frag1 and frag",
            "echoed ***, ***, token *** and ***",
        ),
        (
            # Nothing secret: an @, ? or # of the message stays as it is.
            "https://x/health",
            "mail ops@example.com? see #42",
            "mail ops@example.com? see #42",
        ),
    ],
)
def test_secrets_of_the_url_are_hidden_wherever_the_problem_repeats_them(
    codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch, url: str, problem: str, shown: str
) -> None:
    monkeypatch.setattr(check, "probe", lambda check_, seconds: problem)
    expect_failure(codepipeline)

    app.handler(job_event({"url": url, "retries": 0}), FakeContext())

    assert reported_failure(codepipeline)["message"] == (
        f"Validation failed: GET https://x/health: {shown} (after 1 attempt)."
    )


def test_without_body_contains_the_body_is_not_waited_for(
    server: str, codepipeline: Stubbed
) -> None:
    """A health endpoint streaming its body for 8 s answers with its status at once."""
    expect_success(codepipeline)

    app.handler(job_event({"url": f"{server}/drip", "timeout_seconds": 2}), FakeContext())

    assert reported_summary(codepipeline) == f"GET {server}/drip: status 200 on attempt 1"


def test_an_attempt_runs_while_the_interval_and_a_second_remain(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    expect_failure(codepipeline)
    params = {"url": f"{server}/error", "retries": 1, "interval_seconds": 10}

    # 31 s left: 11 s for the check after the 20 s kept for the report.
    app.handler(job_event(params), FakeContext(remaining_ms=31_000))

    assert (
        "expected status 200, got 500 (after 2 attempts)"
        in reported_failure(codepipeline)["message"]
    )
    assert no_sleep == [10]


def test_an_attempt_runs_with_one_second_left(server: str, codepipeline: Stubbed) -> None:
    expect_success(codepipeline)

    app.handler(job_event({"url": f"{server}/ok"}), FakeContext(remaining_ms=21_000))

    assert reported_summary(codepipeline) == f"GET {server}/ok: status 200 on attempt 1"


def test_time_running_out_during_the_interval_continues_or_stops(
    hook_env: None, server: str, codedeploy: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second attempt's interval fits but the attempt itself would not: an ECS hook
    carries on later, a CodeDeploy hook ends Failed with what the first attempt saw."""
    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_INTERVAL_SECONDS", "0")
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")

    # 20 s for the first attempt, 10 s when the interval starts, none after it.
    ecs = app.handler(event, ShrinkingContext(remaining_ms=40_000, step_ms=10_000))

    assert ecs["hookStatus"] == "IN_PROGRESS"
    assert ecs["hookDetails"] == {
        "attempts_done": 1,
        "last_problem": "expected status 200, got 500",
    }

    expect_hook_status(codedeploy, "Failed")
    result = app.handler(dict(HOOK), ShrinkingContext(remaining_ms=40_000, step_ms=10_000))
    assert result["message"] == (
        f"GET {server}/error: expected status 200, got 500 (attempt 1 of 2); "
        "stopped retrying before the Lambda timeout"
    )


def test_every_attempt_is_logged_with_its_url_number_and_problem(
    server: str,
    codepipeline: Stubbed,
    no_sleep: list[float],
    capsys: pytest.CaptureFixture[str],
) -> None:
    expect_success(codepipeline)

    app.handler(job_event({"url": f"{server}/flaky", "retries": 3}), FakeContext())

    attempts = _logged(capsys, "attempt")
    assert [(a["url"], a["attempt"], a.get("problem")) for a in attempts] == [
        (f"{server}/flaky", 1, "expected status 200, got 503"),
        (f"{server}/flaky", 2, "expected status 200, got 503"),
        (f"{server}/flaky", 3, None),
    ]


# --- what mutation testing found unprotected in http_check.py ---


def _job_message(codepipeline: Stubbed, params: dict[str, Any]) -> str:
    expect_failure(codepipeline)
    app.handler(job_event({"retries": 0, **params}), FakeContext())
    return reported_failure(codepipeline)["message"]


def _failed(target: str, problem: str) -> str:
    return f"Validation failed: GET {target}: {problem} (after 1 attempt)."


@pytest.mark.parametrize(("hops", "passes"), [(5, True), (6, False)])
def test_five_redirects_are_followed_and_a_sixth_is_not(
    server: str, codepipeline: Stubbed, hops: int, passes: bool
) -> None:
    url = f"{server}/hops/{hops}"
    if passes:
        expect_success(codepipeline)
        app.handler(job_event({"url": url, "retries": 0}), FakeContext())
        assert reported_summary(codepipeline) == f"GET {url}: status 200 on attempt 1"
    else:
        assert _job_message(codepipeline, {"url": url}) == _failed(url, "more than 5 redirects")


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        # A redirect status without a Location is an answer like any other.
        ("/redirect-nowhere", "expected status 200, got 302"),
        ("/redirect-bad-port", "invalid port in URL"),
    ],
)
def test_redirect_answers_that_cannot_be_followed(
    server: str, codepipeline: Stubbed, path: str, problem: str
) -> None:
    assert _job_message(codepipeline, {"url": f"{server}{path}"}) == _failed(
        f"{server}{path}", problem
    )


def test_a_redirect_from_https_to_http_says_so(
    tls_server: str, pki: Pki, codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    url = f"{tls_server}/redirect-to-http"
    message = _job_message(codepipeline, {"url": url, "server_name": APP_NAME})
    assert message == _failed(url, "refused redirect from https to http")


def test_tls_to_a_plain_http_server_fails_the_handshake(server: str, codepipeline: Stubbed) -> None:
    url = server.replace("http://", "https://") + "/ok"
    message = _job_message(codepipeline, {"url": url})
    assert message == _failed(url, "TLS handshake failed: WRONG_VERSION_NUMBER")


@pytest.mark.parametrize(
    ("after_handshake", "problem"),
    [
        # A proxy answering in clear text inside the TLS connection: OpenSSL's reason, not its
        # whole "[SSL: ...] ... (_ssl.c:NNNN)" text.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "WRONG_VERSION_NUMBER"),
        # A backend that died after the handshake: the connection ends without close_notify,
        # which Python's ssl reads as the end of the stream (suppress_ragged_eofs), so the
        # exception has no reason or strerror and its own text is the description.
        (b"", "Remote end closed connection without response"),
    ],
)
def test_a_tls_connection_that_breaks_after_the_handshake_is_described_plainly(
    pki: Pki,
    codepipeline: Stubbed,
    monkeypatch: pytest.MonkeyPatch,
    after_handshake: bytes,
    problem: str,
) -> None:
    monkeypatch.setenv(check.CA_VARIABLE, pki.ca_pem)
    with serve_tls_then(pki, after_handshake) as endpoint:
        url = f"{endpoint}/health"
        message = _job_message(codepipeline, {"url": url, "server_name": APP_NAME})
    assert message == _failed(url, f"request failed: {problem}")


def test_an_error_without_any_text_is_named_by_its_type() -> None:
    # No reason, no strerror, empty text: the type is all there is to say.
    assert http_check._describe(ConnectionResetError()) == "ConnectionResetError"
    assert http_check._describe(http.client.HTTPException()) == "HTTPException"


def test_refused_connections_and_unknown_hosts_are_described_plainly(
    codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://127.0.0.1:9/health"
    assert _job_message(codepipeline, {"url": url}) == _failed(
        url, "request failed: Connection refused"
    )

    def unknown(host: str, port: int, **kwargs: Any) -> Any:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    codepipeline.calls.clear()
    app._decided.clear()
    url = "http://app.test/health"
    assert _job_message(codepipeline, {"url": url}) == _failed(
        url, "request failed: cannot resolve host (Name or service not known)"
    )


def test_a_hanging_dns_lookup_is_bounded_by_the_timeout(
    codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def hanging(host: str, port: int, **kwargs: Any) -> Any:
        time.sleep(2)
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    url = "http://app.test/health"
    message = _job_message(codepipeline, {"url": url, "timeout_seconds": 0.3})
    assert message == _failed(url, "timed out after 0.3s (DNS)")


@pytest.mark.parametrize(("scheme", "port"), [("http", 80), ("https", 443)])
def test_a_url_without_a_port_uses_the_scheme_default(
    server: str, codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch, scheme: str, port: int
) -> None:
    """The name resolves to the test server whatever port is asked; the port asked for and
    the Host header (no port) are what a real server would see."""
    asked: list[tuple[str, int]] = []
    real = socket.getaddrinfo
    test_port = int(server.rsplit(":", 1)[1])

    def to_test_server(host: str, port_: int, **kwargs: Any) -> Any:
        asked.append((host, port_))
        return real("127.0.0.1", test_port, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", to_test_server)
    url = f"{scheme}://app.test/ok"
    if scheme == "http":
        expect_success(codepipeline)
        app.handler(job_event({"url": url, "retries": 0}), FakeContext())
        assert Routes.seen_hosts == ["app.test"]
    else:
        _job_message(codepipeline, {"url": url})  # TLS to a plain server: what was asked counts
    assert asked == [("app.test", port)]


def test_requests_carry_the_target_and_headers_a_server_expects(
    server: str, codepipeline: Stubbed
) -> None:
    expect_failure(codepipeline)
    url = server.replace("http://", "http://user@") + "?probe=1"

    app.handler(job_event({"url": url, "retries": 0}), FakeContext())

    [(target, headers)] = Routes.seen_requests
    assert target == "/?probe=1"
    assert headers["User-Agent"] == "conveyor-validate-http/2"
    assert headers["Accept"] == "*/*"
    assert headers["Connection"] == "close"
    assert headers["Authorization"] == "Basic dXNlcjo="  # user, empty password
    assert headers["Host"] == server.removeprefix("http://")


def test_an_ipv6_address_is_sent_in_brackets(codepipeline: Stubbed) -> None:
    with serve(host="::1") as origin:
        expect_success(codepipeline)
        app.handler(job_event({"url": f"{origin}/ok", "retries": 0}), FakeContext())
    assert Routes.seen_hosts == [origin.removeprefix("http://")]


def test_headers_dripping_past_the_deadline_time_out(server: str, codepipeline: Stubbed) -> None:
    """No read waits long, and without body_contains there is no body to bound: only the
    watchdog over the whole request ends the wait for the headers."""
    url = f"{server}/drip-headers"
    message = _job_message(codepipeline, {"url": url, "timeout_seconds": 0.5})
    assert message == _failed(url, "timed out after 0.5s")


@pytest.mark.parametrize(
    ("body_contains", "passes"),
    [("status: ok", True), ("needle", False)],
)
def test_a_large_body_is_read_whole_up_to_its_first_megabyte(
    server: str, codepipeline: Stubbed, body_contains: str, passes: bool
) -> None:
    url = f"{server}/big"
    if passes:
        expect_success(codepipeline)
        app.handler(job_event({"url": url, "body_contains": body_contains}), FakeContext())
        assert reported_summary(codepipeline) == f"GET {url}: status 200 on attempt 1"
    else:
        assert _job_message(codepipeline, {"url": url, "body_contains": body_contains}) == (
            _failed(url, "status 200 but body does not contain 'needle'")
        )


def test_a_body_that_is_not_utf8_is_still_searched(server: str, codepipeline: Stubbed) -> None:
    expect_success(codepipeline)
    url = f"{server}/not-utf8"

    app.handler(job_event({"url": url, "body_contains": "status: ok"}), FakeContext())

    assert reported_summary(codepipeline) == f"GET {url}: status 200 on attempt 1"


class _ExpiringClock:
    """Reads 0 for the first `calls` readings, then the deadline of a 2 s check."""

    def __init__(self, calls: int) -> None:
        self.left = calls

    def __call__(self) -> float:
        self.left -= 1
        return 0.0 if self.left >= 0 else 2.0


@pytest.mark.parametrize("https", [False, True])
@pytest.mark.parametrize("calls", range(1, 8))
def test_the_deadline_stops_the_request_in_every_phase(
    server: str,
    tls_server: str,
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    https: bool,
    calls: int,
) -> None:
    """Whichever phase (DNS, connect, TLS, request, each body read) finds the deadline
    passed, the answer is the same timeout, never a success or a crash."""
    monkeypatch.setattr(http_check, "clock", _ExpiringClock(calls))
    request = http_check.Request(
        url=f"{tls_server if https else server}/ok",
        server_name=APP_NAME if https else None,
        ca_certificate=pki.ca_pem if https else None,
        read_body=True,
    )
    with pytest.raises(http_check.UnhealthyError) as raised:
        http_check.fetch(request, 2)
    assert str(raised.value) == "timed out after 2s"


@pytest.mark.parametrize("done", [-1, "3", None, True, 2.5, [1]])
def test_a_continuation_token_without_a_whole_attempt_count_starts_over(done: object) -> None:
    # The token comes back from CodePipeline as text; anything but a count >= 0 is unreadable,
    # and unreadable progress starts at attempt 1 rather than failing or skipping attempts.
    token = json.dumps({"attempts_done": done, "last_problem": "expected status 200, got 500"})
    assert check.parse_progress(token) == check.Progress()
    assert check.parse_progress(json.dumps({"attempts_done": 0})) == check.Progress(
        0, "not attempted"
    )


def test_the_body_a_check_matches_is_exactly_what_the_server_sent(server: str) -> None:
    # body_contains is judged on this text: nothing may precede or replace what was sent.
    assert http_check.fetch(http_check.Request(f"{server}/ok"), 5) == http_check.Response(
        200, "status: ok"
    )
    assert http_check.fetch(http_check.Request(f"{server}/error"), 5).body == "boom"
    big = http_check.fetch(http_check.Request(f"{server}/big"), 5).body
    assert (len(big), big[:10]) == (http_check.MAX_BODY_BYTES, "status: ok")


def test_a_url_that_does_not_parse_is_hidden_whole() -> None:
    # urlsplit refuses it, so its user:password cannot be located: the whole URL is the secret.
    url = "https://user:hunter2@[::1/health"
    assert check.secrets_of(f" {url} ") == [url]
    assert check.redact(f"GET {url}: refused", check.secrets_of(url)) == "GET ***: refused"
    assert check.secrets_of("   ") == []
    # Nothing to hide in a URL without credentials, query or fragment.
    assert check.secrets_of("https://x/health") == []


def test_a_hooks_in_progress_record_expires_with_its_invocation(
    hook_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision record of a hook check is in progress only as long as this invocation can
    run: a retry after a crash or timeout is not locked out for the record's whole day.
    https://github.com/aws-powertools/powertools-lambda-python/releases/tag/v1.26.7"""
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    with mock_aws():
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", create_idempotency_table("idempotency"))
        before_ms = time.time() * 1000
        assert app.handler(event, FakeContext(remaining_ms=60_000))["hookStatus"] == "SUCCEEDED"
        [item] = boto3.client("dynamodb").scan(TableName="idempotency")["Items"]

    in_progress_until_ms = int(item["in_progress_expiration"]["N"])
    assert before_ms + 59_000 <= in_progress_until_ms <= time.time() * 1000 + 60_000


def test_a_continuation_token_of_exactly_the_limit_keeps_its_whole_problem() -> None:
    # json.dumps writes a non-ASCII character as a six-character escape: 310 "é" and the ASCII
    # rest make the token exactly the limit, which fits as it is.
    base = len(json.dumps(check.dump_progress(check.Progress(3, ""))))
    ascii_part = app._TOKEN_MAX - base - 6 * 310
    problem = "é" * 310 + "x" * ascii_part  # 460 characters: under the 500 kept
    token = app._continuation_token(check.Progress(3, problem))
    assert len(token) == app._TOKEN_MAX
    assert json.loads(token) == {"attempts_done": 3, "last_problem": problem}
    longer = app._continuation_token(check.Progress(3, problem + "é"))
    assert len(longer) <= app._TOKEN_MAX and json.loads(longer)["attempts_done"] == 3
