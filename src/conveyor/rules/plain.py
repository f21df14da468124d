"""Value classes for the checker's records, without ``dataclasses``.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__`` (and a frozen one's
``__setattr__``, ``__delattr__``, ``__hash__``) as source text and compiles it when the class is
made: 2.4 to 6.5 million instructions a class, and a check of a 1,000-resource Terraform plan
made fifteen of them at import (58 million of the process's 600 million). Here a class writes
its ``__init__`` (compiled with the module, into its .pyc) and lists its fields in order in
``_FIELDS`` (and ``__slots__ = _FIELDS`` where it has slots); ``Plain`` and ``FrozenPlain``
give it what ``@dataclass`` would, the same way: equality field by field with an object of the
same class, the same ``repr``, unhashable when mutable, hashed by its fields and refusing
assignment when frozen, and pickling (a forked checker sends its result back pickled).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

_set = object.__setattr__


def _rebuilt(cls: type[Plain], values: tuple[Any, ...]) -> Plain:
    made = object.__new__(cls)
    for name, value in zip(cls._FIELDS, values, strict=True):
        _set(made, name, value)
    return made


class _DataclassFields:
    """A ``Plain`` class's ``__dataclass_fields__``, made when first read: the functions of
    ``dataclasses`` (``fields``, ``asdict``, ``replace``, ``is_dataclass``) then work on its
    records as on the dataclasses they were (tests, and tools that read findings that way),
    while a check itself never imports ``dataclasses``, nor with it ``inspect``, ``ast``,
    ``dis`` and ``tokenize`` (37 million instructions).

    Kept here per class, not set on the class: a class attribute is inherited, so the fields of
    a base read first (``is_dataclass(FrozenPlain)``, or a record before its subclass) would
    become those of every class below it not read yet. A class without fields (the bases) has
    none: it is no dataclass."""

    def __init__(self) -> None:
        self._made: dict[type, dict[str, Any]] = {}

    def __get__(self, instance: object, owner: type[Plain]) -> dict[str, Any]:
        made = self._made.get(owner)
        if made is not None:
            return made
        if not owner._FIELDS:
            raise AttributeError("__dataclass_fields__")
        import dataclasses
        import inspect  # imported by dataclasses already

        # A subclass's own annotations first, then its bases' (a field it inherits).
        annotations: dict[str, Any] = {}
        for base in reversed(owner.__mro__):
            annotations.update(inspect.get_annotations(base))
        made = {}
        for name in owner._FIELDS:
            field: Any = dataclasses.field()
            field.name = name
            field.type = annotations.get(name, "Any")
            # What dataclasses.fields() selects: a field proper (not a ClassVar or InitVar).
            field._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
            made[name] = field
        self._made[owner] = made
        return made


class Plain:
    """Equality, ``repr`` and pickling from the fields (``__slots__``, or ``_FIELDS``)."""

    __slots__ = ()
    # The fields in order (a class with slots: ``__slots__ = _FIELDS``).
    _FIELDS: ClassVar[tuple[str, ...]] = ()
    __dataclass_fields__: ClassVar[Any] = _DataclassFields()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    # Mutable, compared by value: unhashable (as a dataclass with eq and not frozen).
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._FIELDS)
        return f"{type(self).__qualname__}({shown})"

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (as ``dataclasses.replace``)."""
        values = dict(zip(self._FIELDS, self._values(), strict=True))
        values.update(changes)
        return type(self)(**values)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self._values())


class FrozenPlain(Plain):
    """A ``Plain`` whose fields are set once, by ``__init__`` (through ``object.__setattr__``),
    and that is hashed by them."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    # The error a frozen dataclass raises (an AttributeError), imported only to raise it.
    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")
