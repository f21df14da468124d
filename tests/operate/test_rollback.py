"""Which execution `conveyor rollback` goes back to, and when it refuses (botocore Stubber)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from conveyor.operate import rollback
from tests.operate.fakes import (
    PIPELINE,
    add_detail,
    add_state,
    add_succeeded,
    execution_id,
    stage,
    state,
    stubbed,
    summary,
)

STAGE = "Deploy-prod"


@pytest.fixture
def codepipeline() -> Any:
    client, stubber = stubbed("codepipeline")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_after_a_good_release_it_goes_back_to_the_one_before(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage("Build", 3), stage(STAGE, 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, STAGE, [summary(3), summary(2), summary(1)])
    add_detail(stubber, 2)
    planned = rollback.plan(client, PIPELINE, STAGE)
    assert planned.target.id == execution_id(2)
    assert planned.live is not None and planned.live.id == execution_id(3)
    assert planned.target.headline == f"{2:040x}"[:8] + " change 2"


def test_after_a_rollback_it_goes_further_back_never_forward(codepipeline: Any) -> None:
    # 4 rolled the stage back to 2; 3 succeeded too, but it is newer than what runs now.
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 4, kind="ROLLBACK")))
    add_detail(stubber, 4, rollback_of=2)
    add_detail(stubber, 2)
    add_succeeded(stubber, STAGE, [summary(4, rollback_of=2), summary(3), summary(2), summary(1)])
    add_detail(stubber, 1)
    assert rollback.plan(client, PIPELINE, STAGE).target.id == execution_id(1)


def test_after_a_failed_release_it_goes_back_to_the_newest_success(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 5, status="Failed")))
    add_succeeded(stubber, STAGE, [summary(4), summary(3)])
    add_detail(stubber, 4)
    planned = rollback.plan(client, PIPELINE, STAGE)
    assert planned.target.id == execution_id(4)
    assert planned.live is None
    assert planned.latest is not None and planned.latest.status == "Failed"


def test_rollback_executions_are_never_a_target(codepipeline: Any) -> None:
    # AWS: "You cannot roll back to a target execution ID that is a rollback execution type."
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 6)))
    add_detail(stubber, 6)
    add_succeeded(stubber, STAGE, [summary(6), summary(5, rollback_of=1), summary(1)])
    add_detail(stubber, 1)
    assert rollback.plan(client, PIPELINE, STAGE).target.id == execution_id(1)


def test_a_target_from_an_older_pipeline_version_is_refused(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3), version=7))
    add_detail(stubber, 3, version=7)
    add_succeeded(stubber, STAGE, [summary(3), summary(2)])
    add_detail(stubber, 2, version=6)
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE)
    assert str(raised.value) == (
        f"execution {execution_id(2)} ran on version 6 of the pipeline, which is at version 7 "
        "now; AWS rolls a stage back only to executions of the current pipeline structure. "
        "Release the old commit instead: revert the change in git and push"
    )


def test_the_first_release_has_nothing_before_it(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 1)))
    add_detail(stubber, 1)
    add_succeeded(stubber, STAGE, [summary(1)])
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE)
    assert str(raised.value) == (
        f"no earlier successful execution of {STAGE} to roll back to (it runs "
        f"{execution_id(1)}, its first)"
    )


def test_after_a_failed_first_release_there_is_nothing_to_go_back_to(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 1, status="Failed")))
    add_succeeded(stubber, STAGE, [])
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE)
    assert str(raised.value) == f"no earlier successful execution of {STAGE} to roll back to"


@pytest.mark.parametrize(
    ("stage_state", "message"),
    [
        (stage(STAGE, 4, status="InProgress"), "is running execution"),
        (stage(STAGE, 4, status="Stopping"), "wait for it to finish"),
        (stage(STAGE, None), "has never run"),
    ],
)
def test_refuses_what_aws_would_refuse(
    codepipeline: Any, stage_state: dict[str, Any], message: str
) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage_state))
    with pytest.raises(rollback.RollbackError, match=message):
        rollback.plan(client, PIPELINE, STAGE)


def test_a_stage_the_deployed_pipeline_lacks_is_named_with_the_ones_it_has(
    codepipeline: Any,
) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage("Source", 1), stage("Deploy-staging", 1)))
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE)
    assert str(raised.value) == (
        "the deployed pipeline payments-pipeline has no stage Deploy-prod (it has: Source, "
        "Deploy-staging); it predates this environment in conveyor.yaml: push the change (the "
        "pipeline updates itself on its next run) or run `conveyor deploy`"
    )


def test_to_names_the_target(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, STAGE, [summary(3), summary(2), summary(1)])
    add_detail(stubber, 1)
    assert rollback.plan(client, PIPELINE, STAGE, to=execution_id(1)).target.id == (execution_id(1))


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (
            execution_id(5),
            f"is itself a rollback; AWS rolls back only to a standard execution: use --to "
            f"{execution_id(1)}$",
        ),
        (execution_id(9), "did not succeed in Deploy-prod"),
        (execution_id(3), "already runs execution"),
    ],
)
def test_to_refuses_what_aws_would_refuse(codepipeline: Any, to: str, message: str) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, STAGE, [summary(5, rollback_of=1), summary(3), summary(1)])
    with pytest.raises(rollback.RollbackError, match=message):
        rollback.plan(client, PIPELINE, STAGE, to=to)


def test_to_that_is_no_execution_id_is_refused_before_asking_aws(codepipeline: Any) -> None:
    client, _ = codepipeline  # no answers queued: any request would fail the test
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE, to="last-tuesday")
    assert str(raised.value).endswith("`conveyor status` lists the recent ones")


def test_the_search_for_to_is_bounded(codepipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollback, "SEARCH_LIMIT", 2)
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 9)))
    add_detail(stubber, 9)
    add_succeeded(stubber, STAGE, [summary(9), summary(8), summary(7)])
    with pytest.raises(rollback.RollbackError, match="not among its newest 2 successful"):
        rollback.plan(client, PIPELINE, STAGE, to=execution_id(7))


def test_the_search_is_bounded(codepipeline: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rollback, "SEARCH_LIMIT", 2)
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 9)))
    add_detail(stubber, 9)
    add_succeeded(stubber, STAGE, [summary(11), summary(10), summary(9)])
    with pytest.raises(rollback.RollbackError, match=r"newest 2 successful.*--to"):
        rollback.plan(client, PIPELINE, STAGE)


def test_start_calls_rollback_stage(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, STAGE, [summary(3), summary(2)])
    add_detail(stubber, 2)
    planned = rollback.plan(client, PIPELINE, STAGE)
    stubber.add_response(
        "rollback_stage",
        {"pipelineExecutionId": execution_id(20)},
        {
            "pipelineName": PIPELINE,
            "stageName": STAGE,
            "targetPipelineExecutionId": execution_id(2),
        },
    )
    assert rollback.start(client, planned) == execution_id(20)


# The pipeline's artifact bucket expires every object retention.artifact_days after it is
# written, rounded up to the next midnight UTC
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html); S3 removes
# expired objects asynchronously, so a day's margin. Execution 2 of the fakes starts 2026-11-30.
@pytest.mark.parametrize(
    ("today", "refused"),
    [
        (date(2026, 11, 30) + timedelta(days=30 + 1), False),  # expired only hours ago
        (date(2026, 11, 30) + timedelta(days=30 + 2), True),
        (date(2027, 6, 1), True),
    ],
)
def test_a_target_whose_artifacts_expired_is_refused(
    codepipeline: Any, today: date, refused: bool
) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3)))
    add_detail(stubber, 3)
    add_succeeded(stubber, STAGE, [summary(3), summary(2)])
    add_detail(stubber, 2)
    if not refused:
        planned = rollback.plan(client, PIPELINE, STAGE, artifact_days=30, today=today)
        assert planned.target.id == execution_id(2)
        return
    with pytest.raises(rollback.RollbackError) as raised:
        rollback.plan(client, PIPELINE, STAGE, artifact_days=30, today=today)
    assert str(raised.value) == (
        f"execution {execution_id(2)} started on 2026-11-30: the pipeline's artifacts (its "
        "templates and build output, which the rollback runs again) expire 30 days after they "
        "are written (retention.artifact_days), so AWS would start the rollback and fail it. "
        "Release the old commit instead: revert the change in git and push"
    )


def test_a_named_target_whose_artifacts_expired_is_refused_too(codepipeline: Any) -> None:
    client, stubber = codepipeline
    add_state(stubber, state(stage(STAGE, 3, status="Failed")))
    add_succeeded(stubber, STAGE, [summary(2), summary(1)])
    add_detail(stubber, 1)
    with pytest.raises(rollback.RollbackError, match="expire 7 days after"):
        rollback.plan(
            client, PIPELINE, STAGE, to=execution_id(1), artifact_days=7, today=date(2026, 12, 9)
        )
