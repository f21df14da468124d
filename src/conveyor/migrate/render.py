"""A migrated spec as the conveyor.yaml a reviewer reads: what it came from, what was inferred
and what was not carried over as comments at the top, then the spec itself.

The text is parsed back with the spec loader before it is returned: a migration that wrote a
file `conveyor validate` refuses would be a bug here, not the user's to find.
"""

from __future__ import annotations

import textwrap

import yaml

from conveyor.migrate.copilot import Migration
from conveyor.spec.loader import parse_spec

WIDTH = 100


def _comment(text: str, first: str = "# - ", rest: str = "#   ") -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()),
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render(migration: Migration, file: str = "conveyor.yaml") -> str:
    """The spec of `migration` (which must have one) as commented YAML that validates."""
    assert migration.spec is not None, "only a migration with a spec is rendered"
    lines = _comment(
        f"Migrated from AWS Copilot by `conveyor migrate copilot` (service {migration.service}, "
        f"{migration.kind}) from {', '.join(migration.sources)}.",
        "# ",
        "# ",
    )
    if migration.inferred:
        lines += ["#", "# Inferred (check these):"]
        for text in migration.inferred:
            lines += _comment(text)
    if migration.notes:
        lines += ["#", f"# Not carried over ({len(migration.notes)}):"]
        for note in migration.notes:
            lines += _comment(note.render())
    body = yaml.safe_dump(
        migration.spec, sort_keys=False, default_flow_style=False, width=WIDTH, allow_unicode=True
    )
    text = "\n".join(lines) + "\n" + body
    parse_spec(text, file)
    return text
