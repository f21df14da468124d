"""conveyor's checker: CloudFormation templates in, findings about pipeline failure modes out.

Public API::

    from conveyor.rules import check_paths, check_text
    result = check_paths(["cdk.out"], require_tags=["App", "Environment"])
    for finding in result.findings:
        print(finding.rule, finding.resource, finding.line, finding.message)

Never imports aws_cdk, and nothing from the rest of conveyor.
"""

from __future__ import annotations

from conveyor.rules.model import CheckResult, FileError, Finding, Rule, Severity
from conveyor.rules.runner import check_paths, check_text

__all__ = [
    "CheckResult",
    "FileError",
    "Finding",
    "Rule",
    "Severity",
    "check_paths",
    "check_text",
]
