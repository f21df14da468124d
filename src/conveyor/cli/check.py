"""`conveyor check`: check CloudFormation templates for the mistakes hand-written pipelines make.

Imports only the checker (never aws_cdk): start-up time matters for pre-commit hooks.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from conveyor.rules.model import CheckResult

# The checker's own defaults (conveyor.rules.bounds.TIME_LIMIT and MEMORY_LIMIT_MIB), written
# out so that `conveyor --help` and `check --help` need not import the checker package;
# tests/cli/test_startup.py fails if the two drift apart.
TIME_LIMIT = 60.0
MEMORY_LIMIT_MIB = 2048
MAX_TIME_LIMIT = 3600
MAX_MEMORY_LIMIT_MIB = 1 << 20
MAX_JOBS = 128
# 128 + SIGINT, as a shell reports a command stopped by Ctrl-C.
INTERRUPTED = 130


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


class InputKind(enum.StrEnum):
    auto = "auto"
    terraform = "terraform"
    pulumi = "pulumi"
    cloudformation = "cloudformation"


class FailOn(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


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
    from conveyor.lambda_runtimes import today
    from conveyor.rules.bounds import limits_problem
    from conveyor.rules.catalog import RULE_IDS

    try:
        today()  # CONVEYOR_TODAY, when set, must be a date: said here, not per file
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    problem = limits_problem(time_limit, memory_limit, jobs)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    report = _report_path(output, paths)
    required_tags = _split(require_tags)
    if require_tags and not required_tags:
        # `--require-tags ",,"` names no tag: checking for "any tag" instead would pass a
        # template the user meant to hold to named tags.
        typer.echo(
            "error: --require-tags names no tag; write the keys, "
            "e.g. --require-tags Owner,CostCenter",
            err=True,
        )
        raise typer.Exit(2)
    ignored = _split(ignore)
    unknown = [r for r in ignored if r not in RULE_IDS]
    if unknown:
        typer.echo(
            f"error: --ignore names unknown rule(s) {', '.join(unknown)}; "
            "see docs/rules/README.md for the rule ids",
            err=True,
        )
        raise typer.Exit(2)
    try:
        code = _run(
            paths,
            ignored,
            required_tags,
            jobs,
            output_format,
            fail_on,
            report,
            (time_limit, memory_limit),
            input_kind.value,
        )
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        # click would print "Aborted!" and exit 1, the code for findings; a run stopped by
        # Ctrl-C (or SIGINT from a CI runner) checked nothing: the shell's code for SIGINT.
        typer.echo("error: conveyor check interrupted; nothing was reported", err=True)
        raise typer.Exit(INTERRUPTED) from None
    except Exception as exc:  # a bug in conveyor must not look like findings (exit 1)
        from conveyor.rules.report.text import printable

        typer.echo(
            printable(
                f"error: internal error in conveyor check: {type(exc).__name__}: {exc} "
                "(a bug in conveyor: please report it with the command and templates)"
            ),
            err=True,
        )
        raise typer.Exit(2) from None
    raise typer.Exit(code)


def _report_path(output: str | None, paths: list[str]) -> Path | None:
    """Where the report goes (None: standard output), or exit 2 before any file is read if
    ``--output`` names no file or names one of the inputs (the report would replace it)."""
    from conveyor.cli.output import fail

    if output is None or output == "-":  # '-' is standard output, as a PATH '-' is stdin
        return None
    if output == "":
        # Path("") is ".", the current directory: an empty -o would be reported as ".".
        fail(
            "--output '' (an empty path) names no file; name a file, e.g. -o report.sarif, "
            "or leave -o out to write the report to standard output"
        )
    report = Path(output)
    try:
        written = report.stat()
    except OSError:  # nothing there yet (or unreachable): it cannot be an input
        return report
    if not stat.S_ISREG(written.st_mode):  # a directory or device is refused when written
        return report
    from conveyor.rules.runner import files_to_read

    # Named on the command line or found by scanning a directory: the same file under another
    # name, through a link or a hard link, is replaced all the same.
    for path, key in files_to_read(paths):
        if key == (written.st_dev, written.st_ino):
            fail(
                f"--output {output} is the input {path}: the report would replace it; "
                "write the report to another file, e.g. -o conveyor-report.txt"
            )
    return report


def _run(
    paths: list[str],
    ignored: list[str],
    require_tags: list[str],
    jobs: int,
    output_format: OutputFormat,
    fail_on: FailOn,
    output: Path | None,
    limits: tuple[float, int],
    input_kind: str = "auto",
) -> int:
    from conveyor.rules.runner import check_paths, read_stdin

    result = check_paths(
        paths,
        ignore=ignored,
        require_tags=require_tags,
        jobs=jobs,
        time_limit=limits[0],
        memory_limit=limits[1],
        # Read as bytes, so a file piped in is decoded and size-capped like a file on disk.
        stdin_text=read_stdin() if "-" in paths else None,
        input_kind=input_kind,
    )
    if result.files == 0 and not result.errors:
        from rich.console import Console

        from conveyor.rules.report.text import printable
        from conveyor.rules.template import TEMPLATE_SUFFIXES

        # Named from the walker's own list, so the note cannot drift from what is read.
        looked_for = ", ".join(f"*{suffix}" for suffix in TEMPLATE_SUFFIXES)
        notes = Console(stderr=True, highlight=False)
        notes.print(
            "note: no CloudFormation templates found in "
            + printable(", ".join(paths), notes.encoding)
            + f" (looked for {looked_for} with Resources)",
            soft_wrap=True,
            markup=False,
        )
    try:
        _write(result, output_format, output)
        # Flush here, not at exit: click turns a closed pipe met later into exit 1, the code
        # for findings, even for a clean run (`conveyor check dir | head -1` under pipefail).
        sys.stdout.flush()
    except OSError as exc:
        from conveyor.cli.output import fail

        if exc.errno == errno.EPIPE:  # nothing more can reach the closed reader, not even at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = f"--output {output}" if output is not None else "standard output"
        fail(f"cannot write the report to {where}: {exc.strerror}; choose a writable file")
    from conveyor.rules.model import Severity

    return result.exit_code(Severity.parse(fail_on.value))


def _write(result: CheckResult, output_format: OutputFormat, output: Path | None) -> None:
    if output_format is OutputFormat.text:
        from rich.console import Console

        from conveyor.cli.console import ReportConsole

        if output is None:
            _text(result, ReportConsole(highlight=False))
        else:
            with output.open("w", encoding="utf-8") as handle:
                _text(result, Console(file=handle, no_color=True, width=10_000, highlight=False))
        return
    if output_format is OutputFormat.json:
        from conveyor.rules.report import json as json_report

        rendered = json_report.render(result)
    else:
        from conveyor.rules.catalog import RULES
        from conveyor.rules.report import sarif

        rendered = sarif.render(result, RULES)
    if output is None:
        sys.stdout.write(rendered)
    else:
        output.write_text(rendered, encoding="utf-8")


def _text(result: CheckResult, console: Console) -> None:
    from conveyor.rules.report import text

    text.write(result, console)
