"""SARIF 2.1.0 for GitHub code scanning: one run, every rule with help text, one result per
finding with a file and line location; suppressed findings carry an in-source suppression.

GitHub matches an alert across runs by its rule and ``partialFingerprints``: a fingerprint shared
by two findings merges them into one alert, and a fingerprint that changes closes the alert and
opens a new one. So it names the file, the rule, the resource, the property path and the rule's
stable key for the finding (``Hit.key``: which check of several on one path), and never the
line (an edit above a finding must not make it a new alert) nor the message (CV090's one
finding per template lists the untagged resources: adding one must not re-open the alert).
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#preventing-duplicate-alerts-using-fingerprints
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from conveyor.rules.model import CheckResult, Finding, Rule, Severity, not_checked
from conveyor.rules.report.json import Encoded, dumps_indented

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.INFO: "note",
    Severity.LOW: "note",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "error",
    Severity.CRITICAL: "error",
}
# GitHub orders alerts by this 0-10 score; advice (info) has none, so it is no security alert.
SECURITY_SEVERITY = {
    Severity.LOW: "3.0",
    Severity.MEDIUM: "5.5",
    Severity.HIGH: "8.0",
    Severity.CRITICAL: "9.5",
}
# v3: the message left the identity (v2 hashed it).
FINGERPRINT = "conveyor/v3"
# Every rule's descriptor (_rule), written by ``python -m conveyor.rules.catalog`` (a test holds
# it to the rules): a report lists every rule, and reading them from here spares importing the
# hundred-odd rule modules a check of a few resource types never needs (a SARIF report of a
# Terraform plan was 3.5x loading the plan with json, against 2.6x for the text report).
DESCRIPTORS = Path(__file__).with_name("sarif_rules.json")


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
        # No helpUri: the rule pages ship in the source tree, not at a stable absolute URL, and
        # the schema requires an absolute URI (a relative one fails its `uri` format).
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": [
                "security" if rule.severity in SECURITY_SEVERITY else "maintainability",
                "cloudformation",
                *rule.failure_modes,
            ],
            "precision": "high" if "Heuristic" not in rule.doc else "medium",
        }
        | (
            {"security-severity": SECURITY_SEVERITY[rule.severity]}
            if rule.severity in SECURITY_SEVERITY
            else {}
        ),
    }


def _uri(file: str) -> str:
    """The file as a URI reference: relative to the working directory when it is inside it,
    percent-encoded (a space, '#', '%' or ':' as written is no URI reference, which the schema's
    format requires; code scanning decodes it back to the repository's path)."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    # The bytes on disk: a name that is not UTF-8 reaches Python with lone surrogates, which
    # quote() cannot encode (os.fsencode gives back the original bytes; the same for UTF-8).
    return quote(os.fsencode(path.as_posix()), safe="/")


def _fingerprint(f: Finding, uri: str, seen: dict[str, int]) -> str:
    identity = "\0".join((uri, f.rule, f.resource, f.path, f.key))
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    # Findings alike in every one of these (a rule that gives no key to two findings on one
    # path) still are distinct alerts: number the repeats, in the rule's order.
    seen[digest] = seen.get(digest, 0) + 1
    return f"{digest}:{seen[digest]}"


def _result(
    f: Finding, index: dict[str, int], seen: dict[str, int], uris: dict[str, str]
) -> dict[str, Any]:
    uri = uris.get(f.file)
    if uri is None:  # the findings of a file share its URI: made once (a path, a quote)
        uri = uris[f.file] = _uri(f.file)
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.resource}: {f.message}" if f.resource else f.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": max(1, f.line)},
                },
                "logicalLocations": [{"name": f.resource, "fullyQualifiedName": f.path}]
                if f.resource
                else [],
            }
        ],
        "partialFingerprints": {FINGERPRINT: _fingerprint(f, uri, seen)},
    }
    if f.reason:
        out["suppressions"] = [{"kind": "inSource", "justification": f.reason}]
    return out


def descriptors_source(rules: tuple[Rule, ...]) -> str:
    """The text of ``sarif_rules.json``: the descriptor of each of `rules` (every rule, in id
    order)."""
    return json.dumps([_rule(r) for r in rules], indent=2) + "\n"


def as_dict(result: CheckResult, rules: tuple[Rule, ...] | None = None) -> dict[str, Any]:
    """The report as SARIF's JSON object, listing `rules` (every rule when None)."""
    if rules is None:
        listed: list[dict[str, Any]] = json.loads(DESCRIPTORS.read_text(encoding="utf-8"))
    else:
        listed = [_rule(r) for r in rules]
    return _as_dict(result, [d["id"] for d in listed], listed)


def _as_dict(
    result: CheckResult, ids: list[str], described: list[dict[str, Any]] | Encoded
) -> dict[str, Any]:
    index = {rule_id: i for i, rule_id in enumerate(ids)}
    seen: dict[str, int] = {}
    uris: dict[str, str] = {}
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.file)}}}],
        }
        for e in result.errors
    ]
    # Resources of a Terraform plan or Pulumi stack no rule read: a "note" (not an error, so
    # the run stays successful), the way SARIF reports what a tool could not analyse
    # (invocation.toolExecutionNotifications, section 3.20.21; notification.level, 3.58.6:
    # https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/sarif-v2.1.0-errata01-os-complete.html).
    notifications += [
        {
            "level": "note",
            "message": {"text": f"{file}: {not_checked(types)}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(file)}}}],
            "properties": {"notChecked": dict(sorted(types.items()))},
        }
        for file, types in result.unchecked.items()
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "conveyor",
                        "semanticVersion": "0.1.0",
                        "rules": described,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": [
                    _result(f, index, seen, uris) for f in [*result.findings, *result.suppressed]
                ],
            }
        ],
    }


def render(result: CheckResult, rules: tuple[Rule, ...] | None = None) -> str:
    """The report as SARIF's text, listing `rules` (every rule when None: sarif_rules.json's
    text, written as it is, neither parsed nor encoded again)."""
    if rules is not None:
        return dumps_indented(as_dict(result, rules)) + "\n"
    from conveyor.rules.index import INDEX

    # The file lists every rule in id order (catalog.RULES); the index names every rule's id.
    ids = sorted(rule_id for rule_id, _ in INDEX.values())
    listed = Encoded(DESCRIPTORS.read_text(encoding="utf-8").removesuffix("\n"))
    return dumps_indented(_as_dict(result, ids, listed)) + "\n"
