"""Load conveyor.yaml into a Spec, turning every mistake into `file:line: key.path: message`.

YAML is composed into nodes first (not loaded straight to Python) so every key keeps its line,
duplicate keys are caught (PyYAML silently keeps the last one), and no tag can construct an
arbitrary object.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from conveyor.files import is_fifo, read_bounded
from conveyor.spec.models import KeyedValueError, Spec

try:  # the C composer is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_SCALARS = yaml.constructor.SafeConstructor()

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Scalar tags conveyor accepts; other tags (`!Ref`, `!!python/object`, `!!binary`, `!!set`) are
# refused, never constructed. The typed ones say what a value failed to be.
_TYPED_TAGS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "a boolean (true or false)",
    "tag:yaml.org,2002:timestamp": "a date",
}
_SCALAR_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:null", *_TYPED_TAGS})
_RESOLVER = yaml.resolver.Resolver()

MAX_SPEC_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64
# A user's value is quoted in errors up to this many characters: a 900 KB value must not become
# 900 KB of terminal output.
MAX_SHOWN = 80

Path_ = tuple[str | int, ...]

# Keys people carry over from hand-written pipelines, with what conveyor wants instead.
_KNOWN_MISTAKES = {
    "oauth_token": "GitHub OAuth tokens are the deprecated v1 source (FM50); create a CodeStar "
    "connection and write source.github.connection: arn:aws:codestar-connections:…",
    "token": "tokens never go in conveyor.yaml (FM30); GitHub sources use a CodeStar connection: "
    "source.github.connection",
    "webhook": "conveyor triggers on pushes through the CodeStar connection; no webhook is "
    "registered (FM51)",
    "pull_requests": "pull-request runs need a connection source (GitHub, GitLab, Bitbucket): "
    "CodePipeline V2 filters pull requests only in triggers of CodeStarSourceConnection actions "
    "(https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-triggers.html); write "
    "it under source.github",
    "create_repository": "conveyor never creates CodeCommit repositories (FM52); name an existing "
    "one with source.codecommit.repository, or use source.s3 or source.github",
}


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    message: str

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return _UNPRINTABLE.sub(lambda found: ascii(found[0])[1:-1], text)


# One problem is one line: a key or value holding a line break, a NUL or a lone surrogate (which
# no terminal can encode) is shown escaped, as Python would write it; so are invisible spaces
# (a no-break space pasted before a key looks like any other space).
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ud800-\udfff]"
)


class SpecError(Exception):
    """A spec the user must fix. `str()` is the full, printable report."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


@dataclass
class _Located:
    """Plain Python data plus the line each key path was written on.

    `problems` are what YAML itself got wrong (tags, duplicate keys, values that are not what
    they look like); `unchecked` are the paths those problems make meaningless to validate.
    """

    data: Any
    lines: dict[Path_, int]
    problems: list[Problem]
    unchecked: set[Path_]


def _to_python(root: yaml.Node, file: str) -> _Located:
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    unchecked: set[Path_] = set()
    count = 0

    in_progress: set[int] = set()

    def refuse(node: yaml.Node, path: Path_, message: str) -> None:
        problems.append(Problem(node.start_mark.line + 1, _dotted(path), message))
        unchecked.add(path)

    def walk(node: yaml.Node, path: Path_) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise SpecError(
                file, [Problem(None, "", f"more than {MAX_NODES} YAML nodes (an alias bomb?)")]
            )
        if len(path) > MAX_DEPTH or id(node) in in_progress:
            raise SpecError(
                file,
                [
                    Problem(
                        node.start_mark.line + 1,
                        _clip(_dotted(path[:MAX_DEPTH]), 200),
                        "invalid YAML: nested too deeply or through a recursive alias",
                    )
                ],
            )
        in_progress.add(id(node))
        try:
            return convert(node, path)
        finally:
            in_progress.discard(id(node))

    def convert(node: yaml.Node, path: Path_) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            return mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            refuse(node, path, f"unsupported YAML tag {_clip(node.tag)}; remove it")
            return None
        # The safe constructor gives `true`, `3` and `null` their YAML meaning. It raises
        # ValueError, KeyError, TypeError or AttributeError on values that only look like their
        # tag: `2001-02-30`, `0x_`, a 4,301-digit integer, `!!bool maybe`, `!!timestamp x`.
        try:
            return _SCALARS.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as exc:
            refuse(node, path, _not_what_it_looks_like(node, exc))
            return None

    def mapping(node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                problems.append(
                    Problem(key_node.start_mark.line + 1, _dotted(path), "keys must be text")
                )
                continue
            if key == "<<":
                # The merged keys are missing from this mapping: its other errors would mislead.
                refuse(key_node, path, "YAML merge keys (<<) are not supported; write the keys out")
                continue
            if key in result:
                problems.append(
                    Problem(
                        key_node.start_mark.line + 1,
                        _dotted((*path, key)),
                        f"key written twice (first on line {lines[(*path, key)]}); keep one",
                    )
                )
                continue
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = walk(value_node, (*path, key))
        return result

    data = walk(root, ())
    return _Located(data, lines, problems, unchecked)


def _not_what_it_looks_like(node: yaml.ScalarNode, exc: Exception) -> str:
    kind = _TYPED_TAGS.get(node.tag, "a value")
    # Only the date constructor says something useful (`month must be in 1..12`).
    why = f" ({exc})" if isinstance(exc, ValueError) and node.tag.endswith("timestamp") else ""
    # Written without a tag, the value got its type from how it looks: quoting makes it text.
    implicit = not node.style and node.tag == _RESOLVER.resolve(  # type: ignore[no-untyped-call]
        yaml.ScalarNode, node.value, (True, False)
    )
    fix = "quote it if it is text" if implicit else "remove the tag or fix the value"
    return f"{_show(node.value)} is read as {kind} but is not one{why}; {fix}"


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_clip(part)}" if out else _clip(part)
    return out


def _clip(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}… ({len(text):,} characters)"


def _clip_words(message: str) -> str:
    """A message a model wrote, which may quote a user's value: every long word cut short."""
    return _clip(_LONG_WORD.sub(lambda word: _clip(word[0]), message), 2_000)


_LONG_WORD = re.compile(rf"\S{{{MAX_SHOWN + 1},}}")


def _show(value: Any) -> str:
    """A user's value as it appears in an error: repr, cut to MAX_SHOWN characters."""
    if isinstance(value, str):
        return repr(_clip(value))
    try:
        text = repr(value)
    except ValueError:  # an int too long for str() (over 4,300 digits)
        return f"a {type(value).__name__} too long to show"
    return _clip(text)


def _model_for(path: Path_) -> type[BaseModel] | None:
    """The model that owns the mapping at `path`, to list the keys allowed there."""
    model: Any = Spec
    for part in path:
        if isinstance(part, int):
            continue
        fields = model.model_fields
        name = (
            part
            if part in fields
            else next((n for n, f in fields.items() if f.alias == part), None)
        )
        if name is None:
            return None
        model = _inner_model(fields[name].annotation)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _explain(error: Mapping[str, Any], path: Path_) -> str:
    """pydantic's error as conveyor words it: what was wrong and what to write instead."""
    kind = error["type"]
    given = error.get("input")
    ctx = error.get("ctx") or {}
    key = path[-1] if path else ""
    if kind == "extra_forbidden":
        return _unknown_key(key, path)
    if kind == "missing":
        return f"required key '{key}' is missing — add it"
    if kind == "literal_error":
        if not isinstance(given, str):  # `strategy:` or `strategy: yes`, in YAML's words
            return f"expected one of {ctx['expected']}, got {_describe(given)}"
        return f"{_show(given)} is not allowed — write one of {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        described = _field_description(path)
        examples = _field_examples(path)
        hint = f": {described.rstrip('.')}" if described else ""
        hint += f" — for example: {examples}" if examples else ""
        return f"{_show(given)} does not have the expected form{hint}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe(given)}"
    if kind == "string_type":
        if given is None:
            return "expected text, got nothing (an empty value) — write a value or remove the key"
        return f"expected text, got {_describe(given)} — quote it if it is text"
    if kind in _BOUNDS:
        bound, advice = _BOUNDS[kind]
        limit = ctx.get(bound)
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # `1440`, not `1440.0`, for a float field
        return f"{_show(given)} is out of range: write {advice} {limit}"
    if kind in {"string_too_short", "string_too_long", "too_short", "too_long"}:
        return _length(kind, ctx)
    if kind == "value_error":  # the models' own sentences, written for people
        return _clip_words(str(ctx.get("error", error["msg"])))
    # A kind not worded above: pydantic's sentence, without its "Input should be" voice.
    message = str(error["msg"]).replace("Input should be", "expected").replace("Value error, ", "")
    return f"{_clip_words(message)}, got {_describe(given)}"


# pydantic error kinds that mean "the value has the wrong type", and what was expected instead.
_EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing_size": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "dict_type": "a mapping of keys (key: value)",
    "model_type": "a mapping of keys (key: value)",
    "model_attributes_type": "a mapping of keys (key: value)",
    "list_type": "a list (- item)",
}

# Range errors: the ctx entry holding the bound, and how to say which side of it to write.
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _unknown_key(key: str | int, path: Path_) -> str:
    if isinstance(key, str) and key in _KNOWN_MISTAKES:
        return f"unknown key '{key}': {_KNOWN_MISTAKES[key]}"
    model = _model_for(path[:-1])
    allowed = _allowed_keys(model) if model else []
    close = difflib.get_close_matches(str(key)[:MAX_SHOWN], allowed, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key '{_clip(str(key))}' — {hint}allowed here: {', '.join(allowed)}"


def _length(kind: str, ctx: Mapping[str, Any]) -> str:
    unit = "characters" if kind.startswith("string") else "items"
    if kind.endswith("too_short"):
        least = ctx.get("min_length")
        return "must not be empty" if least == 1 else f"too short: write at least {least} {unit}"
    return f"too long: write at most {ctx.get('max_length')} {unit}"


def _describe(value: Any) -> str:
    """What the user wrote, in YAML's words: never a Python type name (`NoneType`, `dict`)."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):  # before int: True is an int to Python
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, dict):
        return "a mapping (key: value)" if value else "an empty mapping {}"
    if isinstance(value, list):
        return "a list (- item)" if value else "an empty list []"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    return "a value of another kind"


def _field(path: Path_) -> FieldInfo | None:
    """The field a key path names; a list item (…email[0]) is its list's field."""
    while path and isinstance(path[-1], int):
        path = path[:-1]
    if not path:
        return None
    model = _model_for(tuple(path[:-1]))
    return model.model_fields.get(str(path[-1])) if model is not None else None


def _field_description(path: Path_) -> str:
    field = _field(path)
    return (field.description or "") if field is not None else ""


def _field_examples(path: Path_) -> str:
    field = _field(path)
    if field is None:
        return ""
    examples = field.examples
    if not examples and path and isinstance(path[-1], int):
        # A list item's own constraint (list[Annotated[str, Field(examples=…)]]) has them.
        items = get_args(field.annotation)
        metadata = getattr(items[0], "__metadata__", ()) if items else ()
        examples = next((m.examples for m in metadata if isinstance(m, FieldInfo)), None)
    return str(examples[0]) if examples else ""


def _problems(error: ValidationError, located: _Located) -> Iterator[Problem]:
    for item in error.errors():
        path = _user_path(item["loc"], located.lines)
        raised = (item.get("ctx") or {}).get("error")
        if isinstance(raised, KeyedValueError):  # the model named the key below it
            path = (*path, *raised.at)
        if any(path[: len(skip)] == skip for skip in located.unchecked):
            continue
        line = _nearest_line(path, located.lines)
        yield Problem(line, _dotted(path), _explain(item, path))


def _user_path(loc: tuple[str | int, ...], lines: Mapping[Path_, int]) -> Path_:
    """pydantic's error location without its own steps (`[key]`, `function-after[…]`); a key
    the user wrote with a bracket in it stays."""
    path: Path_ = ()
    for part in loc:
        if isinstance(part, str) and "[" in part and (*path, part) not in lines:
            continue
        path = (*path, part)
    return path


def _nearest_line(path: Path_, lines: Mapping[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _compose(text: str, file: str) -> yaml.Node | None:
    """The one YAML document in `text` as nodes, or SpecError with the line of the mistake."""
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        start = exc.context_mark
        if exc.context and start is not None and start.line + 1 != line:
            # An unclosed bracket or quote is noticed lines later: say where it was opened.
            reason += f" ({exc.context} that starts on line {start.line + 1})"
        raise SpecError(
            file, [Problem(line, "", f"invalid YAML: {reason} — check indentation and quotes")]
        ) from None
    except yaml.reader.ReaderError as exc:
        # A NUL or other control character (its code point: both readers report an int). The
        # reader reports the first one; its position counts bytes in libyaml and characters in
        # PyYAML, so the line comes from finding it again.
        code = int(exc.character)
        line = text.count("\n", 0, text.find(chr(code))) + 1
        raise SpecError(
            file,
            [
                Problem(
                    line,
                    "",
                    f"invalid YAML: control character {code:#06x} is not allowed — remove it "
                    "(was the file saved as text?)",
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            file, [Problem(None, "", f"invalid YAML: {_clip(str(exc), 500)}")]
        ) from None
    except RecursionError:
        # The pure-Python composer recurses per nesting level (libyaml stops at its own limit).
        raise SpecError(
            file, [Problem(None, "", f"invalid YAML: nested more than {MAX_DEPTH} levels deep")]
        ) from None
    if len(documents) > 1:
        raise SpecError(file, [Problem(None, "", "one YAML document per file; remove the ---")])
    return documents[0] if documents else None


def _decoded(text: str | bytes, file: str) -> str:
    """`text` as a string, or SpecError if it is too large or not UTF-8."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(file, [Problem(None, "", f"larger than {MAX_SPEC_BYTES:,} bytes")])
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                file, [Problem(None, "", f"not UTF-8 text (byte {exc.start}); save it as UTF-8")]
            ) from None
    return text


def parse_yaml(text: str | bytes, file: str) -> tuple[Any, dict[str, int]]:
    """Any YAML document read as safely as a spec (size, UTF-8, one document, no tags that
    construct objects, no merge keys, node and depth limits against alias bombs), for readers
    of other tools' files (`conveyor migrate`): its data (None when empty) and the line of
    each key path, named as problems name it. Raises SpecError naming the file and line."""
    root = _compose(_decoded(text, file), file)
    if root is None:
        return None, {}
    located = _to_python(root, file)
    if located.problems:
        raise SpecError(file, sorted(located.problems, key=lambda p: p.line or 0))
    return located.data, {_dotted(path): line for path, line in located.lines.items()}


def parse_spec(text: str | bytes, file: str = "conveyor.yaml") -> Spec:
    """Parse YAML text into a Spec or raise SpecError naming the file, line and key."""
    text = _decoded(text, file)
    root = _compose(text, file)
    if root is None:
        raise SpecError(
            file, [Problem(None, "", "the file is empty — start with `app:`, `owner:`, `source:`")]
        )
    located = _to_python(root, file)
    if not isinstance(located.data, dict):
        raise SpecError(
            file,
            located.problems
            or [
                Problem(
                    1, "", f"expected a mapping at the top (app: …), got {_describe(located.data)}"
                )
            ],
        )
    problems = located.problems
    try:
        spec = Spec.model_validate(located.data)
    except ValidationError as exc:
        problems = problems + list(_problems(exc, located))
    if problems:
        # Every problem at once, in the order they appear in the file.
        raise SpecError(file, sorted(problems, key=lambda p: p.line or 0))
    return spec


@lru_cache(maxsize=2)
def key_lines(text: str) -> dict[str, int]:
    """The line each key path of `text` (a spec that parses) is written on, named as problems
    name it (`environments[1].deploy.lambda.function.runtime`). Worked out once per text:
    validate asks for each of its warnings."""
    root = _compose(text, "conveyor.yaml")
    if root is None:
        return {}
    return {_dotted(path): line for path, line in _to_python(root, "conveyor.yaml").lines.items()}


def load_spec(path: str | Path) -> Spec:
    """Read and parse a conveyor.yaml file."""
    file = str(path)
    try:
        raw = read_bounded(Path(path), MAX_SPEC_BYTES)
    except FileNotFoundError:
        raise SpecError(
            file, [Problem(None, "", "no such file — run `conveyor init` or pass the spec's path")]
        ) from None
    except IsADirectoryError:
        raise SpecError(file, [Problem(None, "", "is a directory — pass the spec file")]) from None
    except OSError as exc:
        raise SpecError(file, [Problem(None, "", f"cannot read it: {exc.strerror}")]) from None
    if not raw and is_fifo(Path(path)):
        raise SpecError(
            file, [Problem(None, "", "is a named pipe with nothing writing to it — pass the file")]
        )
    return parse_spec(raw, file)
