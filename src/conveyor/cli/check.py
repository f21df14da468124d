"""`conveyor check`: placeholder until the checker lands (issue 4)."""

from __future__ import annotations

import typer


def check() -> None:
    """Check CloudFormation templates for pipeline failure modes."""
    typer.echo("conveyor check is not implemented yet", err=True)
    raise typer.Exit(2)
