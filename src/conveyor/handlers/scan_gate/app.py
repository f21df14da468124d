"""Security scan gate (FM75): fail the pipeline on SARIF findings at or above a severity.

A CodePipeline Lambda invoke action. The input artifacts are the zips the scan actions wrote
(SARIF reports) and the source (with the optional allow-list). The gate fails closed: no
reports, unreadable reports or an invalid allow-list stop the pipeline, with a message that
says which and why. Every path reports back to CodePipeline.
"""

# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import fnmatch
import io
import json
import os
import tempfile
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING or (__package__ or "").startswith("conveyor."):
    from .. import _common as common  # noqa: TID252 (the same module in Lambda and tests)
else:  # Lambda: the asset root is the handlers folder, where the shared module is top-level
    import _common as common
from . import sarif

logger = common.get_logger("conveyor.scan_gate")

SEVERITIES = sarif.SEVERITIES
DEFAULT_FAIL_ON = "high"
ALLOWLIST_PATH = ".conveyor/scan-allowlist.json"
# Limits that keep the gate inside its function's memory (MEMORY_MB, set by pipeline.py). A
# report is read one value at a time, so memory follows the findings kept, not the report size:
# benchmarks/scan_gate_memory.py measured 50 MiB for one 48.9 MiB report, 82 MiB for an
# artifact of four, 90 MiB for MAX_FINDINGS short results, and 51 MiB for boto3's clients.
MEMORY_MB = 512
MAX_ENTRY_BYTES = 50 * 1024 * 1024  # per file inside a zip; guards against zip bombs
MAX_ARTIFACT_BYTES = 200 * 1024 * 1024  # per artifact, spooled to /tmp (512 MB by default)
MAX_FINDINGS = 200_000
TOP_FINDINGS = 10

Finding = sarif.Finding
classify = sarif.classify
severity_from_score = sarif.severity_from_score


class GateError(Exception):
    """The gate cannot decide (bad input); the job fails with this message."""

    def __init__(self, message: str, failure_type: str = "JobFailed") -> None:
        super().__init__(message)
        self.failure_type = failure_type


@dataclass(frozen=True)
class AllowEntry:
    rule: str
    path: str | None

    def allows(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        return self.path is None or (
            finding.path is not None and fnmatch.fnmatchcase(finding.path, self.path)
        )


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def read_report(stream: IO[bytes], report: str, limit: int = MAX_FINDINGS) -> list[Finding]:
    """The findings of one SARIF report; GateError naming the report when it cannot be read."""
    try:
        with io.TextIOWrapper(stream, encoding="utf-8-sig") as text:
            return sarif.read_findings(text, report, limit)
    except UnicodeDecodeError as exc:
        raise GateError(f"{report} is not valid UTF-8 ({exc.reason})") from exc
    except sarif.UnreadableError as exc:
        message = str(exc)
        joiner = " " if message.startswith(("is ", "has ")) else ": "
        raise GateError(f"{report}{joiner}{message}") from exc


def parse_sarif(raw: bytes, report: str) -> list[Finding]:
    return read_report(io.BytesIO(raw), report)


# ---------------------------------------------------------------------------------------------
# Allow-list.


def load_allowlist(raw: bytes, today: date) -> tuple[list[AllowEntry], list[str]]:
    """Valid entries, and a problem description for each entry that cannot be honoured."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [f"{ALLOWLIST_PATH} is not valid JSON ({exc})"]
    except RecursionError:
        return [], [f"{ALLOWLIST_PATH} is not valid JSON for the gate (nested too deeply)"]
    except ValueError:  # int() refuses more than 4,300 digits (sys.get_int_max_str_digits)
        return [], [f"{ALLOWLIST_PATH} is not valid JSON for the gate (a number > 4,300 digits)"]
    entries = _map(document).get("allow")
    if not isinstance(entries, list):
        return [], [f'{ALLOWLIST_PATH} must be {{"allow": [...]}}']
    valid: list[AllowEntry] = []
    problems: list[str] = []
    for number, item in enumerate(entries, start=1):
        entry = _map(item)
        rule = entry.get("rule")
        label = f"entry {number} ({rule})" if isinstance(rule, str) else f"entry {number}"
        reason, expires, path = entry.get("reason"), entry.get("expires"), entry.get("path")
        if not isinstance(rule, str) or not rule.strip():
            problems.append(f"{label}: no rule id")
        elif not isinstance(reason, str) or not reason.strip():
            problems.append(f"{label}: no reason given")
        elif path is not None and (not isinstance(path, str) or not path.strip()):
            problems.append(f"{label}: path must be a glob string")
        elif expires is not None and _expiry(expires) is None:
            problems.append(f"{label}: expires {expires!r} is not a YYYY-MM-DD date")
        elif expires is not None and (_expiry(expires) or today) < today:
            problems.append(f"{label}: expired on {expires}")
        else:
            valid.append(AllowEntry(rule.strip(), path))
    return valid, problems


def _expiry(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Decision and summary.


@dataclass(frozen=True)
class Evaluation:
    fail_on: str
    blocking: list[Finding]
    below: list[Finding]
    allowed: list[Finding]
    problems: list[str]
    reports: list[str]
    unreadable: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.blocking and not self.problems and not self.unreadable

    def blocking_count(self) -> int:
        return len(self.blocking) + len(self.problems) + len(self.unreadable)

    def counts(self) -> dict[str, int]:
        tally = Counter(f.severity for f in self.blocking + self.below)
        return {s: tally.get(s, 0) for s in reversed(SEVERITIES)}

    def summary(self) -> str:
        verdict = "passed" if self.passed else "BLOCKED"
        lines = [f"Scan gate {verdict} (fail_on={self.fail_on}): {self._headline()}"]
        if self.unreadable:
            lines.append(
                f"Unreadable reports ({len(self.unreadable)}, each blocks: a scan the gate "
                "cannot read may hide findings): " + "; ".join(self.unreadable)
            )
        tools = sorted({f.tool for f in self.blocking + self.below})
        if tools:
            lines.append("By tool: " + "; ".join(self._tool_line(t) for t in tools))
        if self.problems:
            lines.append(
                f"Allow-list problems ({len(self.problems)}, each counts as a blocking finding; "
                "entries need a reason and an unexpired date): " + "; ".join(self.problems)
            )
        if self.blocking:
            lines.append("Top blocking findings:")
            ranked = sorted(self.blocking, key=lambda f: (-SEVERITIES.index(f.severity), f.tool))
            for finding in ranked[:TOP_FINDINGS]:
                where = f" {finding.where()}" if finding.where() else ""
                lines.append(
                    f"- {finding.severity} {finding.tool} {finding.rule}{where}: {finding.title}"
                )
            if len(ranked) > TOP_FINDINGS:
                lines.append(f"- … and {len(ranked) - TOP_FINDINGS} more")
        lines.append(f"Reports: {', '.join(self.reports) or 'none readable'}")
        return "\n".join(lines)

    def _headline(self) -> str:
        blocking = Counter(f.severity for f in self.blocking)
        parts = [
            f"{len(self.blocking)} blocking finding{'s' if len(self.blocking) != 1 else ''}"
            + _breakdown(blocking),
            f"{len(self.below)} below the gate"
            + _breakdown(Counter(f.severity for f in self.below)),
        ]
        if self.allowed:
            parts.append(f"{len(self.allowed)} allowed by {ALLOWLIST_PATH}")
        if self.problems:
            parts.append(f"{len(self.problems)} allow-list problem(s)")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable report(s)")
        return "; ".join(parts) + "."

    def _tool_line(self, tool: str) -> str:
        mine = [f for f in self.blocking + self.below if f.tool == tool]
        return f"{tool} {len(mine)}" + _breakdown(Counter(f.severity for f in mine))


def _breakdown(tally: Counter[str]) -> str:
    parts = [f"{tally[s]} {s}" for s in reversed(SEVERITIES) if tally.get(s)]
    return f" ({', '.join(parts)})" if parts else ""


def evaluate(
    findings: list[Finding],
    entries: list[AllowEntry],
    problems: list[str],
    fail_on: str,
    reports: list[str],
    unreadable: list[str] | None = None,
) -> Evaluation:
    threshold = SEVERITIES.index(fail_on)
    blocking, below, allowed = [], [], []
    for finding in findings:
        if any(entry.allows(finding) for entry in entries):
            allowed.append(finding)
        elif SEVERITIES.index(finding.severity) >= threshold:
            blocking.append(finding)
        else:
            below.append(finding)
    return Evaluation(fail_on, blocking, below, allowed, problems, reports, unreadable or [])


# ---------------------------------------------------------------------------------------------
# Parameters and artifacts.


@dataclass(frozen=True)
class Parameters:
    fail_on: str = DEFAULT_FAIL_ON
    # Input artifacts written by scans: each must hold a SARIF report of its own.
    scans: tuple[str, ...] = ()


_PARAMETERS_HELP = (
    'UserParameters must be {"fail_on": "critical" | "high" | "medium" | "low", '
    '"scans": ["<scan output artifact>", ...]}'
)


def parse_parameters(raw: str) -> Parameters:
    if not raw.strip():
        return Parameters()
    try:
        params = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GateError(f"UserParameters is not valid JSON: {exc}", "ConfigurationError") from exc
    if not isinstance(params, dict) or set(params) - {"fail_on", "scans"}:
        raise GateError(_PARAMETERS_HELP, "ConfigurationError")
    fail_on = params.get("fail_on", DEFAULT_FAIL_ON)
    if fail_on not in SEVERITIES:
        raise GateError(
            f"fail_on must be one of critical, high, medium, low; got {fail_on!r}",
            "ConfigurationError",
        )
    scans = params.get("scans", [])
    if not isinstance(scans, list) or not all(isinstance(s, str) and s for s in scans):
        raise GateError(_PARAMETERS_HELP, "ConfigurationError")
    return Parameters(str(fail_on), tuple(scans))


def _artifact_client(job: common.PipelineJob) -> Any:
    import boto3
    from botocore.config import Config

    if job.credentials is None:
        raise GateError("the job carries no artifactCredentials to read its input artifacts")
    return boto3.client(
        "s3",
        aws_access_key_id=job.credentials.access_key_id,
        aws_secret_access_key=job.credentials.secret_access_key,
        aws_session_token=job.credentials.session_token or None,
        config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
    )


@dataclass
class Collected:
    """What the input artifacts hold, read one report at a time."""

    findings: list[Finding] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)  # the readable ones
    unreadable: list[str] = field(default_factory=list)
    allowlists: list[bytes] = field(default_factory=list)
    reports_by_artifact: Counter[str] = field(default_factory=Counter)


def _download(s3: Any, artifact: common.InputArtifact, spool: IO[bytes]) -> None:
    """The artifact spooled to /tmp: a 200 MB zip held in memory would not fit beside the walk."""
    location = artifact.location
    if location is None:
        raise GateError(f"input artifact {artifact.name!r} has no S3 location")
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"]
        for chunk in body.iter_chunks(1024 * 1024):
            spool.write(chunk)
            if spool.tell() > MAX_ARTIFACT_BYTES:
                raise GateError(
                    f"input artifact {artifact.name!r} is larger than "
                    f"{MAX_ARTIFACT_BYTES // 2**20} MiB"
                )
    except GateError:
        raise
    except Exception as exc:
        raise GateError(
            f"cannot read input artifact {artifact.name!r} "
            f"(s3://{location.bucket}/{location.key}): {common.error_code(exc)}"
        ) from exc
    spool.seek(0)


def _read_archive(archive: zipfile.ZipFile, artifact: str, collected: Collected) -> None:
    for info in archive.infolist():
        name = info.filename
        is_report = name.lower().endswith((".sarif", ".sarif.json"))
        is_allowlist = name.removeprefix("./") == ALLOWLIST_PATH
        if info.is_dir() or not (is_report or is_allowlist):
            continue
        if info.file_size > MAX_ENTRY_BYTES:
            raise GateError(
                f"{artifact}/{name} is larger than {MAX_ENTRY_BYTES // 2**20} MiB uncompressed"
            )
        if is_allowlist:
            collected.allowlists.append(archive.read(info))
            continue
        report = f"{artifact}/{name}"
        collected.reports_by_artifact[artifact] += 1
        try:
            with archive.open(info) as stream:
                limit = MAX_FINDINGS - len(collected.findings)
                collected.findings += read_report(stream, report, limit)
        except GateError as exc:
            collected.unreadable.append(str(exc))
        else:
            collected.reports.append(report)


def read_artifacts(job: common.PipelineJob) -> Collected:
    """Findings, unreadable reports and allow-list files found in the input artifacts."""
    if not job.input_artifacts:
        raise GateError("the scan gate action has no input artifacts; give it the scan outputs")
    s3 = _artifact_client(job)
    collected = Collected()
    for artifact in job.input_artifacts:
        with tempfile.TemporaryFile() as spool:
            _download(s3, artifact, spool)
            try:
                archive = zipfile.ZipFile(spool)
            except zipfile.BadZipFile as exc:
                raise GateError(f"input artifact {artifact.name!r} is not a zip archive") from exc
            with archive:
                _read_archive(archive, artifact.name, collected)
    return collected


def _missing_scans(job: common.PipelineJob, params: Parameters, collected: Collected) -> list[str]:
    names = {a.name for a in job.input_artifacts}
    missing = []
    for scan in params.scans:
        if scan not in names:
            missing.append(f"{scan}: not among the gate's input artifacts")
        elif not collected.reports_by_artifact[scan]:
            missing.append(
                f"{scan}: holds no SARIF report (*.sarif, *.sarif.json); the scan wrote nothing"
            )
    return missing


def decide(job: common.PipelineJob, today: date) -> Evaluation:
    params = parse_parameters(job.user_parameters)
    collected = read_artifacts(job)
    if not collected.reports_by_artifact:
        raise GateError(
            "no SARIF reports (*.sarif, *.sarif.json) in the input artifacts "
            f"{', '.join(a.name for a in job.input_artifacts)}; a gate with nothing to read "
            "would pass everything, so it fails instead"
        )
    entries: list[AllowEntry] = []
    problems: list[str] = []
    for raw in collected.allowlists:
        valid, invalid = load_allowlist(raw, today)
        entries += valid
        problems += invalid
    return evaluate(
        collected.findings,
        entries,
        problems,
        params.fail_on,
        collected.reports,
        collected.unreadable + _missing_scans(job, params, collected),
    )


# ---------------------------------------------------------------------------------------------
# Publishing (best effort: the pipeline result is what matters and is already reported).


def _pipeline_context(job_id: str) -> Mapping[str, Any]:
    try:
        details = common.client("codepipeline").get_job_details(jobId=job_id)
    except Exception as exc:
        logger.warning(
            "lookup failed; publishing without pipeline context",
            extra={"lookup": "codepipeline:GetJobDetails", "error": common.error_code(exc)},
        )
        return {}
    return _map(_map(_map(details.get("jobDetails")).get("data")).get("pipelineContext"))


def publish(job_id: str, evaluation: Evaluation | None, summary: str) -> None:
    topic, bus = os.environ.get("SECURITY_TOPIC_ARN"), os.environ.get("EVENT_BUS_NAME")
    if not topic and not bus:
        return
    context = _pipeline_context(job_id)
    app = os.environ.get("APP_NAME") or None
    pipeline = context.get("pipelineName")
    passed = evaluation is not None and evaluation.passed
    verdict = "passed" if passed else "BLOCKED"
    scope = f"[{app}] " if app else ""
    subject = f"{scope}Security scan {verdict}" + (f": {pipeline}" if pipeline else "")
    subject = "".join(c if " " <= c <= "~" else "?" for c in subject)[:100]
    if topic:
        try:
            common.client("sns").publish(TopicArn=topic, Subject=subject, Message=summary)
        except Exception as exc:
            logger.error("publish to SECURITY_TOPIC_ARN failed", extra={"error": repr(exc)})
    if bus:
        detail = {
            "app": app,
            "pipeline": pipeline,
            "execution_id": context.get("pipelineExecutionId"),
            "stage": _map(context.get("stage")).get("name"),
            "action": _map(context.get("action")).get("name"),
            "passed": passed,
            "fail_on": evaluation.fail_on if evaluation else None,
            "blocking": evaluation.blocking_count() if evaluation else None,
            "counts": evaluation.counts() if evaluation else None,
            "summary": summary[:4000],
        }
        try:
            common.client("events").put_events(
                Entries=[
                    {
                        "Source": "conveyor.scan-gate",
                        "DetailType": "Conveyor Scan Gate Result",
                        "Detail": json.dumps(detail),
                        "EventBusName": bus,
                    }
                ]
            )
        except Exception as exc:
            logger.error("put_events to EVENT_BUS_NAME failed", extra={"error": repr(exc)})


# ---------------------------------------------------------------------------------------------


def today_utc() -> date:
    return datetime.now(UTC).date()


def _job_id(event: object) -> str | None:
    job_id = _map(_map(event).get("CodePipeline.job")).get("id")
    return job_id if isinstance(job_id, str) and job_id else None


def _parse_job(event: object) -> common.PipelineJob:
    data = _map(_map(_map(event).get("CodePipeline.job")).get("data"))
    if not isinstance(data.get("inputArtifacts", []), list):
        raise GateError("the job's data.inputArtifacts is not a list; CodePipeline sends a list")
    job = common.parse_pipeline_job(event)
    if job is None:  # _job_id found one, so this is a bug
        raise GateError("the job event could not be parsed")
    return job


def _report(job_id: str, passed: bool, summary: str, failure_type: str) -> bool:
    """Report the result; False when CodePipeline says the job is no longer waiting for one."""
    try:
        if passed:
            common.report_job_success(job_id, summary)
        else:
            common.report_job_failure(job_id, summary, failure_type)
    except Exception as exc:
        # A duplicate or late invocation: the job already has a result or timed out.
        # https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PutJobSuccessResult.html
        if common.error_code(exc) != "InvalidJobStateException":
            raise
        logger.warning("job already closed; result not reported", extra={"job_id": job_id})
        return False
    return True


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    job_id = _job_id(event)
    if job_id is None:
        logger.error("ignored: not a CodePipeline job event")
        return {"status": "ignored"}
    evaluation: Evaluation | None = None
    failure_type = "JobFailed"
    try:
        job = _parse_job(event)
        decided = decide(job, today_utc())
        summary = decided.summary()
        # Kept only once every step succeeded: a crash after the decision must not pass.
        evaluation = decided
    except GateError as exc:
        summary, failure_type = f"Scan gate could not decide: {exc}", exc.failure_type
    except Exception as exc:  # a bug here must fail the job, not hang it
        logger.exception("scan gate crashed", extra={"job_id": job_id})
        summary = f"Scan gate error: {type(exc).__name__}: {exc}"
    passed = evaluation is not None and evaluation.passed
    reported = _report(job_id, passed, summary, failure_type)
    logger.info(
        "reported" if reported else "not reported",
        extra={
            "job_id": job_id,
            "passed": passed,
            "counts": evaluation.counts() if evaluation else None,
            "summary": summary,
        },
    )
    if reported:
        publish(job_id, evaluation, summary)
    return {"status": "succeeded" if passed else "failed", "summary": summary}
