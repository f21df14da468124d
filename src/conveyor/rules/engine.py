"""Run every rule over a template in one pass with resource-type dispatch.

A rule that raises is reported as an internal error of that rule for that file; the other rules
and files go on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cached_property
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from conveyor import lambda_runtimes
from conveyor.rules.bounds import MEMORY_LIMIT_MIB, TIME_LIMIT, Overtime
from conveyor.rules.model import FileError, FileResult, Finding, Hit, Rule
from conveyor.rules.plain import FrozenPlain
from conveyor.rules.relations import Relations
from conveyor.rules.suppression import suppressions
from conveyor.rules.template import Resource, Template, TemplateError

if TYPE_CHECKING:
    # A run of several templates only (runner.check_paths); a dataclass, 4 million
    # instructions to make, for every check that imports the engine.
    from conveyor.rules.deployed import Watch


class Options(FrozenPlain):
    """How a check runs (a ``FrozenPlain``, not a dataclass: conveyor.rules.plain says why)."""

    _FIELDS = (
        "ignore",
        "require_tags",
        "time_limit",
        "memory_limit",
        "input_kind",
        "deployed_alarms",
        "deployed_watches",
        "today",
    )
    ignore: frozenset[str]
    # Tag keys every taggable resource must carry (FM80); empty means "some tags at all".
    require_tags: tuple[str, ...]
    # Per file, reading and parsing included (see bounds.py).
    time_limit: float
    memory_limit: int
    # auto | terraform | pulumi | cloudformation (conveyor.rules.inputs)
    input_kind: str
    # The alarms the other stack templates of the run create, by file name (rules.deployed):
    # what a pipeline's CloudFormation action deploys, when its template was checked too.
    deployed_alarms: tuple[tuple[str, tuple[str, ...]], ...]
    # The deployments (deployment groups, ECS services) of those templates that watch alarms
    # or roll back on their own (rules.deployed.Watch), by file.
    deployed_watches: tuple[tuple[str, tuple[Watch, ...]], ...]
    # The day rules judge dates by (a runtime's deprecation, CV076): one per run, taken when
    # the run starts (UTC's date or CONVEYOR_TODAY), the same in every worker process.
    today: date

    def __init__(
        self,
        ignore: frozenset[str] = frozenset(),
        require_tags: tuple[str, ...] = (),
        time_limit: float = TIME_LIMIT,
        memory_limit: int = MEMORY_LIMIT_MIB,
        input_kind: str = "auto",
        deployed_alarms: tuple[tuple[str, tuple[str, ...]], ...] = (),
        deployed_watches: tuple[tuple[str, tuple[Watch, ...]], ...] = (),
        today: date | None = None,
    ) -> None:
        _set = object.__setattr__
        _set(self, "ignore", ignore)
        _set(self, "require_tags", require_tags)
        _set(self, "time_limit", time_limit)
        _set(self, "memory_limit", memory_limit)
        _set(self, "input_kind", input_kind)
        _set(self, "deployed_alarms", deployed_alarms)
        _set(self, "deployed_watches", deployed_watches)
        _set(self, "today", lambda_runtimes.today() if today is None else today)


class Context:
    """What a rule gets besides the resource: the template, its relations and the options."""

    def __init__(self, template: Template, options: Options) -> None:
        self.template = template
        self.options = options
        self.relations = Relations(template)
        self.params = template.parameters
        self.today = options.today
        self._text: dict[str, str] = {}
        self._memo: dict[str, Any] = {}

    def resource(self, lid: str | None) -> Resource | None:
        return self.template.resources.get(lid) if lid else None

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, worked out once per template and shared by every call of a rule: an
        index over all resources keeps a per-resource rule linear (not resources x resources)."""
        if key not in self._memo:
            self._memo[key] = build()
        value: T = self._memo[key]
        return value

    def text(self, lid: str) -> str:
        """The resource's properties as one string, to screen cheaply before walking them."""
        cached = self._text.get(lid)
        if cached is None:
            res = self.template.resources[lid]
            cached = _ENCODE(res.properties)
            self._text[lid] = cached
        return cached


T = TypeVar("T")


def _encoder() -> Callable[[Any], str]:
    """``json.dumps(value, default=str)``, without what it does on every call: build a new C
    encoder (``JSONEncoder.iterencode``) and track the containers it is in to detect a cycle.
    One encoder serves every call; a resource's properties hold no cycle (the relations index,
    built before any rule runs, refuses nesting deeper than ``template.MAX_DEPTH``, which a
    cycle is). A third of ``text``'s time on a 1,000-resource plan
    (benchmarks/check_terraform_plan.py). Python without the C encoder: the public one."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(default=str, check_circular=False).encode
    # The arguments JSONEncoder.iterencode passes (CPython 3.11 to 3.13): no markers, the
    # default, the ASCII string encoder, no indent, ": " and ", ", unsorted, no skipped keys,
    # NaN allowed.
    chunks = make(
        None, str, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True
    )

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_ENCODE = _encoder()


class RuleSet:
    """The rules a check runs, by the resource type their check reads (``*``: every type), and
    those that check the whole template; in id order, the order their findings are placed in.
    ``runner.default_rules`` is the catalog's lazy set (``catalog.CatalogRules``): it imports a
    rule's module the first time a template holds one of its types."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = list(rules)
        self.by_type: dict[str, list[Rule]] = {}
        self.template_rules: list[Rule] = []
        for rule in self._rules:
            if rule.check_template is not None:
                self.template_rules.append(rule)
            if rule.check is not None:
                for rtype in rule.resource_types:
                    self.by_type.setdefault(rtype, []).append(rule)

    @property
    def rules(self) -> Sequence[Rule]:
        return self._rules

    def for_type(self, rtype: str) -> list[Rule]:
        """The rules whose check reads resources of ``rtype`` (not the ``*`` ones)."""
        return self.by_type.get(rtype, [])

    @cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.rules)


def check_template(
    template: Template, rules: RuleSet, options: Options, *, deadline: float | None = None
) -> FileResult:
    """Findings of every rule on template. ``deadline`` (``time.monotonic()``) defaults to
    ``options.time_limit`` from now; past it the findings so far are kept and an error says so."""
    result = FileResult(
        file=template.file,
        checked=True,
        resources=len(template.resources),
        unchecked=template.unchecked,
    )
    result.errors.extend(
        FileError(template.file, f"{template.file}: {p}") for p in template.problems
    )
    try:
        ctx = Context(template, options)
    except TemplateError as exc:
        result.errors.append(FileError(template.file, f"{template.file}: {exc}"))
        return result
    hits: list[tuple[Rule, Hit]] = []
    if deadline is None:
        deadline = time.monotonic() + options.time_limit
    wildcard = rules.for_type("*")
    # The rules to run per resource type, --ignore applied: worked out once per type, not once
    # per resource.
    active: dict[str, list[Rule]] = {}
    done = 0
    try:
        for res in template.resources.values():
            if time.monotonic() > deadline:
                raise Overtime
            for_type = active.get(res.type)
            if for_type is None:
                for_type = active[res.type] = [
                    rule
                    for rule in rules.for_type(res.type) + wildcard
                    if rule.id not in options.ignore and rule.check is not None
                ]
            for rule in for_type:
                # _run's work inline: this runs once per rule per resource.
                try:
                    for hit in rule.check(res, ctx):  # type: ignore[misc]
                        hits.append((rule, hit))
                except Exception as exc:  # a rule bug must not stop the other rules or files
                    _internal_error(rule, res, ctx, result, exc)
            done += 1
    except Overtime:  # the deadline passed (the timer or the check above): keep what was found
        _stopped(result, options, f"after {done:,} of {len(template.resources):,} resources")
    for rule in rules.template_rules:
        if rule.id in options.ignore or rule.check_template is None:
            continue
        if time.monotonic() > deadline:
            _stopped(result, options, f"before rule {rule.id}")
            break
        try:
            _run(rule, None, ctx, hits, result)
        except Overtime:
            _stopped(result, options, f"in rule {rule.id}")
            break
    try:
        _place(hits, template, rules, result)
    except Overtime:
        _stopped(result, options, f"after placing {len(result.findings):,} findings")
    return result


def _stopped(result: FileResult, options: Options, where: str) -> None:
    result.errors.append(
        FileError(
            result.file,
            f"{result.file}: checking stopped {where}: over the limit of "
            f"{options.time_limit:g} s per file (--time-limit); the findings shown are "
            "incomplete: "
            # 500 resources per stack:
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
            "split the template (CloudFormation accepts 500 resources per stack)",
        )
    )


def _run(
    rule: Rule,
    res: Resource | None,
    ctx: Context,
    hits: list[tuple[Rule, Hit]],
    result: FileResult,
) -> None:
    try:
        if res is not None and rule.check is not None:
            found = rule.check(res, ctx)
        elif res is None and rule.check_template is not None:
            found = rule.check_template(ctx)
        else:
            return
        for hit in found:
            hits.append((rule, hit))
    except Exception as exc:  # a rule bug must not stop the other rules or files
        _internal_error(rule, res, ctx, result, exc)


def _internal_error(
    rule: Rule, res: Resource | None, ctx: Context, result: FileResult, exc: Exception
) -> None:
    where = f" on resource {res.logical_id}" if res is not None else ""
    result.errors.append(
        FileError(
            ctx.template.file,
            f"internal error in rule {rule.id}{where}: {type(exc).__name__}: {exc} "
            "(a bug in conveyor: please report it with the template)",
            rule=rule.id,
        )
    )


def _place(
    hits: Iterable[tuple[Rule, Hit]], template: Template, rules: RuleSet, result: FileResult
) -> None:
    top = {s.rule: s.reason for s in suppressions(template.data.get("Metadata")) if s.valid}
    resources = template.resources
    file = template.file
    # Worked out once per resource, not once per finding: where it lives as text and the rules
    # its metadata suppresses (none without metadata); and the line of each path a rule reported.
    owners: dict[str, tuple[str, dict[str, str]]] = {}
    lines: dict[tuple[str, str], int] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for rule, hit in hits:
        rule_id = rule.id
        key = (rule_id, hit.resource, hit.path, hit.message)
        if key in seen:
            continue
        seen.add(key)
        res = resources.get(hit.resource) if hit.resource else None
        reason = ""
        if res is not None:
            lid = res.logical_id
            line = lines.get((lid, hit.path))
            if line is None:
                line = lines[lid, hit.path] = template.resource_line(res, hit.path)
            owner = owners.get(lid)
            if owner is None:
                metadata = res.data.get("Metadata")
                owner = owners[lid] = (
                    ".".join(map(str, res.path)),
                    {s.rule: s.reason for s in suppressions(metadata) if s.valid}
                    if metadata
                    else _NO_SUPPRESSIONS,
                )
            prefix, suppressed_by = owner
            path = f"{prefix}.{hit.path}" if hit.path else prefix
            if rule_id != "CV000" and suppressed_by:
                reason = suppressed_by.get(rule_id, "")
        else:
            parts = tuple(int(p) if p.isdigit() else p for p in hit.path.split(".") if p)
            line = template.line(parts) if parts else 1
            path = hit.path
        if not reason and top and rule_id != "CV000":
            reason = top.get(rule_id, "")
        finding = Finding(
            rule_id,
            rule.severity,
            file,
            hit.resource,
            path,
            line,
            hit.message,
            rule.fix_cloudformation,
            rule.failure_modes,
            reason.strip() if reason else "",
            hit.key,
        )
        (result.suppressed if reason else result.findings).append(finding)
    result.findings.sort(key=_BY_LINE)
    result.suppressed.sort(key=_BY_LINE)


_NO_SUPPRESSIONS: dict[str, str] = {}
# (line, rule, resource): the order findings are reported in.
_BY_LINE = attrgetter("line", "rule", "resource")
