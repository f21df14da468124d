# mypy: disable-error-code="import-untyped"
"""The approval notice's change set lookup under enforced IAM (harness:
test_handlers_enforced.py): the notify function, as a user holding exactly the synthesized
policies of its role, is sent each `Approve-<env>` approval of its pipeline and reads that
execution's change set of the environment's stack (DescribeChangeSet, answered here: moto
cannot make a change set of conveyor's templates). The call's stack, in the region it was made
in, is judged against the role; another stack of the same account is refused.

DescribeChangeSet is authorized on the stack:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.handlers import asset_path
from tests.contracts import test_handlers_enforced as harness
from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.obligations import handler_of

EXECUTION_ID = "3a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"


def notifiers(example: Example) -> list[tuple[Located, dict[str, str], dict[str, str]]]:
    """Each notify function with the stacks (and regions) of its approvals' change sets."""
    found = []
    for function in example.of_type("AWS::Lambda::Function"):
        env = (function.value("Environment") or {}).get("Variables", {})
        if handler_of(function) == "notify" and env.get("CHANGE_SET_STACKS"):
            found.append(
                (
                    function,
                    json.loads(env["CHANGE_SET_STACKS"]),
                    json.loads(env.get("CHANGE_SET_REGIONS") or "{}"),
                )
            )
    return found


def approvals(example: Example) -> list[str]:
    """The pipeline's stages holding a manual approval."""
    return sorted(
        {
            stage
            for stage, action in example.actions()
            if action["ActionTypeId"]["Category"] == "Approval"
        }
    )


def _approval_event(example: Example, stage: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (asset_path("notify") / "events" / "action-approval-needed.json").read_text()
    )
    event["account"], event["region"] = example.account, example.region
    event["resources"] = [example.pipeline.arn]
    event["detail"].update(
        pipeline=example.pipeline.value("Name"), stage=stage, **{"execution-id": EXECUTION_ID}
    )
    return event


def _run(
    example: Example, function: Located, stage: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[harness.Recorder, list[tuple[str, str]]]:
    """Runs the approval notice of `stage`; returns the recorder and, per DescribeChangeSet
    call, its stack and the region it was made in."""
    monkeypatch.setitem(
        harness.NOT_IN_MOTO,
        ("cloudformation", "DescribeChangeSet"),
        {"Status": "CREATE_COMPLETE", "Changes": []},
    )
    described: list[tuple[str, str]] = []
    before = harness.Recorder.before

    def spy(self: harness.Recorder, params: dict[str, Any], model: Any, **kw: Any) -> Any:
        if model.name == "DescribeChangeSet":
            body = params.get("body") or {}
            described.append((str(body["StackName"]), params["context"]["client_region"]))
            assert body["ChangeSetName"] == f"conveyor-{stage[len('Approve-') :]}-{EXECUTION_ID}"
        return before(self, params, model, **kw)

    monkeypatch.setattr(harness.Recorder, "before", spy)
    recorder = harness.run_under_role_policy(
        example, function, "notify", lambda env: _approval_event(example, stage), monkeypatch
    )
    return recorder, described


def _stack_arn(example: Example, function: Located, region: str, stack: str) -> str:
    account = example.role(function.value("Role")).account
    return f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/0a1b2c3d"


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
def test_the_notifier_may_read_each_approvals_change_set_and_no_other_stack(
    example: Example, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = notifiers(example)
    if not approvals(example) or not found:
        assert not any(stage.startswith("Approve-") for stage in approvals(example)) or all(
            _in_other_account(example, stage) for stage in approvals(example)
        ), f"{example.name}: an approval whose notice has no change set"
        pytest.skip(f"{example.name}: no approval with a change set in the pipeline's account")
    for function, stacks, regions in found:
        assert sorted(stacks) == sorted(
            s for s in approvals(example) if not _in_other_account(example, s)
        )
        for stage, stack in sorted(stacks.items()):
            recorder, described = _run(example, function, stage, monkeypatch)
            region = regions.get(stage, example.region)
            assert described == [(stack, region)], (stage, stacks, regions, recorder.calls)
            harness.assert_answered_calls_allowed(
                example,
                function,
                recorder,
                {
                    ("cloudformation", "DescribeChangeSet"): _stack_arn(
                        example, function, region, stack
                    )
                },
            )
            # The summary is in the notice it published.
            assert ("sns", "Publish") in {(s, o) for s, o, _ in recorder.calls}
            # Negative control: another stack of the same account and region is refused.
            own = example.role(function.value("Role"))
            other = _stack_arn(example, function, region, f"{stack}-other")
            assert not example.allows(own, "cloudformation:DescribeChangeSet", other)
            monkeypatch.undo()


def _in_other_account(example: Example, stage: str) -> bool:
    """The approval's ChangeSet action deploys to another account than the pipeline's (its
    role is there): out of the notifier's reach."""
    for name, action in example.actions():
        if name == stage and action["ActionTypeId"]["Provider"] == "CloudFormation":
            role = action.get("RoleArn")
            return role is not None and example.role(role).account != example.account
    return False
