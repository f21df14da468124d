# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from conveyor.handlers.validate_http import app, common

from .support import FakeContext, load_event, log_lines, record_calls

JOB_ID = "11111111-abcd-1111-abcd-111111111111"
HOOK = {"DeploymentId": "d-7ZJ2WQ1XA", "LifecycleEventHookExecutionId": "hook-execution-1"}


class _Routes(BaseHTTPRequestHandler):
    flaky_calls = 0

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/ok":
            self._send(200, "status: ok")
        elif path == "/error":
            self._send(500, "boom")
        elif path == "/degraded":
            self._send(200, "status: degraded")
        elif path == "/slow":
            time.sleep(1.0)
            self._send(200, "status: ok")
        elif path == "/flaky":
            type(self).flaky_calls += 1
            self._send(200 if self.flaky_calls > 2 else 503, "status: ok")
        elif path.startswith("/redirect-"):
            targets = {
                "/redirect-ok": "/ok",
                "/redirect-ftp": "ftp://127.0.0.1/etc/passwd",
                "/redirect-file": "file:///etc/passwd",
            }
            self.send_response(302)
            self.send_header("Location", targets[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, "not found")

    def _send(self, status: int, body: str) -> None:
        payload = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to clean up

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), _Routes)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(app, "sleep", slept.append)
    _Routes.flaky_calls = 0
    return slept


@dataclass
class Stubbed:
    stubber: Stubber
    calls: list[tuple[str, dict[str, Any]]]


def _stubbed(service: str) -> Iterator[Stubbed]:
    client = common.client(service)
    calls = record_calls(client)
    with Stubber(client) as stubber:
        yield Stubbed(stubber, calls)
        stubber.assert_no_pending_responses()


@pytest.fixture
def codepipeline() -> Iterator[Stubbed]:
    yield from _stubbed("codepipeline")


@pytest.fixture
def codedeploy() -> Iterator[Stubbed]:
    yield from _stubbed("codedeploy")


@pytest.fixture
def lambda_() -> Iterator[Stubbed]:
    yield from _stubbed("lambda")


def job_event(params: dict[str, Any] | str) -> dict[str, Any]:
    event = load_event("validate_http", "codepipeline-job.json")
    config = event["CodePipeline.job"]["data"]["actionConfiguration"]["configuration"]
    config["UserParameters"] = params if isinstance(params, str) else json.dumps(params)
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


# --- CodePipeline action: the check itself ---


def test_healthy_endpoint_succeeds_the_job(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_success(codepipeline)

    result = app.handler(job_event({"url": f"{server}/ok", "body_contains": "ok"}), context)

    assert result["status"] == "succeeded"
    [(name, params)] = codepipeline.calls
    assert name == "PutJobSuccessResult"
    assert params["executionDetails"]["summary"] == f"GET {server}/ok: status 200 on attempt 1"
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
        f"Validation failed: GET {server}/error: expected status 200, got 500 "
        "(after 3 attempts). Rollback: no rollback configured."
    )
    assert no_sleep == [3, 3]


def test_recovering_endpoint_passes_on_a_later_attempt(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_success(codepipeline)

    app.handler(job_event({"url": f"{server}/flaky", "retries": 3, "interval_seconds": 0}), context)

    assert codepipeline.calls[0][1]["executionDetails"]["summary"].endswith("on attempt 3")


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


@pytest.mark.parametrize("path", ["/redirect-ftp", "/redirect-file"])
def test_redirects_never_leave_http(
    server: str, codepipeline: Stubbed, context: FakeContext, path: str
) -> None:
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}{path}", "retries": 0}), context)

    assert "refused redirect" in reported_failure(codepipeline)["message"]


def test_http_redirects_are_followed(
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


def test_credentials_and_query_never_reach_the_report(
    server: str, codepipeline: Stubbed, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_failure(codepipeline)
    url = server.replace("http://", "http://user:hunter2@") + "/error?token=s3cr3t"

    app.handler(job_event({"url": url, "retries": 0}), context)

    message = reported_failure(codepipeline)["message"]
    assert f"GET {server}/error:" in message
    assert "hunter2" not in message + capsys.readouterr().out
    assert "s3cr3t" not in message


# --- CodePipeline action: bad parameters are reported, never raised ---


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("{not json", "UserParameters is not valid JSON"),
        ('["https://x"]', "UserParameters must be a JSON object"),
        ("", "UserParameters is not valid JSON"),
        ({"expect_status": 200}, '"url" is required'),
        ({"url": "file:///etc/passwd"}, "must be an http:// or https:// URL"),
        ({"url": "ftp://example.com/x"}, "must be an http:// or https:// URL"),
        ({"url": "http://[::1/health"}, '"url" is not a valid URL'),
        ({"url": "https:///health"}, "must be an http:// or https:// URL"),
        ({"url": "https://x", "retries": True}, '"retries" must be a number'),
        ({"url": "https://x", "retries": 1.5}, '"retries" must be a whole number'),
        ({"url": "https://x", "timeout_seconds": 0}, '"timeout_seconds" must be at least 0.1'),
        ({"url": "https://x", "expect_status": 700}, '"expect_status" must be an HTTP status'),
        ({"url": "https://x", "body_contains": 3}, '"body_contains" must be a string'),
        ({"url": "https://x", "expected": 200}, "unknown UserParameters keys ['expected']"),
        ({"url": "https://x", "rollback": {"ecs": {"cluster": "c"}}}, '"rollback" must be null'),
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
    def explode(url: str, timeout: float) -> app.Attempt:
        raise RuntimeError("socket library on fire")

    monkeypatch.setattr(app, "probe", explode)
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


# --- time budget: stop with a margin and report instead of hanging ---


class ShrinkingContext(FakeContext):
    """Loses `step_ms` every time the handler asks how much time is left."""

    def __init__(self, remaining_ms: int, step_ms: int) -> None:
        super().__init__(remaining_ms=remaining_ms)
        self.step_ms = step_ms

    def get_remaining_time_in_millis(self) -> int:
        self.remaining_ms -= self.step_ms
        return self.remaining_ms + self.step_ms


def test_no_attempt_when_the_lambda_is_about_to_time_out(
    server: str, codepipeline: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []
    monkeypatch.setattr(app, "probe", lambda url, timeout: attempts.append(url))
    expect_failure(codepipeline)

    app.handler(job_event({"url": f"{server}/ok"}), FakeContext(remaining_ms=10_500))

    assert attempts == []
    assert "stopped before the Lambda timeout" in reported_failure(codepipeline)["message"]


def test_retries_stop_with_a_margin_before_the_timeout(
    server: str, codepipeline: Stubbed, no_sleep: list[float]
) -> None:
    expect_failure(codepipeline)
    context = ShrinkingContext(remaining_ms=40_000, step_ms=10_000)

    app.handler(
        job_event({"url": f"{server}/error", "retries": 10, "interval_seconds": 10}), context
    )

    message = reported_failure(codepipeline)["message"]
    assert "expected status 200, got 500 (attempt 2 of 11)" in message
    assert "stopped retrying before the Lambda timeout" in message
    assert no_sleep == [10]


# --- rollback ---


def _register(ecs: Any, family: str, revisions: int) -> list[str]:
    return [
        ecs.register_task_definition(
            family=family,
            containerDefinitions=[{"name": "app", "image": f"repo/app:{n}", "memory": 256}],
        )["taskDefinition"]["taskDefinitionArn"]
        for n in range(revisions)
    ]


@pytest.fixture
def ecs_service() -> Iterator[Any]:
    with mock_aws():
        ecs = boto3.client("ecs")
        ecs.create_cluster(clusterName="payments-staging")
        api = _register(ecs, "payments-api", 3)
        _register(ecs, "payments-api-worker", 5)
        ecs.create_service(
            cluster="payments-staging", serviceName="api", taskDefinition=api[2], desiredCount=1
        )
        yield ecs


def test_failed_check_rolls_ecs_service_back_to_previous_revision(
    server: str, codepipeline: Stubbed, context: FakeContext, ecs_service: Any
) -> None:
    expect_failure(codepipeline)
    rollback = {"ecs": {"cluster": "payments-staging", "service": "api"}}

    app.handler(job_event({"url": f"{server}/error", "retries": 0, "rollback": rollback}), context)

    service = ecs_service.describe_services(cluster="payments-staging", services=["api"])
    assert service["services"][0]["taskDefinition"].endswith("task-definition/payments-api:2")
    message = reported_failure(codepipeline)["message"]
    assert "expected status 200, got 500" in message
    assert "ECS service api rolled back from payments-api:3 to " in message
    assert message.endswith("task-definition/payments-api:2.")


def test_rollback_in_another_account_assumes_the_role_there(
    server: str, codepipeline: Stubbed, context: FakeContext, ecs_service: Any
) -> None:
    """A service in another account is rolled back with the credentials of a role there. moto
    answers AssumeRole and files the session under the role's account, so the role here is in
    moto's default account, where the mocked service lives."""
    expect_failure(codepipeline)
    role = "arn:aws:iam::123456789012:role/payments-deploy-prod"
    rollback = {"ecs": {"cluster": "payments-staging", "service": "api", "role_arn": role}}

    app.handler(job_event({"url": f"{server}/error", "retries": 0, "rollback": rollback}), context)

    service = ecs_service.describe_services(cluster="payments-staging", services=["api"])
    assert service["services"][0]["taskDefinition"].endswith("task-definition/payments-api:2")
    assert "rolled back from payments-api:3" in reported_failure(codepipeline)["message"]


def test_rollback_role_must_be_an_arn() -> None:
    with pytest.raises(app.ParameterError, match="role_arn"):
        app.parse_user_parameters(
            json.dumps(
                {
                    "url": "https://example.com",
                    "rollback": {"ecs": {"cluster": "c", "service": "s", "role_arn": "deployer"}},
                }
            )
        )


def test_ecs_rollback_without_an_earlier_revision_says_so(
    server: str, codepipeline: Stubbed, context: FakeContext
) -> None:
    expect_failure(codepipeline)
    with mock_aws():
        ecs = boto3.client("ecs")
        ecs.create_cluster(clusterName="c")
        [only] = _register(ecs, "solo", 1)
        ecs.create_service(cluster="c", serviceName="s", taskDefinition=only, desiredCount=1)
        rollback = {"ecs": {"cluster": "c", "service": "s"}}

        app.handler(
            job_event({"url": f"{server}/error", "retries": 0, "rollback": rollback}), context
        )

    message = reported_failure(codepipeline)["message"]
    assert "ROLLBACK FAILED" in message
    assert "no earlier ACTIVE revision of task definition family solo" in message


def test_failed_check_points_lambda_alias_at_previous_version(
    server: str, codepipeline: Stubbed, lambda_: Stubbed, context: FakeContext
) -> None:
    lambda_.stubber.add_response(
        "get_alias",
        {"Name": "live", "FunctionVersion": "7"},
        {"FunctionName": "payments-api", "Name": "live"},
    )
    lambda_.stubber.add_response(
        "list_versions_by_function",
        {
            "Versions": [{"Version": "$LATEST"}, {"Version": "3"}, {"Version": "5"}],
            "NextMarker": "m",
        },
        {"FunctionName": "payments-api"},
    )
    lambda_.stubber.add_response(
        "list_versions_by_function",
        {"Versions": [{"Version": "6"}, {"Version": "7"}, {"Version": "8"}]},
        {"FunctionName": "payments-api", "Marker": "m"},
    )
    lambda_.stubber.add_response(
        "update_alias",
        {"Name": "live", "FunctionVersion": "6"},
        {
            "FunctionName": "payments-api",
            "Name": "live",
            "FunctionVersion": "6",
            "RoutingConfig": {"AdditionalVersionWeights": {}},
        },
    )
    expect_failure(codepipeline)
    rollback = {"lambda": {"function": "payments-api", "alias": "live"}}

    app.handler(job_event({"url": f"{server}/error", "retries": 0, "rollback": rollback}), context)

    assert (
        "alias payments-api:live rolled back from version 7 to 6"
        in (reported_failure(codepipeline)["message"])
    )


def test_lambda_rollback_error_is_in_the_failure_message(
    server: str, codepipeline: Stubbed, lambda_: Stubbed, context: FakeContext
) -> None:
    lambda_.stubber.add_client_error("get_alias", "AccessDeniedException", "not allowed")
    expect_failure(codepipeline)
    rollback = {"lambda": {"function": "payments-api", "alias": "live"}}

    app.handler(job_event({"url": f"{server}/error", "retries": 0, "rollback": rollback}), context)

    assert "ROLLBACK FAILED (AccessDeniedException" in reported_failure(codepipeline)["message"]


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


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("VALIDATE_URL", "", '"url" is required'),
        ("VALIDATE_URL", "file:///etc/passwd", "http:// or https://"),
        ("VALIDATE_RETRIES", "many", "VALIDATE_RETRIES='many' is not a number"),
        ("VALIDATE_EXPECT_STATUS", "2OO", "VALIDATE_EXPECT_STATUS='2OO' is not a number"),
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
    def explode(check: app.Check, context: object) -> app.Result:
        raise KeyError("boom")

    monkeypatch.setattr(app, "run_check", explode)
    expect_hook_status(codedeploy, "Failed")

    assert "validation handler error: KeyError" in app.handler(dict(HOOK), context)["message"]


def test_ecs_lifecycle_hook_returns_the_status_ecs_reads(
    hook_env: None, server: str, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS native blue/green reads hookStatus from the return value; no API call is made."""
    event = load_event("validate_http", "ecs-lifecycle-post-test-traffic-shift.json")
    assert app.handler(event, context)["hookStatus"] == "SUCCEEDED"

    monkeypatch.setenv("VALIDATE_URL", f"{server}/error")
    monkeypatch.setenv("VALIDATE_RETRIES", "0")
    failed = app.handler(event, context)
    assert failed["hookStatus"] == "FAILED"
    assert "expected status 200, got 500" in failed["message"]


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
    job = common.parse_pipeline_job(load_event("validate_http", "codepipeline-job.json"))
    assert job is not None
    check, rollback = app.parse_user_parameters(job.user_parameters)
    assert check == app.Check(
        url="https://staging.payments.example.com/health",
        expect_status=200,
        body_contains="ok",
        retries=5,
        interval_seconds=10,
        timeout_seconds=5,
    )
    assert rollback == app.EcsService("payments-staging", "api")


def test_crash_while_parsing_parameters_is_still_reported(
    codepipeline: Stubbed, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(raw: str) -> tuple[app.Check, app.Rollback]:
        raise MemoryError("parser exhausted")

    monkeypatch.setattr(app, "parse_user_parameters", explode)
    expect_failure(codepipeline)

    result = app.handler(job_event({"url": "https://x"}), context)

    assert result["message"] == "validation handler error: MemoryError: parser exhausted"
    assert reported_failure(codepipeline)["type"] == "JobFailed"
