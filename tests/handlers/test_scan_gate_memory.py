"""The scan gate's memory follows the findings it keeps, not the size of the reports (issue 17,
defect 7). Measured with tracemalloc (allocations, not time); benchmarks/scan_gate_memory.py
measures the process peak against the function's memory setting."""

from __future__ import annotations

import io
import json
import tracemalloc
from typing import Any

import pytest

from conveyor.handlers.scan_gate import app


def _trivy_shaped(rules: int) -> bytes:
    help_text = "Vulnerability details. " * 20
    log: dict[str, Any] = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Trivy",
                        "rules": [
                            {
                                "id": f"CVE-2025-{i:05d}",
                                "shortDescription": {"text": f"overflow in parser {i}"},
                                "fullDescription": {"text": help_text},
                                "help": {"text": help_text, "markdown": help_text},
                                "properties": {"security-severity": "7.5"},
                            }
                            for i in range(rules)
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f"CVE-2025-{i:05d}",
                        "ruleIndex": i,
                        "level": "error",
                        "message": {"text": f"Package: libexample\nVulnerability {i}\n" * 4},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "usr/lib/libexample.so"},
                                    "region": {"startLine": 1},
                                }
                            }
                        ],
                    }
                    for i in range(rules)
                ],
            }
        ],
    }
    return json.dumps(log, indent=2).encode()


def _peak_reading(raw: bytes) -> int:
    tracemalloc.start()
    try:
        findings = app.parse_sarif(raw, "trivy.sarif")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {f.severity for f in findings} == {"high"}
    return peak


def test_memory_does_not_grow_with_the_report_like_the_report_does() -> None:
    small, large = _trivy_shaped(2000), _trivy_shaped(4000)  # about 4.7 and 9.4 MiB

    growth = _peak_reading(large) - _peak_reading(small)

    # Decoding whole documents grew by about four times the extra size; read one value at a
    # time, only the findings and the rule table (descriptions trimmed) grow.
    assert growth < len(large) - len(small), f"grew {growth / 2**20:.1f} MiB"


def test_more_findings_than_the_gate_can_hold_make_the_report_unreadable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "MAX_FINDINGS", 3999)

    with pytest.raises(app.GateError) as error:
        app.read_report(io.BytesIO(_trivy_shaped(4000)), "trivy.sarif", app.MAX_FINDINGS)

    assert str(error.value) == (
        "trivy.sarif: runs[0].results holds more findings than the gate can hold in memory "
        "(3,999 left of its limit); fix or allow-list findings, or split the scan"
    )
