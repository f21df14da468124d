"""Buildspecs of the checks stage: test jobs and security scans (plain data, no CDK).

Every scan writes SARIF to `scan-results/<tool>.sarif` and never fails by itself: the scan gate
decides, with the configured severity and the repository's allow-list (FM75). Tools are installed
at pinned versions so a scan result never changes because a tool moved under the pipeline.
"""

from __future__ import annotations

import shlex
from typing import Any

from conveyor.spec.models import ScanTool, Suite

RESULTS = "scan-results"

# Pinned tool versions. Bump deliberately, with the scan_gate's sample SARIF re-checked.
BANDIT = "1.8.6"
SEMGREP = "1.131.0"
PIP_AUDIT = "2.9.0"
GITLEAKS = "8.28.0"
TRIVY = "0.65.0"
SYFT = "1.31.0"

# pip-audit and npm audit print JSON, not SARIF; these converters keep the gate's input uniform.
_PIP_AUDIT_TO_SARIF = r"""
import json, sys
data = json.load(open(sys.argv[1]))
rules, results = {}, []
for dep in data.get("dependencies", []):
    for vuln in dep.get("vulns", []):
        fix = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
        rules[vuln["id"]] = {"id": vuln["id"], "name": dep["name"],
            "shortDescription": {"text": f"{dep['name']} {dep['version']}: {vuln['id']}"},
            "help": {"text": f"Upgrade {dep['name']} to {fix}"},
            "defaultConfiguration": {"level": "error"}}
        results.append({"ruleId": vuln["id"], "level": "error",
            "message": {"text": f"{dep['name']} {dep['version']} is vulnerable "
                                f"({vuln['id']}); fixed in {fix}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": sys.argv[3]}}}]})
json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "pip-audit",
    "rules": list(rules.values())}}, "results": results}]}, open(sys.argv[2], "w"))
"""

_NPM_AUDIT_TO_SARIF = r"""
import json, sys
data = json.load(open(sys.argv[1]))
score = {"critical": "9.5", "high": "8.0", "moderate": "5.0", "low": "2.0", "info": "0.0"}
rules, results = {}, []
for name, vuln in data.get("vulnerabilities", {}).items():
    severity = vuln.get("severity", "moderate")
    rule = f"npm-{name}"
    rules[rule] = {"id": rule, "name": name, "shortDescription": {"text": f"{name} ({severity})"},
        "properties": {"security-severity": score.get(severity, "5.0")}}
    level = "error" if severity in ("critical", "high") else "warning"
    results.append({"ruleId": rule, "level": level,
        "message": {"text": f"{name} {vuln.get('range', '')} has a {severity} vulnerability"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "package-lock.json"}}}]})
json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "npm-audit",
    "rules": list(rules.values())}}, "results": results}]}, open(sys.argv[2], "w"))
"""


# Package caches kept on the build host between runs (CodeBuild local custom cache).
PACKAGE_CACHES = ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/uv/**/*"]


def test_buildspec(suite: Suite) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": ["set -euo pipefail", *suite.commands]}},
        "cache": {"paths": list(PACKAGE_CACHES)},
    }
    reports: dict[str, Any] = {}
    if suite.junit:
        reports[f"{suite.name}-tests"] = {"files": [suite.junit], "file-format": "JUNITXML"}
    if suite.coverage:
        reports[f"{suite.name}-coverage"] = {
            "files": [suite.coverage],
            "file-format": "COBERTURAXML",
        }
    if reports:
        spec["reports"] = reports
    return spec


def scan_buildspec(tool: ScanTool) -> dict[str, Any]:
    """The buildspec of one scan. Container scans (trivy, syft) read IMAGE_URI from the build."""
    out = f"{RESULTS}/{tool}.sarif"
    install, run = _SCANS[tool](out)
    return {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "install": {"commands": ["set -euo pipefail", f"mkdir -p {RESULTS}", *install]},
            "build": {"commands": ["set -euo pipefail", *run]},
        },
        "artifacts": {"files": [f"{RESULTS}/**/*"]},
    }


def _bandit(out: str) -> tuple[list[str], list[str]]:
    return (
        [f"pip install --quiet 'bandit[sarif]=={BANDIT}'"],
        [f"bandit --recursive . --format sarif --output {out} --exit-zero --quiet"],
    )


def _semgrep(out: str) -> tuple[list[str], list[str]]:
    return (
        [f"pip install --quiet 'semgrep=={SEMGREP}'"],
        [f"semgrep scan --config auto --sarif --output {out} --metrics off || test -s {out}"],
    )


def _pip_audit(out: str) -> tuple[list[str], list[str]]:
    convert = shlex.quote(_PIP_AUDIT_TO_SARIF)
    return (
        [f"pip install --quiet 'pip-audit=={PIP_AUDIT}'"],
        [
            # Audit what the repository declares; a repository without Python dependencies
            # gets an empty report instead of a failed build (FM28).
            "REQ=requirements.txt; if [ ! -f $REQ ]; then "
            "echo 'conveyor: no requirements.txt; auditing the installed environment'; REQ=; fi",
            "pip-audit ${REQ:+--requirement $REQ} --format json --output pip-audit.json "
            "--progress-spinner off || test -s pip-audit.json",
            f"python3 -c {convert} pip-audit.json {out} ${{REQ:-environment}}",
        ],
    )


def _npm_audit(out: str) -> tuple[list[str], list[str]]:
    convert = shlex.quote(_NPM_AUDIT_TO_SARIF)
    return (
        [],
        [
            "if [ ! -f package-lock.json ]; then echo 'conveyor: no package-lock.json; "
            "nothing for npm audit'; echo '{\"vulnerabilities\": {}}' > npm-audit.json; "
            "else npm audit --json > npm-audit.json || test -s npm-audit.json; fi",
            f"python3 -c {convert} npm-audit.json {out}",
        ],
    )


def _gitleaks(out: str) -> tuple[list[str], list[str]]:
    archive = f"gitleaks_{GITLEAKS}_linux_x64.tar.gz"
    return (
        [
            f"curl -sSfL -o /tmp/{archive} https://github.com/gitleaks/gitleaks/releases/"
            f"download/v{GITLEAKS}/{archive}",
            f"tar -xzf /tmp/{archive} -C /usr/local/bin gitleaks",
        ],
        [f"gitleaks dir . --report-format sarif --report-path {out} --exit-code 0 --no-banner"],
    )


def _trivy(out: str) -> tuple[list[str], list[str]]:
    return (
        [
            "curl -sSfL https://raw.githubusercontent.com/aquasecurity/trivy/"
            f"v{TRIVY}/contrib/install.sh | sh -s -- -b /usr/local/bin v{TRIVY}"
        ],
        [
            'test -n "${IMAGE_URI:-}" || { echo "conveyor: IMAGE_URI missing; trivy scans '
            'the image the build pushed" >&2; exit 1; }',
            f'trivy image --format sarif --output {out} --exit-code 0 --no-progress "$IMAGE_URI"',
        ],
    )


def _syft(out: str) -> tuple[list[str], list[str]]:
    sbom = f"{RESULTS}/sbom.spdx.json"
    return (
        [
            "curl -sSfL https://raw.githubusercontent.com/anchore/syft/"
            f"v{SYFT}/install.sh | sh -s -- -b /usr/local/bin v{SYFT}"
        ],
        [
            'test -n "${IMAGE_URI:-}" || { echo "conveyor: IMAGE_URI missing; syft inventories '
            'the image the build pushed" >&2; exit 1; }',
            f'syft scan "registry:$IMAGE_URI" --output spdx-json={sbom}',
            # An SBOM is an inventory, not findings: an empty SARIF keeps the gate's input whole.
            'echo \'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "syft"}}, '
            f'"results": []}}]}}\' > {out}',
        ],
    )


_SCANS = {
    "bandit": _bandit,
    "semgrep": _semgrep,
    "pip-audit": _pip_audit,
    "npm-audit": _npm_audit,
    "gitleaks": _gitleaks,
    "trivy": _trivy,
    "syft": _syft,
}

IMAGE_SCANS = frozenset({"trivy", "syft"})
