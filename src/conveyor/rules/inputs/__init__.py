"""Terraform plans and Pulumi previews/exports as the same resource view CloudFormation
templates give the rules: one normalizer, not three rule sets.

- ``terraform show -json tfplan`` (or of a state file) -> ``terraform.py``
- ``pulumi preview --json`` and ``pulumi stack export`` -> ``pulumi.py``
- both -> ``Record`` (Terraform attribute names) -> ``mapping.py`` (CloudFormation types and
  properties, split resources joined to their owner) -> ``build.py`` (a ``Template``).

The kind of input is detected from its content; ``--input`` forces one.
"""

from __future__ import annotations

import gc
import json
import re
from typing import Any

from conveyor.rules.inputs.records import MAX_DEPTH, TooDeepError
from conveyor.rules.patterns import lazy
from conveyor.rules.template import (
    Template,
    TemplateError,
    _DuplicateKeyError,
    _json_object,
    _parse_json,
    duplicate_key_message,
)

TERRAFORM = "terraform"
PULUMI = "pulumi"
CLOUDFORMATION = "cloudformation"
AUTO = "auto"
KINDS = (TERRAFORM, PULUMI, CLOUDFORMATION)

# Rules about parts of a CloudFormation template these tools do not have, and why (the
# coverage table in docs/check.md prints the reason):
WHY_NOT_APPLICABLE: dict[str, str] = {
    # DeletionPolicy/UpdateReplacePolicy and RetainExceptOnCreate are stack-update semantics.
    "CV007": "a CloudFormation stack attribute",
    "CV095": "a CloudFormation stack attribute",
    # The alias UpdatePolicy through which CloudFormation shifts Lambda traffic; Terraform and
    # Pulumi hand the alias to CodeDeploy in an AppSpec instead.
    "CV072": "a CloudFormation stack attribute",
    # Template Parameters: Terraform variables and Pulumi config are resolved in these inputs.
    "CV045": "CloudFormation parameters",
    "CV063": "CloudFormation parameters",
    # Directives of the rain tool, written in CloudFormation templates only.
    "CV089": "a rain template directive",
}
NOT_APPLICABLE: dict[str, frozenset[str]] = {
    TERRAFORM: frozenset(WHY_NOT_APPLICABLE),
    PULUMI: frozenset(WHY_NOT_APPLICABLE),
}

# Keys detection needs at the top level (``detect``): a Terraform plan or state has
# "format_version", a Pulumi preview "steps", an export "deployment". Searched in the whole
# text (a sorted plan, ``jq -S``, puts a large "configuration" before "format_version").
_KIND_KEYS = ('"format_version"', '"steps"', '"deployment"')
_TOO_DEEP = (
    f"nested more than {MAX_DEPTH} levels deep; no Terraform plan or Pulumi preview or export "
    "needs that: give the tool's own output unchanged, or flatten the value"
)
# The string is matched unrolled (runs of plain characters between escapes), the same strings
# as (?:[^"\\]|\\.)*: that form tries the alternation at every character, and was 40% of
# key_lines on a 1.5 MB plan (benchmarks/check_terraform_plan.py, the plan with findings).
# One pattern per key, not "(address|urn)": a pattern that starts with a literal is searched
# for by that literal, where the alternation stops at every '"' of the text (half the scan).
_VALUE = r'\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"'
_KEY_LINES = (lazy(r'"address"' + _VALUE), lazy(r'"urn"' + _VALUE))


def detect(data: Any) -> str:
    # Each reader imported when its turn comes: a Terraform plan needs no Pulumi reader.
    from conveyor.rules.inputs import terraform

    if terraform.is_plan(data):
        return TERRAFORM
    from conveyor.rules.inputs import pulumi

    if pulumi.is_pulumi(data):
        return PULUMI
    return CLOUDFORMATION


def looks_like_input(text: str) -> bool:
    """Cheap screen (a few substring searches) before parsing: False only for text that
    cannot be a Terraform or Pulumi input. The kind is decided from the parsed top-level keys
    (``detect``)."""
    return any(key in text for key in _KIND_KEYS)


def load(text: str, *, name: str, kind: str) -> tuple[Template, str] | None:
    """The Template view of a Terraform or Pulumi input and the kind it is; None when the text
    is CloudFormation (auto-detected, or forced with ``kind``)."""
    if kind == CLOUDFORMATION:
        return None
    if kind == AUTO and not looks_like_input(text):
        return None  # CloudFormation: parsed once, by the template parser
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        if kind == AUTO:
            return None
        raise TemplateError(
            f"{name}: --input {kind} reads JSON (`{_command(kind)}`), and this is not JSON; "
            "give the JSON output, or drop --input for a CloudFormation template"
        )
    # Parsing builds 10^5 containers for a plan of 10^3 resources, and the normalizer more;
    # none makes a cycle, and the cyclic collector's passes over them while they are created
    # cost a quarter of the parse and more than the normalizing (measured:
    # benchmarks/check_terraform_plan.py). `conveyor check` already runs a file so
    # (runner._without_cyclic_gc); this holds for library callers too.
    enabled = gc.isenabled()
    gc.disable()
    try:
        data = _parse(text, name, kind)
        found = detect(data)
        if kind == AUTO:
            if found == CLOUDFORMATION:
                return None
            kind = found
        elif found != kind:
            raise TemplateError(
                f"{name}: --input {kind} expects the output of `{_command(kind)}`, but this "
                f"{'looks like ' + found if found != CLOUDFORMATION else 'has neither'} "
                f"({_signature(kind)}); check the file, or change --input"
            )
        return _load(data, text, name=name, kind=kind), kind
    finally:
        if enabled:
            gc.enable()


def _parse(text: str, name: str, kind: str) -> Any:
    """The parsed JSON. A key repeated in one object is refused, as in a CloudFormation
    template: Terraform and Pulumi write their JSON with encoders that cannot repeat a key, so
    a repeat means the file was edited or produced by something else, and a reader keeps only
    one of the values (``json`` the last), which could hide the one that is wrong."""
    try:
        sizes: list[int] = []
        add = sizes.append

        def size(value: dict[str, Any]) -> dict[str, Any]:
            add(len(value))
            return value

        # json builds each object itself (no list of pairs per object, no hook on the pairs:
        # that was a third of the parse, benchmarks/check_terraform_plan.py); the keys the
        # objects kept are counted against the keys the text holds (``_keys_at_most``). Equal
        # counts mean no object lost a key to a repeat; otherwise the text is parsed again with
        # the hook that finds the repeat (or, where the bound only overcounts, parses the same).
        # Only for JSON on one line, as ``terraform show -json`` writes it: the scans cost by
        # the byte, and an indented text (Pulumi's, ``jq``'s) has more bytes per object than
        # the pairs hook costs (the indented benchmark plan: 117M instructions to 132M).
        line_break = text.find("\n")
        if line_break < 0 or (len(text) - line_break < 64 and text[line_break:].isspace()):
            data = json.loads(text, object_hook=size)
            if _keys_at_most(text) == sum(sizes):
                return data
        return json.loads(text, object_pairs_hook=_json_object)
    except _DuplicateKeyError as exc:
        found = _guess(text) if kind == AUTO else kind
        meaning = _DUPLICATE.get(found, _DUPLICATE[CLOUDFORMATION])
        raise TemplateError(duplicate_key_message(text, name, exc.key, meaning)) from None
    except RecursionError:
        raise TemplateError(f"{name}: {_TOO_DEEP}") from None
    except ValueError:
        # Raises the template parser's message for the error, naming the kind of input the
        # text is (it could not be parsed, so detected from the keys the screen found).
        found = _guess(text) if kind == AUTO else kind
        return _parse_json(text, name, _VALUES.get(found, _VALUES[CLOUDFORMATION]))


def _keys_at_most(text: str) -> int:
    """At least the number of keys in ``text`` (valid JSON), by a few scans in C; exactly that
    number for JSON as Terraform, Pulumi, ``json`` and ``jq`` write it.

    A key is a string followed by ``:``, with whitespace between only if some colon in the text
    follows whitespace (then the count is left unbounded, -1 never matches a count). Otherwise
    every key's closing quote is directly followed by the colon, and that quote is unescaped:
    preceded by an even number of backslashes (none, or escaped backslashes ending the key).
    Counted so: ``":`` occurrences less those after an odd run of backslashes
    (``_after_odd_backslashes``). Other occurrences (a string that begins with ``:``) only
    overcount."""
    # Raw tabs and line breaks cannot be inside a string (json refuses them there, strict),
    # so one before a colon is whitespace before a key's colon; a space may be in a string.
    if " :" in text:
        return -1
    for space in ("\n", "\t", "\r"):
        first = text.find(space)  # memchr: nearly free; none, or a line break at the end
        if first >= 0 and text.find(space + ":", first) >= 0:
            return -1
    keys = text.count('":')
    return keys - _after_odd_backslashes(text) if keys else 0


# Characters from the first backslash of a cluster to the end of the cluster's piece (below).
_CLUSTER = 256


def _after_odd_backslashes(text: str) -> int:
    """How many ``":`` of ``text`` follow an odd run of backslashes: ``\\":`` occurrences, less
    those after two backslashes, plus those after three, ... (an occurrence after exactly r
    backslashes is in the first r counts: once if r is odd, not at all if even).

    Counted over the text's backslash clusters only (the escaped quotes of the policy documents
    a plan holds as text), joined by a character no pattern holds, instead of over the whole
    text once per count: 10.6M instructions to 8.5M on the 1.5 MB benchmark plan
    (benchmarks/count_check_instructions.py); a text without a backslash needs no count. A
    piece runs from a backslash to two characters past the first quote ``_CLUSTER`` characters
    on; the next piece starts at the next backslash after that quote. So a run of backslashes
    never spans two pieces (a quote ends a run, and the character before a piece is no
    backslash); every occurrence lies whole in exactly one piece (the piece holding the
    backslash before its quote, which runs at least to that quote's colon); and a character
    two pieces share (a backslash right after the quote) ends no occurrence in the first."""
    find = text.find
    start = find("\\")  # memchr
    if start < 0:
        return 0
    pieces: list[str] = []
    while start >= 0:
        end = find('"', start + _CLUSTER)
        if end < 0:
            pieces.append(text[start:])
            break
        pieces.append(text[start : end + 2])
        start = find("\\", end)
    clusters = "\0".join(pieces)
    total = 0
    sign = 1
    pattern = '\\":'
    while found := clusters.count(pattern):
        total += sign * found
        sign = -sign
        pattern = "\\" + pattern
    return total


# Messages name the input a value is in ("no Terraform plan value needs more digits").
_VALUES = {
    TERRAFORM: "Terraform plan or state value",
    PULUMI: "Pulumi preview or export value",
    CLOUDFORMATION: "CloudFormation value",
}


_DUPLICATE = {
    TERRAFORM: (
        "`terraform show -json` never writes a key twice, and a reader keeps only one of the "
        "values: give the output of `terraform show -json tfplan` unchanged"
    ),
    PULUMI: (
        "Pulumi never writes a key twice, and a reader keeps only one of the values: give the "
        "output of `pulumi preview --json` or `pulumi stack export` unchanged"
    ),
    CLOUDFORMATION: "CloudFormation keeps only one of them: remove or rename the other",
}


def _guess(text: str) -> str:
    """The kind of a text that is not valid JSON, from the keys ``looks_like_input`` found: a
    CloudFormation template (which may well hold a "steps" key) has "Resources"."""
    if '"format_version"' in text:
        return TERRAFORM
    if '"Resources"' in text:
        return CLOUDFORMATION
    return PULUMI


def _load(data: Any, text: str, *, name: str, kind: str) -> Template:
    try:
        return _normalize(data, text, name=name, kind=kind)
    except TooDeepError as exc:
        raise TemplateError(f"{name}: {exc.where}: {_TOO_DEEP}") from None
    except RecursionError:
        # A walk no depth bound covers yet: still the user's nesting, not a crash.
        raise TemplateError(f"{name}: {_TOO_DEEP}") from None


def _normalize(data: Any, text: str, *, name: str, kind: str) -> Template:
    from conveyor.rules.inputs.build import build

    if kind == TERRAFORM:
        from conveyor.rules.inputs import terraform

        records, outputs = terraform.read(data, name=name)
    else:
        from conveyor.rules.inputs import pulumi

        records, outputs = pulumi.read(data, name=name)
    # Lines are looked up only when a finding needs one: a clean plan pays nothing for them.
    return build(records, file=name, outputs=outputs, lines=lambda: _lines(text))


def _lines(text: str) -> dict[str, int]:
    """``key_lines``, or none for a text on one line (what ``terraform show -json`` writes):
    every address is then on line 1, the line a finding gets for a key not listed."""
    if "\n" not in text.rstrip():
        return {}
    return key_lines(text)


def key_lines(text: str) -> dict[str, int]:
    """Line of the first ``"address": ...`` / ``"urn": ...`` key per value, in one scan."""
    out: dict[str, int] = {}
    line = 1
    last = 0
    # In valid JSON a match is a key and its string value, so matches of the two patterns
    # never overlap: in the order of the text, they are the matches of "(address|urn)".
    addresses, urns = (list(pattern.finditer(text)) for pattern in _KEY_LINES)
    matches = (
        sorted(addresses + urns, key=re.Match.start) if addresses and urns else addresses or urns
    )
    for match in matches:
        raw = match.group(1)
        try:
            value = json.loads(f'"{raw}"') if "\\" in raw else raw
        except ValueError:
            continue
        if value not in out:
            line += text.count("\n", last, match.start())
            last = match.start()
            out[value] = line
    return out


def _command(kind: str) -> str:
    return {
        TERRAFORM: "terraform show -json tfplan",
        PULUMI: "pulumi preview --json` or `pulumi stack export",
    }.get(kind, kind)


def _signature(kind: str) -> str:
    return {
        TERRAFORM: 'a plan has "format_version" and "planned_values" or "resource_changes"',
        PULUMI: 'a preview has "steps"; an export has "deployment.resources"',
    }.get(kind, "")
