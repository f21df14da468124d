"""Buildspecs of the checks stage: test jobs and security scans (plain data, no CDK).

Every scan writes SARIF to `scan-results/<tool>.sarif` and never fails by itself: the scan gate
decides, with the configured severity and the repository's allow-list (FM75). Tools are installed
at pinned versions so a scan result never changes because a tool moved under the pipeline.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conveyor.spec.models import EnvironmentJob, Runtimes, ScanTool, Suite

RESULTS = "scan-results"

# Pinned tool versions. Bump deliberately, with the scan_gate's sample SARIF re-checked and the
# checksums below replaced from the new release's checksums file.
BANDIT = "1.8.6"
SEMGREP = "1.131.0"
PIP_AUDIT = "2.9.0"
GITLEAKS = "8.28.0"
# Trivy's releases 0.27.0-0.69.1 were deleted in its March 2026 incident (0.65.0 no longer
# downloads) and 0.69.4-0.69.6 were malicious (GHSA-69fq-xp46-6x23); 0.72.0 is neither.
TRIVY = "0.72.0"
SYFT = "1.46.0"


@dataclass(frozen=True)
class PinnedArchive:
    """A release archive a scan downloads, with the SHA-256 it must have on each architecture."""

    tool: str
    version: str
    url: str  # with {archive}
    archives: Mapping[str, tuple[str, str]]  # `uname -m` -> (archive name, SHA-256)
    source: str  # where the checksums come from


# The one table of downloaded binaries (issue 14, defect 9). Each SHA-256 is the value in the
# release's own checksums file (`source`). No network reaches GitHub releases from where this was
# written, so each value was read from public pins of the same file and taken only where at least
# two independent public repositories agree on it. Never edit a value by hand: replace it from
# the checksums file of the release.
PINNED_ARCHIVES: Mapping[str, PinnedArchive] = {
    "gitleaks": PinnedArchive(
        tool="gitleaks",
        version=GITLEAKS,
        url=f"https://github.com/gitleaks/gitleaks/releases/download/v{GITLEAKS}/{{archive}}",
        archives={
            "x86_64": (
                f"gitleaks_{GITLEAKS}_linux_x64.tar.gz",
                "a65b5253807a68ac0cafa4414031fd740aeb55f54fb7e55f386acb52e6a840eb",
            ),
            "aarch64": (
                f"gitleaks_{GITLEAKS}_linux_arm64.tar.gz",
                "eff65261156100e5d94a6b3dec313d532fddfe19ae1590bf7a2b4f2699128356",
            ),
        },
        source=f"https://github.com/gitleaks/gitleaks/releases/download/v{GITLEAKS}/"
        f"gitleaks_{GITLEAKS}_checksums.txt",
    ),
    "trivy": PinnedArchive(
        tool="trivy",
        version=TRIVY,
        url=f"https://github.com/aquasecurity/trivy/releases/download/v{TRIVY}/{{archive}}",
        archives={
            "x86_64": (
                f"trivy_{TRIVY}_Linux-64bit.tar.gz",
                "bbb64b9695866ce4a7a8f5c9592002c5961cab378577fa3f8a040df362b9b2ea",
            ),
            "aarch64": (
                f"trivy_{TRIVY}_Linux-ARM64.tar.gz",
                "2ca2c023109c2db6b2b77366b6717291452d4531167377d95c79547f0c8e3467",
            ),
        },
        source=f"https://github.com/aquasecurity/trivy/releases/download/v{TRIVY}/"
        f"trivy_{TRIVY}_checksums.txt",
    ),
    "syft": PinnedArchive(
        tool="syft",
        version=SYFT,
        url=f"https://github.com/anchore/syft/releases/download/v{SYFT}/{{archive}}",
        archives={
            "x86_64": (
                f"syft_{SYFT}_linux_amd64.tar.gz",
                "d654f678b709eb53c393d38519d5ed7d2e57205529404018614cfefa0fb2b5ca",
            ),
            "aarch64": (
                f"syft_{SYFT}_linux_arm64.tar.gz",
                "9fafef4db4f032ce81008d3a1529985d41ceb6ccdf2b388c9ce2f1ed7d32082e",
            ),
        },
        source=f"https://github.com/anchore/syft/releases/download/v{SYFT}/"
        f"syft_{SYFT}_checksums.txt",
    ),
}


def verified_install(tool: str) -> str:
    """One shell command: download the pinned archive for this host, check it, unpack the tool.

    The pinned SHA-256 stops a release asset that was replaced or re-tagged after it was pinned,
    a tampered mirror or proxy, and a truncated download. It does not stop a release that was
    already malicious when its checksum was pinned: review a version before pinning it.
    """
    pinned = PINNED_ARCHIVES[tool]
    cases = "".join(
        f"  {arch}) ARCHIVE={archive}; SHA256={digest} ;;\n"
        for arch, (archive, digest) in pinned.archives.items()
    )
    url = pinned.url.format(archive="$ARCHIVE")
    return (
        'case "$(uname -m)" in\n'
        f"{cases}"
        f'  *) echo "conveyor: no pinned {tool} {pinned.version} for $(uname -m)" >&2; exit 1 ;;\n'
        "esac\n"
        f'curl -sSfL -o "/tmp/$ARCHIVE" "{url}"\n'
        'echo "$SHA256  /tmp/$ARCHIVE" | sha256sum -c - || {\n'
        f'  echo "conveyor: {tool} download does not match its pinned SHA-256" >&2; exit 1; }}\n'
        f'tar -xzf "/tmp/$ARCHIVE" -C /usr/local/bin {tool}\n'
    )


# pip-audit and npm audit print JSON, not SARIF; these converters keep the gate's input uniform.
# Both fail (exit 1) on output that is not a finished audit, so the gate never reads an empty
# report made from an error.
# pip-audit's JSON has no severity (https://github.com/pypa/pip-audit/issues/207): each advisory's
# severity comes from its OSV record (https://google.github.io/osv.dev/get-v1-vulns/), GitHub's
# `database_specific.severity` for GHSA ids and aliases. A severity that cannot be found counts as
# high: unknown is not safe.
_PIP_AUDIT_TO_SARIF = r"""
import json, os, sys, urllib.request
OSV = os.environ.get("CONVEYOR_OSV_API", "https://api.osv.dev/v1/vulns/")
SCORES = {"CRITICAL": "9.5", "HIGH": "8.0", "MODERATE": "5.0", "LOW": "2.0"}
def severity(ids):
    for vid in sorted(ids, key=lambda i: not i.startswith("GHSA-")):
        try:
            with urllib.request.urlopen(OSV + vid, timeout=15) as response:
                record = json.load(response)
        except Exception as exc:
            print(f"conveyor: no OSV record for {vid}: {exc}", file=sys.stderr)
            continue
        found = str((record.get("database_specific") or {}).get("severity") or "").upper()
        if found in SCORES:
            return found.lower(), SCORES[found]
    return None, None
data = json.load(open(sys.argv[1]))
if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
    sys.exit("conveyor: pip-audit wrote no 'dependencies' list; the audit did not finish")
rules, results = {}, []
for dep in data["dependencies"]:
    for vuln in dep.get("vulns", []):
        fix = ", ".join(vuln.get("fix_versions", [])) or "none yet"
        label, score = severity([vuln["id"], *vuln.get("aliases", [])])
        rule = {"id": vuln["id"], "name": dep["name"],
            "shortDescription": {"text": f"{dep['name']} {dep['version']}, fixed in {fix}"},
            "help": {"text": f"Upgrade {dep['name']} to {fix}"}}
        result = {"ruleId": vuln["id"],
            "message": {"text": f"{dep['name']} {dep['version']} is vulnerable ({vuln['id']}, "
                f"severity {label or 'unknown, counted as high'}); fixed in {fix}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": sys.argv[3]}}}]}
        if score:
            rule["properties"] = {"security-severity": score}
        else:
            result["level"] = "error"
        rules[vuln["id"]] = rule
        results.append(result)
json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "pip-audit",
    "rules": list(rules.values())}}, "results": results}]}, open(sys.argv[2], "w"))
"""

# `npm audit --json` (audit report version 2, npm 7 and later,
# https://docs.npmjs.com/cli/v10/commands/npm-audit) names a severity per package and lists in
# `via` the advisories behind it with their CVSS scores; the highest score wins over the word.
_NPM_AUDIT_TO_SARIF = r"""
import json, sys
data = json.load(open(sys.argv[1]))
if not isinstance(data, dict) or "error" in data or not isinstance(
        data.get("vulnerabilities"), dict):
    sys.exit(f"conveyor: npm audit did not finish: {json.dumps(data)[:500]}")
score = {"critical": "9.5", "high": "8.0", "moderate": "5.0", "low": "2.0", "info": "0.0"}
rules, results = {}, []
for name, vuln in data["vulnerabilities"].items():
    severity = vuln.get("severity")
    advisories = [v for v in vuln.get("via", []) if isinstance(v, dict)]
    cvss = max([float((v.get("cvss") or {}).get("score") or 0) for v in advisories] or [0])
    rule = f"npm-{name}"
    title = advisories[0].get("title") if advisories else None
    rules[rule] = {"id": rule, "name": name,
        "shortDescription": {"text": f"{name}: {title}" if title else f"{name} ({severity})"},
        "properties": {"security-severity": str(cvss) if cvss else score.get(severity, "8.0")}}
    results.append({"ruleId": rule,
        "message": {"text": f"{name} {vuln.get('range', '')} has a {severity} vulnerability"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "package-lock.json"}}}]})
json.dump({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "npm-audit",
    "rules": list(rules.values())}}, "results": results}]}, open(sys.argv[2], "w"))
"""


# Package caches kept on the build host between runs (CodeBuild local custom cache).
PACKAGE_CACHES = ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/uv/**/*"]


def test_buildspec(suite: Suite, runtimes: Runtimes | None = None) -> dict[str, Any]:
    """A test job, with the build's pinned language versions (build.runtimes)."""
    spec: dict[str, Any] = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": ["set -euo pipefail", *suite.commands]}},
        "cache": {"paths": list(PACKAGE_CACHES)},
    }
    versions = runtimes.runtime_versions() if runtimes is not None else {}
    if versions:
        spec["phases"] = {"install": {"runtime-versions": versions}, **spec["phases"]}
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


def environment_job_buildspec(job: EnvironmentJob) -> dict[str, Any]:
    """An environment's `before` or `tests` job; its JUnit files become the report group
    `{project}-junit`."""
    spec: dict[str, Any] = {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {"build": {"commands": ["set -euo pipefail", *job.commands]}},
        "cache": {"paths": list(PACKAGE_CACHES)},
    }
    if job.junit:
        spec["reports"] = {"junit": {"files": [job.junit], "file-format": "JUNITXML"}}
    return spec


def scan_buildspec(tool: ScanTool, *, image_archive: str | None = None) -> dict[str, Any]:
    """The buildspec of one scan. Container scans (trivy, syft) read IMAGE_URI from the build,
    or, for a pull request's build, which pushes nothing, the image archive (`image_archive`)
    in the build's output artifact, their input."""
    out = f"{RESULTS}/{tool}.sarif"
    if image_archive is not None and tool in IMAGE_SCANS:
        install, run = _ARCHIVE_SCANS[tool](out, image_archive)
    else:
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
        # No `|| test -s`: a failed run's partial output must fail the build, not reach the gate.
        # `--config auto` aborts when metrics are off (semgrep/semgrep#4047); p/default does not.
        [f"semgrep scan --config p/default --sarif --output {out} --metrics off"],
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
    return (
        [verified_install("gitleaks")],
        [f"gitleaks dir . --report-format sarif --report-path {out} --exit-code 0 --no-banner"],
    )


def _trivy(out: str) -> tuple[list[str], list[str]]:
    return (
        [verified_install("trivy")],
        [
            'test -n "${IMAGE_URI:-}" || { echo "conveyor: IMAGE_URI missing; trivy scans '
            'the image the build pushed" >&2; exit 1; }',
            f'trivy image --format sarif --output {out} --exit-code 0 --no-progress "$IMAGE_URI"',
        ],
    )


def _syft(out: str) -> tuple[list[str], list[str]]:
    sbom = f"{RESULTS}/sbom.spdx.json"
    return (
        [verified_install("syft")],
        [
            'test -n "${IMAGE_URI:-}" || { echo "conveyor: IMAGE_URI missing; syft inventories '
            'the image the build pushed" >&2; exit 1; }',
            f'syft scan "registry:$IMAGE_URI" --output spdx-json={sbom}',
            # An SBOM is an inventory, not findings: an empty SARIF keeps the gate's input whole.
            'echo \'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "syft"}}, '
            f'"results": []}}]}}\' > {out}',
        ],
    )


def _trivy_archive(out: str, archive: str) -> tuple[list[str], list[str]]:
    # `trivy image --input` reads an image from a tar archive:
    # https://trivy.dev/latest/docs/references/configuration/cli/trivy_image/
    quoted = shlex.quote(archive)
    return (
        [verified_install("trivy")],
        [
            f"test -s {quoted} || {{ echo 'conveyor: no {archive} in the build output; trivy "
            "scans the image the pull request built' >&2; exit 1; }",
            f"trivy image --format sarif --output {out} --exit-code 0 --no-progress "
            f"--input {quoted}",
        ],
    )


def _syft_archive(out: str, archive: str) -> tuple[list[str], list[str]]:
    # syft's `docker-archive:` source reads a `docker save`-format tarball:
    # https://github.com/anchore/syft#supported-sources
    sbom = f"{RESULTS}/sbom.spdx.json"
    quoted = shlex.quote(archive)
    return (
        [verified_install("syft")],
        [
            f"test -s {quoted} || {{ echo 'conveyor: no {archive} in the build output; syft "
            "inventories the image the pull request built' >&2; exit 1; }",
            f"syft scan docker-archive:{quoted} --output spdx-json={sbom}",
            'echo \'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "syft"}}, '
            f'"results": []}}]}}\' > {out}',
        ],
    )


_ARCHIVE_SCANS = {"trivy": _trivy_archive, "syft": _syft_archive}

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
