"""`conveyor synth SPEC`: write the pipeline's CloudFormation templates.

aws_cdk is imported inside the command: it starts Node and takes seconds, and `conveyor --help`
must stay instant.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from conveyor.cli.output import console, errors, escape, fail, not_a_regular_file, spec_path
from conveyor.cli.validate import load_or_exit

if TYPE_CHECKING:
    from conveyor.spec.models import Spec
    from conveyor.synth import SynthResult

NAG_FAILED = 1


class NagFailedError(Exception):
    """cdk-nag found unacknowledged findings (exit 1: the judge's verdict, not a usage error)."""


def prepare_output(output: Path) -> None:
    """Exit 2 unless `output` is a directory conveyor can write without following a link.

    The CDK writes manifest.json, tree.json and *.template.json by name: a link planted under one
    of those names would have it write wherever the link points.
    """
    try:
        output.mkdir(parents=True, exist_ok=True)
        entries = list(output.iterdir())
        links = sorted(entry.name for entry in entries if entry.is_symlink())
        # The CDK opens its outputs by name: a named pipe there blocks it forever, a device
        # takes the template.
        special = sorted(
            e.name for e in entries if not_a_regular_file(e) not in (None, "directory")
        )
        # A random name the probe creates itself: a fixed one could be a planted link too.
        descriptor, probe = tempfile.mkstemp(prefix=".conveyor-write-test-", dir=output)
        os.close(descriptor)
        Path(probe).unlink()
    except OSError as exc:
        fail(f"cannot write templates to -o {output}: {exc.strerror}; choose a writable directory")
    if links:
        fail(
            f"-o {output} holds symbolic links ({_listed(links)}); conveyor synth never writes "
            "through links. Remove them, or choose an empty directory with -o"
        )
    if special:
        fail(
            f"-o {output} holds what is not a regular file or directory ({_listed(special)}); "
            "conveyor synth writes only regular files. Remove them, or choose an empty "
            "directory with -o"
        )


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def require_synthesis_tools() -> None:
    """Exit 2 naming what to install when synthesis cannot start: the AWS CDK libraries run on
    Node (jsii starts it when aws_cdk is imported), and come with the `cdk` extra."""
    if shutil.which("node") is None:
        fail(
            "Node.js is not installed (no `node` on PATH): the AWS CDK libraries conveyor "
            "synthesizes with run on Node. Install Node 22 or later from https://nodejs.org "
            "and try again"
        )
    try:
        import aws_cdk  # noqa: F401
    except ImportError:
        fail(
            "the AWS CDK libraries are not installed: install conveyor with its cdk extra, "
            "pip install 'conveyor[cdk]' (validate, plan, check and the other commands work "
            "without it)"
        )


def synthesize_or_exit(spec: Spec, output: Path, *, nag: bool = False) -> SynthResult:
    """Synthesize, turning what a spec can provoke in CDK into exit-2 messages."""
    require_synthesis_tools()
    from conveyor.synth import synthesize

    try:
        return synthesize(spec, output, nag=nag)
    except ValueError as exc:  # conveyor's own constructs refusing a combination
        fail(f"{spec.app}: {exc}")
    except RuntimeError as exc:
        message = str(exc)
        if nag and "Validation failed" in message:
            raise NagFailedError(message) from None
        first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
        if "TooManyResources" in message or "500 resources" in message:
            fail(
                f"{spec.app}: the pipeline stack would exceed CloudFormation's 500 resources "
                f"({first}); split the environments into two pipelines (two conveyor.yaml files "
                "with different suffix:)"
            )
        fail(
            f"{spec.app}: the CDK refused this pipeline: {first}. conveyor.yaml passed "
            "validation, so this is a conveyor bug: please report it with your conveyor.yaml"
        )


def synth(
    spec: Annotated[
        Path,
        typer.Argument(help="Path to conveyor.yaml.", show_default=False, parser=spec_path),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="Directory for *.template.json.")
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
    prepare_output(output)
    started = time.perf_counter()
    with console.status(f"Synthesizing {loaded.app} (starting CDK) …", spinner="dots"):
        try:
            result = synthesize_or_exit(loaded, output, nag=nag)
        except NagFailedError as exc:
            errors.print(f"[bold red]cdk-nag:[/] {escape(str(exc))}", soft_wrap=True)
            errors.print(f"Full report: {escape(str(output / 'validation-report.json'))}")
            raise typer.Exit(NAG_FAILED) from None
    elapsed = time.perf_counter() - started
    from rich.table import Table  # ~0.03 s to import; only a synth that succeeded prints one

    for template in result.templates:
        table = Table(title=f"Stack {template.stack}: {template.resource_count} resources")
        table.add_column("Resource type")
        table.add_column("Count", justify="right")
        for kind, count in sorted(template.resources.items()):
            table.add_row(kind, str(count))
        console.print(table)
        console.print(f"Template: {escape(str(template.path))}")
    judged = " and passed cdk-nag AwsSolutions" if nag else ""
    console.print(f"[green]✓[/] synthesized in {elapsed:.1f} s{judged}")
