"""Every runtime conveyor.yaml offers is one CDK knows, under the same identifier."""

from __future__ import annotations

from conveyor import lambda_runtimes
from conveyor.constructs.lambda_target import RUNTIMES


def test_every_offered_runtime_maps_to_the_cdk_runtime_of_that_name() -> None:
    assert tuple(RUNTIMES) == lambda_runtimes.OFFERED
    assert {name: runtime.name for name, runtime in RUNTIMES.items()} == {
        name: name for name in lambda_runtimes.OFFERED
    }


def test_the_handlers_run_on_the_runtime_validate_dates() -> None:
    from conveyor.constructs import defaults

    assert defaults.HANDLER_RUNTIME.name == lambda_runtimes.HANDLERS
    assert lambda_runtimes.HANDLERS in lambda_runtimes.DEPRECATION_DATES
