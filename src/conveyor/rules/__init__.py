"""conveyor's checker: CloudFormation templates in, findings about pipeline failure modes out.

Public API::

    from conveyor.rules import check_paths, check_text
    result = check_paths(["cdk.out"], require_tags=["App", "Environment"])
    for finding in result.findings:
        print(finding.rule, finding.resource, finding.line, finding.message)

Never imports aws_cdk, and nothing from the rest of conveyor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conveyor.rules.model import CheckResult, FileError, Finding, Rule, Severity

if TYPE_CHECKING:
    from conveyor.rules.runner import check_paths, check_text


def __getattr__(name: str) -> Any:
    # The runner loads the parser and every rule; `conveyor --help` (which imports the check
    # command, and so this package) should not pay for them.
    if name in {"check_paths", "check_text"}:
        from conveyor.rules import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'conveyor.rules' has no attribute {name!r}")


__all__ = [
    "CheckResult",
    "FileError",
    "Finding",
    "Rule",
    "Severity",
    "check_paths",
    "check_text",
]
