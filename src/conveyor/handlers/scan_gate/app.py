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
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING or __package__:
    from . import common
else:  # Lambda imports app.py as a top-level module from the asset folder
    import common

logger = common.get_logger("conveyor.scan_gate")

SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT_FAIL_ON = "high"
ALLOWLIST_PATH = ".conveyor/scan-allowlist.json"
# Secret scanners emit results without a level, which SARIF reads as "warning" (medium): a
# leaked credential would then pass a high or critical gate.
SECRET_SCANNERS = frozenset({"gitleaks", "trufflehog", "detect-secrets"})
MAX_ENTRY_BYTES = 50 * 1024 * 1024  # per file inside a zip; guards against zip bombs
MAX_ARTIFACT_BYTES = 200 * 1024 * 1024
TOP_FINDINGS = 10


class GateError(Exception):
    """The gate cannot decide (bad input); the job fails with this message."""

    def __init__(self, message: str, failure_type: str = "JobFailed") -> None:
        super().__init__(message)
        self.failure_type = failure_type


@dataclass(frozen=True)
class Finding:
    tool: str
    rule: str
    severity: str
    title: str
    path: str | None = None
    line: int | None = None
    report: str | None = None

    def where(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class AllowEntry:
    number: int
    rule: str
    path: str | None
    reason: str

    def allows(self, finding: Finding) -> bool:
        if finding.rule != self.rule:
            return False
        return self.path is None or (
            finding.path is not None and fnmatch.fnmatchcase(finding.path, self.path)
        )


# ---------------------------------------------------------------------------------------------
# Severity, following GitHub code scanning's convention for `security-severity`.


def severity_from_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}


def _score(properties: object) -> float | None:
    if not isinstance(properties, Mapping):
        return None
    value = properties.get("security-severity")
    if isinstance(value, bool):
        return None
    try:
        return float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None


def classify(result: Mapping[str, Any], rule: Mapping[str, Any], tool: str) -> str:
    score = _score(result.get("properties"))
    if score is None:
        score = _score(rule.get("properties"))
    if score is not None:
        return severity_from_score(score)
    level = result.get("level")
    if level is None:
        level = _map(rule.get("defaultConfiguration")).get("level")
    if level is None and tool.lower() in SECRET_SCANNERS:
        return "critical"
    return _LEVELS.get(str(level or "warning"), "medium")


# ---------------------------------------------------------------------------------------------
# SARIF parsing.


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    text = _map(value).get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


def _normalise_path(uri: object) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    for prefix in ("file://", "./"):
        if uri.startswith(prefix):
            uri = uri[len(prefix) :]
    return uri.lstrip("/") or None


def parse_sarif(raw: bytes, report: str) -> list[Finding]:
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GateError(f"{report} is not valid JSON ({exc}); fix the scan step's output") from exc
    runs = _map(document).get("runs")
    if not isinstance(runs, list):
        raise GateError(f"{report} is not a SARIF log: it has no 'runs' list")
    findings: list[Finding] = []
    for run in runs:
        findings.extend(_parse_run(_map(run), report))
    return findings


def _parse_run(run: Mapping[str, Any], report: str) -> Iterable[Finding]:
    tool_section = _map(run.get("tool"))
    driver = _map(tool_section.get("driver"))
    tool = str(driver.get("name") or "unknown tool")
    rules = [_map(r) for r in _list(driver.get("rules"))]
    by_id = {str(r.get("id")): r for r in rules if r.get("id") is not None}
    for extension in _list(tool_section.get("extensions")):
        for rule in _list(_map(extension).get("rules")):
            by_id.setdefault(str(_map(rule).get("id")), _map(rule))
    for result in _list(run.get("results")):
        result = _map(result)
        if _suppressed(result) or result.get("kind") not in (None, "fail"):
            continue
        rule = _rule_for(result, rules, by_id)
        rule_id = str(result.get("ruleId") or rule.get("id") or "unknown-rule")
        locations = _list(result.get("locations"))
        physical = _map(_map(locations[0]).get("physicalLocation")) if locations else {}
        line = _map(physical.get("region")).get("startLine")
        # Rule descriptions, not result messages, first: messages can quote the secret found.
        candidates = (
            _text(rule.get("shortDescription")),
            rule.get("name") if isinstance(rule.get("name"), str) else None,
            _text(rule.get("fullDescription")),
            _text(result.get("message")),
        )
        # Semgrep's short description and name only repeat the rule id.
        title = next((c for c in candidates if c and rule_id not in c), rule_id)
        yield Finding(
            tool=tool,
            rule=rule_id,
            severity=classify(result, rule, tool),
            title=" ".join(title.split())[:140],
            path=_normalise_path(_map(physical.get("artifactLocation")).get("uri")),
            line=line if isinstance(line, int) and not isinstance(line, bool) else None,
            report=report,
        )


def _suppressed(result: Mapping[str, Any]) -> bool:
    # In-source suppressions (nosemgrep, nosec, ...) that were not rejected by a reviewer.
    return any(
        _map(s).get("status") not in ("rejected", "underReview")
        for s in _list(result.get("suppressions"))
    )


def _rule_for(
    result: Mapping[str, Any],
    rules: list[Mapping[str, Any]],
    by_id: Mapping[str, Mapping[str, Any]],
) -> Mapping[str, Any]:
    index = result.get("ruleIndex", _map(result.get("rule")).get("index"))
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
        return rules[index]
    rule_id = result.get("ruleId", _map(result.get("rule")).get("id"))
    return by_id.get(str(rule_id), {})


# ---------------------------------------------------------------------------------------------
# Allow-list.


def load_allowlist(raw: bytes, today: date) -> tuple[list[AllowEntry], list[str]]:
    """Valid entries, and a problem description for each entry that cannot be honoured."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [f"{ALLOWLIST_PATH} is not valid JSON ({exc})"]
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
            valid.append(AllowEntry(number, rule.strip(), path, reason.strip()))
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

    @property
    def passed(self) -> bool:
        return not self.blocking and not self.problems

    def counts(self) -> dict[str, int]:
        tally = Counter(f.severity for f in self.blocking + self.below)
        return {s: tally.get(s, 0) for s in reversed(SEVERITIES)}

    def summary(self) -> str:
        verdict = "passed" if self.passed else "BLOCKED"
        lines = [f"Scan gate {verdict} (fail_on={self.fail_on}): {self._headline()}"]
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
        lines.append(f"Reports: {', '.join(self.reports)}")
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
    return Evaluation(fail_on, blocking, below, allowed, problems, reports)


# ---------------------------------------------------------------------------------------------
# Artifacts.


def parse_fail_on(raw: str) -> str:
    if not raw.strip():
        return DEFAULT_FAIL_ON
    try:
        params = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GateError(f"UserParameters is not valid JSON: {exc}", "ConfigurationError") from exc
    if not isinstance(params, dict) or set(params) - {"fail_on"}:
        raise GateError(
            'UserParameters must be {"fail_on": "critical" | "high" | "medium" | "low"}',
            "ConfigurationError",
        )
    fail_on = params.get("fail_on", DEFAULT_FAIL_ON)
    if fail_on not in SEVERITIES:
        raise GateError(
            f"fail_on must be one of critical, high, medium, low; got {fail_on!r}",
            "ConfigurationError",
        )
    return str(fail_on)


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


def read_artifacts(job: common.PipelineJob) -> tuple[list[tuple[str, bytes]], list[bytes]]:
    """SARIF reports (name, content) and allow-list files found in the input artifacts."""
    if not job.input_artifacts:
        raise GateError("the scan gate action has no input artifacts; give it the scan outputs")
    s3 = _artifact_client(job)
    reports: list[tuple[str, bytes]] = []
    allowlists: list[bytes] = []
    for artifact in job.input_artifacts:
        if artifact.location is None:
            raise GateError(f"input artifact {artifact.name!r} has no S3 location")
        try:
            obj = s3.get_object(Bucket=artifact.location.bucket, Key=artifact.location.key)
            if int(obj.get("ContentLength") or 0) > MAX_ARTIFACT_BYTES:
                raise GateError(f"input artifact {artifact.name!r} is larger than 200 MB")
            payload = obj["Body"].read()
        except GateError:
            raise
        except Exception as exc:
            raise GateError(
                f"cannot read input artifact {artifact.name!r} "
                f"(s3://{artifact.location.bucket}/{artifact.location.key}): "
                f"{common.error_code(exc)}"
            ) from exc
        try:
            archive = zipfile.ZipFile(io.BytesIO(payload))
        except zipfile.BadZipFile as exc:
            raise GateError(f"input artifact {artifact.name!r} is not a zip archive") from exc
        with archive:
            for info in archive.infolist():
                name = info.filename
                lowered = name.lower()
                is_report = lowered.endswith((".sarif", ".sarif.json"))
                is_allowlist = name.removeprefix("./") == ALLOWLIST_PATH
                if info.is_dir() or not (is_report or is_allowlist):
                    continue
                if info.file_size > MAX_ENTRY_BYTES:
                    raise GateError(f"{artifact.name}/{name} is larger than 50 MB uncompressed")
                content = archive.read(info)
                if is_allowlist:
                    allowlists.append(content)
                else:
                    reports.append((f"{artifact.name}/{name}", content))
    return reports, allowlists


def decide(job: common.PipelineJob, today: date) -> Evaluation:
    fail_on = parse_fail_on(job.user_parameters)
    reports, allowlists = read_artifacts(job)
    if not reports:
        raise GateError(
            "no SARIF reports (*.sarif, *.sarif.json) in the input artifacts "
            f"{', '.join(a.name for a in job.input_artifacts)}; a gate with nothing to read "
            "would pass everything, so it fails instead"
        )
    findings = [f for name, raw in reports for f in parse_sarif(raw, name)]
    entries: list[AllowEntry] = []
    problems: list[str] = []
    for raw in allowlists:
        valid, invalid = load_allowlist(raw, today)
        entries += valid
        problems += invalid
    return evaluate(findings, entries, problems, fail_on, [name for name, _ in reports])


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


def publish(job: common.PipelineJob, evaluation: Evaluation | None, summary: str) -> None:
    topic, bus = os.environ.get("SECURITY_TOPIC_ARN"), os.environ.get("EVENT_BUS_NAME")
    if not topic and not bus:
        return
    context = _pipeline_context(job.id)
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
            "blocking": len(evaluation.blocking) + len(evaluation.problems) if evaluation else None,
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


def handler(event: object, context: object) -> dict[str, Any]:
    common.bind_request(context)
    job = common.parse_pipeline_job(event)
    if job is None:
        logger.error("ignored: not a CodePipeline job event")
        return {"status": "ignored"}
    evaluation: Evaluation | None = None
    failure_type = "JobFailed"
    try:
        evaluation = decide(job, today_utc())
        summary = evaluation.summary()
    except GateError as exc:
        summary, failure_type = f"Scan gate could not decide: {exc}", exc.failure_type
    except Exception as exc:  # a bug here must fail the job, not hang it
        logger.exception("scan gate crashed", extra={"job_id": job.id})
        summary = f"Scan gate error: {type(exc).__name__}: {exc}"
    if evaluation is not None and evaluation.passed:
        common.report_job_success(job.id, summary)
    else:
        common.report_job_failure(job.id, summary, failure_type)
    passed = evaluation is not None and evaluation.passed
    logger.info(
        "reported",
        extra={
            "job_id": job.id,
            "passed": passed,
            "counts": evaluation.counts() if evaluation else None,
            "summary": summary,
        },
    )
    publish(job, evaluation, summary)
    return {"status": "succeeded" if passed else "failed", "summary": summary}
