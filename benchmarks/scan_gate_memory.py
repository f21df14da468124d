"""Peak memory of the scan gate reading large SARIF reports (issue 17, defect 7).

Each case runs in a fresh Python process and reports its peak resident set size (ru_maxrss),
beside the same process that only imported the gate (the baseline every invocation pays).
The peer is the gate's previous reader: the whole report in memory, then `json.loads`.

    python benchmarks/scan_gate_memory.py            # a 48.7 MiB Trivy-shaped report
    python benchmarks/scan_gate_memory.py --mib 10   # smaller, faster

Cases: one report read whole (peer); one report read by the gate; one artifact holding four
such reports read by the gate the way a Lambda invocation does (spooled zip, one entry at a time).
The function's memory setting is `MEMORY_MB` in scan_gate/app.py; the script prints the margin.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CASE = r"""
import io, json, sys, zipfile
from conveyor.handlers.scan_gate import app
def peak_mib():
    # VmHWM: this process's own peak RSS (ru_maxrss would carry over the parent's from fork).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
case, path = sys.argv[1], sys.argv[2]
findings = 0
if case == "peer":
    raw = open(path, "rb").read()
    document = json.loads(raw.decode("utf-8-sig"))
    findings = sum(len(run.get("results") or []) for run in document["runs"])
elif case == "boto3":  # what a Lambda invocation adds before reading anything
    import boto3
    boto3.client("s3", region_name="us-east-1")
    boto3.client("codepipeline", region_name="us-east-1")
elif case in ("gate", "dense"):
    with open(path, "rb") as stream:
        findings = len(app.read_report(stream, "bench.sarif"))
elif case == "artifact":
    collected = app.Collected()
    with open(path, "rb") as spool, zipfile.ZipFile(spool) as archive:
        app._read_archive(archive, "ScanTrivy", collected)
    assert not collected.unreadable, collected.unreadable
    findings = len(collected.findings)
print(json.dumps({"peak_mib": peak_mib(), "findings": findings}))
"""


def trivy_shaped_report(target_bytes: int) -> bytes:
    """A report shaped like `trivy image --format sarif`: rules with help, results per package."""
    help_text = "Vulnerability details. " * 20
    rules, results = [], []
    index = 0
    size = 0.0
    unit = 0.0
    while size < target_bytes:
        cve = f"CVE-2025-{index:05d}"
        rules.append(
            {
                "id": cve,
                "name": "OsPackageVulnerability",
                "shortDescription": {"text": f"libexample: overflow in parser {index}"},
                "fullDescription": {"text": help_text},
                "defaultConfiguration": {"level": "error"},
                "helpUri": f"https://avd.aquasec.com/nvd/{cve.lower()}",
                "help": {"text": help_text, "markdown": f"**{cve}** {help_text}"},
                "properties": {
                    "precision": "very-high",
                    "security-severity": str(3 + index % 7),
                    "tags": ["vulnerability", "security", "HIGH"],
                },
            }
        )
        for package in range(3):
            results.append(
                {
                    "ruleId": cve,
                    "ruleIndex": index,
                    "level": "error",
                    "message": {
                        "text": f"Package: libexample{package}\nInstalled Version: 1.2.{package}\n"
                        f"Vulnerability {cve}\nSeverity: HIGH\nFixed Version: 1.2.9\n"
                        f"Link: [{cve}](https://avd.aquasec.com/nvd/{cve.lower()})"
                    },
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": f"usr/lib/libexample{package}.so",
                                    "uriBaseId": "ROOTPATH",
                                },
                                "region": {
                                    "startLine": 1,
                                    "startColumn": 1,
                                    "endLine": 1,
                                    "endColumn": 1,
                                },
                            },
                            "message": {"text": f"usr/lib/libexample{package}.so"},
                        }
                    ],
                }
            )
        if index == 0:
            unit = len(json.dumps([rules[0], *results], indent=2)) * 1.18  # deeper indentation
        index += 1
        size += unit
    log = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {"driver": {"name": "Trivy", "version": "0.72.0", "rules": rules}},
                "results": results,
                "columnKind": "utf16CodeUnits",
            }
        ],
    }
    return json.dumps(log, indent=2).encode()


def dense_report(results: int) -> bytes:
    """The most findings per byte a scanner writes: short results on one rule, no help text."""
    result = {
        "ruleId": "python.lang.security.audit.eval-detected",
        "level": "warning",
        "message": {"text": "Detected the use of eval()."},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "src/app/module_0000.py"},
                    "region": {"startLine": 10, "startColumn": 5},
                }
            }
        ],
    }
    run = {"tool": {"driver": {"name": "Semgrep OSS"}}, "results": [result] * results}
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


def measure(case: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CASE, case, str(path)], capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"case {case} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=48.7, help="size of one report")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from conveyor.handlers.scan_gate import app

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "trivy.sarif"
        report.write_bytes(trivy_shaped_report(int(args.mib * 1024 * 1024)))
        artifact = Path(tmp) / "artifact.zip"
        with zipfile.ZipFile(artifact, "w", zipfile.ZIP_DEFLATED) as archive:
            for n in range(4):
                archive.write(report, f"scan-results/trivy-{n}.sarif")
        size_mib = report.stat().st_size / 1024 / 1024
        dense = Path(tmp) / "dense.sarif"
        dense.write_bytes(dense_report(app.MAX_FINDINGS))
        baseline = subprocess.run(
            [sys.executable, "-c", CASE.split("case, path")[0] + _PRINT_BASELINE],
            capture_output=True,
            text=True,
            check=True,
        )
        base = json.loads(baseline.stdout)["peak_mib"]
        clients = measure("boto3", report)["peak_mib"]
        print(
            f"report: {size_mib:.1f} MiB Trivy-shaped SARIF; baseline: gate imported {base:.0f} "
            f"MiB, plus boto3 S3 and CodePipeline clients {clients:.0f} MiB"
        )
        peaks: dict[str, float] = {}
        print(f"{'case':<44}{'peak MiB':>10}{'findings':>10}{'vs peer':>9}")
        peer = 0.0
        for case, label, path in (
            ("peer", "peer: read whole + json.loads, 1 report", report),
            ("gate", "gate: read_report, 1 report", report),
            ("artifact", "gate: one artifact of 4 reports", artifact),
            ("peer", f"peer: {app.MAX_FINDINGS:,} short results (dense)", dense),
            ("dense", f"gate: {app.MAX_FINDINGS:,} short results (dense)", dense),
        ):
            result = measure(case, path)
            peaks[case] = result["peak_mib"]
            peer = result["peak_mib"] if case == "peer" else peer  # the same report, read whole
            print(
                f"{label:<44}{result['peak_mib']:>10.0f}{result['findings']:>10.0f}"
                f"{result['peak_mib'] / peer:>9.2f}"
            )
        worst = max(peaks["artifact"], peaks["dense"])
        budget = app.MEMORY_MB * 1e6 / 2**20
        print(
            f"function memory {app.MEMORY_MB} MB = {budget:.0f} MiB; worst case above plus the "
            f"boto3 clients ({worst + clients - base:.0f} MiB) uses "
            f"{(worst + clients - base) / budget:.0%} of it"
        )


_PRINT_BASELINE = "print(json.dumps({'peak_mib': peak_mib()}))"


if __name__ == "__main__":
    main()
