"""SARIF 2.1.0 for GitHub code scanning: one run, every rule with help text, one result per
finding with a file and line location; suppressed findings carry an in-source suppression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conveyor.rules.model import CheckResult, Finding, Rule, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.LOW: "note",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "error",
    Severity.CRITICAL: "error",
}
# GitHub orders alerts by this 0-10 score.
SECURITY_SEVERITY = {
    Severity.LOW: "3.0",
    Severity.MEDIUM: "5.5",
    Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
}
DOCS = "docs/rules/{id}.md"


def _rule(rule: Rule) -> dict[str, Any]:
    help_text = (
        f"{rule.why}\n\nFix (CloudFormation): {rule.fix_cloudformation}\nFix (CDK): {rule.fix_cdk}"
    )
    return {
        "id": rule.id,
        "name": "".join(
            w.capitalize() for w in rule.title.replace("/", " ").split() if w.isalnum()
        ),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.doc or rule.title},
        "help": {"text": help_text, "markdown": help_text.replace("\n", "  \n")},
        "helpUri": DOCS.format(id=rule.id),
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", "cloudformation", *rule.failure_modes],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "high" if "Heuristic" not in rule.doc else "medium",
        },
    }


def _uri(file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.resource}: {f.message}" if f.resource else f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(f.file)},
                    "region": {"startLine": max(1, f.line)},
                },
                "logicalLocations": [{"name": f.resource, "fullyQualifiedName": f.path}]
                if f.resource
                else [],
            }
        ],
        "partialFingerprints": {"conveyor/v1": f"{f.rule}:{f.resource}:{f.path}"},
    }
    if f.reason:
        out["suppressions"] = [{"kind": "inSource", "justification": f.reason}]
    return out


def as_dict(result: CheckResult, rules: tuple[Rule, ...]) -> dict[str, Any]:
    index = {r.id: i for i, r in enumerate(rules)}
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.file)}}}],
        }
        for e in result.errors
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "conveyor",
                        "informationUri": "https://github.com/conveyor/conveyor",
                        "semanticVersion": "0.1.0",
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [_result(f, index) for f in [*result.findings, *result.suppressed]],
            }
        ],
    }


def render(result: CheckResult, rules: tuple[Rule, ...]) -> str:
    return json.dumps(as_dict(result, rules), indent=2) + "\n"
