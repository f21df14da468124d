"""Render the conveyor.yaml reference (docs/spec.md) from the models, so it cannot drift.

Run: python -m conveyor.spec.reference > docs/spec.md
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from conveyor.spec.models import Spec


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " \\| ".join(names)
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        return "mapping"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    if annotation is str:
        return "text"
    if annotation is int:
        return "number"
    if annotation is bool:
        return "true/false"
    return str(annotation)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "defaults"
        return f"`{value!r}`" if value else "empty"
    if field.default is None or field.default is PydanticUndefined:
        return "none"
    return f"`{field.default!r}`"


def _models(model: type[BaseModel], seen: list[type[BaseModel]]) -> list[type[BaseModel]]:
    if model in seen:
        return seen
    seen.append(model)
    for field in model.model_fields.values():
        for inner in _inner(field.annotation):
            _models(inner, seen)
    return seen


def _inner(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _inner(arg)
    return found


def render() -> str:
    lines = [
        "# conveyor.yaml reference",
        "",
        "Generated from `src/conveyor/spec/models.py` by `python -m conveyor.spec.reference`;",
        "do not edit by hand. Unknown keys are errors. Secrets are never values: write",
        "`ssm:/path` (SSM SecureString) or `secretsmanager:name[:json-key]`.",
        "",
    ]
    for model in _models(Spec, []):
        lines += [f"## {model.__name__}", ""]
        doc = (model.__doc__ or "").strip()
        if doc:
            lines += [" ".join(doc.split()), ""]
        lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            meaning = (field.description or "").replace("|", "\\|")
            if field.examples:
                meaning += f" Example: `{field.examples[0]}`."
            lines.append(
                f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {meaning} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
