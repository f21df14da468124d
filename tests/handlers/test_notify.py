# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from conveyor.handlers import _common as common
from conveyor.handlers.notify import app

from .support import (
    FakeContext,
    Inbox,
    create_idempotency_table,
    load_event,
    log_lines,
    record_calls,
)

EXECUTION_ID = "3a5f2c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
COMMIT = "9f1c2ab7d0e4c5b6a7f8e9d0c1b2a3f4e5d6c7b8"
TIMELINE = (
    "https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
    f"payments-pipeline/executions/{EXECUTION_ID}/timeline?region=us-east-1"
)


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with mock_aws():
        box = Inbox.for_new_topic("payments-notifications")
        monkeypatch.setenv("TOPIC_ARN", box.topic_arn)
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", create_idempotency_table("payments-idem"))
        monkeypatch.setenv("APP_NAME", "payments")
        monkeypatch.setenv(
            "STAGE_ENVIRONMENTS",
            # As conveyor synthesizes it: every stage of an environment names it.
            json.dumps(
                {
                    "Deploy-staging": "staging",
                    "Approve-prod": "prod",
                    "Release-prod": "prod",
                    "Deploy-prod": "prod",
                }
            ),
        )
        monkeypatch.setenv(
            "DEPLOYMENT_GROUP_ENVIRONMENTS", json.dumps({"payments-api-prod": "prod"})
        )
        yield box


@pytest.fixture
def codepipeline(inbox: Inbox) -> Iterator[Stubber]:
    with Stubber(common.client("codepipeline")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def codedeploy(inbox: Inbox) -> Iterator[Stubber]:
    with Stubber(common.client("codedeploy")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stub_execution(stubber: Stubber, **extra: Any) -> None:
    stubber.add_response(
        "get_pipeline_execution",
        {
            "pipelineExecution": {
                "pipelineName": "payments-pipeline",
                "pipelineExecutionId": EXECUTION_ID,
                "status": "Failed",
                "artifactRevisions": [
                    {
                        "name": "Source",
                        "revisionId": COMMIT,
                        "revisionSummary": json.dumps(
                            {"ProviderType": "GitHub", "CommitMessage": "Fix rounding\n\nLong body"}
                        ),
                    }
                ],
                **extra,
            }
        },
        {"pipelineName": "payments-pipeline", "pipelineExecutionId": EXECUTION_ID},
    )


def attribute(message: dict[str, Any], name: str) -> str:
    value: str = message["MessageAttributes"][name]["Value"]
    return value


def test_approval_needed_names_environment_stage_commit_and_link(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)

    result = app.handler(load_event("notify", "action-approval-needed.json"), context)

    message = inbox.only()
    assert result == {"status": "published", "subject": message["Subject"]}
    assert message["Subject"] == "[payments/prod] Approval needed: Approve-prod / Approve"
    assert message["Message"] == (
        "Approval needed: Approve-prod / Approve\n"
        "\n"
        "App:         payments\n"
        "Environment: prod\n"
        "Pipeline:    payments-pipeline\n"
        f"Execution:   {EXECUTION_ID}\n"
        "Stage:       Approve-prod\n"
        "Action:      Approve\n"
        'Commit:      9f1c2ab7d0e4 "Fix rounding"\n'
        "Action type: Approval/Manual\n"
        "To approve:  open the link, choose Review on the approval action\n"
        f"Console:     {TIMELINE}\n"
    )
    assert attribute(message, "outcome") == "APPROVAL_NEEDED"
    assert attribute(message, "environment") == "prod"
    assert attribute(message, "kind") == "approval"


def test_failed_pipeline_carries_the_status_summary_as_reason(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline, statusSummary="Stage Deploy-prod failed: Validate")

    app.handler(load_event("notify", "pipeline-execution-failed.json"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments] FAILED: pipeline payments-pipeline"
    assert "Reason:    Stage Deploy-prod failed: Validate\n" in message["Message"]
    assert f"Console:   {TIMELINE}" in message["Message"]


def test_failed_validation_action_explains_what_was_rolled_back(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)

    app.handler(load_event("notify", "action-validate-failed.json"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments/staging] FAILED: Deploy-staging / Validate"
    assert (
        "got 503 (after 6 attempts). Rollback: ECS service api rolled back" in (message["Message"])
    )
    assert "Error code:  JobFailed" in message["Message"]


def test_failed_build_names_the_failing_phase_and_logs(inbox: Inbox, context: FakeContext) -> None:
    app.handler(load_event("notify", "codebuild-build-failed.json"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments] Build FAILED: payments-build"
    text = message["Message"]
    assert (
        "Reason:   BUILD phase FAILED: COMMAND_EXECUTION_ERROR: Error while executing command: "
        "pytest -q. Reason: exit status 1"
    ) in text
    assert "Pipeline: payments-pipeline" in text
    assert "Logs:     https://console.aws.amazon.com/cloudwatch/home?region=us-east-1" in text
    assert (
        "Console:  https://us-east-1.console.aws.amazon.com/codesuite/codebuild/projects/"
        "payments-build/build/payments-build%3A8e2a3b4c-5d6e-7f80-91a2-b3c4d5e6f708/"
        "?region=us-east-1"
    ) in text


def test_rolled_back_deployment_says_so_with_the_alarm(
    codedeploy: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    codedeploy.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": "d-7ZJ2WQ1XA",
                "status": "Failed",
                "errorInformation": {
                    "code": "ALARM_ACTIVE",
                    "message": "One or more alarms have been activated: payments-5xx",
                },
                "rollbackInfo": {"rollbackDeploymentId": "d-9QK4RT2YB"},
            }
        },
        {"deploymentId": "d-7ZJ2WQ1XA"},
    )

    app.handler(load_event("notify", "codedeploy-deployment-failure.json"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments/prod] Deployment ROLLED BACK: payments-api-prod"
    assert (
        "Reason:              ALARM_ACTIVE: One or more alarms have been activated"
        in (message["Message"])
    )
    assert "Rollback deployment: d-9QK4RT2YB" in message["Message"]
    assert attribute(message, "outcome") == "ROLLED_BACK"


def test_lookup_failures_still_notify_and_warn(
    codepipeline: Stubber,
    codedeploy: Stubber,
    inbox: Inbox,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    codepipeline.add_client_error("get_pipeline_execution", "AccessDeniedException")
    codedeploy.add_client_error("get_deployment", "AccessDeniedException")

    app.handler(load_event("notify", "pipeline-execution-failed.json"), context)
    app.handler(load_event("notify", "codedeploy-deployment-failure.json"), context)

    subjects = sorted(m["Subject"] for m in inbox.messages())
    assert subjects == [
        "[payments/prod] Deployment FAILED: payments-api-prod",
        "[payments] FAILED: pipeline payments-pipeline",
    ]
    warnings = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert [w["lookup"] for w in warnings] == [
        "codepipeline:GetPipelineExecution",
        "codedeploy:GetDeployment",
    ]


def test_scan_gate_result_is_summarised(inbox: Inbox, context: FakeContext) -> None:
    app.handler(load_event("notify", "scan-gate-result.json"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments] Security scan BLOCKED: payments-pipeline"
    assert "Reason:    Scan gate BLOCKED (fail_on=high): 2 blocking findings" in message["Message"]


def test_subject_is_ascii_single_line_and_at_most_100_chars(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_NAME", "zahlungsverkehr-übersee\nteam")
    event = load_event("notify", "action-approval-needed.json")
    event["detail"]["stage"] = "Deploy-" + "x" * 120
    codepipeline.add_client_error("get_pipeline_execution", "AccessDeniedException")

    app.handler(event, context)

    subject = inbox.only()["Subject"]
    assert len(subject) == 100
    assert subject.endswith("...")
    assert subject.startswith("[zahlungsverkehr-?bersee team] Approval needed: Deploy-xxx")
    assert subject.isascii()


def test_missing_topic_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.delenv("TOPIC_ARN", raising=False)
    with pytest.raises(common.ConfigurationError, match="TOPIC_ARN is required"):
        app.handler(load_event("notify", "pipeline-execution-failed.json"), context)


@pytest.mark.parametrize(
    "event",
    [
        {},
        None,
        "a string",
        {"detail-type": "EC2 Instance State-change Notification", "detail": {}},
        {"detail-type": app.PIPELINE_EXECUTION, "detail": {"pipeline": "p"}},
        {"detail-type": app.STAGE_EXECUTION, "detail": {"pipeline": "p", "state": "FAILED"}},
        {"detail-type": app.CODEBUILD_BUILD, "detail": {"project-name": "b"}},
        {"detail-type": app.SCAN_GATE_RESULT, "detail": {"summary": "x", "passed": "no"}},
    ],
)
def test_unknown_or_partial_events_are_ignored(
    inbox: Inbox, context: FakeContext, event: Any
) -> None:
    assert app.handler(event, context) == {"status": "ignored"}
    assert inbox.messages() == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=10,
)
_SAMPLES = [
    "action-approval-needed.json",
    "action-validate-failed.json",
    "codebuild-build-failed.json",
    "codedeploy-deployment-failure.json",
    "pipeline-execution-failed.json",
    "scan-gate-result.json",
]


@st.composite
def _partial_events(draw: st.DrawFn) -> dict[str, Any]:
    event = load_event("notify", draw(st.sampled_from(_SAMPLES)))
    for key in list(event["detail"]):
        choice = draw(st.sampled_from(["keep", "drop", "replace"]))
        if choice == "drop":
            del event["detail"][key]
        elif choice == "replace":
            event["detail"][key] = draw(_json)
    return event


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=_json | _partial_events())
def test_never_raises_and_subjects_stay_valid(inbox: Inbox, event: Any) -> None:
    # No stubbed responses: every lookup fails, which the handler must tolerate too.
    with Stubber(common.client("codepipeline")), Stubber(common.client("codedeploy")):
        result = app.handler(event, FakeContext())
    assert result["status"] in {"ignored", "published"}
    if result["status"] == "published":
        assert 0 < len(result["subject"]) <= 100
        assert result["subject"].isascii()
        assert "\n" not in result["subject"]


def test_duplicate_eventbridge_delivery_sends_one_email(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    """Issue 17/9: EventBridge delivers at least once; the same event id must not email twice."""
    stub_execution(codepipeline, statusSummary="Stage Deploy-prod failed")
    event = load_event("notify", "pipeline-execution-failed.json")

    first = app.handler(event, context)
    again = app.handler(json.loads(json.dumps(event)), context)

    assert [m["Subject"] for m in inbox.messages()] == [first["subject"]]
    assert again == first


def test_one_event_reaches_every_topic_whose_rule_matched_it(
    codepipeline: Stubber,
    inbox: Inbox,
    context: FakeContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review of issue 17/9: one EventBridge event matched by two rules (developers' and
    security's notices) reaches two notify functions with the same event id, and both share
    the pipeline's idempotency table. Keyed on the event id alone, the second function found
    the first one's record and its team never got the notice."""
    security = Inbox.for_new_topic("payments-security")
    stub_execution(codepipeline)
    stub_execution(codepipeline)
    event = load_event("notify", "pipeline-execution-failed.json")

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-notify-developers")
    app.handler(event, context)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "payments-notify-security")
    monkeypatch.setenv("TOPIC_ARN", security.topic_arn)
    app.handler(json.loads(json.dumps(event)), context)

    assert len(inbox.messages()) == 1
    assert len(security.messages()) == 1


def test_a_different_event_with_the_same_content_is_still_sent(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    stub_execution(codepipeline)
    event = load_event("notify", "pipeline-execution-failed.json")

    app.handler(event, context)
    app.handler({**event, "id": "another-event-id"}, context)

    assert len(inbox.messages()) == 2


def test_multi_line_summary_cannot_add_a_console_line(
    codepipeline: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    """Issue 17/9: a summary (or commit message) with line breaks must not spoof the link."""
    stub_execution(
        codepipeline,
        statusSummary="Stage failed\nConsole:   https://evil.example/login\u2028Console: x",
    )

    app.handler(load_event("notify", "pipeline-execution-failed.json"), context)

    lines = inbox.only()["Message"].splitlines()
    assert [line for line in lines if line.startswith("Console:")] == [f"Console:   {TIMELINE}"]
    assert "Reason:    Stage failed Console: https://evil.example/login Console: x" in lines


@pytest.mark.parametrize(
    "summary",
    [
        "[" * 1500,
        '{"CommitMessage": ' + "[" * 1500,
        "{" * 1500,
        '{"ProviderType": "GitHub", "CommitMessage": 7}',
        "line one\nConsole: https://evil.example",
    ],
)
def test_hostile_commit_message_is_shown_not_fatal(
    inbox: Inbox, context: FakeContext, summary: str
) -> None:
    """Issue 17/5: a revisionSummary of 1,500 `[` raised RecursionError and the event was lost."""
    with Stubber(common.client("codepipeline")) as codepipeline:
        codepipeline.add_response(
            "get_pipeline_execution",
            {
                "pipelineExecution": {
                    "pipelineExecutionId": EXECUTION_ID,
                    "artifactRevisions": [{"revisionId": COMMIT, "revisionSummary": summary}],
                }
            },
        )
        result = app.handler(load_event("notify", "pipeline-execution-failed.json"), context)

    assert result["status"] == "published"
    [commit] = [line for line in inbox.only()["Message"].splitlines() if line.startswith("Commit")]
    assert commit.startswith("Commit:    9f1c2ab7d0e4")
    assert "evil" not in commit


_hostile_text = (
    st.text(min_size=1, max_size=120)
    | st.just("[" * 1500)
    | st.just("line\nConsole: https://evil.example\r\nApp: spoofed")
    | st.text(max_size=40).map(lambda text: json.dumps({"CommitMessage": text}))
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sample=st.sampled_from(_SAMPLES),
    summary=_hostile_text,
    status=_hostile_text,
    error=_hostile_text,
)
def test_hostile_lookups_never_break_or_reshape_the_notice(
    inbox: Inbox, sample: str, summary: str, status: str, error: str
) -> None:
    """Whatever commit messages, summaries and CodeDeploy errors say, a notice is sent, its
    body has one line per row and only the handler's own Console link."""
    # A fresh event id each time: a repeated id is a duplicate delivery, answered from the record.
    event = {**load_event("notify", sample), "id": str(uuid.uuid4())}
    sent = record_calls(common.client("sns"))
    with (
        Stubber(common.client("codepipeline")) as codepipeline,
        Stubber(common.client("codedeploy")) as codedeploy,
    ):
        codepipeline.add_response(
            "get_pipeline_execution",
            {
                "pipelineExecution": {
                    "statusSummary": status,
                    "artifactRevisions": [{"revisionId": COMMIT, "revisionSummary": summary}],
                }
            },
        )
        codedeploy.add_response(
            "get_deployment",
            {"deploymentInfo": {"errorInformation": {"code": "HEALTH", "message": error}}},
        )
        result = app.handler(event, FakeContext())
    assert result["status"] == "published"
    [(_, params)] = [call for call in sent if call[0] == "Publish"]
    lines = params["Message"].splitlines()
    labels = [line.split(":", 1)[0] for line in lines[2:]]
    assert len(labels) == len(set(labels)), lines
    assert all(not line.startswith("Console:") or "evil" not in line for line in lines)
    assert "\n" not in params["Subject"]


# ---- mutation survivors (mutmut on notify/app.py) ---------------------------------------------

CONFIG = app.Config(
    topic_arn="arn:aws:sns:us-east-1:123456789012:t",
    app=None,
    stage_environments={},
    group_environments={},
)


def _scan_event(**detail: Any) -> dict[str, Any]:
    event = load_event("notify", "scan-gate-result.json")
    event["detail"] = detail
    return event


def test_a_passing_scan_notice_names_where_it_ran() -> None:
    notice = app.describe(
        _scan_event(
            summary="Scan gate PASSED (fail_on=high): no blocking findings.",
            passed=True,
            pipeline="payments-pipeline",
            execution_id=EXECUTION_ID,
            stage="Checks",
            action="ScanGate",
            app="payments",
        ),
        CONFIG,
    )
    assert notice == app.Notice(
        headline="Security scan PASSED: payments-pipeline",
        outcome="PASSED",
        kind="scan",
        app="payments",
        pipeline="payments-pipeline",
        execution_id=EXECUTION_ID,
        stage="Checks",
        action="ScanGate",
        reason="Scan gate PASSED (fail_on=high): no blocking findings.",
        link=TIMELINE,
    )


def test_a_scan_notice_without_a_pipeline_or_app() -> None:
    notice = app.describe(_scan_event(summary="blocked", passed=False), CONFIG)
    assert notice is not None
    assert (notice.headline, notice.outcome, notice.app, notice.link) == (
        "Security scan BLOCKED",
        "BLOCKED",
        None,
        None,
    )
    # The pipeline names the app when the gate did not.
    named = app.describe(_scan_event(summary="s", passed=False, pipeline="p"), CONFIG)
    assert named is not None and named.app == "p"


@pytest.mark.parametrize(
    "detail",
    [
        {"summary": "s", "passed": "false"},  # a string is no verdict
        {"summary": "s"},
        {"summary": "", "passed": True},
        {"passed": False},
    ],
)
def test_a_scan_result_without_a_summary_and_a_verdict_is_not_a_notice(
    detail: dict[str, Any],
) -> None:
    assert app.describe(_scan_event(**detail), CONFIG) is None


BUILD_ID = "arn:aws:codebuild:us-east-1:123456789012:build/payments-build:0b1c2d3e"


def test_build_links_need_a_region_and_a_build_arn() -> None:
    assert app.build_link("us-east-1", BUILD_ID) == (
        "https://us-east-1.console.aws.amazon.com/codesuite/codebuild/projects/payments-build"
        "/build/payments-build%3A0b1c2d3e/?region=us-east-1"
    )
    assert app.build_link(None, BUILD_ID) is None
    assert app.build_link("us-east-1", None) is None
    assert app.build_link("us-east-1", "payments-build:0b1c2d3e") is None  # no ARN


def test_links_keep_every_id_inside_its_own_path_segment() -> None:
    """Ids come from events: a '/' must not move the link to another console page."""
    link = app.build_link("us-east-1", "arn:aws:codebuild:us-east-1:1:build/a/b:c/d")
    assert link is not None and "/projects/a%2Fb/build/a%2Fb%3Ac%2Fd/" in link
    assert app.deployment_link("us-east-1", "d-1/../x") == (
        "https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        "d-1%2F..%2Fx?region=us-east-1"
    )


def test_deployment_links_need_a_region_and_an_id() -> None:
    assert app.deployment_link(None, "d-1") is None
    assert app.deployment_link("us-east-1", None) is None
    assert app.deployment_link("us-east-1", "d-1") is not None


def test_a_failed_deployment_lookup_is_logged_and_the_notice_still_goes(
    inbox: Inbox,
    codedeploy: Stubber,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    codedeploy.add_client_error("get_deployment", service_error_code="ThrottlingException")
    result = app.handler(load_event("notify", "codedeploy-deployment-failure.json"), context)
    assert result["status"] == "published"
    [warning] = [
        line
        for line in log_lines(capsys.readouterr().out)
        if line.get("message") == "lookup failed; sending without reason"
    ]
    assert (warning["lookup"], warning["error"]) == (
        "codedeploy:GetDeployment",
        "ThrottlingException",
    )


def test_only_a_git_sha_is_shortened_in_the_commit_line() -> None:
    assert app._commit_line(COMMIT, "Fix") == f'{COMMIT[:12]} "Fix"'
    # An S3 source's revision is an object version id: shown whole.
    version = "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"
    assert app._commit_line(version, None) == version


def _deployment_notice(state: str) -> app.Notice:
    return app.Notice(
        headline=f"Deployment {state}: payments-api-prod", outcome=state, kind="deployment"
    )


def test_a_deployment_error_without_a_code_is_its_message(codedeploy: Stubber) -> None:
    codedeploy.add_response(
        "get_deployment",
        {"deploymentInfo": {"errorInformation": {"message": "health checks failed"}}},
    )
    notice = _deployment_notice("FAILED")
    app._enrich_from_deployment(notice, "d-1")
    assert notice.reason == "health checks failed"


def test_a_stopped_deployment_that_rolled_back_says_so(codedeploy: Stubber) -> None:
    codedeploy.add_response(
        "get_deployment", {"deploymentInfo": {"rollbackInfo": {"rollbackDeploymentId": "d-2"}}}
    )
    notice = _deployment_notice("STOPPED")
    app._enrich_from_deployment(notice, "d-1")
    assert (notice.headline, notice.outcome) == (
        "Deployment ROLLED BACK: payments-api-prod",
        "ROLLED_BACK",
    )
    assert notice.extra["Rollback deployment"] == "d-2"


def _build_event(**changes: Any) -> dict[str, Any]:
    event = load_event("notify", "codebuild-build-failed.json")
    event["detail"]["additional-information"].update(changes)
    return event


def test_a_build_nobody_started_from_a_pipeline_names_its_project() -> None:
    notice = app.describe(_build_event(initiator="alice"), CONFIG)
    assert notice is not None
    assert (notice.pipeline, notice.app) == (None, "payments-build")


def test_a_failed_phase_without_context_is_named_alone() -> None:
    phases = [{"phase-type": "BUILD", "phase-status": "FAILED", "phase-context": []}]
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None and notice.reason == "BUILD phase FAILED"


def _deployment_event(state: str) -> dict[str, Any]:
    event = load_event("notify", "codedeploy-deployment-failure.json")
    event["detail"]["state"] = state
    return event


def test_a_deployment_notice_names_application_deployment_and_unknown_states() -> None:
    notice = app.describe(_deployment_event("QUEUED"), CONFIG)
    assert notice is not None
    assert (notice.headline, notice.outcome, notice.app) == (
        "Deployment QUEUED: payments-api-prod",
        "QUEUED",
        "payments-prod",
    )
    assert "Deployment: d-7ZJ2WQ1XA" in app.body(notice).splitlines()


def _pipeline_event(name: str, detail_type: str | None = None, **changes: Any) -> dict[str, Any]:
    event = load_event("notify", name)
    if detail_type:
        event["detail-type"] = detail_type
    event["detail"].pop("execution-id", None)  # no lookup: what the event alone says
    event["detail"].update(changes)
    return event


def test_a_stage_notice_names_the_stage_and_what_triggered_the_execution() -> None:
    notice = app.describe(
        _pipeline_event(
            "action-validate-failed.json",
            app.STAGE_EXECUTION,
            **{"execution-trigger": {"trigger-type": "Webhook", "trigger-detail": "alice"}},
        ),
        CONFIG,
    )
    assert notice is not None
    assert (notice.kind, notice.headline) == ("stage", "FAILED: stage Deploy-staging")
    assert notice.extra["Triggered by"] == "Webhook (alice)"


def test_an_action_notice_links_the_actions_own_details() -> None:
    event = _pipeline_event("action-validate-failed.json")
    notice = app.describe(event, CONFIG)
    assert notice is not None
    url = event["detail"]["execution-result"]["external-execution-url"]
    assert notice.extra["Details"] == url
    assert notice.extra["Error code"] == "JobFailed"


def test_a_build_notice_is_published_with_its_kind_and_outcome_attributes(
    inbox: Inbox, context: FakeContext
) -> None:
    # Subscription filter policies match these attributes (e.g. only kind=build, outcome=FAILED).
    app.handler(load_event("notify", "codebuild-build-failed.json"), context)

    message = inbox.only()
    assert {name: attribute(message, name) for name in message["MessageAttributes"]} == {
        "app": "payments",
        "kind": "build",
        "outcome": "FAILED",
    }


def test_an_upload_that_found_no_artifacts_names_the_phase_and_its_client_error() -> None:
    # CLIENT_ERROR is the status code of the failed phase's context, not a phase status
    # (API_PhaseContext.html; the event writes each context as "STATUS_CODE: message"). The
    # other phases' empty contexts (": ") say nothing.
    event = load_event("notify", "codebuild-upload-artifacts-failed.json")
    notice = app.describe(event, CONFIG)
    assert notice is not None
    assert (notice.headline, notice.reason) == (
        "Build FAILED: payments-build",
        "UPLOAD_ARTIFACTS phase FAILED: CLIENT_ERROR: no matching artifact paths found",
    )


# A phase that succeeded, stopped or is running is no reason, nor a status CodeBuild does not
# give a phase (BuildPhase.phaseStatus is SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS or
# STOPPED: https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BuildPhase.html).
@pytest.mark.parametrize("status", ["SUCCEEDED", "STOPPED", "IN_PROGRESS", "CLIENT_ERROR", None])
def test_only_a_phase_that_failed_faulted_or_timed_out_is_the_reason(status: str | None) -> None:
    phases = [
        {"phase-type": "BUILD", "phase-status": status, "phase-context": ["CLIENT_ERROR: x"]},
        {"phase-type": "UPLOAD_ARTIFACTS", "phase-status": "FAULT", "phase-context": []},
    ]
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None and notice.reason == "UPLOAD_ARTIFACTS phase FAULT"


@pytest.mark.parametrize(
    ("contexts", "reason"),
    [
        ([": "], "BUILD phase FAILED"),
        ([":", " ", "", None, 0], "BUILD phase FAILED"),
        (["COMMAND_EXECUTION_ERROR: "], "BUILD phase FAILED: COMMAND_EXECUTION_ERROR"),
        ([": exit status 1"], "BUILD phase FAILED: exit status 1"),
        ([": ", "YAML_FILE_ERROR: bad key"], "BUILD phase FAILED: YAML_FILE_ERROR: bad key"),
        # Only spaces and colons are trimmed, never a word's own letters.
        (["X_ERROR: exit status X"], "BUILD phase FAILED: X_ERROR: exit status X"),
    ],
)
def test_a_phase_context_without_status_code_or_message_says_nothing(
    contexts: list[object], reason: str
) -> None:
    phases = [{"phase-type": "BUILD", "phase-status": "FAILED", "phase-context": contexts}]
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None and notice.reason == reason


# Every phase status CodeBuild gives a phase that did not succeed or stop:
# https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BuildPhase.html
@pytest.mark.parametrize("status", ["FAILED", "FAULT", "TIMED_OUT"])
def test_the_first_phase_that_did_not_succeed_is_the_reason(status: str) -> None:
    phases = [
        {"phase-type": "INSTALL", "phase-status": "SUCCEEDED", "phase-context": ["ok"]},
        {"phase-type": "BUILD", "phase-status": status, "phase-context": ["a", "", "b"]},
        {"phase-type": "POST_BUILD", "phase-status": "FAILED", "phase-context": ["later"]},
    ]
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None and notice.reason == f"BUILD phase {status}: a; b"


@pytest.mark.parametrize("phases", [7, "FAILED", {"phase-status": "FAILED"}])
def test_phases_that_are_not_a_list_give_no_reason(phases: object) -> None:
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None
    assert (notice.headline, notice.reason) == ("Build FAILED: payments-build", None)


@pytest.mark.parametrize("context_value", [None, 7, "COMMAND_EXECUTION_ERROR"])
def test_a_phase_context_that_is_not_a_list_is_left_out(context_value: object) -> None:
    phases = [{"phase-type": "BUILD", "phase-status": "FAILED", "phase-context": context_value}]
    notice = app.describe(_build_event(phases=phases), CONFIG)
    assert notice is not None and notice.reason == "BUILD phase FAILED"


@pytest.mark.parametrize(
    ("sample", "missing"),
    [
        ("codebuild-build-failed.json", "project-name"),
        ("codebuild-build-failed.json", "build-status"),
        ("codedeploy-deployment-failure.json", "deploymentId"),
        ("codedeploy-deployment-failure.json", "state"),
    ],
)
def test_a_build_or_deployment_event_missing_its_id_or_state_is_ignored(
    inbox: Inbox, context: FakeContext, sample: str, missing: str
) -> None:
    # The whole sample, envelope included, but the one key: an event without EventBridge's
    # envelope is ignored before its detail is read, which would prove nothing here.
    event = load_event("notify", sample)
    del event["detail"][missing]
    assert app.handler(event, context) == {"status": "ignored"}
    assert inbox.messages() == []


def test_a_deployment_notice_links_the_deployment_and_carries_its_attributes(
    inbox: Inbox, context: FakeContext
) -> None:
    app.handler(_deployment_event("SUCCESS"), context)  # no lookup: only failures are explained

    message = inbox.only()
    assert message["Subject"] == "[payments/prod] Deployment SUCCEEDED: payments-api-prod"
    assert message["Message"].splitlines()[-1] == (
        "Console:     https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/"
        "d-7ZJ2WQ1XA?region=us-east-1"
    )
    assert {name: attribute(message, name) for name in message["MessageAttributes"]} == {
        "app": "payments",
        "environment": "prod",
        "kind": "deployment",
        "outcome": "SUCCEEDED",
    }


def test_a_stopped_deployment_is_looked_up_and_published_as_rolled_back(
    codedeploy: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    codedeploy.add_response(
        "get_deployment",
        {"deploymentInfo": {"rollbackInfo": {"rollbackDeploymentId": "d-2"}}},
        {"deploymentId": "d-7ZJ2WQ1XA"},
    )

    app.handler(_deployment_event("STOP"), context)

    message = inbox.only()
    assert message["Subject"] == "[payments/prod] Deployment ROLLED BACK: payments-api-prod"
    assert attribute(message, "outcome") == "ROLLED_BACK"


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("FAILED", "Stage Deploy-prod failed: Validate"),
        ("STOPPED", "Stage Deploy-prod failed: Validate"),
        ("SUCCEEDED", None),
        ("SUPERSEDED", None),
    ],
)
def test_the_execution_summary_explains_only_a_failed_or_stopped_pipeline(
    codepipeline: Stubber, state: str, reason: str | None
) -> None:
    # statusSummary of a succeeded execution says what started it, not why anything went wrong.
    stub_execution(codepipeline, statusSummary="Stage Deploy-prod failed: Validate")
    event = load_event("notify", "pipeline-execution-failed.json")
    event["detail"]["state"] = state

    notice = app.describe(event, CONFIG)

    assert notice is not None and notice.reason == reason


def test_an_action_keeps_its_own_reason_over_the_execution_summary(codepipeline: Stubber) -> None:
    stub_execution(codepipeline, statusSummary="Stage Deploy-staging failed")
    event = load_event("notify", "action-validate-failed.json")

    notice = app.describe(event, CONFIG)

    assert notice is not None and notice.kind == "action"
    assert notice.reason == event["detail"]["execution-result"]["external-execution-summary"]


def test_a_notice_without_app_or_environment_is_subject_headline_alone() -> None:
    notice = app.describe(_scan_event(summary="blocked", passed=False), CONFIG)
    assert notice is not None and app.subject(notice) == "Security scan BLOCKED"


def test_log_lines_name_the_request_the_ignored_type_and_the_published_message(
    inbox: Inbox, context: FakeContext, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    app.handler({"detail-type": "EC2 Instance State-change Notification", "detail": {}}, context)
    app.handler(load_event("notify", "scan-gate-result.json"), context)

    ignored, published = log_lines(capsys.readouterr().out)
    assert (ignored["message"], ignored["detail_type"], ignored["request_id"]) == (
        "ignored",
        "EC2 Instance State-change Notification",
        context.aws_request_id,
    )
    [message] = inbox.messages()
    assert (published["message"], published["message_id"], published["request_id"]) == (
        "published",
        message["MessageId"],
        context.aws_request_id,
    )


def test_a_forwarded_failure_of_another_region_is_looked_up_there(inbox: Inbox) -> None:
    """An environment in another region forwards its CodeDeploy events here: the reason is
    read where the deployment ran (the event detail's region)."""
    there = common.client_in("codedeploy", "us-west-2")
    assert there.meta.region_name == "us-west-2"
    with Stubber(there) as stubber:
        stubber.add_response(
            "get_deployment",
            {"deploymentInfo": {"errorInformation": {"message": "alarm fired"}}},
            {"deploymentId": "d-1"},
        )
        notice = _deployment_notice("FAILED")
        app._enrich_from_deployment(notice, "d-1", "us-west-2")
        stubber.assert_no_pending_responses()
    assert notice.reason == "alarm fired"


# --- the approval notice summarizes the environment's change set (issue 10) -----------------

CHANGE_SET = f"conveyor-prod-{EXECUTION_ID}"


@pytest.fixture
def approval_config(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(
        "STAGE_ENVIRONMENTS",
        json.dumps({"Approve-prod": "prod", "Deploy-prod": "prod", "Deploy-staging": "staging"}),
    )
    monkeypatch.setenv("CHANGE_SET_STACKS", json.dumps({"Approve-prod": "payments-prod"}))
    yield


@pytest.fixture
def cloudformation(approval_config: None) -> Iterator[Stubber]:
    with Stubber(common.client("cloudformation")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def approval_event(stage: str = "Approve-prod") -> dict[str, Any]:
    event = load_event("notify", "action-approval-needed.json")
    event["detail"]["stage"] = stage
    return event


def resource_change(action: str, logical: str, kind: str, replacement: str | None = None) -> Any:
    change: dict[str, Any] = {"Action": action, "LogicalResourceId": logical, "ResourceType": kind}
    if replacement is not None:
        change["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": change}


def stub_change_set(stubber: Stubber, changes: list[Any], **extra: Any) -> None:
    stubber.add_response(
        "describe_change_set",
        {"Changes": changes, "ChangeSetName": CHANGE_SET, "StackName": "payments-prod", **extra},
        {"StackName": "payments-prod", "ChangeSetName": CHANGE_SET},
    )


def test_the_approval_notice_summarizes_this_executions_change_set(
    codepipeline: Stubber, cloudformation: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    stub_change_set(
        cloudformation,
        [
            resource_change("Modify", "Service", "AWS::ECS::Service", "False"),
            resource_change("Modify", "TaskDefinition", "AWS::ECS::TaskDefinition", "True"),
            resource_change("Add", "CpuAlarm", "AWS::CloudWatch::Alarm"),
            resource_change("Remove", "OldRule", "AWS::Events::Rule"),
        ],
        Status="CREATE_COMPLETE",
    )

    app.handler(approval_event(), context)

    message = inbox.only()["Message"]
    assert message.splitlines()[10:16] == [
        "To approve:  open the link, choose Review on the approval action",
        f"Change set:  {CHANGE_SET} (1 Add, 2 Modify, 1 Remove)",
        "Change 1:    Modify Service (AWS::ECS::Service) replacement: False",
        "Change 2:    Modify TaskDefinition (AWS::ECS::TaskDefinition) replacement: True",
        "Change 3:    Add CpuAlarm (AWS::CloudWatch::Alarm)",
        "Change 4:    Remove OldRule (AWS::Events::Rule)",
    ]
    assert "status" not in message.split("Change set:")[1].splitlines()[0]


def test_a_long_change_set_is_cut_after_ten_lines_and_counts_every_page(
    codepipeline: Stubber, cloudformation: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    first = [resource_change("Add", f"Queue{i}", "AWS::SQS::Queue") for i in range(8)]
    second = [resource_change("Modify", f"Topic{i}", "AWS::SNS::Topic", "False") for i in range(7)]
    stub_change_set(cloudformation, first, Status="CREATE_COMPLETE", NextToken="page-2")
    cloudformation.add_response(
        "describe_change_set",
        {"Changes": second},
        {"StackName": "payments-prod", "ChangeSetName": CHANGE_SET, "NextToken": "page-2"},
    )

    app.handler(approval_event(), context)

    lines = inbox.only()["Message"].splitlines()
    assert f"Change set:  {CHANGE_SET} (8 Add, 7 Modify, 0 Remove)" in lines
    changes = [line for line in lines if line.startswith("Change ") and line[7].isdigit()]
    assert len(changes) == 11
    assert changes[9] == "Change 10:   Modify Topic1 (AWS::SNS::Topic) replacement: False"
    assert changes[10] == "Change 11:   ... and 5 more"


def test_a_change_set_without_changes_says_its_status_and_reason(
    codepipeline: Stubber, cloudformation: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    stub_change_set(
        cloudformation,
        [],
        Status="FAILED",
        StatusReason="The submitted information didn't contain changes. Submit different "
        "information to create a change set.",
    )

    app.handler(approval_event(), context)

    message = inbox.only()["Message"]
    assert (
        f"Change set:  {CHANGE_SET} (0 Add, 0 Modify, 0 Remove; status FAILED: The submitted "
        "information didn't contain changes. Submit different information to create a change "
        "set.)\n"
    ) in message
    assert "Change 1:" not in message


def test_other_actions_are_counted_after_add_modify_remove() -> None:
    notice = app.Notice(headline="h", outcome="APPROVAL_NEEDED", kind="approval")
    config = app.Config("arn:t", None, {}, {}, {"Approve-prod": "payments-prod"})
    with Stubber(common.client("cloudformation")) as stubber:
        stub_change_set(
            stubber,
            [
                resource_change("Dynamic", "Nested", "AWS::CloudFormation::Stack"),
                resource_change("Import", "Bucket", "AWS::S3::Bucket"),
                {"Type": "Resource", "ResourceChange": {}},
            ],
            Status="CREATE_COMPLETE",
        )
        app._summarize_change_set(notice, "Approve-prod", EXECUTION_ID, config)
    assert notice.extra["Change set"] == (
        f"{CHANGE_SET} (0 Add, 0 Modify, 0 Remove, 1 ?, 1 Dynamic, 1 Import)"
    )
    assert notice.extra["Change 3"] == "? ? (?)"


def test_a_failed_change_set_lookup_warns_and_the_approval_notice_still_goes(
    codepipeline: Stubber,
    cloudformation: Stubber,
    inbox: Inbox,
    context: FakeContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stub_execution(codepipeline)
    cloudformation.add_client_error(
        "describe_change_set", "ChangeSetNotFound", http_status_code=404
    )

    app.handler(approval_event(), context)

    message = inbox.only()
    assert message["Subject"] == "[payments/prod] Approval needed: Approve-prod / Approve"
    assert "Change set" not in message["Message"]
    assert "To approve:" in message["Message"]
    warnings = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "WARNING"]
    assert [(w["lookup"], w["error"]) for w in warnings] == [
        ("cloudformation:DescribeChangeSet", "ChangeSetNotFound")
    ]


@pytest.mark.parametrize("stage", ["Deploy-prod", "Approve-staging", "Release-prod"])
def test_only_an_approval_of_a_stage_with_a_change_set_looks_one_up(
    codepipeline: Stubber, cloudformation: Stubber, inbox: Inbox, context: FakeContext, stage: str
) -> None:
    """No DescribeChangeSet is stubbed: the Stubber fails any call it was not given."""
    stub_execution(codepipeline)

    app.handler(approval_event(stage), context)

    assert "Change set" not in inbox.only()["Message"]


def test_a_failed_approval_action_does_not_look_up_the_change_set(
    codepipeline: Stubber, cloudformation: Stubber, inbox: Inbox, context: FakeContext
) -> None:
    stub_execution(codepipeline)
    event = approval_event()
    event["detail"]["state"] = "FAILED"

    app.handler(event, context)

    assert "Change set" not in inbox.only()["Message"]


def test_a_change_set_in_another_region_is_read_there(approval_config: None) -> None:
    config = app.Config(
        "arn:t", None, {}, {}, {"Approve-prod": "payments-prod"}, {"Approve-prod": "eu-west-1"}
    )
    there = common.client_in("cloudformation", "eu-west-1")
    assert there.meta.region_name == "eu-west-1"
    notice = app.Notice(headline="h", outcome="APPROVAL_NEEDED", kind="approval")
    with Stubber(there) as stubber:
        stub_change_set(stubber, [resource_change("Add", "A", "AWS::SQS::Queue")])
        app._summarize_change_set(notice, "Approve-prod", EXECUTION_ID, config)
        stubber.assert_no_pending_responses()
    assert notice.extra["Change set"] == f"{CHANGE_SET} (1 Add, 0 Modify, 0 Remove)"
