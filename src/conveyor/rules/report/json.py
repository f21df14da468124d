"""The ``--format json`` contract (version 1): one object, stable keys, parsed by other tools."""

from __future__ import annotations

import json
from typing import Any

from conveyor.rules.model import CheckResult

VERSION = 1


def as_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "version": VERSION,
        "findings": [f.as_dict() for f in result.findings],
        "suppressed": [f.as_dict(with_reason=True) for f in result.suppressed],
        "errors": [e.as_dict() for e in result.errors],
        "summary": {
            "files": result.files,
            "resources": result.resources,
            "findings": len(result.findings),
            "seconds": round(result.seconds, 3),
        },
    }


def render(result: CheckResult) -> str:
    return json.dumps(as_dict(result), indent=2) + "\n"
