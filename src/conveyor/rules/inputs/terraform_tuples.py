"""The Terraform reader's named tuples (conveyor.rules.inputs.terraform).

Its own module, without ``from __future__ import annotations``, so that typing gets the
fields' types, not strings to compile (conveyor.rules.hit says what that would cost).
"""

from typing import Any, NamedTuple


class Config(NamedTuple):
    """A resource's configuration in the plan (terraform._Reader.configs)."""

    expressions: dict[str, Any]
    depends_on: list[str]
    module: str  # address prefix of the module the resource is declared in ("" or "module.a.")
    # What its for_each iterates when that names resources (``for_each = aws_s3_bucket.b``):
    # ``each.value`` is then the instance of the same key.
    each: tuple[str, ...] = ()


class At(NamedTuple):
    """Where a reference is written: the module's configuration prefix ("module.ci."), the
    module instance the referrer lies in ("module.ci[1]."), the referrer's own instance key."""

    module: str
    where: str
    instance: str
    each: tuple[str, ...] = ()  # the referrer's for_each references (Config.each)
