"""The names `conveyor status` and `rollback` look up are the ones the constructs give."""

from __future__ import annotations

from pathlib import Path

from conveyor.constructs import ecs_task, environment_stack, lambda_target
from conveyor.constructs.naming import Naming
from conveyor.operate import names
from conveyor.spec import load_spec
from conveyor.stages import environment as environment_stage
from conveyor.synth import stack_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_parameters_and_outputs_are_the_constructs_own() -> None:
    assert names.IMAGE_PARAMETER == ecs_task.IMAGE_PARAMETER
    assert names.CODE_BUCKET_PARAMETER == lambda_target.CODE_BUCKET_PARAMETER
    assert names.CODE_KEY_PARAMETER == lambda_target.CODE_KEY_PARAMETER
    assert names.CODE_VERSION_PARAMETER == lambda_target.CODE_VERSION_PARAMETER
    assert names.URL_OUTPUT == environment_stack.URL_OUTPUT


def test_pipeline_stage_and_stack_names_are_the_constructs_own() -> None:
    spec = load_spec(EXAMPLES / "multi-account.yaml")
    assert names.pipeline_name(spec) == stack_name(spec) == "ledger-pipeline"
    naming = Naming(spec.app, spec.suffix)
    found = names.environments(spec)
    assert [e.name for e in found] == ["staging", "prod"]
    for env, entry in zip(spec.environments, found, strict=True):
        assert entry.stage == environment_stage.stage_name(env.name)
        assert entry.stack == environment_stack.environment_stack_name(naming, env)
    assert [e.account for e in found] == [None, "222222222222"]


def test_rollback_names_the_stage_that_rolls_back_never_the_approval_stage() -> None:
    """Issue 11: production has Approve-prod before Deploy-prod; `conveyor rollback prod` must
    roll back the deploy stage (the one with OnFailure ROLLBACK), whose rollback waits for no
    approval."""
    from conveyor.plan import plan

    spec = load_spec(EXAMPLES / "payments.yaml")
    stages = {stage.name: stage for stage in plan(spec).stages}
    assert "Approve-prod" in stages
    for entry in names.environments(spec):
        stage = stages[entry.stage]
        assert [c.result for c in stage.conditions if c.kind == "on_failure"] == ["ROLLBACK"]
        assert all(a.kind != "approval" for a in stage.actions), entry.name
