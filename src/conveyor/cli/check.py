"""`conveyor check`: check CloudFormation templates for the mistakes hand-written pipelines make.

typer's command: its parameters, help and usage errors. What it does is conveyor.cli.checking's
(typer-free, so that conveyor.cli.fast_check can run it without importing typer). Imports only
the checker (never aws_cdk): start-up time matters for pre-commit hooks.
"""

from __future__ import annotations

from typing import Annotated

import typer

from conveyor.cli.checking import (
    MAX_JOBS,
    MAX_MEMORY_LIMIT_MIB,
    MAX_TIME_LIMIT,
    MEMORY_LIMIT_MIB,
    TIME_LIMIT,
    FailOn,
    InputKind,
    OutputFormat,
    run_check,
)

# The checker's defaults and bounds, named here too: the help shows them, and tests compare
# them with conveyor.rules.bounds.
__all__ = [
    "MAX_JOBS",
    "MAX_MEMORY_LIMIT_MIB",
    "MAX_TIME_LIMIT",
    "MEMORY_LIMIT_MIB",
    "TIME_LIMIT",
    "FailOn",
    "InputKind",
    "OutputFormat",
    "check",
]


def check(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Template files, directories (searched recursively), a cdk.out directory, "
            "or '-' for standard input.",
            show_default=False,
            metavar="PATH",
        ),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="Output format: text, json or sarif."
        ),
    ] = OutputFormat.text,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            metavar="SEVERITY",
            help="Exit 1 when a finding has at least this severity: low, medium, high or critical.",
        ),
    ] = FailOn.medium,
    ignore: Annotated[
        list[str] | None,
        typer.Option(metavar="RULES", help="Rule ids to skip, comma-separated (e.g. CV090,CV091)."),
    ] = None,
    require_tags: Annotated[
        list[str] | None,
        typer.Option(
            metavar="KEYS",
            help="Tag keys every taggable resource must carry, comma-separated "
            "(default: any tag at all).",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            metavar="N",
            help=f"Parallel processes, at most {MAX_JOBS}; 0 picks one per core.",
        ),
    ] = 0,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the report to this file instead of standard output ('-' is standard "
            "output); never to one of the PATHs.",
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help=f"Seconds one file may take (more than 0, at most {MAX_TIME_LIMIT}), reading "
            "and parsing included; past it the file is an error (exit 2) and the others are "
            "still checked.",
        ),
    ] = TIME_LIMIT,
    memory_limit: Annotated[
        int,
        typer.Option(
            metavar="MIB",
            help=f"MiB of memory one file may use (from 1 to {MAX_MEMORY_LIMIT_MIB}) when "
            "checked in a worker process (with --jobs, or a file over 1 MB); past it the file "
            "is an error (exit 2).",
        ),
    ] = MEMORY_LIMIT_MIB,
    input_kind: Annotated[
        InputKind,
        typer.Option(
            "--input",
            metavar="KIND",
            help="What the inputs are: terraform (terraform show -json), pulumi (pulumi "
            "preview --json, pulumi stack export) or cloudformation; auto detects it.",
        ),
    ] = InputKind.auto,
) -> None:
    """Check CloudFormation templates (JSON/YAML, CDK output) for pipeline failure modes.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 a usage error, an input that
    cannot be read or parsed, or an internal error (the other files are still checked).

    Examples:

      conveyor check cdk.out

      conveyor check template.yaml --fail-on high --ignore CV090

      conveyor check infra/ --format sarif -o conveyor.sarif

      conveyor check - < template.json
    """
    try:
        code = run_check(
            paths,
            output_format,
            fail_on,
            ignore,
            require_tags,
            jobs,
            output,
            time_limit,
            memory_limit,
            input_kind,
        )
    except SystemExit as stop:  # a usage error, already printed
        raise typer.Exit(stop.code if isinstance(stop.code, int) else 2) from None
    raise typer.Exit(code)
