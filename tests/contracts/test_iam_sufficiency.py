"""Every role may do what its principal does on AWS, judged by a real policy evaluator.

What each principal does comes from the templates themselves (pipeline actions and their RoleArn,
each project's buildspec, each handler's function); what that requires comes from the one table in
conveyor.rules.runtime_contracts, which cites AWS for every entry.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example
from tests.contracts.obligations import (
    EXECUTION_ID,
    Obligation,
    handler_obligations,
    pipeline_action_obligations,
    pipeline_rule_obligations,
    project_obligations,
)

PRINCIPALS: dict[str, Callable[[Example], list[Obligation]]] = {
    "pipeline-actions": pipeline_action_obligations,
    "codebuild-projects": project_obligations,
    "handlers": handler_obligations,
}


def _tag_on_create(obligation: Obligation) -> bool:
    return obligation.action == "ecs:TagResource"


def refused(example: Example, obligations: list[Obligation]) -> list[str]:
    return [
        f"{o} -> {verdict.why}"
        for o in obligations
        if not (verdict := example.allows(o.role, o.action, o.resource, dict(o.context)))
    ]


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
@pytest.mark.parametrize("principals", sorted(PRINCIPALS))
def test_every_role_may_do_what_its_principal_does(example: Example, principals: str) -> None:
    obligations = PRINCIPALS[principals](example)
    assert obligations, f"{example.name}: no {principals} found; the derivation is broken"
    # Task-definition tagging is its own case below (issue 14 defect 1).
    assert refused(example, [o for o in obligations if not _tag_on_create(o)]) == []


# Issue 14 defect 1: the ECS deploy role could register a task definition but not tag it, and
# ECS's tag-on-create authorization refuses the registration (fixed in constructs/ecs_service.py).
# Since issue 10 a created service is deployed by its stack update; only an existing service
# still goes through the ECS deploy action.
ECS_DEPLOYING = ["minimal"]


@pytest.mark.parametrize("example", ECS_DEPLOYING, indirect=True)
def test_deploy_role_may_tag_the_task_definition_it_registers(example: Example) -> None:
    tagging = [o for o in pipeline_action_obligations(example) if _tag_on_create(o)]
    assert tagging, f"{example.name}: no pipeline action registers a task definition"
    assert refused(example, tagging) == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_pipeline_role_may_read_the_alarms_its_gates_watch(example: Example) -> None:
    """Alarm gates and bakes (CloudWatchAlarm rules) read their alarms as the pipeline role."""
    obligations = pipeline_rule_obligations(example)
    gated = [s for s in example.pipeline.value("Stages") if "BeforeEntry" in s or "OnSuccess" in s]
    assert bool(obligations) == any(
        r["RuleTypeId"]["Provider"] == "CloudWatchAlarm"
        for s in gated
        for key in ("BeforeEntry", "OnSuccess")
        for c in s.get(key, {}).get("Conditions", [])
        for r in c["Rules"]
    )
    assert refused(example, obligations) == []


def _handler_calls(example: Example, prefix: str) -> list[Obligation]:
    return [o for o in handler_obligations(example) if o.action.startswith(prefix)]


@pytest.mark.parametrize("example", ["lambda-canary"], indirect=True)
def test_notify_and_history_may_read_the_codedeploy_deployments_they_are_sent(
    example: Example,
) -> None:
    """notify (a failed deployment's reason, ROLLED BACK) and record_deployment (rollbacks in
    the history) call codedeploy:GetDeployment on every CodeDeploy event they are sent; both
    swallow a refusal, so only this contract shows a missing grant."""
    obligations = _handler_calls(example, "codedeploy:GetDeployment")
    assert {o.why.split()[1] for o in obligations} == {"notify", "record_deployment"}
    assert refused(example, obligations) == []


@pytest.mark.parametrize("example", ["lambda-canary", "web-service"], indirect=True)
def test_handlers_that_decide_once_may_use_the_idempotency_table(example: Example) -> None:
    """notify (one email per event) and validate_http (one decision per job) keep their
    Powertools idempotency record in the pipeline's table."""
    obligations = _handler_calls(example, "dynamodb:")
    handlers = {o.why.split()[1] for o in obligations if "idempotency" in o.resource.lower()}
    assert handlers == {"notify", "validate_http"}
    assert refused(example, obligations) == []


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_change_set_actions_may_use_their_execution_s_change_set_only(example: Example) -> None:
    """Issue 11 (review defect 6): change sets are named per execution; CDK conditions the
    actions' grants on the configured name with the variable unresolved, so conveyor grants the
    environment's name pattern. The resolved name is allowed (the obligations above, with the
    name in the request), another environment's or a fixed name is not."""
    change_set_calls = [
        o
        for o in pipeline_action_obligations(example)
        if o.action.endswith("ChangeSet") and "cloudformation:ChangeSetName" in dict(o.context)
    ]
    approved = [e.name for e in example.synthesized.spec.environments if e.needs_approval]
    assert bool(change_set_calls) == bool(approved)
    foreign = {e.name for e in example.synthesized.spec.foreign_environments}
    for o in change_set_calls:
        name = dict(o.context)["cloudformation:ChangeSetName"]
        env = next(e for e in approved if name.startswith(f"conveyor-{e}-"))
        assert example.allows(o.role, o.action, o.resource, dict(o.context)), o
        if env in foreign:
            # Another account's deploy role (its one-time bootstrap stack) may use any change
            # set of its one stack; tightening it would need every such stack deployed again.
            continue
        for other in (f"conveyor-{env}", f"conveyor-{env}x-{EXECUTION_ID}", "review"):
            context = {**dict(o.context), "cloudformation:ChangeSetName": other}
            assert not example.allows(o.role, o.action, o.resource, context), (o, other)
