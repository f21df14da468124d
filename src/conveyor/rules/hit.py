"""``Hit``, what a rule's check returns (conveyor.rules.model exports it).

Its own module, without ``from __future__ import annotations``: ``typing.NamedTuple`` checks
each field's annotation, and one left a string becomes a ``typing.ForwardRef``, which
``compile()``s it; a process's first ``compile()`` builds the ``ast`` module's node types (9.3
million instructions) that a check otherwise never needs. Every named tuple a check may make
is declared so (here, rules.inputs.terraform_tuples, rules.report.lines, secret_urls): one left
would pay it alone, and after the fork for a file over 1 MB, in each process that makes it.
tests/rules/test_patterns.py imports every module of the checker and finds no ForwardRef.
"""

from typing import NamedTuple


class Hit(NamedTuple):
    """What a rule's check returns: where the problem is and what it is.

    ``path`` is relative to the resource (``Properties.Environment.Image``) when ``resource`` is
    set, and absolute (``Outputs``) for template-level hits without a resource.

    ``key`` tells apart hits of one rule on one resource and path (``circuit-breaker`` and
    ``grace-period`` on one service, a table's logical id): a stable word, never the message,
    which may be reworded or list things that change. SARIF fingerprints are built from it.

    A named tuple, as immutable as a frozen dataclass and made in a third of the instructions
    (a rule makes one per finding: 3,681 for issue 18's nested-conditions template).
    """

    resource: str
    path: str
    message: str
    key: str = ""
