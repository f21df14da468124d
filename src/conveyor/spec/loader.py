"""Load conveyor.yaml into a Spec, turning every mistake into `file:line: key.path: message`.

YAML is composed into nodes first (not loaded straight to Python) so every key keeps its line,
duplicate keys are caught (PyYAML silently keeps the last one), and no tag can construct an
arbitrary object.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from conveyor.spec.models import Spec

try:  # the C composer is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_SCALARS = yaml.constructor.SafeConstructor()

_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})

MAX_SPEC_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64

Path_ = tuple[str | int, ...]

# Keys people carry over from hand-written pipelines, with what conveyor wants instead.
_KNOWN_MISTAKES = {
    "oauth_token": "GitHub OAuth tokens are the deprecated v1 source (FM50); create a CodeStar "
    "connection and write source.github.connection: arn:aws:codestar-connections:…",
    "token": "tokens never go in conveyor.yaml (FM30); GitHub sources use a CodeStar connection: "
    "source.github.connection",
    "webhook": "conveyor triggers on pushes through the CodeStar connection; no webhook is "
    "registered (FM51)",
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
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(Exception):
    """A spec the user must fix. `str()` is the full, printable report."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


@dataclass
class _Located:
    """Plain Python data plus the line each key path was written on."""

    data: Any
    lines: dict[Path_, int]


def _to_python(root: yaml.Node, file: str) -> _Located:
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    count = 0

    in_progress: set[int] = set()

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
                        _dotted(path[:MAX_DEPTH]),
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
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
            problems.append(
                Problem(node.start_mark.line + 1, _dotted(path), f"unsupported YAML tag {node.tag}")
            )
            return None
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is None:
                    problems.append(
                        Problem(key_node.start_mark.line + 1, _dotted(path), "keys must be text")
                    )
                    continue
                if key == "<<":
                    problems.append(
                        Problem(
                            key_node.start_mark.line + 1,
                            _dotted(path),
                            "YAML merge keys (<<) are not supported; write the keys out",
                        )
                    )
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
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
        # The safe constructor gives `true`, `3` and `null` their YAML meaning; unknown tags
        # (`!Ref`, `!!python/object`) are refused rather than constructed.
        try:
            return _SCALARS.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            problems.append(
                Problem(node.start_mark.line + 1, _dotted(path), f"unsupported YAML tag {node.tag}")
            )
            return None

    data = walk(root, ())
    if problems:
        raise SpecError(file, problems)
    return _Located(data, lines)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


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
    kind = error["type"]
    given = error.get("input")
    key = path[-1] if path else ""
    if kind == "extra_forbidden":
        if isinstance(key, str) and key in _KNOWN_MISTAKES:
            return f"unknown key '{key}': {_KNOWN_MISTAKES[key]}"
        model = _model_for(path[:-1])
        allowed = _allowed_keys(model) if model else []
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown key '{key}' — {hint}allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return f"required key '{key}' is missing — add it"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{given!r} is not allowed — write one of {expected}"
    if kind == "string_pattern_mismatch":
        described = _field_description(path)
        examples = _field_examples(path)
        hint = f": {described.rstrip('.')}" if described else ""
        hint += f" — for example: {examples}" if examples else ""
        return f"{given!r} does not have the expected form{hint}"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"expected a whole number, got {given!r}"
    if kind in {"bool_parsing", "bool_type"}:
        return f"expected true or false, got {given!r}"
    if kind in {"string_type"}:
        return f"expected text, got {type(given).__name__} {given!r} — quote it if it is text"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a mapping of keys (key: value), got {_describe(given)}"
    if kind == "list_type":
        return f"expected a list (- item), got {_describe(given)}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        return f"{given!r} is out of range: {error['msg'].lower()}"
    if kind in {"too_short", "too_long"}:
        return error["msg"].replace("List", "the list")  # type: ignore[no-any-return]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return str(error["msg"])


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _field_description(path: Path_) -> str:
    # A list item (…email[0]) is described by its list's field.
    while path and isinstance(path[-1], int):
        path = path[:-1]
    if not path:
        return ""
    model = _model_for(tuple(path[:-1]))
    field = model.model_fields.get(str(path[-1])) if model is not None else None
    return (field.description or "") if field is not None else ""


def _field_examples(path: Path_) -> str:
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return ""
    model = _model_for(tuple(path[:-1])) if isinstance(path[-1], str) else None
    if model is None:
        return ""
    field = model.model_fields.get(names[-1])
    if field is None or not field.examples:
        return ""
    return str(field.examples[0])


def _problems(error: ValidationError, located: _Located) -> Iterator[Problem]:
    for item in error.errors():
        path: Path_ = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
        line = _nearest_line(path, located.lines)
        yield Problem(line, _dotted(path), _explain(item, path))


def _nearest_line(path: Path_, lines: Mapping[Path_, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def parse_spec(text: str | bytes, file: str = "conveyor.yaml") -> Spec:
    """Parse YAML text into a Spec or raise SpecError naming the file, line and key."""
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(file, [Problem(None, "", f"larger than {MAX_SPEC_BYTES} bytes")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(
                file, [Problem(None, "", f"not UTF-8 text (byte {exc.start}); save it as UTF-8")]
            ) from None
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        raise SpecError(
            file, [Problem(line, "", f"invalid YAML: {reason} — check indentation and quotes")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(file, [Problem(None, "", f"invalid YAML: {exc}")]) from None
    if not documents or documents[0] is None:
        raise SpecError(
            file, [Problem(None, "", "the file is empty — start with `app:`, `owner:`, `source:`")]
        )
    if len(documents) > 1:
        raise SpecError(file, [Problem(None, "", "one YAML document per file; remove the ---")])
    located = _to_python(documents[0], file)
    if not isinstance(located.data, dict):
        raise SpecError(
            file,
            [
                Problem(
                    1, "", f"expected a mapping at the top (app: …), got {_describe(located.data)}"
                )
            ],
        )
    try:
        return Spec.model_validate(located.data)
    except ValidationError as exc:
        raise SpecError(file, list(_problems(exc, located))) from None


def load_spec(path: str | Path) -> Spec:
    """Read and parse a conveyor.yaml file."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError(
            file, [Problem(None, "", "no such file — run `conveyor init` or pass the spec's path")]
        ) from None
    except IsADirectoryError:
        raise SpecError(file, [Problem(None, "", "is a directory — pass the spec file")]) from None
    except OSError as exc:
        raise SpecError(file, [Problem(None, "", f"cannot read it: {exc.strerror}")]) from None
    return parse_spec(raw, file)
