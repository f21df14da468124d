"""Parse CloudFormation JSON/YAML safely, and find the line of any key path afterwards.

Safety: YAML goes through libyaml's safe loader (no object construction; template_yaml.py),
aliases are checked for exponential expansion and cycles, files are size-capped before they are
read, and decoding is strict. Every problem becomes a ``TemplateError`` with a message fit for
a user.

Lines: YAML records the line of each mapping key while constructing; JSON is parsed by the C
decoder and a key path is located in the text only when a finding needs its line, so clean
templates pay nothing for locations.
"""

from __future__ import annotations

import json
import re
import sys
from bisect import bisect_right
from functools import lru_cache
from typing import Any

from conveyor.rules.patterns import lazy
from conveyor.rules.plain import Plain

# CloudFormation accepts templates up to 1 MB; anything far beyond that is not a template a user
# can deploy, and parsing it would only burn memory.
MAX_BYTES = 10 * 1024 * 1024
# Expanded node count allowed when a YAML document uses aliases, relative to the nodes it holds.
MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = 120
# Python refuses to convert integers longer than this to or from text (CVE-2020-10735); no
# CloudFormation value comes close.
_MAX_DIGITS = sys.get_int_max_str_digits() or 4300


def digits_fix(what: str = "CloudFormation value") -> str:
    """What to do about a number past the digit limit, naming the kind of input it is in."""
    return (
        f"conveyor reads numbers of up to {_MAX_DIGITS:,} digits and no {what} needs more: "
        "shorten it, or quote it to make it a string"
    )


_DIGITS_FIX = digits_fix()

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template", ".cfn")


class TemplateError(Exception):
    """A template cannot be read or parsed; the message says why and what to do."""


class NotATemplateError(TemplateError):
    """A file found while walking a directory that is not CloudFormation: skipped silently."""


class Resource(Plain):
    """One resource of a template (a ``Plain``, not a dataclass: conveyor.rules.plain says
    why)."""

    _FIELDS = ("logical_id", "type", "properties", "data", "path")
    __slots__ = _FIELDS
    logical_id: str
    type: str
    properties: dict[str, Any]
    data: dict[str, Any]
    # Where the resource lives in the parsed document (differs from Resources.<id> inside
    # Fn::ForEach); used to locate lines.
    path: tuple[str | int, ...]

    def __init__(
        self,
        logical_id: str,
        type: str,
        properties: dict[str, Any],
        data: dict[str, Any],
        path: tuple[str | int, ...],
    ) -> None:
        self.logical_id = logical_id
        self.type = type
        self.properties = properties
        self.data = data
        self.path = path

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.data.get("Metadata")
        return value if isinstance(value, dict) else {}

    @property
    def deletion_policy(self) -> Any:
        return self.data.get("DeletionPolicy")


class Template(Plain):
    """A parsed template, or a Terraform/Pulumi input mapped onto one (a ``Plain``, not a
    dataclass: conveyor.rules.plain says why)."""

    _FIELDS = (
        "file",
        "data",
        "resources",
        "parameters",
        "conditions",
        "outputs",
        "transforms",
        "problems",
        "_locator",
        "unchecked",
        "sources",
    )
    file: str
    data: dict[str, Any]
    resources: dict[str, Resource]
    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    outputs: dict[str, Any]
    transforms: frozenset[str]
    problems: list[str]
    _locator: _Locator | None
    # Terraform/Pulumi resources no rule reads (a type the normalizer does not map, a split
    # resource whose owner is not in the input): type -> how many. Reported, never a finding.
    unchecked: dict[str, int]
    # Terraform/Pulumi: logical id -> the resource's type as the input spells it
    # (``aws_s3_bucket``, a Pulumi token), what findings are reworded into (inputs/wording.py).
    sources: dict[str, str]

    def __init__(
        self,
        file: str,
        data: dict[str, Any],
        resources: dict[str, Resource],
        parameters: dict[str, dict[str, Any]],
        conditions: dict[str, Any],
        outputs: dict[str, Any],
        transforms: frozenset[str],
        problems: list[str] | None = None,
        _locator: _Locator | None = None,
        unchecked: dict[str, int] | None = None,
        sources: dict[str, str] | None = None,
    ) -> None:
        self.file = file
        self.data = data
        self.resources = resources
        self.parameters = parameters
        self.conditions = conditions
        self.outputs = outputs
        self.transforms = transforms
        self.problems = [] if problems is None else problems
        self._locator = _locator
        self.unchecked = {} if unchecked is None else unchecked
        self.sources = {} if sources is None else sources

    @property
    def is_cdk(self) -> bool:
        return "CDKMetadata" in self.resources or any(
            r.type == "AWS::CDK::Metadata" for r in self.resources.values()
        )

    @property
    def is_sam(self) -> bool:
        return "AWS::Serverless-2016-10-31" in self.transforms

    def line(self, path: tuple[str | int, ...]) -> int:
        return self._locator.line(self.data, path) if self._locator else 0

    def resource_line(self, resource: Resource, subpath: str) -> int:
        return self.line(resource.path + _steps(subpath))


@lru_cache(maxsize=4096)
def _steps(subpath: str) -> tuple[str | int, ...]:
    """``Properties.Tags.0.Key`` as steps; rules use few distinct paths, so parse each once."""
    return tuple(int(p) if p.isdigit() else p for p in subpath.split(".") if p)


# --------------------------------------------------------------------------------------------
# Reading


# Byte order marks of the encodings CloudFormation does not read (the UTF-32 ones first: the
# little-endian one starts like UTF-16's).
_UNICODE_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def read_text(raw: bytes, *, name: str) -> str:
    if not raw.strip():
        raise TemplateError(f"{name}: the file is empty; give a CloudFormation template")
    encoding = _UNICODE_BOMS.get(raw[:4]) or _UNICODE_BOMS.get(raw[:2])
    if encoding:
        raise TemplateError(f"{name}: the file is {encoding}; save it as UTF-8 and check it again")
    if b"\x00" in raw[:65536]:
        raise TemplateError(f"{name}: binary file (contains NUL bytes), not a template")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise TemplateError(
            f"{name}: not valid UTF-8 (byte {exc.start}, line {line}); "
            "CloudFormation reads UTF-8: re-encode the file"
        ) from None


def looks_like_template(text: str) -> bool:
    head = text[:200_000]
    return "Resources" in head or "AWSTemplateFormatVersion" in head


def parse(text: str, *, name: str, suffix: str = "") -> Template:
    """Parse template text. ``suffix`` (``.json``, ``.yaml``) picks the parser; otherwise sniff."""
    stripped = text.lstrip()
    as_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and stripped.startswith("{"))
    data: Any
    locator: _Locator
    if as_json:
        data = _parse_json(text, name)
        locator = _JsonLocator(text)
    else:
        data, lines = _parse_yaml(text, name)
        locator = _YamlLocator(lines)
    return _build(data, name=name, locator=locator)


def _parse_json(
    text: str,
    name: str,
    what: str = "CloudFormation value",
    duplicate: str = "CloudFormation keeps only one of them: remove or rename the other",
) -> Any:
    """``what``: the values the input holds, for the message about an overlong number;
    ``duplicate``: what a repeated key means in this kind of input and what to do."""
    try:
        return json.loads(text, object_pairs_hook=_json_object)
    except _DuplicateKeyError as exc:
        raise TemplateError(duplicate_key_message(text, name, exc.key, duplicate)) from None
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"{name}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except RecursionError:
        raise TemplateError(
            f"{name}: nesting is too deep to be a CloudFormation template; flatten it"
        ) from None
    except ValueError:
        # The only other ValueError json raises: an integer past Python's digit limit.
        match = re.search(rf"\d{{{_MAX_DIGITS + 1},}}", text)
        if match is None:
            raise
        line = text.count("\n", 0, match.start()) + 1
        digits = match.end() - match.start()
        raise TemplateError(
            f"{name}:{line}: a number of {digits:,} digits; {digits_fix(what)}"
        ) from None


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, line: int = 0, first: int = 0) -> None:
        super().__init__(key)
        self.key = key
        self.line = line
        self.first = first


def duplicate_key_message(text: str, name: str, key: str, meaning: str) -> str:
    """``name:line: duplicate key 'k' at a.b[2] (first at line n); <meaning>``: where the
    parser met a repeated key, worked out again from the text (an error path only: json's
    object hook knows neither lines nor paths)."""
    found = _first_duplicate(text)
    if found is None:  # not located (cannot happen for text json parsed so far)
        return f"{name}: duplicate key {key!r}; {meaning}"
    path, key, line, first = found
    where = f" at {path}" if path else " at the top level"
    return f"{name}:{line}: duplicate key {key!r}{where} (first at line {first}); {meaning}"


# A JSON token: a string, a structural character, or a literal (number, true, false, null).
_JSON_TOKEN = lazy(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def _first_duplicate(text: str) -> tuple[str, str, int, int] | None:
    """The first key (in text order) an object repeats: the path of that object, the key, its
    line, and the line of its first occurrence."""
    # One frame per open container: [is_object, keys seen -> offset, current key or index,
    # expecting a key]
    stack: list[list[Any]] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == "{":
            stack.append([True, {}, "", True])
        elif first == "[":
            stack.append([False, None, 0, False])
        elif first in "}]":
            if stack:
                stack.pop()
        elif not stack:
            continue
        elif first == ",":
            top = stack[-1]
            if top[0]:
                top[3] = True
            else:
                top[2] += 1
        elif first == ":":
            stack[-1][3] = False
        elif first == '"' and stack[-1][0] and stack[-1][3]:
            top = stack[-1]
            try:
                key = json.loads(token)
            except ValueError:
                return None
            seen: dict[str, int] = top[1]
            if key in seen:
                path = "".join(
                    f"[{frame[2]}]" if not frame[0] else f".{frame[2]}" for frame in stack[:-1]
                ).lstrip(".")
                line = text.count("\n", 0, match.start()) + 1
                return path, key, line, text.count("\n", 0, seen[key]) + 1
            seen[key] = match.start()
            top[2] = key
    return None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return out


# --------------------------------------------------------------------------------------------
# YAML (the loader lives in template_yaml: JSON templates, as CDK writes them, never import
# the YAML library)


def _parse_yaml(text: str, name: str) -> tuple[Any, dict[int, Any]]:
    from conveyor.rules.template_yaml import load

    data, lines = load(text, name)
    if "&" in text:
        _check_alias_expansion(data, name)
    return data, lines


def _check_alias_expansion(data: Any, name: str) -> None:
    """Reject alias bombs and recursive aliases before any rule walks the data."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, dict | list):
            continue
        key = id(node)
        children = list(node.values()) if isinstance(node, dict) else node
        if done:
            on_path.discard(key)
            total = 1
            for child in children:
                if isinstance(child, dict | list):
                    total += sizes[id(child)]
                else:
                    total += 1
            if total > MAX_ALIAS_EXPANSION:
                raise TemplateError(
                    f"{name}: YAML aliases expand to more than {MAX_ALIAS_EXPANSION:,} nodes "
                    "(an alias bomb?); CloudFormation templates do not need anchors: "
                    "write the values out"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise TemplateError(
                f"{name}: a YAML alias refers to itself (recursive anchor); "
                "remove the recursive alias"
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children)


# --------------------------------------------------------------------------------------------
# Building the Template view


def _build(data: Any, *, name: str, locator: _Locator) -> Template:
    if not isinstance(data, dict):
        raise NotATemplateError(
            f"{name}: not a CloudFormation template (the document is not a mapping); "
            "a template is a mapping with a Resources section"
        )
    raw_resources = data.get("Resources")
    if not isinstance(raw_resources, dict):
        raise NotATemplateError(
            f"{name}: not a CloudFormation template (no Resources mapping); "
            "add a Resources section or leave the file out"
        )
    transforms = _transforms(data.get("Transform"))
    problems: list[str] = []
    resources: dict[str, Resource] = {}
    globals_ = data.get("Globals") if "AWS::Serverless-2016-10-31" in transforms else None
    for lid, body in raw_resources.items():
        if str(lid).startswith("Fn::ForEach::"):
            _add_foreach(lid, body, resources, problems)
            continue
        _add_resource(str(lid), body, ("Resources", lid), resources, problems, globals_)
    parameters = data.get("Parameters")
    conditions = data.get("Conditions")
    outputs = data.get("Outputs")
    return Template(
        file=name,
        data=data,
        resources=resources,
        parameters={
            k: v
            for k, v in (parameters.items() if isinstance(parameters, dict) else ())
            if isinstance(v, dict)
        },
        conditions=conditions if isinstance(conditions, dict) else {},
        outputs=outputs if isinstance(outputs, dict) else {},
        transforms=transforms,
        problems=problems,
        _locator=locator,
    )


def _transforms(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


_SAM_GLOBALS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::StateMachine": "StateMachine",
}


def _add_resource(
    lid: str,
    body: Any,
    path: tuple[str | int, ...],
    resources: dict[str, Resource],
    problems: list[str],
    globals_: Any,
) -> None:
    if isinstance(body, dict) and rain_directive(body.get("Type")):
        # A Rain module (Type: !Rain::Module file): its resources exist only after rain pkg;
        # the resource stays, typed by its directive, so a rule can say it was not checked.
        body = {**body, "Type": rain_directive(body["Type"])}
    if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
        problems.append(
            f"Resources.{lid}: a resource must be a mapping with a Type string; fix or remove it"
        )
        return
    props = body.get("Properties")
    if props is None:
        props = {}
    elif not isinstance(props, dict):
        # Like a resource that is no mapping, it is left out: judged as declaring no
        # properties it would draw findings about settings nobody could read (CV001 on a
        # bucket), on top of this error.
        problems.append(
            f"Resources.{lid}.Properties: must be a mapping of property names to values, "
            f"not {_kind(props)}; write Properties: {{Name: value, ...}} or remove it"
        )
        return
    props = _policy_objects(props)
    rtype = body["Type"]
    section = _SAM_GLOBALS.get(rtype)
    if section and isinstance(globals_, dict) and isinstance(globals_.get(section), dict):
        # SAM merges Globals under the resource's own properties; rules see the merged view.
        props = {**globals_[section], **props}
    resources[lid] = Resource(lid, rtype, props, body, path)


def _kind(value: Any) -> str:
    """What a parsed YAML/JSON value is, in a template author's words."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


# Json-typed policy properties CloudFormation takes as an object or as the same object written as
# a JSON string (older templates write the string); rules read the object.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-role.html
_POLICY_KEYS = ("AssumeRolePolicyDocument", "PolicyDocument", "KeyPolicy", "RepositoryPolicyText")


def _policy_object(value: Any) -> Any:
    """The policy object a JSON string holds; anything else unchanged."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, dict):
            return parsed
    return value


def _policy_objects(props: dict[str, Any]) -> dict[str, Any]:
    """Properties with their JSON-string policy documents (and those of inline ``Policies``)
    read as objects; the same dict when there are none."""
    changed = {k: _policy_object(props[k]) for k in _POLICY_KEYS if isinstance(props.get(k), str)}
    policies = props.get("Policies")
    if isinstance(policies, list) and any(
        isinstance(p, dict) and isinstance(p.get("PolicyDocument"), str) for p in policies
    ):
        changed["Policies"] = [
            {**p, "PolicyDocument": _policy_object(p["PolicyDocument"])}
            if isinstance(p, dict) and isinstance(p.get("PolicyDocument"), str)
            else p
            for p in policies
        ]
    return {**props, **changed} if changed else props


def rain_directive(value: Any) -> str | None:
    """``Rain::Module`` for ``{"Rain::Module": "bucket.yaml"}``: a directive of the rain CLI."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if isinstance(key, str) and key.startswith("Rain::"):
            return key
    return None


_FOREACH_VAR = lazy(r"[$&]\{([A-Za-z0-9_]+)\}")


def _add_foreach(
    lid: str,
    body: Any,
    resources: dict[str, Resource],
    problems: list[str],
    path: tuple[str | int, ...] | None = None,
) -> None:
    # Fn::ForEach (AWS::LanguageExtensions): rules look at the fragment once, under its logical-id
    # pattern; identifiers stay unresolved, which rules treat like any other non-literal value.
    # ``path`` is where the loop is (inside another loop's fragment when nested).
    where = path or ("Resources", lid)
    if not (isinstance(body, list) and len(body) == 3 and isinstance(body[2], dict)):
        problems.append(f"Resources.{lid}: Fn::ForEach needs [identifier, collection, fragment]")
        return
    for inner_id, inner in body[2].items():
        if str(inner_id).startswith("Fn::ForEach::"):
            _add_foreach(str(inner_id), inner, resources, problems, (*where, 2, inner_id))
            continue
        _add_resource(str(inner_id), inner, (*where, 2, inner_id), resources, problems, None)


# --------------------------------------------------------------------------------------------
# Locating lines


class _Locator:
    def line(self, data: Any, path: tuple[str | int, ...]) -> int:
        raise NotImplementedError


class _YamlLocator(_Locator):
    def __init__(self, lines: dict[int, Any]) -> None:
        self._lines = lines

    def line(self, data: Any, path: tuple[str | int, ...]) -> int:
        best = 1
        node = data
        for step in path:
            lines = self._lines.get(id(node))
            if isinstance(node, dict) and isinstance(lines, dict) and step in node:
                best = lines.get(str(step), best)
                node = node[step]
            elif (
                isinstance(node, list)
                and isinstance(step, int)
                and isinstance(lines, list)
                and 0 <= step < len(node)
            ):
                best = lines[step]
                node = node[step]
            else:
                break
        return best


_WS = lazy(r"[ \t\n\r]*")
# A member's key (its raw text: escapes undecoded), the colon, and the whitespace before the value.
_MEMBER = lazy(r'"((?:[^"\\]|\\.)*)"[ \t\n\r]*:[ \t\n\r]*', re.DOTALL)
# What follows a value: whitespace, a comma if another member or item comes, whitespace.
_SEPARATOR = lazy(r"[ \t\n\r]*,?[ \t\n\r]*")


class _JsonLocator(_Locator):
    """Finds the line of a key path in JSON text by indexing only the objects on that path, and
    only down to the first value that lies on one line (everything inside it is on that line:
    in a minified template, the resource's own key)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._members: dict[int, dict[Any, tuple[int, int, int]]] = {}
        self._line_starts: list[int] = []
        self._decoder = json.JSONDecoder()
        # Several findings often share a path (two rules on one resource's Properties).
        self._lines: dict[tuple[str | int, ...], int] = {}

    def line(self, data: Any, path: tuple[str | int, ...]) -> int:
        known = self._lines.get(path)
        if known is not None:
            return known
        if not self._line_starts:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        if len(self._line_starts) == 1:
            return 1  # a template on one line (minified JSON): no need to index anything
        try:
            offset = self._offset(path)
        except (ValueError, IndexError, StopIteration):  # StopIteration: the C scanner's error
            return 1
        line = self._lines[path] = bisect_right(self._line_starts, offset)
        return line

    def _offset(self, path: tuple[str | int, ...]) -> int:
        pos = _WS.match(self._text, 0).end()  # type: ignore[union-attr]
        best = pos
        starts = self._line_starts
        for step in path:
            member = self._index(pos).get(step)
            if member is None:
                break
            best, pos, end = member
            if bisect_right(starts, best) == bisect_right(starts, end - 1):
                break  # the rest of the path is inside this value, on the same line
        return best

    def _index(self, pos: int) -> dict[Any, tuple[int, int, int]]:
        """Each member of the object (or item of the array) at ``pos``: where its key (or the
        item) starts, where its value starts, and where the value ends."""
        cached = self._members.get(pos)
        if cached is not None:
            return cached
        text = self._text
        skip = self._decoder.scan_once  # type: ignore[attr-defined]  # the C scanner, a value at a time
        out: dict[Any, tuple[int, int, int]] = {}
        if pos < len(text) and text[pos] == "{":
            i = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            while (member := _MEMBER.match(text, i)) is not None:
                key = member.group(1)
                if "\\" in key:  # an escaped key: decode it as json does
                    key = json.decoder.scanstring(text, i + 1)[0]  # type: ignore[attr-defined]
                j = member.end()
                end = skip(text, j)[1]
                out.setdefault(key, (i, j, end))
                i = _SEPARATOR.match(text, end).end()  # type: ignore[union-attr]
        elif pos < len(text) and text[pos] == "[":
            i = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            index = 0
            while i < len(text) and text[i] != "]":
                end = skip(text, i)[1]
                out[index] = (i, i, end)
                i = _SEPARATOR.match(text, end).end()  # type: ignore[union-attr]
                index += 1
        self._members[pos] = out
        return out
