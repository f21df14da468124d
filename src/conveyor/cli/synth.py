"""`conveyor synth SPEC`: write the pipeline's CloudFormation templates.

aws_cdk is imported inside the command: it starts Node and takes seconds, and `conveyor --help`
must stay instant.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from conveyor.cli.output import console, errors
from conveyor.cli.validate import load_or_exit

NAG_FAILED = 1


def synth(
    spec: Annotated[Path, typer.Argument(help="Path to conveyor.yaml.", show_default=False)],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory for *.template.json.")
    ] = Path("cdk.out"),
    nag: Annotated[
        bool,
        typer.Option(
            "--nag",
            help="Also run the cdk-nag AwsSolutions pack; exit 1 on unacknowledged findings.",
        ),
    ] = False,
) -> None:
    """Synthesize conveyor.yaml into CloudFormation templates (a CDK cloud assembly).

    Examples:

      conveyor synth conveyor.yaml

      conveyor synth examples/web-service.yaml -o out/ --nag
    """
    loaded = load_or_exit(spec)
    started = time.perf_counter()
    with console.status(f"Synthesizing {loaded.app} (starting CDK) …", spinner="dots"):
        from conveyor.synth import synthesize

        try:
            result = synthesize(loaded, output, nag=nag)
        except RuntimeError as exc:
            if not nag or "Validation failed" not in str(exc):
                raise
            errors.print(f"[bold red]cdk-nag:[/] {exc}", soft_wrap=True)
            errors.print(f"Full report: {output / 'validation-report.json'}")
            raise typer.Exit(NAG_FAILED) from None
    elapsed = time.perf_counter() - started

    for template in result.templates:
        table = Table(title=f"Stack {template.stack}: {template.resource_count} resources")
        table.add_column("Resource type")
        table.add_column("Count", justify="right")
        for kind, count in sorted(template.resources.items()):
            table.add_row(kind, str(count))
        console.print(table)
        console.print(f"Template: {template.path}")
    judged = " and passed cdk-nag AwsSolutions" if nag else ""
    console.print(f"[green]✓[/] synthesized in {elapsed:.1f} s{judged}")
