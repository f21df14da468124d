# mypy: disable-error-code="import-untyped"
"""The shared module every handler imports: logging, config, idempotency, parsing at the edge."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from conveyor.handlers import _common as common

from .support import FakeContext, create_idempotency_table, load_event, log_lines

# --- log levels --------------------------------------------------------------------------------


@pytest.fixture
def no_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("lambda_level", "python_level"),
    [
        ("TRACE", "DEBUG"),
        ("DEBUG", "DEBUG"),
        ("INFO", "INFO"),
        ("WARN", "WARNING"),
        ("WARNING", "WARNING"),
        ("ERROR", "ERROR"),
        ("FATAL", "CRITICAL"),
        ("CRITICAL", "CRITICAL"),
        (" trace ", "DEBUG"),
        ("VERBOSE", "INFO"),
    ],
)
def test_lambda_levels_map_to_python_levels(
    no_levels: None, monkeypatch: pytest.MonkeyPatch, lambda_level: str, python_level: str
) -> None:
    monkeypatch.setenv("LOG_LEVEL", lambda_level)
    assert common.log_level() == python_level


def test_lambdas_own_level_wins_then_powertools_then_legacy(
    no_levels: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert common.log_level() == "INFO"
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert common.log_level() == "ERROR"
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARN")
    assert common.log_level() == "WARNING"
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    assert common.log_level() == "DEBUG"
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "  ")
    assert common.log_level() == "WARNING"


def test_logger_writes_one_json_object_per_line_with_the_request_id(
    no_levels: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "TRACE")
    logger = common.get_logger("conveyor.test-common")
    common.bind_request(FakeContext(aws_request_id="req-1"))
    logger.debug("detail", extra={"pipeline": "p"})
    logger.info("hello\nworld")
    lines = log_lines(capsys.readouterr().out)
    assert [(line["level"], line["message"]) for line in lines] == [
        ("DEBUG", "detail"),
        ("INFO", "hello\nworld"),
    ]
    assert {line["request_id"] for line in lines} == {"req-1"}
    assert lines[0]["pipeline"] == "p"
    assert lines[0]["service"] == "conveyor.test-common"


def test_modules_of_one_handler_share_its_logger(capsys: pytest.CaptureFixture[str]) -> None:
    first = common.get_logger("conveyor.test-shared")
    second = common.get_logger("conveyor.test-shared")
    assert second is first
    common.bind_request(FakeContext(aws_request_id="req-2"))
    second.info("from the second module")
    [line] = log_lines(capsys.readouterr().out)
    assert (line["message"], line["request_id"]) == ("from the second module", "req-2")


def test_logger_below_its_level_writes_nothing(
    no_levels: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    logger = common.get_logger("conveyor.test-common-quiet")
    logger.warning("not shown")
    logger.error("shown")
    assert [line["message"] for line in log_lines(capsys.readouterr().out)] == ["shown"]


def test_a_new_service_gets_a_logger_of_its_own_writing_to_the_current_stdout(
    no_levels: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh name (loggers are kept per process): the service is named on every line, the
    mapped level applies (TRACE would break logging.setLevel), and each line goes to whatever
    sys.stdout is when it is written, as Lambda's and pytest's capture need."""
    monkeypatch.setenv("LOG_LEVEL", "TRACE")
    service = f"conveyor.test-{uuid.uuid4()}"
    logger = common.get_logger(service)
    common.bind_request(object())  # a context without a request id
    later = io.StringIO()
    with contextlib.redirect_stdout(later):
        logger.debug("written later")
    [line] = log_lines(later.getvalue())
    assert (line["service"], line["level"], line["message"]) == (service, "DEBUG", "written later")
    assert line.get("request_id") is None


def test_a_log_line_that_cannot_be_written_never_breaks_the_handler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("stdout closed")

    logger = common.get_logger(f"conveyor.test-{uuid.uuid4()}")
    with contextlib.redirect_stdout(Broken()):
        logger.warning("lost line")  # must not raise
    # logging's own report of the failure names the record that was lost
    assert "Message: 'lost line'" in capsys.readouterr().err


# --- configuration -----------------------------------------------------------------------------


def test_require_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_NAME", "  value ")
    assert common.require_env("SOME_NAME") == "value"
    monkeypatch.setenv("SOME_NAME", "   ")
    with pytest.raises(common.ConfigurationError) as caught:
        common.require_env("SOME_NAME")
    # Who to look at: the variable comes from the construct, not from the event.
    assert str(caught.value) == (
        "environment variable SOME_NAME is required but not set; "
        "the conveyor construct that deploys this function sets it"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{nope", "SOME_MAP is not valid JSON"),
        ("[" * 100_000, "SOME_MAP is not valid JSON"),
        ('["a"]', "SOME_MAP must be a JSON object of strings"),
        ('{"a": 1}', "SOME_MAP must be a JSON object of strings"),
    ],
)
def test_env_mapping_rejects_what_is_not_an_object_of_strings(
    monkeypatch: pytest.MonkeyPatch, raw: str, message: str
) -> None:
    monkeypatch.setenv("SOME_MAP", raw)
    with pytest.raises(common.ConfigurationError, match=message):
        common.env_mapping("SOME_MAP")


def test_env_mapping_reads_an_object_and_treats_unset_as_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SOME_MAP", raising=False)
    assert common.env_mapping("SOME_MAP") == {}
    monkeypatch.setenv("SOME_MAP", ' {"Deploy-prod": "prod"} ')
    assert common.env_mapping("SOME_MAP") == {"Deploy-prod": "prod"}


def test_error_code_prefers_the_service_code() -> None:
    error = ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "Publish")
    assert common.error_code(error) == "Throttling"
    assert common.error_code(ValueError("x")) == "ValueError"
    odd = ValueError("x")
    odd.response = {"Error": "not a mapping"}  # type: ignore[attr-defined]
    assert common.error_code(odd) == "ValueError"


def test_clients_are_cached_and_bounded() -> None:
    sns = common.client("sns")
    assert common.client("sns") is sns
    assert sns.meta.config.retries == {"total_max_attempts": 4, "mode": "standard"}
    assert (sns.meta.config.connect_timeout, sns.meta.config.read_timeout) == (5, 15)


# --- time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-02T10:00:00Z", datetime(2026, 3, 2, 10, tzinfo=UTC)),
        (" 2026-03-02T12:00:00+02:00 ", datetime(2026, 3, 2, 10, tzinfo=UTC)),
        ("2026-03-02T10:00:00", datetime(2026, 3, 2, 10, tzinfo=UTC)),
        (
            datetime(2026, 3, 2, 11, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 3, 2, 10, tzinfo=UTC),
        ),
        ("0001-01-01T00:00:00+01:00", None),
        ("yesterday", None),
        (1700000000, None),
        (None, None),
    ],
)
def test_parse_time_gives_aware_utc_or_none(value: object, expected: datetime | None) -> None:
    assert common.parse_time(value) == expected


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_parse_time_reads_naive_times_as_utc_whatever_the_functions_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        naive = common.parse_time("2026-03-02T12:00:00")
        offset = common.parse_time("2026-03-02T12:00:00+02:00")
        zulu = common.parse_time("2026-03-02T12:00:00Z")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert naive is not None and naive.isoformat() == "2026-03-02T12:00:00+00:00"
    assert offset is not None and offset.isoformat() == "2026-03-02T10:00:00+00:00"
    assert zulu is not None and zulu.isoformat() == "2026-03-02T12:00:00+00:00"


def test_iso_utc_is_one_sortable_format() -> None:
    moment = datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert common.iso_utc(moment) == "2026-03-02T10:00:00.000005Z"


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_iso_utc_does_not_follow_the_functions_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A function may set TZ (Lambda allows it); stored timestamps must stay UTC, or records
    written before and after the change would no longer sort by time."""
    moment = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert common.iso_utc(moment) == "2026-03-02T12:00:00.000000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


# --- commit messages and one-line text (issue 17/5, 17/9) --------------------------------------


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        (
            '{"ProviderType": "GitHub", "CommitMessage": "Fix rounding\\n\\nBody"}',
            "Fix rounding\n\nBody",
        ),
        ('  {"CommitMessage": "x"}', "x"),
        ("Plain CodeCommit message", "Plain CodeCommit message"),
        ("[" * 1500, "[" * 1500),
        ('{"CommitMessage": ' + "[" * 1500, '{"CommitMessage": ' + "[" * 1500),
        ('{"CommitMessage": 7}', '{"CommitMessage": 7}'),
        ('["CommitMessage"]', '["CommitMessage"]'),
        (None, ""),
        (42, ""),
    ],
)
def test_commit_message_decodes_github_summaries_and_never_raises(
    summary: object, message: str
) -> None:
    assert common.commit_message(summary) == message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("\n\n  first  \nsecond", "first"),
        ("tab\there", "tab here"),
        ("bell\x07 ring", "bell ring"),
        ("x" * 130, "x" * 119 + "…"),
        ("x" * 120, "x" * 120),
        ("", ""),
        ("\n \n", ""),
    ],
)
def test_first_line_is_printable_and_bounded(text: str, line: str) -> None:
    assert common.first_line(text) == line


def test_one_line_joins_every_kind_of_line_break() -> None:
    assert common.one_line(" a\nb\r\nc\u2028d\x85e\x0bf\x1cg  ") == "a b c d e f g"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_one_line_and_first_line_never_break_a_line(text: str) -> None:
    for result in (
        common.one_line(text),
        common.first_line(text),
        common.first_line(common.commit_message(text)),
    ):
        assert len(result.splitlines()) <= 1
        assert result == result.strip()
        assert all(c.isprintable() for c in result)


# --- EventBridge envelope ----------------------------------------------------------------------


def test_eventbridge_event_is_parsed_once_with_its_envelope() -> None:
    raw = load_event("notify", "pipeline-execution-failed.json")
    event = common.eventbridge_event(raw)
    assert event is not None
    assert (event.get_id, event.detail_type, event.source, event.region) == (
        raw["id"],
        "CodePipeline Pipeline Execution State Change",
        "aws.codepipeline",
        "us-east-1",
    )
    assert event.detail["pipeline"] == "payments-pipeline"


@pytest.mark.parametrize("key", ["id", "detail-type", "source", "time", "region", "detail"])
@pytest.mark.parametrize("replacement", [None, "", 7, ["x"], "missing"])
def test_anything_without_eventbridges_envelope_is_not_an_event(
    key: str, replacement: object
) -> None:
    raw = load_event("notify", "pipeline-execution-failed.json")
    if replacement == "missing":
        del raw[key]
    else:
        raw[key] = replacement
    assert common.eventbridge_event(raw) is None


@pytest.mark.parametrize("event", [None, "text", [], 3, {"detail-type": "x"}])
def test_non_objects_are_not_events(event: object) -> None:
    assert common.eventbridge_event(event) is None


# --- idempotency -------------------------------------------------------------------------------


@pytest.fixture
def idempotency(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with mock_aws():
        table = create_idempotency_table("test-idempotency")
        monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", table)
        yield table


HOUR = 3600


def test_run_once_runs_an_action_once_per_key(idempotency: str, context: FakeContext) -> None:
    calls: list[str] = []

    def act(name: str) -> dict[str, Any]:
        calls.append(name)
        return {"sent": name, "n": len(calls)}

    first = common.run_once(
        lambda: act("a"), scope="s", key="k1", context=context, expires_after_seconds=HOUR
    )
    again = common.run_once(
        lambda: act("b"), scope="s", key="k1", context=context, expires_after_seconds=HOUR
    )
    other_key = common.run_once(
        lambda: act("c"), scope="s", key="k2", context=context, expires_after_seconds=HOUR
    )
    other_scope = common.run_once(
        lambda: act("d"), scope="t", key="k1", context=context, expires_after_seconds=HOUR
    )

    assert calls == ["a", "c", "d"]
    assert again == first == {"sent": "a", "n": 1}
    assert other_key == {"sent": "c", "n": 2}
    assert other_scope == {"sent": "d", "n": 3}
    items = boto3.client("dynamodb").scan(TableName=idempotency)["Items"]
    assert sorted(item["id"]["S"].split("#")[0] for item in items) == ["s", "s", "t"]
    assert {item["status"]["S"] for item in items} == {"COMPLETED"}
    expiry = {int(item["expiration"]["N"]) for item in items}
    now = datetime.now(UTC).timestamp()
    assert all(now + 3000 < e <= now + 3600 + 5 for e in expiry)


def test_run_once_keeps_nothing_when_the_action_fails(
    idempotency: str, context: FakeContext
) -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("SNS is down")
        return "sent"

    with pytest.raises(RuntimeError, match="SNS is down"):
        common.run_once(flaky, scope="s", key="k", context=context, expires_after_seconds=HOUR)
    assert (
        common.run_once(flaky, scope="s", key="k", context=context, expires_after_seconds=HOUR)
        == "sent"
    )
    assert len(attempts) == 2


def test_run_once_refuses_an_empty_key(idempotency: str, context: FakeContext) -> None:
    """Without a key every event would share one record (or none): refuse, never run."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyKeyError

    calls: list[int] = []
    with pytest.raises(IdempotencyKeyError):
        common.run_once(
            lambda: calls.append(1), scope="s", key="", context=context, expires_after_seconds=HOUR
        )
    assert calls == []


def test_run_once_without_a_lambda_context(idempotency: str) -> None:
    """Local runs pass no context: Powertools cannot bound the in-progress record by the
    invocation's time (it warns) and the action still runs once."""
    with pytest.warns(UserWarning, match="remaining time"):
        first = common.run_once(
            lambda: "a", scope="s", key="k", context=None, expires_after_seconds=HOUR
        )
    assert first == "a"


def test_run_once_honours_the_expiry(idempotency: str, context: FakeContext) -> None:
    common.run_once(lambda: 1, scope="s", key="k", context=context, expires_after_seconds=60)
    [item] = boto3.client("dynamodb").scan(TableName=idempotency)["Items"]
    assert int(item["expiration"]["N"]) <= datetime.now(UTC).timestamp() + 61


def test_run_once_without_a_table_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, context: FakeContext
) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE_NAME", raising=False)
    with pytest.raises(common.ConfigurationError, match="IDEMPOTENCY_TABLE_NAME is required"):
        common.run_once(lambda: 1, scope="s", key="k", context=context, expires_after_seconds=HOUR)


# --- CodePipeline jobs -------------------------------------------------------------------------


@pytest.mark.parametrize("artifacts", [5, "abc", {"name": "x"}, None, [7, "x", None]])
def test_malformed_input_artifacts_still_give_a_job(artifacts: object) -> None:
    """Issue 17/9: a non-list inputArtifacts raised before the handler could report a result."""
    event = load_event("validate_http", "codepipeline-job.json")
    event["CodePipeline.job"]["data"]["inputArtifacts"] = artifacts
    job = common.parse_pipeline_job(event)
    assert job is not None
    assert job.id == event["CodePipeline.job"]["id"]
    assert all(a.location is None for a in job.input_artifacts)


def test_pipeline_job_reads_artifacts_credentials_and_parameters() -> None:
    event = load_event("scan_gate", "codepipeline-job.json")
    job = common.parse_pipeline_job(event)
    assert job is not None
    data = event["CodePipeline.job"]["data"]
    assert job.user_parameters == data["actionConfiguration"]["configuration"]["UserParameters"]
    assert [a.name for a in job.input_artifacts] == [a["name"] for a in data["inputArtifacts"]]
    first = data["inputArtifacts"][0]["location"]["s3Location"]
    assert job.input_artifacts[0].location == common.S3Location(
        first["bucketName"], first["objectKey"]
    )
    creds = data["artifactCredentials"]
    assert job.credentials == common.ArtifactCredentials(
        creds["accessKeyId"], creds["secretAccessKey"], creds["sessionToken"]
    )


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"CodePipeline.job": {"id": ""}},
        {"CodePipeline.job": {"id": 5}},
        {"CodePipeline.job": []},
    ],
)
def test_not_a_job(event: object) -> None:
    assert common.parse_pipeline_job(event) is None


def test_artifacts_without_a_name_or_a_whole_location_and_credentials_without_a_token() -> None:
    """An artifact's location needs both bucket and key; a missing name reads as empty; a
    missing session token as empty (long-term keys have none)."""
    job = common.parse_pipeline_job(
        {
            "CodePipeline.job": {
                "id": "j",
                "data": {
                    "inputArtifacts": [
                        {"location": {"s3Location": {"bucketName": "b"}}},
                        {"name": "k", "location": {"s3Location": {"objectKey": "k"}}},
                    ],
                    "artifactCredentials": {"accessKeyId": "A", "secretAccessKey": "S"},
                },
            }
        }
    )
    assert job is not None
    assert job.input_artifacts == (
        common.InputArtifact("", None),
        common.InputArtifact("k", None),
    )
    assert job.credentials == common.ArtifactCredentials("A", "S", "")


def test_job_with_odd_parameters_and_no_credentials() -> None:
    job = common.parse_pipeline_job(
        {
            "CodePipeline.job": {
                "id": "j",
                "data": {
                    "actionConfiguration": {"configuration": {"UserParameters": {"a": 1}}},
                    "artifactCredentials": {"accessKeyId": "A"},
                },
            }
        }
    )
    assert job == common.PipelineJob(id="j", user_parameters="")


def test_job_results_are_clipped_to_codepipelines_limits() -> None:
    codepipeline = common.client("codepipeline")
    with Stubber(codepipeline) as stubber:
        stubber.add_response(
            "put_job_success_result",
            {},
            {"jobId": "j", "executionDetails": {"summary": "x" * 2047 + "…"}},
        )
        stubber.add_response(
            "put_job_failure_result",
            {},
            {"jobId": "j", "failureDetails": {"type": "JobFailed", "message": "(no details)"}},
        )
        stubber.add_response(
            "put_job_failure_result",
            {},
            {
                "jobId": "j",
                "failureDetails": {"type": "ConfigurationError", "message": "y" * 5000},
            },
        )
        common.report_job_success("j", "x" * 3000)
        common.report_job_failure("j", "  ")
        common.report_job_failure("j", "y" * 5000, "ConfigurationError")
        stubber.assert_no_pending_responses()


def test_events_are_plain_json_samples() -> None:
    # The envelope check relies on the sample events being what EventBridge sends.
    raw = load_event("notify", "scan-gate-result.json")
    assert json.loads(json.dumps(raw)) == raw
