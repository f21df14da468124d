"""JSON documents held as text inside a template or plan (policies, lifecycle policies), parsed
by the C scanner directly.

``json.loads`` of a short document is mostly its wrapper, not the parse: a type test, a test
for a byte-order mark, two regular-expression matches for the whitespace around the value and
the method calls between them; for the 400 policies of a 1,000-resource Terraform plan that
was 3.4M instructions of 9.3M (benchmarks/check_terraform_plan.py). A document that begins
and ends with its value (what ``jsonencode``, ``json.dumps`` and ``JSON.stringify`` write) is
parsed by the scanner alone; any other text goes through ``json.loads``, so the result, and
the error for text that is not JSON, are json's own.
"""

from __future__ import annotations

import json
from json.scanner import make_scanner
from typing import Any

# The C scanner json.loads itself uses (the Python one where the C accelerator is missing).
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed names the class


def loads(text: str) -> Any:
    """``json.loads(text)``."""
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)  # whitespace or a byte-order mark first, or not JSON
    if end != len(text):
        return json.loads(text)  # whitespace or more after the value
    return value
