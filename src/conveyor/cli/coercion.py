"""Command-line values of plain types, converted without pydantic.

typer (0.2x) converts every option and argument through a pydantic ``TypeAdapter``: the first
value converted imports pydantic and builds its schemas, about a third of the start-up of
``conveyor check``, a command run by pre-commit hooks on one file at a time. Our commands take
plain values (text, whole and decimal numbers with bounds, paths, choices from an enum, lists of
text), so those are converted here, with plain messages; anything else (and a typer
without this machinery) keeps typer's conversion.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.core import TyperCommand

try:  # typer's runtime conversion layer (typer >= 0.2x); older typers convert through click
    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam, TypeDescriptor
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - depends on the installed typer
    RuntimeParam = None  # type: ignore[assignment,misc]

# Plain words, not pydantic's ("Input should be ...", "Value error, ..."): issue 12 wants no
# Python internals in what users read.
_NUMBERS = {int: "a whole number", float: "a number"}


def plain_conversion(descriptor: Any) -> Any:
    """A converter for ``descriptor``'s annotation, or None to leave it to typer."""
    if RuntimeParam is None:
        return None
    info = descriptor.parameter_info
    if info.parser is not None or getattr(info, "click_type", None) is not None:
        return None
    annotation = descriptor.annotation
    element = annotation
    origin = getattr(annotation, "__origin__", None)
    if origin is list:
        (element,) = annotation.__args__
    if element in (str, bool):
        pass
    elif element in _NUMBERS:
        if getattr(info, "clamp", False):
            return None
    elif element is Path:
        if info.exists or info.resolve_path or not (info.file_okay and info.dir_okay):
            return None
    elif not (isinstance(element, type) and issubclass(element, enum.Enum)):
        return None
    return _Plain(annotation=annotation, parameter_info=info, element=element)


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _Plain(RuntimeParam):
        element: Any

        def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Any) -> Any:
            if getattr(self.annotation, "__origin__", None) is list:
                items = value if isinstance(value, list | tuple) else [value]
                return [self._one(item, param, ctx) for item in items]
            return self._one(value, param, ctx)

        def _one(self, value: Any, param: _TyperParameter, ctx: Any) -> Any:
            kind = self.element
            if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                converted = value
            elif kind is str:
                converted = str(value)
            elif kind is Path:
                converted = Path(value)
            elif kind is bool:
                converted = _boolean(value, param, ctx)
            elif kind in _NUMBERS:
                try:
                    converted = kind(str(value).strip())
                except ValueError:
                    raise BadParameter(
                        f"{value!r} is not {_NUMBERS[kind]}; give {_NUMBERS[kind]}",
                        ctx=ctx,
                        param=param,
                    ) from None
                # float() reads 'inf' and 'nan'; nan passes every bound (no comparison holds).
                if not math.isfinite(converted):
                    raise BadParameter(
                        f"{value!r} is not a finite number; give a finite number",
                        ctx=ctx,
                        param=param,
                    )
            else:
                converted = _choice(kind, value, self.parameter_info, param, ctx)
            if kind in _NUMBERS:
                _within(converted, self.parameter_info, param, ctx)
            return converted

else:  # pragma: no cover - depends on the installed typer
    _Plain = None  # type: ignore[assignment,misc]


def _within(number: float, info: Any, param: Any, ctx: Any) -> None:
    if info.min is not None and number < info.min:
        raise BadParameter(f"{number} is below the least value, {info.min}", ctx=ctx, param=param)
    if info.max is not None and number > info.max:
        raise BadParameter(
            f"{number} is above the greatest value, {info.max}", ctx=ctx, param=param
        )


def _boolean(value: Any, param: Any, ctx: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    raise BadParameter(f"{value!r} is not true or false; give true or false", ctx=ctx, param=param)


def _choice(kind: type[enum.Enum], value: Any, info: Any, param: Any, ctx: Any) -> enum.Enum:
    text = str(value.value if isinstance(value, enum.Enum) else value)
    for member in kind:
        name = str(member.value)
        if name == text or (not info.case_sensitive and name.lower() == text.lower()):
            return member
    listed = ", ".join(repr(str(m.value)) for m in kind)
    raise BadParameter(f"{text!r} is not one of {listed}.", ctx=ctx, param=param)


class PlainCommand(TyperCommand):
    """typer's command, converting its plain-typed parameters (its --help flag included, which
    click adds only when the command line is parsed) without pydantic."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        if RuntimeParam is None:  # pragma: no cover - depends on the installed typer
            return params
        for param in params:
            descriptor = getattr(param, "type_descriptor", None)
            if (
                isinstance(param, _TyperParameter)
                and isinstance(descriptor, TypeDescriptor)
                and not isinstance(param._runtime_param, _Plain)
            ):
                plain = plain_conversion(descriptor)
                if plain is not None:
                    param._runtime_param = plain
        return params
