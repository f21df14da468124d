"""Test and scan buildspecs, read as the shell CodeBuild runs, and their SARIF converters."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, get_args

import pytest

from conveyor.constructs import check_buildspecs
from conveyor.constructs.buildspec import PACKAGE_DIRECTORY, build_spec
from conveyor.constructs.check_buildspecs import (
    _NPM_AUDIT_TO_SARIF,
    _PIP_AUDIT_TO_SARIF,
    scan_buildspec,
)
from conveyor.constructs.check_buildspecs import (
    test_buildspec as make_test_buildspec,
)
from conveyor.handlers import asset_path
from conveyor.handlers.scan_gate import app as gate
from conveyor.spec.models import Runtimes, ScanTool, Suite


def _script(spec: dict[str, Any]) -> str:
    return "\n".join(
        line
        for phase in ("install", "pre_build", "build", "post_build")
        for line in spec["phases"].get(phase, {}).get("commands", [])
    )


ALL_TOOLS: tuple[ScanTool, ...] = get_args(ScanTool)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("tool", ALL_TOOLS)
def test_every_scan_is_valid_bash_and_writes_its_sarif(tool: ScanTool) -> None:
    spec = scan_buildspec(tool)
    script = _script(spec)
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"scan-results/{tool}.sarif" in script
    assert spec["artifacts"] == {"files": ["scan-results/**/*"]}


def test_scans_pin_their_tool_versions() -> None:
    for tool in ALL_TOOLS:
        script = _script(scan_buildspec(tool))
        assert "latest" not in script, tool
    assert "bandit[sarif]==" in _script(scan_buildspec("bandit"))
    assert "/download/v" in _script(scan_buildspec("gitleaks"))


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o755)


def _run_phase(commands: list[str], bin_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", "\n".join(commands)], capture_output=True, text=True, env=env, cwd=cwd
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_semgrep_scan_that_fails_fails_the_build(tmp_path: Path) -> None:
    # Issue 17 defect 1: `|| test -s` passed a failed run's partial SARIF on to the gate.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir, "semgrep", 'echo \'{"runs": [\' > "${@: -3:1}"; exit 2')
    (tmp_path / "scan-results").mkdir()
    build = scan_buildspec("semgrep")["phases"]["build"]["commands"]

    result = _run_phase(build, bin_dir, tmp_path)

    assert result.returncode == 2
    assert "--config auto" not in "\n".join(build)  # aborts when metrics are off


DOWNLOADED: tuple[ScanTool, ...] = ("gitleaks", "trivy", "syft")


def _install(
    tool: ScanTool, tmp_path: Path, machine: str, payload: bytes
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the install phase with curl serving `payload`; return the result and the tar calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "payload").write_bytes(payload)
    log = tmp_path / "calls.log"
    _stub(bin_dir, "uname", f"echo {machine}")
    _stub(
        bin_dir,
        "curl",
        f'echo "curl $*" >> {log}; while [ $# -gt 0 ]; do '
        f'if [ "$1" = -o ]; then cp {tmp_path}/payload "$2"; fi; shift; done',
    )
    _stub(bin_dir, "tar", f'echo "tar $*" >> {log}')
    install = scan_buildspec(tool)["phases"]["install"]["commands"]
    result = _run_phase([c for c in install if not c.startswith("mkdir")], bin_dir, tmp_path)
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs sha256sum")
@pytest.mark.parametrize("tool", DOWNLOADED)
def test_a_download_that_does_not_match_its_pinned_checksum_fails_the_build(
    tool: ScanTool, tmp_path: Path
) -> None:
    # Issue 14 defect 9: gitleaks, trivy and syft were downloaded (or piped to sh) unverified.
    result, calls = _install(tool, tmp_path, "x86_64", b"not the release archive")

    assert result.returncode == 1
    assert f"conveyor: {tool} download does not match its pinned SHA-256" in result.stderr
    assert not [c for c in calls if c.startswith("tar")]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs sha256sum")
@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("tool", DOWNLOADED)
def test_the_archive_for_the_hosts_architecture_is_unpacked_once_it_matches(
    tool: ScanTool, machine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = b"a stand-in for the release archive"
    pinned = check_buildspecs.PINNED_ARCHIVES[tool]
    archive, _ = pinned.archives[machine]
    archives = {**pinned.archives, machine: (archive, hashlib.sha256(payload).hexdigest())}
    monkeypatch.setitem(
        check_buildspecs.PINNED_ARCHIVES, tool, dataclasses.replace(pinned, archives=archives)
    )

    result, calls = _install(tool, tmp_path, machine, payload)

    assert result.returncode == 0, result.stderr
    assert calls == [
        f"curl -sSfL -o /tmp/{archive} {pinned.url.format(archive=archive)}",
        f"tar -xzf /tmp/{archive} -C /usr/local/bin {tool}",
    ]


def test_an_unpinned_architecture_is_refused(tmp_path: Path) -> None:
    result, calls = _install("trivy", tmp_path, "riscv64", b"")

    assert result.returncode == 1
    assert f"conveyor: no pinned trivy {check_buildspecs.TRIVY} for riscv64" in result.stderr
    assert calls == []


def test_the_checksum_table_pins_every_download_for_both_architectures() -> None:
    versions = {
        "gitleaks": check_buildspecs.GITLEAKS,
        "trivy": check_buildspecs.TRIVY,
        "syft": check_buildspecs.SYFT,
    }
    assert set(check_buildspecs.PINNED_ARCHIVES) == set(DOWNLOADED)
    for tool, pinned in check_buildspecs.PINNED_ARCHIVES.items():
        assert pinned.version == versions[tool]
        assert set(pinned.archives) == {"x86_64", "aarch64"}
        for archive, digest in pinned.archives.values():
            assert re.fullmatch(r"[0-9a-f]{64}", digest), (tool, archive)
            assert pinned.version in archive
        assert pinned.source.endswith(f"v{pinned.version}/{tool}_{pinned.version}_checksums.txt")
    # Nothing else is fetched from the internet and run unverified.
    for tool in ALL_TOOLS:
        script = _script(scan_buildspec(tool))
        assert not re.search(r"\| *(sh|bash)\b", script), tool
        assert script.count("curl ") == (1 if tool in DOWNLOADED else 0), tool


def test_image_scans_refuse_to_run_without_an_image() -> None:
    assert "IMAGE_URI missing" in _script(scan_buildspec("trivy"))
    assert "IMAGE_URI missing" in _script(scan_buildspec("syft"))


def test_test_jobs_publish_reports() -> None:
    suite = Suite(name="unit", commands=["pytest"], junit="reports/*.xml", coverage="coverage.xml")
    spec = make_test_buildspec(suite)
    assert spec["reports"] == {
        "unit-tests": {"files": ["reports/*.xml"], "file-format": "JUNITXML"},
        "unit-coverage": {"files": ["coverage.xml"], "file-format": "COBERTURAXML"},
    }
    assert _script(spec).endswith("pytest")
    assert "/root/.cache/pip/**/*" in spec["cache"]["paths"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_lambda_build_artifact_is_the_function_package(tmp_path: Path) -> None:
    """The Build artifact of a Lambda build holds the package's files at its root, so the
    artifact's own zip is the code CloudFormation hands to Lambda (no deploy job)."""
    import zipfile

    from conveyor.spec.models import Build

    spec = build_spec(Build(commands=["true"]), package="dist/function.zip")
    assert spec["artifacts"] == {"base-directory": PACKAGE_DIRECTORY, "files": ["**/*"]}
    (tmp_path / "dist").mkdir()
    with zipfile.ZipFile(tmp_path / "dist" / "function.zip", "w") as package:
        package.writestr("app.py", "def handler(event, context): return 1\n")
    # The upload to the package store (an `aws` that answers with a version id).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text('#!/bin/sh\necho "$@" > aws.args\necho v1\n')
    (bin_dir / "aws").chmod(0o755)
    result = subprocess.run(
        ["bash", "-c", _script(spec) + '\necho "$PACKAGE_VERSION" > version'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "PACKAGE_BUCKET": "packages",
            "PACKAGE_KEY": "app-package.zip",
        },
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / PACKAGE_DIRECTORY / "app.py").read_text().startswith("def handler")
    assert (tmp_path / "version").read_text() == "v1\n"
    assert (tmp_path / "aws.args").read_text().split() == [
        "s3api",
        "put-object",
        "--bucket",
        "packages",
        "--key",
        "app-package.zip",
        "--body",
        "dist/function.zip",
        "--query",
        "VersionId",
        "--output",
        "text",
    ]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_lambda_build_without_its_package_fails_with_a_sentence(tmp_path: Path) -> None:
    from conveyor.spec.models import Build

    spec = build_spec(Build(commands=["true"]), package="function.zip")
    result = subprocess.run(
        ["bash", "-c", _script(spec)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "the build wrote no function.zip" in result.stderr


def _convert(
    program: str, data: object, tmp_path: Path, *args: str, osv: str | None = None
) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    env = {**os.environ, "CONVEYOR_OSV_API": osv or "http://127.0.0.1:9/"}
    return subprocess.run(
        [sys.executable, "-c", program, str(source), str(tmp_path / "out.sarif"), *args],
        capture_output=True,
        text=True,
        env=env,
    )


def _gate_findings(tmp_path: Path, report: str) -> list[tuple[str, str, str]]:
    findings = gate.parse_sarif((tmp_path / "out.sarif").read_bytes(), report)
    return [(f.rule, f.severity, f.title) for f in findings]


class _Osv:
    """OSV's GET /v1/vulns/{id} on loopback, serving the records given; 404 for the rest."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        records_by_path = {f"/v1/vulns/{k}": v for k, v in records.items()}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                record = records_by_path.get(self.path)
                body = json.dumps(record or {"code": 5, "message": "Bug not found."}).encode()
                self.send_response(200 if record else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/vulns/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Osv:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _ghsa(vid: str, severity: str | None) -> dict[str, Any]:
    # The shape of an OSV record of a GitHub advisory (only the fields the converter reads vary).
    specific: dict[str, Any] = {"cwe_ids": ["CWE-20"], "github_reviewed": True}
    if severity:
        specific["severity"] = severity
    return {"id": vid, "modified": "2026-01-01T00:00:00Z", "database_specific": specific}


# `pip-audit --format json` as pip-audit 2.9.0 writes it (pip_audit/_format/json.py): a skipped
# dependency has no version or vulns, and `--desc` (on by default for JSON) adds descriptions.
PIP_AUDIT_REPORT = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {
                    "id": "PYSEC-2024-0001",
                    "fix_versions": ["3.1.3"],
                    "aliases": ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"],
                    "description": "An attribute injection.",
                }
            ],
        },
        {
            "name": "urllib3",
            "version": "1.26.5",
            "vulns": [
                {"id": "GHSA-cccc-dddd-eeee", "fix_versions": [], "aliases": [], "description": ""},
                {
                    "id": "PYSEC-2024-0002",
                    "fix_versions": ["1.26.18"],
                    "aliases": ["CVE-2024-0002"],
                    "description": "No advisory severity anywhere.",
                },
            ],
        },
        {"name": "rich", "version": "13.0.0", "vulns": []},
        {
            "name": "internal-lib",
            "skip_reason": "Dependency not found on PyPI and could not be audited: internal-lib",
        },
    ],
    "fixes": [],
}
OSV_RECORDS = {
    "PYSEC-2024-0001": {"id": "PYSEC-2024-0001", "aliases": ["CVE-2024-0001"]},
    "GHSA-aaaa-bbbb-cccc": _ghsa("GHSA-aaaa-bbbb-cccc", "LOW"),
    "GHSA-cccc-dddd-eeee": _ghsa("GHSA-cccc-dddd-eeee", "CRITICAL"),
    "PYSEC-2024-0002": {"id": "PYSEC-2024-0002"},
}


def test_pip_audit_findings_carry_their_advisories_severity(tmp_path: Path) -> None:
    # Issue 17 defect 8: every pip-audit finding was written as `level: error`, i.e. high.
    with _Osv(OSV_RECORDS) as osv:
        run = _convert(
            _PIP_AUDIT_TO_SARIF, PIP_AUDIT_REPORT, tmp_path, "requirements.txt", osv=osv.url
        )

    assert run.returncode == 0, run.stderr
    assert _gate_findings(tmp_path, "pip-audit.sarif") == [
        ("PYSEC-2024-0001", "low", "jinja2 3.1.2, fixed in 3.1.3"),
        ("GHSA-cccc-dddd-eeee", "critical", "urllib3 1.26.5, fixed in none yet"),
        # No severity found: counted as high, and the message says so.
        ("PYSEC-2024-0002", "high", "urllib3 1.26.5, fixed in 1.26.18"),
    ]
    results = json.loads((tmp_path / "out.sarif").read_text())["runs"][0]["results"]
    assert "severity unknown, counted as high" in results[2]["message"]["text"]
    assert "severity low" in results[0]["message"]["text"]


def test_pip_audit_severity_is_high_when_osv_cannot_be_reached(tmp_path: Path) -> None:
    run = _convert(_PIP_AUDIT_TO_SARIF, PIP_AUDIT_REPORT, tmp_path, "requirements.txt")

    assert run.returncode == 0, run.stderr
    assert {severity for _, severity, _ in _gate_findings(tmp_path, "p.sarif")} == {"high"}
    assert "conveyor: no OSV record for GHSA-aaaa-bbbb-cccc" in run.stderr


def test_the_gates_pip_audit_sample_is_what_the_converter_writes(tmp_path: Path) -> None:
    # The sample the gate's tests read must be real converter output, not a hand-written file.
    report = {
        "dependencies": [
            {
                "name": "requests",
                "version": "2.31.0",
                "vulns": [
                    {
                        "id": "GHSA-9wx4-h78v-vm56",
                        "fix_versions": ["2.32.0"],
                        "aliases": ["CVE-2024-35195"],
                        "description": "Session verify=False persists.",
                    }
                ],
            },
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [
                    {
                        "id": "GHSA-h5c8-rqwp-cp95",
                        "fix_versions": ["3.1.3"],
                        "aliases": ["CVE-2024-22195"],
                        "description": "xmlattr accepts keys with spaces.",
                    }
                ],
            },
        ],
        "fixes": [],
    }
    records = {v: _ghsa(v, "MODERATE") for v in ("GHSA-9wx4-h78v-vm56", "GHSA-h5c8-rqwp-cp95")}
    with _Osv(records) as osv:
        run = _convert(_PIP_AUDIT_TO_SARIF, report, tmp_path, "requirements.txt", osv=osv.url)

    assert run.returncode == 0, run.stderr
    sample = asset_path("scan_gate") / "events" / "pip-audit.sarif"
    assert json.loads((tmp_path / "out.sarif").read_text()) == json.loads(sample.read_text())


@pytest.mark.parametrize(
    ("program", "output"),
    [
        (_PIP_AUDIT_TO_SARIF, {"error": "resolution failed"}),
        (_PIP_AUDIT_TO_SARIF, []),
        (_NPM_AUDIT_TO_SARIF, {"error": {"code": "ENOLOCK", "summary": "no lockfile"}}),
        (_NPM_AUDIT_TO_SARIF, {"auditReportVersion": 2}),
    ],
)
def test_converters_refuse_output_that_is_not_a_finished_audit(
    tmp_path: Path, program: str, output: object
) -> None:
    # `npm audit --json > f || test -s f` keeps npm's error object; it must not become a clean scan.
    run = _convert(program, output, tmp_path, "requirements.txt")

    assert run.returncode == 1
    assert "did not finish" in run.stderr
    assert not (tmp_path / "out.sarif").exists()


# `npm audit --json` as npm 10 writes it (audit report version 2).
NPM_AUDIT_REPORT = {
    "auditReportVersion": 2,
    "vulnerabilities": {
        "lodash": {
            "name": "lodash",
            "severity": "critical",
            "isDirect": True,
            "via": [
                {
                    "source": 1094500,
                    "name": "lodash",
                    "dependency": "lodash",
                    "title": "Prototype Pollution in lodash",
                    "url": "https://github.com/advisories/GHSA-jf85-cpcp-j695",
                    "severity": "critical",
                    "cwe": ["CWE-1321"],
                    "cvss": {
                        "score": 9.1,
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H",
                    },
                    "range": "<4.17.12",
                }
            ],
            "effects": [],
            "range": "<=4.17.20",
            "nodes": ["node_modules/lodash"],
            "fixAvailable": True,
        },
        "minimist": {
            "name": "minimist",
            "severity": "moderate",
            "isDirect": False,
            "via": [
                {
                    "source": 1096465,
                    "name": "minimist",
                    "dependency": "minimist",
                    "title": "Prototype Pollution in minimist",
                    "url": "https://github.com/advisories/GHSA-vh95-rmgr-6w4m",
                    "severity": "moderate",
                    "cwe": ["CWE-1321"],
                    "cvss": {"score": 0, "vectorString": None},
                    "range": "<0.2.1",
                }
            ],
            "effects": ["mkdirp"],
            "range": "<0.2.1",
            "nodes": ["node_modules/minimist"],
            "fixAvailable": True,
        },
        "mkdirp": {
            "name": "mkdirp",
            "severity": "moderate",
            "isDirect": True,
            "via": ["minimist"],
            "effects": [],
            "range": "0.4.1 - 0.5.1",
            "nodes": ["node_modules/mkdirp"],
            "fixAvailable": True,
        },
    },
    "metadata": {
        "vulnerabilities": {
            "info": 0,
            "low": 0,
            "moderate": 2,
            "high": 0,
            "critical": 1,
            "total": 3,
        },
        "dependencies": {"prod": 4, "dev": 0, "optional": 0, "peer": 0, "total": 3},
    },
}


def test_npm_audit_findings_carry_cvss_scores_or_npm_severity(tmp_path: Path) -> None:
    run = _convert(_NPM_AUDIT_TO_SARIF, NPM_AUDIT_REPORT, tmp_path)

    assert run.returncode == 0, run.stderr
    assert _gate_findings(tmp_path, "npm-audit.sarif") == [
        ("npm-lodash", "critical", "lodash: Prototype Pollution in lodash"),
        ("npm-minimist", "medium", "minimist: Prototype Pollution in minimist"),
        ("npm-mkdirp", "medium", "mkdirp (moderate)"),
    ]


def test_npm_audit_without_a_lockfile_is_a_clean_scan(tmp_path: Path) -> None:
    # What the buildspec writes when there is no package-lock.json.
    run = _convert(_NPM_AUDIT_TO_SARIF, {"vulnerabilities": {}}, tmp_path)

    assert run.returncode == 0, run.stderr
    assert _gate_findings(tmp_path, "npm-audit.sarif") == []


def test_test_jobs_run_with_the_builds_pinned_runtimes() -> None:
    suite = Suite(name="unit", commands=["pytest"])
    runtimes = Runtimes(python="3.12")
    spec = make_test_buildspec(suite, runtimes)
    assert list(spec["phases"]) == ["install", "build"]
    assert spec["phases"]["install"] == {"runtime-versions": {"python": "3.12"}}
    assert "install" not in make_test_buildspec(suite, Runtimes())["phases"]
    assert "install" not in make_test_buildspec(suite)["phases"]
