# mypy: disable-error-code="import-untyped"
"""validate_http under enforced IAM (harness: test_handlers_enforced.py), against a real local
HTTP server (tests/handlers/validate_http_servers.py).

The hook functions of the environments' stacks, called by CodeDeploy blue/green deployments:
the lifecycle event carries DeploymentId and LifecycleEventHookExecutionId and the function
reports with PutLifecycleEventHookExecutionStatus, on the deployment group:
https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.obligations import handler_of, hooked_deployment_groups
from tests.contracts.test_handlers_enforced import (
    assert_answered_calls_allowed,
    run_under_role_policy,
)
from tests.handlers.validate_http_servers import serve

HOOK_EVENT = {
    "DeploymentId": "d-7ZJ2WQ1XA",
    "LifecycleEventHookExecutionId": "eyJlbmNyeXB0ZWREYXRhIjoiZXhhbXBsZS1ub3QtcmVhbCJ9",
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve() as origin:
        yield origin


def hooks_called_by_codedeploy(example: Example) -> list[tuple[Located, str]]:
    """Each validation hook function with the deployment group whose deployments call it."""
    found = []
    for function in example.of_type("AWS::Lambda::Function"):
        if handler_of(function) == "validate_http_hook":
            found += [(function, group) for group in hooked_deployment_groups(example, function)]
    return found


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_codedeploy_hook_reports_under_exactly_its_role_policy(
    example: Example, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = hooks_called_by_codedeploy(example)
    if not hooks:
        pytest.skip(f"{example.name} has no CodeDeploy lifecycle hook")
    for function, group in hooks:
        # Each hook runs in an environment (and moto) of its own.
        with monkeypatch.context() as patch:

            def prepare(env: dict[str, str], patch: pytest.MonkeyPatch = patch) -> dict[str, str]:
                patch.setenv("VALIDATE_URL", f"{server}/ok")
                patch.delenv("VALIDATE_BODY_CONTAINS", raising=False)
                patch.delenv("VALIDATE_SERVER_NAME", raising=False)
                return HOOK_EVENT

            recorder = run_under_role_policy(example, function, "validate_http", prepare, patch)
        assert recorder.result["status"] == "succeeded", recorder.result
        made = [(service, operation) for service, operation, _ in recorder.calls]
        assert ("codedeploy", "PutLifecycleEventHookExecutionStatus") in made, made
        assert_answered_calls_allowed(
            example,
            function,
            recorder,
            {("codedeploy", "PutLifecycleEventHookExecutionStatus"): group},
        )
