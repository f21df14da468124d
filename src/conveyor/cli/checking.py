"""What `conveyor check` does once its command line is parsed, without typer, click or rich.

Two parsers call it: typer's (conveyor.cli.check, for every form of the command line, help and
errors included) and conveyor.cli.fast_check (the ordinary forms, without importing typer:
that import was a fifth of `conveyor check plan.json`). Both pass the same values and get the
same exit code; a user error is printed here and ends in SystemExit(2).
"""

from __future__ import annotations

import enum
import errno
import io
import os
import stat
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from conveyor.cli.streams import TERMINAL_FORCED, USER_ERROR, echo_error, print_error

if TYPE_CHECKING:
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
INTERRUPTED_MESSAGE = "error: conveyor check interrupted; nothing was reported"
INCOMPLETE_MESSAGE = (
    "error: conveyor check interrupted while writing the report; the report is incomplete"
)


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


def _fail(message: str) -> NoReturn:
    print_error(message)
    raise SystemExit(USER_ERROR)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def run_check(
    paths: list[str],
    output_format: OutputFormat = OutputFormat.text,
    fail_on: FailOn = FailOn.medium,
    ignore: list[str] | None = None,
    require_tags: list[str] | None = None,
    jobs: int = 0,
    output: str | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT_MIB,
    input_kind: InputKind = InputKind.auto,
) -> int:
    """Check `paths` and write the report; the exit code (0, 1 findings, 2 errors, 130
    interrupted while checking). A usage error is printed and raises SystemExit(2)."""
    from conveyor.lambda_runtimes import today
    from conveyor.rules.bounds import limits_problem
    from conveyor.rules.catalog import RULE_IDS

    try:
        today()  # CONVEYOR_TODAY, when set, must be a date: said here, not per file
    except ValueError as exc:
        echo_error(f"error: {exc}")
        raise SystemExit(USER_ERROR) from None
    problem = limits_problem(time_limit, memory_limit, jobs)
    if problem is not None:
        echo_error(f"error: {problem}")
        raise SystemExit(USER_ERROR)
    report = _report_path(output, paths)
    required_tags = _split(require_tags)
    if require_tags and not required_tags:
        # `--require-tags ",,"` names no tag: checking for "any tag" instead would pass a
        # template the user meant to hold to named tags.
        echo_error(
            "error: --require-tags names no tag; write the keys, "
            "e.g. --require-tags Owner,CostCenter"
        )
        raise SystemExit(USER_ERROR)
    ignored = _split(ignore)
    unknown = [r for r in ignored if r not in RULE_IDS]
    if unknown:
        echo_error(
            f"error: --ignore names unknown rule(s) {', '.join(unknown)}; "
            "see docs/rules/README.md for the rule ids"
        )
        raise SystemExit(USER_ERROR)
    try:
        return _run(
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
    except KeyboardInterrupt:
        # click would print "Aborted!" and exit 1, the code for findings; a run stopped by
        # Ctrl-C (or SIGINT from a CI runner) checked nothing: the shell's code for SIGINT.
        echo_error(INTERRUPTED_MESSAGE)
        return INTERRUPTED
    except Exception as exc:  # a bug in conveyor must not look like findings (exit 1)
        from conveyor.rules.report.text import printable

        echo_error(
            printable(
                f"error: internal error in conveyor check: {type(exc).__name__}: {exc} "
                "(a bug in conveyor: please report it with the command and templates)"
            )
        )
        return USER_ERROR


def _report_path(output: str | None, paths: list[str]) -> Path | None:
    """Where the report goes (None: standard output), or exit 2 before any file is read if
    ``--output`` names no file or names one of the inputs (the report would replace it)."""
    if output is None or output == "-":  # '-' is standard output, as a PATH '-' is stdin
        return None
    if output == "":
        # Path("") is ".", the current directory: an empty -o would be reported as ".".
        _fail(
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
            _fail(
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
    except KeyboardInterrupt:
        # Part of the report may be out already (a long one into a pipe): not "nothing".
        echo_error(INCOMPLETE_MESSAGE)
        return INTERRUPTED
    except OSError as exc:
        if output is None:
            # Nothing more can reach standard output (a closed reader, a full disk, a closed
            # descriptor), not even the final flush at exit, which would print a traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        where = f"--output {output}" if output is not None else "standard output"
        _fail(f"cannot write the report to {where}: {exc.strerror}; choose a writable file")
    from conveyor.rules.model import Severity

    return result.exit_code(Severity.parse(fail_on.value))


def _write(result: CheckResult, output_format: OutputFormat, output: Path | None) -> None:
    if output_format is OutputFormat.text:
        _write_text(result, output)
        return
    if output_format is OutputFormat.json:
        from conveyor.rules.report import json as json_report

        rendered = json_report.render(result)
    else:
        from conveyor.rules.report import sarif

        rendered = sarif.render(result)  # every rule, as listed in sarif_rules.json
    if output is None:
        _write_out(rendered)
    else:
        output.write_text(rendered, encoding="utf-8")


def _write_out(text: str) -> None:
    """Write `text` to standard output whole, or raise OSError.

    Under PYTHONUNBUFFERED=1 or `python -u` (set in many CI images) sys.stdout is a text
    wrapper straight over the unbuffered file: its write() hands the text to one os.write and
    ignores a partial write. A report longer than the pipe's buffer, read by `| head -1` (or
    interrupted by a signal), lost its tail without an error: exit 1 (or 0), where the reader
    gone is exit 2 (`cannot write the report`). Buffered, sys.stdout writes it all or raises.
    """
    stream = sys.stdout
    raw = getattr(stream, "buffer", None)
    if not isinstance(raw, io.RawIOBase):
        stream.write(text)
        return
    stream.flush()
    data = memoryview(text.encode(stream.encoding, stream.errors or "strict"))
    while data:
        written = raw.write(data)
        if written is None:  # a non-blocking descriptor that is full, as buffered would raise
            raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
        data = data[written:]


# The width of the report console writing to a file (-o): wider than any line it prints.
_FILE_WIDTH = 10_000


def _write_text(result: CheckResult, output: Path | None) -> None:
    """The text report: off a terminal (and into a file) rich would print each line's plain
    text, so that text is written without rich (a tenth of `conveyor check plan.json` was
    importing rich and rendering through it); on a terminal rich prints it in colour.

    The report consoles take no emoji codes (emoji=False): rich turned `:thumbs_up:` in a file
    name or a message into an emoji; a name is printed as written, as conveyor.cli.output's
    consoles already print it."""
    from conveyor.rules.report import text

    if output is None:
        report = None if _colours(sys.stdout) else plain_report(result, _encoding(sys.stdout))
        if report is not None:
            _write_out(report)
            return
        from conveyor.cli.console import ReportConsole

        text.write(result, ReportConsole(highlight=False, emoji=False))
        return
    with output.open("w", encoding="utf-8") as handle:
        report = plain_report(result, "utf-8", width=_FILE_WIDTH)
        if report is not None:
            handle.write(report)
            return
        from rich.console import Console

        text.write(
            result,
            Console(file=handle, no_color=True, width=_FILE_WIDTH, highlight=False, emoji=False),
        )


def plain_report(result: CheckResult, encoding: str, width: int | None = None) -> str | None:
    """The text report as a rich console that is no terminal prints it, without rich: each
    print's markup as rich shows it (conveyor.cli.markup follows rich's grammar, quirks
    included: rich shows a backslash before a `[` that opens no tag as nothing). `width`: the
    console's width, where rich breaks a heading it does not soft-wrap (None: unbounded);
    None when a heading might reach it, so that rich breaks it."""
    from conveyor.cli.markup import escape, plain, shown_as_written
    from conveyor.rules.report.text import lines

    pieces = []
    for line in lines(result, encoding):
        text = "".join(p if isinstance(p, str) else p.text for p in line.parts)
        shown = text if shown_as_written(text) else plain(line.markup(escape))
        if shown is None:  # a control code or a tab: printable() lets none through
            return None
        # A character takes at most two cells: shorter than half the width, it fits.
        if width is not None and not line.soft_wrap and 2 * len(shown) >= width:
            return None
        pieces.append(shown + "\n")
    return "".join(pieces)


def _colours(stream: IO[str]) -> bool:
    """Whether rich would treat `stream` as a terminal (and print colours, wrap at its width):
    a terminal, or FORCE_COLOR, TTY_COMPATIBLE or TTY_INTERACTIVE set at all (rich reads
    them: rich/console.py Console.is_terminal)."""
    if any(name in os.environ for name in TERMINAL_FORCED):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty (rich: not a terminal), a closed stream
        return False


def _encoding(stream: IO[str]) -> str:
    # rich's Console.encoding: the stream's encoding, lower-cased, utf-8 when it names none.
    return (getattr(stream, "encoding", "utf-8") or "utf-8").lower()
