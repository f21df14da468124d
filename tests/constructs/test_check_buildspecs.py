"""Test and scan buildspecs, read as the shell CodeBuild runs, and their SARIF converters."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest

from conveyor.constructs.check_buildspecs import (
    _NPM_AUDIT_TO_SARIF,
    _PIP_AUDIT_TO_SARIF,
    scan_buildspec,
)
from conveyor.constructs.check_buildspecs import (
    test_buildspec as make_test_buildspec,
)
from conveyor.constructs.lambda_target import lambda_deploy_buildspec
from conveyor.spec.models import ScanTool, Suite


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
def test_lambda_deploy_script_is_valid_bash() -> None:
    script = _script(lambda_deploy_buildspec())
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "aws deploy create-deployment" in script
    assert "--publish" in script


def _convert(program: str, data: dict[str, Any], tmp_path: Path, *args: str) -> dict[str, Any]:
    source, target = tmp_path / "in.json", tmp_path / "out.sarif"
    source.write_text(json.dumps(data))
    subprocess.run([sys.executable, "-c", program, str(source), str(target), *args], check=True)
    result: dict[str, Any] = json.loads(target.read_text())
    return result


def test_pip_audit_json_becomes_sarif_the_gate_reads(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {
                "name": "requests",
                "version": "2.31.0",
                "vulns": [{"id": "GHSA-9wx4-h78v-vm56", "fix_versions": ["2.32.0"]}],
            },
            {"name": "rich", "version": "13.0.0", "vulns": []},
        ]
    }
    sarif = _convert(_PIP_AUDIT_TO_SARIF, report, tmp_path, "requirements.txt")
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["name"] == "pip-audit"
    (result,) = run["results"]
    assert result["ruleId"] == "GHSA-9wx4-h78v-vm56" and result["level"] == "error"
    assert "fixed in 2.32.0" in result["message"]["text"]

    from conveyor.handlers.scan_gate import app as gate

    findings = gate.parse_sarif(json.dumps(sarif).encode(), "pip-audit.sarif")
    assert [f.severity for f in findings] == ["high"]


def test_npm_audit_json_becomes_sarif_with_severity_scores(tmp_path: Path) -> None:
    report = {"vulnerabilities": {"lodash": {"severity": "critical", "range": "<4.17.21"}}}
    sarif = _convert(_NPM_AUDIT_TO_SARIF, report, tmp_path)
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.5"
    from conveyor.handlers.scan_gate import app as gate

    findings = gate.parse_sarif(json.dumps(sarif).encode(), "npm-audit.sarif")
    assert [f.severity for f in findings] == ["critical"]
