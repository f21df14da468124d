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

from typing import Any, ClassVar

_set = object.__setattr__


def _rebuilt(cls: type[Plain], values: tuple[Any, ...]) -> Plain:
    made = object.__new__(cls)
    for name, value in zip(cls._FIELDS, values, strict=True):
        _set(made, name, value)
    return made


class Plain:
    """Equality, ``repr`` and pickling from the fields (``__slots__``, or ``_FIELDS``)."""

    __slots__ = ()
    # The fields in order (a class with slots: ``__slots__ = _FIELDS``).
    _FIELDS: ClassVar[tuple[str, ...]] = ()

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

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self._values())


class FrozenPlain(Plain):
    """A ``Plain`` whose fields are set once, by ``__init__`` (through ``object.__setattr__``),
    and that is hashed by them."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")
