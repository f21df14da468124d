"""Read a SARIF 2.1.0 log one value at a time and turn its results into findings (FM75).

Memory follows the largest single value the walk decodes (one result, one rule, at most
MAX_VALUE_CHARS; values the gate does not read are walked, never built), not the size of the
report: `json.loads` of a 48.7 MiB report peaked at 311 MiB (issue 17, defect 7). The walk uses
the standard library's C decoder (`JSONDecoder.raw_decode`) for each value, so it needs nothing
outside the Lambda runtime.

The reader fails closed: anything it cannot read as a finished scan raises `UnreadableError` with
the JSON path, never an empty list. The SARIF rules it relies on, from the OASIS SARIF 2.1.0
standard
(https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html):
- 3.14.23 `run.results`: absent or null means the tool did not run or failed; `[]` means it ran
  and found nothing.
- 3.20.14 `invocation.executionSuccessful` (required): false means the tool failed.
- 3.27.9 `result.kind` and 3.27.10 `result.level`: closed sets of values.
- 3.35.3 `suppression.status`: "accepted", "underReview" or "rejected".
Severity follows GitHub code scanning's `security-severity` property, a score from 0.0 to 10.0
(https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

SEVERITIES = ("low", "medium", "high", "critical")
# Secret scanners emit results without a level, which SARIF reads as "warning" (medium): a
# leaked credential would then pass a high or critical gate.
SECRET_SCANNERS = frozenset({"gitleaks", "trufflehog", "detect-secrets"})
LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}
# "open" and "review" are results the tool could not settle: a person must, so they count.
COUNTED_KINDS = frozenset({"fail", "open", "review"})
SKIPPED_KINDS = frozenset({"pass", "notApplicable", "informational"})
SUPPRESSION_STATUSES = frozenset({"accepted", "underReview", "rejected"})
CHUNK_CHARS = 1 << 18
# The longest single value (one result, one rule, one skipped string) decoded whole. A text with
# one character outside Latin-1 takes 4 bytes a character in Python, and the window and the
# decoded copy are both held: 16 Mi characters stay under 200 MiB, where one 49.6 MiB result
# peaked at 465 MiB of the function's 512 MB (issue 17 review).
MAX_VALUE_CHARS = 16 * 1024 * 1024
TITLE_CHARS = 140
KEPT_CHARS = 200  # of a description or message: enough for a title, and rules stay small
_WHITESPACE = re.compile(r"[ \t\r\n]*")


class UnreadableError(Exception):
    """The report is not a finished scan the gate can read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Finding:
    tool: str
    rule: str
    severity: str
    title: str
    path: str | None = None
    line: int | None = None
    report: str | None = None

    def where(self) -> str:
        if not self.path:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


# ---------------------------------------------------------------------------------------------
# A JSON text read from a stream in chunks.


def _duplicate(key: str, where: str) -> UnreadableError:
    # RFC 8259 section 4: with duplicate names "the behavior of software that receives such an
    # object is unpredictable" (https://www.rfc-editor.org/rfc/rfc8259#section-4). Python keeps
    # the last one, so a second "results": [] or "kind": "pass" would hide a finding.
    return UnreadableError(
        f"is not valid JSON for the gate: key {key!r} appears twice {where}, so readers "
        "disagree on its value; write each key once"
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in pairs:
        if key in decoded:
            raise _duplicate(key, "in one object")
        decoded[key] = value
    return decoded


def _too_long() -> UnreadableError:
    return UnreadableError(
        f"is not valid JSON for the gate: a single value is longer than {MAX_VALUE_CHARS:,} "
        "characters (the gate decodes each result and rule whole); shorten or split the report"
    )


class JsonStream:
    """Walks objects and arrays by hand and decodes every other value whole."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._text = ""
        self._pos = 0
        self._eof = False
        self._decoder = json.JSONDecoder(object_pairs_hook=_unique_keys)

    def _read_more(self, at_least: int) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(max(CHUNK_CHARS, at_least))
        if not chunk:
            self._eof = True
            return False
        self._text = self._text[self._pos :] + chunk
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace, or "" at the end of the text."""
        while True:
            match = _WHITESPACE.match(self._text, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._text):
                return self._text[self._pos]
            if not self._read_more(0):
                return ""

    def _take(self, expected: str, where: str) -> None:
        found = self.peek()
        if found != expected:
            raise UnreadableError(f"is not valid JSON: expected {expected!r} in {where}")
        self._pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as exc:
                if len(self._text) - self._pos > MAX_VALUE_CHARS:
                    raise _too_long() from exc
                # Part of the value may still be unread; doubling the window keeps retries linear.
                if self._read_more(len(self._text) - self._pos):
                    continue
                raise UnreadableError(f"is not valid JSON ({exc.msg})") from exc
            except RecursionError as exc:
                # The C decoder recurses once per level of nesting; a hostile report must be
                # one unreadable report, not a crash that names none (issue 17 review).
                raise UnreadableError(
                    "is not valid JSON for the gate: a value is nested too deeply to read"
                ) from exc
            except ValueError as exc:
                # int() refuses more than 4,300 digits (sys.get_int_max_str_digits):
                # https://docs.python.org/3/library/stdtypes.html#int-max-str-digits
                raise UnreadableError(
                    "is not valid JSON for the gate: a number has more digits than Python "
                    "reads (4,300)"
                ) from exc
            # A number that ends with the window may go on in the next chunk.
            if end == len(self._text) and self._read_more(len(self._text) - self._pos):
                continue
            if end - self._pos > MAX_VALUE_CHARS:
                raise _too_long()
            self._pos = end
            return value

    def skip(self) -> None:
        """Pass over the next value without building it. Properties the gate does not read
        (run.artifacts, notifications, ...) can hold most of a report, and decoded whole they
        outgrew the function (issue 17 review: 571 MiB for a 49 MiB report). Containers are
        walked with a stack, not recursion, so depth costs nothing; scalars are decoded, so
        the value must still be JSON."""
        where = "a value the gate skips"
        closers: list[str] = []
        while True:
            opener = self.peek()
            if opener in ("{", "["):
                self._pos += 1
                closer = "}" if opener == "{" else "]"
                if self.peek() == closer:
                    self._pos += 1
                else:
                    closers.append(closer)
                    if closer == "}":
                        self._key(where)
                    continue
            else:
                self.value()
            while closers:
                if self.peek() == closers[-1]:
                    self._pos += 1
                    closers.pop()
                    continue
                self._take(",", where)
                if closers[-1] == "}":
                    self._key(where)
                break
            if not closers:
                return

    def _key(self, where: str) -> str:
        key = self.value()
        if not isinstance(key, str):
            raise UnreadableError(f"is not valid JSON: a key in {where} is not a string")
        self._take(":", where)
        return key

    def members(self, where: str) -> Iterator[str]:
        """The keys of the object that comes next; the caller reads or skips each value."""
        self._take("{", where)
        if self.peek() == "}":
            self._pos += 1
            return
        seen: set[str] = set()
        while True:
            key = self._key(where)
            if key in seen:
                raise _duplicate(key, f"in {where}")
            seen.add(key)
            yield key
            if self.peek() == "}":
                self._pos += 1
                return
            self._take(",", where)

    def items(self, where: str) -> Iterator[int]:
        """The indexes of the array that comes next; the caller reads or skips each value."""
        self._take("[", where)
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            if self.peek() == "]":
                self._pos += 1
                return
            self._take(",", where)

    def end(self) -> None:
        if self.peek():
            raise UnreadableError("is not valid JSON: there is more text after the log")


# ---------------------------------------------------------------------------------------------
# Severity.


def severity_from_score(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


def _score(properties: object, where: str) -> float | None:
    if not isinstance(properties, Mapping) or properties.get("security-severity") is None:
        return None
    value = properties["security-severity"]
    try:
        score = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        score = math.nan
    if isinstance(value, bool) or not 0.0 <= score <= 10.0:  # NaN compares false
        raise UnreadableError(
            f"{where}.properties.security-severity is {value!r}, not a score from 0.0 to 10.0"
        )
    return score


def _level(container: Mapping[str, Any], where: str) -> str | None:
    level = container.get("level")
    # Not a string: a list or object would not even hash for the lookup (a crash, not a message).
    if level is not None and (not isinstance(level, str) or level not in LEVELS):
        raise UnreadableError(f"{where}.level is {level!r}; SARIF levels are {', '.join(LEVELS)}")
    return level


def classify(result: Mapping[str, Any], rule: Mapping[str, Any], tool: str) -> str:
    """The severity of a result: its own score, its rule's score, its level, its rule's level."""
    # Levels are checked even where a score decides: an unknown level is unreadable either way.
    level = _level(result, "result")
    rule_level = _level(_map(rule.get("defaultConfiguration")), "rule.defaultConfiguration")
    score = _score(result.get("properties"), "result")
    if score is None:
        score = _score(rule.get("properties"), "rule")
    if score is not None:
        return severity_from_score(score)
    if level is None:
        level = rule_level
    if level is None and tool.lower() in SECRET_SCANNERS:
        return "critical"
    return LEVELS[level or "warning"]


# ---------------------------------------------------------------------------------------------
# The walk over a log.


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    text = _map(value).get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise UnreadableError(f"{where} is not an object")
    return value


def _array(stream: JsonStream, where: str) -> Iterator[int]:
    if stream.peek() == "{":
        stream.skip()  # an object may be most of the report: not built only to be named
        raise UnreadableError(f"{where} is an object, not a list")
    if stream.peek() != "[":
        found = stream.value()
        raise UnreadableError(f"{where} is {json.dumps(found)[:40]}, not a list")
    return stream.items(where)


def read_findings(stream: IO[str], report: str, limit: int) -> list[Finding]:
    """Every finding of a SARIF log read from `stream`; `UnreadableError` when it is not one.

    More than `limit` findings is refused as they are read, before they outgrow the memory.
    """
    log = JsonStream(stream)
    if log.peek() != "{":
        log.skip()
        raise UnreadableError("is not a SARIF log: it is not a JSON object")
    findings: list[Finding] = []
    runs = -1
    for key in log.members("the log"):
        if key != "runs":
            log.skip()
            continue
        runs = 0
        for index in _array(log, "runs"):
            findings += _read_run(log, f"runs[{index}]", report, limit - len(findings))
            runs += 1
    log.end()
    if runs < 0:
        raise UnreadableError("is not a SARIF log: it has no 'runs' list")
    if runs == 0:
        raise UnreadableError(
            "has no runs ('runs' is empty): no tool reported, so nothing was scanned"
        )
    return findings


def _read_run(log: JsonStream, where: str, report: str, limit: int) -> list[Finding]:
    if log.peek() != "{":
        log.skip()
        raise UnreadableError(f"{where} is not an object")
    tool: _Tool | None = None
    results: list[Finding | Mapping[str, Any]] | None = None
    for key in log.members(where):
        if key == "tool":
            tool = _Tool(*_read_tool(log, f"{where}.tool"), report=report)
        elif key == "results":
            results = _read_results(log, f"{where}.results", limit, tool)
        elif key == "invocations":
            _read_invocations(log, f"{where}.invocations")
        else:
            log.skip()
    if tool is None:
        raise UnreadableError(f"{where} has no 'tool': it does not say which scanner wrote it")
    if results is None:
        # SARIF 3.14.23: absent or null results mean the tool did not run or failed.
        raise UnreadableError(
            f"{where}.results is missing or null: SARIF says {tool.name} did not run or failed; "
            "fix the scan step so it completes"
        )
    return [r if isinstance(r, Finding) else tool.finding(r) for r in results]


class _Tool:
    """A run's tool: its name and its rules by position and by id."""

    def __init__(
        self,
        name: str,
        rules: list[Mapping[str, Any]],
        extensions: list[list[Mapping[str, Any]]],
        report: str,
    ) -> None:
        self.name, self.rules, self.extensions, self.report = name, rules, extensions, report
        self.by_id = {str(r["id"]): r for r in rules if r.get("id") is not None}
        for extension in extensions:
            for rule in extension:
                self.by_id.setdefault(str(rule.get("id")), rule)

    def finding(self, result: Mapping[str, Any]) -> Finding:
        return _finding(result, self.name, self._rules_of(result), self.by_id, self.report)

    def _rules_of(self, result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The rules a result's index points into: the driver's, or, when the result names a
        tool component (SARIF 3.52.7 `reportingDescriptorReference.toolComponent`), that
        extension's. Indexing the driver's rules then would pick another rule's severity."""
        component = _map(result.get("rule")).get("toolComponent")
        if component is None:
            return self.rules
        index = _map(component).get("index")
        if (
            isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < len(self.extensions)
        ):
            return self.extensions[index]
        return []  # a component named otherwise: find the rule by its id


def _read_tool(
    log: JsonStream, where: str
) -> tuple[str, list[Mapping[str, Any]], list[list[Mapping[str, Any]]]]:
    name = "unknown tool"
    rules: list[Mapping[str, Any]] = []
    extensions: list[list[Mapping[str, Any]]] = []
    if log.peek() != "{":
        log.skip()
        raise UnreadableError(f"{where} is not an object")
    for key in log.members(where):
        if key == "driver":
            name, rules = _read_component(log, f"{where}.driver")
        elif key == "extensions":
            for index in _array(log, f"{where}.extensions"):
                extensions.append(_read_component(log, f"{where}.extensions[{index}]")[1])
        else:
            log.skip()
    return name, rules, extensions


def _read_component(log: JsonStream, where: str) -> tuple[str, list[Mapping[str, Any]]]:
    name = "unknown tool"
    rules: list[Mapping[str, Any]] = []
    if log.peek() != "{":
        log.skip()
        raise UnreadableError(f"{where} is not an object")
    for key in log.members(where):
        if key == "rules":
            rules = [
                _rule_essentials(_object(log.value(), f"{where}.rules[{index}]"))
                for index in _array(log, f"{where}.rules")
            ]
        elif key == "name":
            value = log.value()
            name = value if isinstance(value, str) and value else name
        else:
            log.skip()
    return name, rules


def _read_results(
    log: JsonStream, where: str, limit: int, tool: _Tool | None
) -> list[Finding | Mapping[str, Any]] | None:
    """Findings, or what a finding needs when the tool and its rules come later in the run."""
    if log.peek() == "n":
        log.value()  # null: the tool did not run (3.14.23)
        return None
    kept: list[Finding | Mapping[str, Any]] = []
    for index in _array(log, where):
        result = _result_essentials(_object(log.value(), f"{where}[{index}]"), f"{where}[{index}]")
        if result is not None:
            kept.append(tool.finding(result) if tool else result)
        if len(kept) > limit:
            raise UnreadableError(
                f"{where} holds more findings than the gate can hold in memory ({limit:,} "
                "left of its limit); fix or allow-list findings, or split the scan"
            )
    return kept


def _read_invocations(log: JsonStream, where: str) -> None:
    # Walked, not decoded whole: toolExecutionNotifications can log every file a tool saw.
    if log.peek() != "[":
        log.skip()
        raise UnreadableError(f"{where} is not a list")
    for index in log.items(where):
        if log.peek() != "{":
            log.skip()
            raise UnreadableError(f"{where}[{index}] is not an object")
        success = None
        for key in log.members(f"{where}[{index}]"):
            if key == "executionSuccessful":
                success = log.value()
            else:
                log.skip()
        if success is not True:
            raise UnreadableError(
                f"{where}[{index}].executionSuccessful is {json.dumps(success)}: the scanner "
                "reports that its run failed, so its results are incomplete"
            )


# What the gate keeps of a rule and a result: everything else (help text, code flows,
# snippets, fingerprints) is dropped as soon as the value is decoded.


def _rule_essentials(rule: Mapping[str, Any]) -> Mapping[str, Any]:
    name = rule.get("name")
    kept: dict[str, Any] = {"id": rule.get("id")}
    if isinstance(name, str):
        kept["name"] = name[:KEPT_CHARS]
    for key in ("shortDescription", "fullDescription"):
        text = _text(rule.get(key))
        if text:
            kept[key] = {"text": text[:KEPT_CHARS]}
    score = _map(rule.get("properties")).get("security-severity")
    if score is not None:
        kept["properties"] = {"security-severity": score}
    level = _map(rule.get("defaultConfiguration")).get("level")
    if level is not None:
        kept["defaultConfiguration"] = {"level": level}
    # Checked where the rule is read, not only when a result uses it.
    try:
        classify({}, kept, "")
    except UnreadableError as exc:
        raise UnreadableError(f"rule {rule.get('id')}: {exc}") from exc
    return kept


def _result_essentials(result: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
    kind = result.get("kind")
    if kind is not None and (
        not isinstance(kind, str) or kind not in COUNTED_KINDS | SKIPPED_KINDS
    ):
        raise UnreadableError(f"{where}.kind is {kind!r}, not a SARIF result kind")
    if kind in SKIPPED_KINDS or _suppressed(result, where):
        return None
    try:
        classify(result, {}, "")
    except UnreadableError as exc:
        raise UnreadableError(f"{where}: {exc}") from exc
    locations = _list(result.get("locations"))
    physical = _map(_map(locations[0]).get("physicalLocation")) if locations else {}
    message = _text(result.get("message"))
    return {
        "ruleId": result.get("ruleId"),
        "ruleIndex": result.get("ruleIndex"),
        "rule": {k: _map(result.get("rule")).get(k) for k in ("id", "index", "toolComponent")},
        "level": result.get("level"),
        "properties": {
            "security-severity": _map(result.get("properties")).get("security-severity")
        },
        "message": {"text": message[:KEPT_CHARS] if message else None},
        "uri": _map(physical.get("artifactLocation")).get("uri"),
        "line": _map(physical.get("region")).get("startLine"),
    }


def _suppressed(result: Mapping[str, Any], where: str) -> bool:
    # In-source suppressions (nosemgrep, nosec, ...) that a reviewer did not reject.
    suppressions = result.get("suppressions")
    if suppressions is None:
        return False
    if not isinstance(suppressions, list):
        raise UnreadableError(f"{where}.suppressions is not a list")
    statuses = [_object(s, f"{where}.suppressions").get("status") for s in suppressions]
    for status in statuses:
        if status is not None and (
            not isinstance(status, str) or status not in SUPPRESSION_STATUSES
        ):
            raise UnreadableError(f"{where}.suppressions has status {status!r}")
    return any(status not in ("rejected", "underReview") for status in statuses)


def _finding(
    result: Mapping[str, Any],
    tool: str,
    rules: list[Mapping[str, Any]],
    by_id: Mapping[str, Mapping[str, Any]],
    report: str,
) -> Finding:
    rule = _rule_for(result, rules, by_id)
    rule_id = str(result.get("ruleId") or rule.get("id") or "unknown-rule")
    # Rule descriptions, not result messages, first: messages can quote the secret found.
    candidates = (
        _text(rule.get("shortDescription")),
        rule.get("name"),
        _text(rule.get("fullDescription")),
        _text(result.get("message")),
    )
    # Semgrep's short description and name only repeat the rule id.
    title = next((c for c in candidates if c and rule_id not in c), rule_id)
    line = result.get("line")
    return Finding(
        tool=tool,
        rule=rule_id,
        severity=classify(result, rule, tool),
        title=" ".join(title.split())[:TITLE_CHARS],
        path=_normalise_path(result.get("uri")),
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        report=report,
    )


def _rule_for(
    result: Mapping[str, Any],
    rules: list[Mapping[str, Any]],
    by_id: Mapping[str, Mapping[str, Any]],
) -> Mapping[str, Any]:
    index = result.get("ruleIndex")
    if index is None:
        index = _map(result.get("rule")).get("index")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
        return rules[index]
    rule_id = result.get("ruleId") or _map(result.get("rule")).get("id")
    return by_id.get(str(rule_id), {})


def _normalise_path(uri: object) -> str | None:
    if not isinstance(uri, str) or not uri:
        return None
    for prefix in ("file://", "./"):
        if uri.startswith(prefix):
            uri = uri[len(prefix) :]
    return uri.lstrip("/") or None
