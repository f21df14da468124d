"""Properties of the scan gate over generated reports and job events (issue 17).

- The SARIF reader never raises anything but GateError, whatever the document.
- It never passes what it cannot read: every corruption of a valid log is refused.
- Reading in chunks of any size gives the findings of reading it whole.
- The handler, given any job event and any artifacts, reports exactly one result for a job it
  can name, never raises, and passes only when every artifact held readable, clean reports.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import string
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conveyor.handlers import _common as common
from conveyor.handlers.scan_gate import app, sarif

from .support import FakeContext

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=25,
)
_keys = st.sampled_from(
    [
        "runs",
        "results",
        "tool",
        "driver",
        "rules",
        "level",
        "ruleIndex",
        "invocations",
        "properties",
        "security-severity",
        "kind",
        "suppressions",
        "extensions",
        "ruleId",
    ]
)
_shaped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=30,
)

_levels = st.sampled_from([None, *sarif.LEVELS])
_scores = st.none() | st.floats(0, 10).map(lambda f: round(f, 1)) | st.sampled_from(["9.8", "0"])
_result = st.fixed_dictionaries(
    {"ruleId": st.sampled_from(["R1", "R2", "CVE-1"])},
    optional={
        "level": _levels.filter(lambda v: v is not None),
        "kind": st.sampled_from(sorted(sarif.COUNTED_KINDS | sarif.SKIPPED_KINDS)),
        "properties": st.builds(lambda s: {"security-severity": s}, _scores),
        "message": st.builds(lambda t: {"text": t}, st.text(max_size=30)),
        "suppressions": st.lists(
            st.fixed_dictionaries(
                {"kind": st.just("inSource")},
                optional={"status": st.sampled_from(sorted(sarif.SUPPRESSION_STATUSES))},
            ),
            max_size=2,
        ),
        "locations": st.builds(
            lambda uri, line: [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": line},
                    }
                }
            ],
            st.text(max_size=20),
            st.integers(1, 10_000),
        ),
    },
)
_rule = st.fixed_dictionaries(
    {"id": st.sampled_from(["R1", "R2", "CVE-1"])},
    optional={
        "shortDescription": st.builds(lambda t: {"text": t}, st.text(max_size=30)),
        "properties": st.builds(lambda s: {"security-severity": s}, _scores),
        "defaultConfiguration": st.builds(lambda v: {"level": v}, _levels),
    },
)
_run = st.fixed_dictionaries(
    {
        "tool": st.builds(
            lambda name, rules: {"driver": {"name": name, "rules": rules}},
            st.sampled_from(["Trivy", "gitleaks", "Bandit"]),
            st.lists(_rule, max_size=3),
        ),
        "results": st.lists(_result, max_size=6),
    },
    optional={"invocations": st.just([{"executionSuccessful": True}])},
)
_log = st.builds(
    lambda runs: {"version": "2.1.0", "runs": runs}, st.lists(_run, min_size=1, max_size=3)
)


def _encode(document: Any, indent: int | None = None) -> bytes:
    return json.dumps(document, indent=indent).encode()


@settings(max_examples=300, deadline=None)
@given(document=_json | _shaped | st.dictionaries(_keys, _shaped))
def test_the_reader_raises_only_gate_errors(document: Any) -> None:
    try:
        findings = app.parse_sarif(_encode(document), "fuzz.sarif")
    except app.GateError:
        return
    assert all(f.severity in app.SEVERITIES for f in findings)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_bytes_that_are_not_a_log_raise_only_gate_errors(raw: bytes) -> None:
    with contextlib.suppress(app.GateError):
        app.parse_sarif(raw, "fuzz.sarif")


def _corruptions(log: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Ways to make a valid log one the gate cannot read, each at a drawn place."""

    def at_run(change: Any) -> st.SearchStrategy[dict[str, Any]]:
        def apply(index: int, value: Any) -> dict[str, Any]:
            broken = copy.deepcopy(log)
            change(broken["runs"], index % len(broken["runs"]), value)
            return broken

        return st.builds(apply, st.integers(0, 10), _json)

    strategies = [
        st.just({**log, "runs": []}),
        st.just({k: v for k, v in log.items() if k != "runs"}),
        at_run(lambda runs, i, _: runs[i].pop("results")),
        at_run(lambda runs, i, _: runs[i].update(results=None)),
        at_run(lambda runs, i, _: runs[i].update(results={"0": {}})),
        at_run(lambda runs, i, _: runs[i].pop("tool")),
        at_run(lambda runs, i, v: runs[i]["results"].append(v if not isinstance(v, dict) else 1)),
        at_run(lambda runs, i, _: runs[i].update(invocations=[{"executionSuccessful": False}])),
        at_run(lambda runs, i, _: runs.__setitem__(i, "not a run")),
    ]
    bad_levels = st.text(max_size=10).filter(lambda t: t not in sarif.LEVELS)
    bad_scores = (
        st.sampled_from(["NaN", "nan", "inf", "high", "", "10.1", "-1"])
        | st.floats(allow_nan=True).filter(lambda f: math.isnan(f) or not 0 <= f <= 10)
        | st.booleans()
    )
    bad_kinds = st.text(max_size=10).filter(
        lambda t: t not in sarif.COUNTED_KINDS | sarif.SKIPPED_KINDS
    )
    if any(run["results"] for run in log["runs"]):
        for key, bad in (("level", bad_levels), ("kind", bad_kinds)):
            strategies.append(_result_change(log, bad, lambda r, v, key=key: r.update({key: v})))
        strategies.append(
            _result_change(
                log, bad_scores, lambda r, v: r.update(properties={"security-severity": v})
            )
        )
    return st.one_of(strategies)


def _result_change(log: dict[str, Any], values: Any, change: Any) -> Any:
    def apply(pick: int, value: Any) -> dict[str, Any]:
        broken = copy.deepcopy(log)
        runs = [run for run in broken["runs"] if run["results"]]
        run = runs[pick % len(runs)]
        result = run["results"][pick % len(run["results"])]
        result.pop("kind", None)  # a skipped kind would hide the corruption before it is read
        result.pop("suppressions", None)
        change(result, value)
        return broken

    return st.builds(apply, st.integers(0, 100), values)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), log=_log)
def test_a_corrupted_log_is_never_read_as_a_scan(data: st.DataObject, log: dict[str, Any]) -> None:
    app.parse_sarif(_encode(log), "valid.sarif")  # the generated log itself is readable
    broken = data.draw(_corruptions(log))

    with pytest.raises(app.GateError):
        app.parse_sarif(_encode(broken), "broken.sarif")


@settings(max_examples=150, deadline=None)
@given(log=_log, chunk=st.integers(1, 64), indent=st.sampled_from([None, 0, 2]))
def test_reading_in_chunks_of_any_size_finds_the_same(
    log: dict[str, Any], chunk: int, indent: int | None
) -> None:
    whole = app.parse_sarif(_encode(log), "log.sarif")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sarif, "CHUNK_CHARS", chunk)
        chunked = app.parse_sarif(_encode(log, indent), "log.sarif")
    assert chunked == whole


@settings(max_examples=100, deadline=None)
@given(log=_log, cut=st.integers(1, 10_000))
def test_a_truncated_log_is_refused(log: dict[str, Any], cut: int) -> None:
    raw = _encode(log)
    with pytest.raises(app.GateError, match="is not valid JSON"):
        app.parse_sarif(raw[: len(raw) - 1 - cut % len(raw)], "cut.sarif")


# --- the handler: one result per job, and a pass only for what it could read ---

_CLEAN = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}}, "results": []}]}
_SCANS = ("ScanReports", "ScanTrivy", "ScanSemgrep")
_BUCKET = "payments-artifacts-123456789012"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        for start in range(0, len(self._data), size):
            yield self._data[start : start + size]


class _ArtifactBucket:
    """The job's artifacts as S3 would hand them out; a key it does not hold is an error."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        if Bucket != _BUCKET or Key not in self.objects:
            raise LookupError(Key)
        return {"Body": _Body(self.objects[Key])}


def _job_event(job_id: Any, data: Any) -> dict[str, Any]:
    return {"CodePipeline.job": {"id": job_id, "data": data}}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    job_id=st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12) | _json,
    scans=st.lists(st.sampled_from(_SCANS), min_size=1, max_size=3, unique=True),
    fail_on=st.sampled_from(app.SEVERITIES) | st.none(),
    shape=st.sampled_from(["job", "job", "job", "odd parameters", "odd artifacts", "any"]),
)
def test_every_job_gets_one_result_and_only_clean_readable_scans_pass(
    data: st.DataObject, job_id: Any, scans: list[str], fail_on: str | None, shape: str
) -> None:
    kinds: dict[str, str] = {}
    objects: dict[str, bytes] = {}
    for scan in scans:
        kind = data.draw(st.sampled_from(["clean", "findings", "broken", "no report", "not a zip"]))
        kinds[scan] = kind
        if kind == "clean":
            files = {"reports/scan.sarif": _encode(_CLEAN)}
        elif kind == "findings":
            files = {"reports/scan.sarif.json": _encode(data.draw(_log))}
        elif kind == "broken":
            broken = data.draw(_corruptions(data.draw(_log)))
            files = {"reports/scan.sarif": _encode(broken), "reports/other.sarif": _encode(_CLEAN)}
        else:
            files = {"scan-results/scan.log": b"crashed"}
        objects[f"pipeline/{scan}/1"] = b"PK broken" if kind == "not a zip" else _zip(files)
    # As the pipeline writes them (stages/build.py): the scans' artifacts are named, so one
    # that holds no report is known to be a scan that wrote nothing.
    parameters: Any = json.dumps(
        {"scans": scans, **({} if fail_on is None else {"fail_on": fail_on})}
    )
    artifacts: Any = [
        {
            "name": scan,
            "location": {"type": "S3", "s3Location": {"bucketName": _BUCKET, "objectKey": key}},
        }
        for scan, key in zip(scans, objects, strict=True)
    ]
    if shape == "odd parameters":
        parameters = data.draw(_json.map(lambda v: json.dumps(v, default=str)) | st.text() | _json)
    elif shape == "odd artifacts":
        artifacts = data.draw(_json | st.lists(_json, max_size=3))
    job_data: Any = {
        "actionConfiguration": {"configuration": {"UserParameters": parameters}},
        "inputArtifacts": artifacts,
        "artifactCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "s", "sessionToken": "t"},
    }
    event: Any = _job_event(job_id, job_data) if shape != "any" else data.draw(_json | _shaped)

    reports: list[tuple[str, str]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "_artifact_client", lambda job: _ArtifactBucket(objects))
        patch.setattr(common, "report_job_success", lambda i, s: reports.append(("passed", i)))
        patch.setattr(
            common, "report_job_failure", lambda i, s, t="JobFailed": reports.append(("failed", i))
        )
        patch.delenv("SECURITY_TOPIC_ARN", raising=False)
        patch.delenv("EVENT_BUS_NAME", raising=False)
        result = app.handler(event, FakeContext())

    named = _job_id_of(event)
    if named is None:
        assert (result["status"], reports) == ("ignored", [])
        return
    [(verdict, reported_id)] = reports
    assert reported_id == named
    assert result["status"] == ("succeeded" if verdict == "passed" else "failed")
    if shape == "job" and any(k in {"broken", "no report", "not a zip"} for k in kinds.values()):
        # Fail closed: one scan the gate cannot read blocks, whatever the others say.
        assert verdict == "failed"
    if shape == "job" and set(kinds.values()) == {"clean"}:
        assert verdict == "passed"


def _job_id_of(event: Any) -> str | None:
    job = event.get("CodePipeline.job") if isinstance(event, dict) else None
    job_id = job.get("id") if isinstance(job, dict) else None
    return job_id if isinstance(job_id, str) and job_id else None
