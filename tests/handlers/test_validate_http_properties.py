"""Whatever event arrives, validate_http reports a result to whoever can receive one and
never raises (a raise makes Lambda retry the same event, or leaves a job hanging)."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.handlers.validate_http import app, check

from .support import FakeContext

KEYS = [
    "CodePipeline.job",
    "id",
    "data",
    "actionConfiguration",
    "configuration",
    "UserParameters",
    "continuationToken",
    "DeploymentId",
    "LifecycleEventHookExecutionId",
    "lifecycleStage",
    "executionDetails",
    "executionId",
    "hookDetails",
    "attempts_done",
    "last_problem",
    "url",
    "rollback",
    "ecs",
    "lambda",
    "codedeploy",
    "retries",
]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
params = st.fixed_dictionaries(
    {"url": st.sampled_from(["https://app.example/health", "http://[::1", "", "ftp://x"])},
    optional={
        "retries": values,
        "interval_seconds": values,
        "timeout_seconds": values,
        "expect_status": values,
        "body_contains": values,
        "server_name": values,
        "rollback": values,
    },
)
user_parameters = (
    params.map(json.dumps) | values.map(lambda v: json.dumps(v, default=str)) | st.text()
)
jobs = st.fixed_dictionaries(
    {
        "CodePipeline.job": st.fixed_dictionaries(
            {"id": st.text(string.ascii_letters, min_size=1, max_size=8) | values},
            optional={
                "data": st.fixed_dictionaries(
                    {},
                    optional={
                        "actionConfiguration": st.fixed_dictionaries(
                            {
                                "configuration": st.fixed_dictionaries(
                                    {"UserParameters": user_parameters}
                                )
                            }
                        )
                        | values,
                        "continuationToken": values | values.map(json.dumps),
                        "inputArtifacts": values,
                    },
                )
                | values
            },
        )
    }
)
hooks = st.fixed_dictionaries(
    {
        "DeploymentId": st.text(string.ascii_letters, min_size=1, max_size=8),
        "LifecycleEventHookExecutionId": st.text(string.ascii_letters, min_size=1, max_size=8),
    }
)
ecs_hooks = st.fixed_dictionaries(
    {"lifecycleStage": st.text(max_size=20), "executionDetails": values},
    optional={"executionId": values, "hookDetails": values, "resourceArn": values},
)
events = jobs | hooks | ecs_hooks | values


class FakeClient:
    """Records every call; answers {}."""

    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((name, kwargs))
            return {}

        return call


@contextmanager
def offline(environ: dict[str, str]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "new_client", lambda service, config: FakeClient(calls))
        patch.setattr(check, "probe", lambda c, seconds: "expected status 200, got 503")
        patch.setattr(check, "sleep", lambda seconds: None)
        for name, value in environ.items():
            patch.setenv(name, value)
        app._client.cache_clear()
        app._decided.clear()
        yield calls
    app._client.cache_clear()
    app._decided.clear()


REPORTS = {
    "put_job_success_result",
    "put_job_failure_result",
    "put_lifecycle_event_hook_execution_status",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, remaining_ms=st.integers(0, 900_000))
def test_every_event_gets_exactly_one_result_and_nothing_raises(
    event: Any, remaining_ms: int
) -> None:
    environ = {"VALIDATE_URL": "https://app.example/health", "VALIDATE_RETRIES": "2"}
    with offline(environ) as calls:
        result = app.handler(event, FakeContext(remaining_ms=remaining_ms))

    reports = [(name, kwargs) for name, kwargs in calls if name in REPORTS]
    job = event.get("CodePipeline.job") if isinstance(event, dict) else None
    if isinstance(job, dict) and isinstance(job.get("id"), str) and job["id"]:
        [(name, kwargs)] = reports
        assert kwargs["jobId"] == job["id"]
        assert result["status"] in {"succeeded", "failed", "continue"}
        if name == "put_job_failure_result":
            assert 0 < len(kwargs["failureDetails"]["message"]) <= 5000
        elif "continuationToken" in kwargs:
            assert len(kwargs["continuationToken"]) <= 2048
    elif "hookStatus" in result:
        assert reports == []  # ECS reads the return value
        assert result["hookStatus"] in {"SUCCEEDED", "FAILED", "IN_PROGRESS"}
        if result["hookStatus"] == "IN_PROGRESS":
            assert result["callBackDelay"] >= 1
            json.dumps(result["hookDetails"])
    elif result["status"] != "ignored":
        [(name, kwargs)] = reports
        assert name == "put_lifecycle_event_hook_execution_status"
        assert kwargs["status"] in {"Succeeded", "Failed"}
    else:
        assert reports == []


@settings(max_examples=100, deadline=None)
@given(
    user=st.text(string.ascii_letters + string.digits, min_size=1, max_size=12),
    password=st.text(string.ascii_letters + string.digits + "-_.~", min_size=4, max_size=24),
    token=st.text(string.ascii_letters + string.digits, min_size=4, max_size=24),
)
def test_secrets_in_the_url_never_reach_the_report(user: str, password: str, token: str) -> None:
    # Marked so that a secret can never be an ordinary word of the message ("stat").
    password, token = f"pw{password}", f"tk{token}"
    url = f"https://{user}:{password}@app.example/health?token={token}"
    with offline({}) as calls:
        app.handler(
            {
                "CodePipeline.job": {
                    "id": "job-1",
                    "data": {
                        "actionConfiguration": {
                            "configuration": {"UserParameters": json.dumps({"url": url})}
                        }
                    },
                }
            },
            FakeContext(),
        )

    [(_, kwargs)] = [c for c in calls if c[0] in REPORTS]
    message = kwargs["failureDetails"]["message"]
    assert password not in message
    assert token not in message
    assert message.startswith("Validation failed: GET https://app.example/health: ")
