"""The checker's vocabulary: severities, rules, hits and findings.

Everything here is plain data so results can cross process boundaries (``--jobs``) and be
serialised without adapters.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from conveyor.rules.hit import Hit as Hit
from conveyor.rules.plain import FrozenPlain, Plain

_set = object.__setattr__

if TYPE_CHECKING:
    from conveyor.rules.engine import Context
    from conveyor.rules.template import Resource


class Severity(enum.IntEnum):
    # Advice (a better design, not a defect): reported, never a reason to exit 1, whatever
    # --fail-on says.
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; use one of: {choices}") from None


ResourceCheck = Callable[["Resource", "Context"], Iterable[Hit]]
TemplateCheck = Callable[["Context"], Iterable[Hit]]


class Rule(FrozenPlain):
    """One rule. Either ``check`` (called per resource of ``resource_types``) or
    ``check_template`` (called once per template) is set. (A ``FrozenPlain``, not a dataclass:
    conveyor.rules.plain says why.)"""

    _FIELDS = (
        "id",
        "title",
        "severity",
        "resource_types",
        "failure_modes",
        "why",
        "fix_cloudformation",
        "fix_cdk",
        "fix_conveyor",
        "check",
        "check_template",
        "doc",
    )
    id: str
    title: str
    severity: Severity
    resource_types: tuple[str, ...]
    failure_modes: tuple[str, ...]
    why: str
    fix_cloudformation: str
    fix_cdk: str
    fix_conveyor: str
    check: ResourceCheck | None
    check_template: TemplateCheck | None
    # Filled by the catalog from the rule module's docstring (heuristics and their limits).
    doc: str

    def __init__(
        self,
        *,
        id: str,
        title: str,
        severity: Severity,
        resource_types: tuple[str, ...],
        failure_modes: tuple[str, ...],
        why: str,
        fix_cloudformation: str,
        fix_cdk: str,
        fix_conveyor: str,
        check: ResourceCheck | None = None,
        check_template: TemplateCheck | None = None,
        doc: str = "",
    ) -> None:
        _set(self, "id", id)
        _set(self, "title", title)
        _set(self, "severity", severity)
        _set(self, "resource_types", resource_types)
        _set(self, "failure_modes", failure_modes)
        _set(self, "why", why)
        _set(self, "fix_cloudformation", fix_cloudformation)
        _set(self, "fix_cdk", fix_cdk)
        _set(self, "fix_conveyor", fix_conveyor)
        _set(self, "check", check)
        _set(self, "check_template", check_template)
        _set(self, "doc", doc)

    @property
    def fix(self) -> str:
        return self.fix_cloudformation


class Finding(FrozenPlain):
    _FIELDS = (
        "rule",
        "severity",
        "file",
        "resource",
        "path",
        "line",
        "message",
        "fix",
        "failure_modes",
        "reason",
        "key",
    )
    __slots__ = _FIELDS
    rule: str
    severity: Severity
    file: str
    resource: str
    path: str
    line: int
    message: str
    fix: str
    failure_modes: tuple[str, ...]
    reason: str
    # The rule's discriminator between findings on one resource and path (Hit.key).
    key: str

    def __init__(
        self,
        rule: str,
        severity: Severity,
        file: str,
        resource: str,
        path: str,
        line: int,
        message: str,
        fix: str,
        failure_modes: tuple[str, ...],
        reason: str = "",
        key: str = "",
    ) -> None:
        _set(self, "rule", rule)
        _set(self, "severity", severity)
        _set(self, "file", file)
        _set(self, "resource", resource)
        _set(self, "path", path)
        _set(self, "line", line)
        _set(self, "message", message)
        _set(self, "fix", fix)
        _set(self, "failure_modes", failure_modes)
        _set(self, "reason", reason)
        _set(self, "key", key)

    def as_dict(self, *, with_reason: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity.label,
            "file": self.file,
            "resource": self.resource,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
            "failure_modes": list(self.failure_modes),
        }
        if with_reason:
            out["reason"] = self.reason
        return out


class FileError(FrozenPlain):
    _FIELDS = ("file", "message", "rule")
    __slots__ = _FIELDS
    file: str
    message: str
    rule: str

    def __init__(self, file: str, message: str, rule: str = "") -> None:
        _set(self, "file", file)
        _set(self, "message", message)
        _set(self, "rule", rule)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"file": self.file, "message": self.message}
        if self.rule:
            out["rule"] = self.rule
        return out


class FileResult(Plain):
    _FIELDS = ("file", "checked", "resources", "findings", "suppressed", "errors", "unchecked")
    __slots__ = _FIELDS
    file: str
    checked: bool
    resources: int
    findings: list[Finding]
    suppressed: list[Finding]
    errors: list[FileError]
    # Resources of the input no rule read, by type (Template.unchecked).
    unchecked: dict[str, int]

    def __init__(
        self,
        file: str,
        checked: bool = False,
        resources: int = 0,
        findings: list[Finding] | None = None,
        suppressed: list[Finding] | None = None,
        errors: list[FileError] | None = None,
        unchecked: dict[str, int] | None = None,
    ) -> None:
        self.file = file
        self.checked = checked
        self.resources = resources
        self.findings = [] if findings is None else findings
        self.suppressed = [] if suppressed is None else suppressed
        self.errors = [] if errors is None else errors
        self.unchecked = {} if unchecked is None else unchecked


class CheckResult(Plain):
    """What ``check_paths`` returns."""

    _FIELDS = ("findings", "suppressed", "errors", "files", "resources", "seconds", "unchecked")
    __slots__ = _FIELDS
    findings: list[Finding]
    suppressed: list[Finding]
    errors: list[FileError]
    files: int
    resources: int
    seconds: float
    # File -> type -> resources of that type no rule read (a Terraform or Pulumi type the
    # normalizer does not map): what "0 findings" did not cover.
    unchecked: dict[str, dict[str, int]]

    def __init__(
        self,
        findings: list[Finding] | None = None,
        suppressed: list[Finding] | None = None,
        errors: list[FileError] | None = None,
        files: int = 0,
        resources: int = 0,
        seconds: float = 0.0,
        unchecked: dict[str, dict[str, int]] | None = None,
    ) -> None:
        self.findings = [] if findings is None else findings
        self.suppressed = [] if suppressed is None else suppressed
        self.errors = [] if errors is None else errors
        self.files = files
        self.resources = resources
        self.seconds = seconds
        self.unchecked = {} if unchecked is None else unchecked

    def add(self, result: FileResult) -> None:
        if result.unchecked:
            self.unchecked[result.file] = result.unchecked
        self.findings.extend(result.findings)
        self.suppressed.extend(result.suppressed)
        self.errors.extend(result.errors)
        self.files += 1 if result.checked else 0
        self.resources += result.resources

    def exit_code(self, fail_on: Severity = Severity.MEDIUM) -> int:
        if self.errors:
            return 2
        threshold = max(fail_on, Severity.LOW)
        return 1 if any(f.severity >= threshold for f in self.findings) else 0


def not_checked(types: dict[str, int]) -> str:
    """``5 resources of 2 types not checked (no rule reads them): aws_vpc (3), aws_subnet (2)``:
    the part of a Terraform plan or Pulumi stack that "no findings" does not cover."""
    total = sum(types.values())
    listed = ", ".join(
        f"{t} ({n})" for t, n in sorted(types.items(), key=lambda item: (-item[1], item[0]))
    )
    resources = "resource" if total == 1 else "resources"
    kinds = "type" if len(types) == 1 else "types"
    return f"{total} {resources} of {len(types)} {kinds} not checked (no rule reads them): {listed}"
