"""The text report's prints (conveyor.rules.report.text).

Its own module, without ``from __future__ import annotations``, so that typing gets the
fields' types, not strings to compile (conveyor.rules.hit says what that would cost).
"""

from collections.abc import Callable
from typing import NamedTuple


class Styled(NamedTuple):
    """Text printed in a style (a colour, bold) on a terminal."""

    text: str
    style: str


class Line(NamedTuple):
    """One print of the report: printable text, some of it styled, and whether it is printed
    soft-wrapped (never broken at the console's width)."""

    parts: tuple[str | Styled, ...]
    soft_wrap: bool

    def markup(self, escape: Callable[[str], str]) -> str:
        """rich markup for it, each text escaped (`escape`: rich.markup.escape) so that
        brackets in names and messages stay text."""
        return "".join(
            escape(p) if isinstance(p, str) else f"[{p.style}]{escape(p.text)}[/{p.style}]"
            for p in self.parts
        )
