"""Human output: findings grouped by file, one line each, and a summary line. Colour only when
the console is a terminal (rich decides).

`lines` gives the report's prints as markup; `write` prints them through a rich console, and
conveyor.cli.checking writes their plain text itself where rich would print no colour (off a
terminal, into a file): importing rich and rendering through it was a tenth of `conveyor check
plan.json`. tests/cli/test_text_report.py holds the two equal on drawn results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import groupby
from typing import TYPE_CHECKING

from conveyor.rules.model import CheckResult, Severity, not_checked
from conveyor.rules.report.lines import Line as Line
from conveyor.rules.report.lines import Styled as Styled

if TYPE_CHECKING:
    from rich.console import Console

COLOURS = {
    Severity.INFO: "dim",
    Severity.LOW: "cyan",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "red",
    Severity.CRITICAL: "bold red",
}


# Characters a terminal acts on or hides instead of showing: C0/C1 controls (an ESC starts an
# ANSI sequence that can recolour, retitle or erase the report; a newline forges a finding line),
# zero-width and bidirectional-override characters (they reorder or hide what is printed).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def printable(text: str, encoding: str = "utf-8") -> str:
    """Text safe to print: template names and file names can hold lone surrogates (a
    ``\\ud800`` escape in JSON, a file name that is not UTF-8), which no encoder writes,
    characters the output's `encoding` lacks (a name in Japanese on an ASCII or cp1252 output:
    PYTHONIOENCODING, a POSIX locale without UTF-8 mode, a Windows redirect), and control
    characters, which a terminal would obey; all are shown as backslash escapes."""
    text = text.encode(encoding, "backslashreplace").decode(encoding)
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def lines(result: CheckResult, encoding: str) -> Iterator[Line]:
    """The report's prints, in order, for an output in `encoding`."""
    for file, group in groupby(result.findings, key=lambda f: f.file):
        # The file's heading, the one print the report does not soft-wrap itself (a console
        # that is not a terminal soft-wraps it: conveyor.cli.console.PipeSafeConsole).
        yield Line((Styled(printable(file, encoding), "bold"),), soft_wrap=False)
        # One print per file, not per finding: rich's cost is mostly per call (thousands of
        # findings took longer to print than to find).
        parts: list[str | Styled] = []
        for f in group:
            resource = f" {f.resource}" if f.resource else ""
            parts += (
                "\n  " if parts else "  ",
                printable(f"{f.file}:{f.line}", encoding),
                " ",
                Styled(f"{f.rule} {f.severity.label}", COLOURS[f.severity]),
                printable(resource, encoding),
                ": ",
                printable(f.message, encoding),
            )
        yield Line(tuple(parts), soft_wrap=True)
    for e in result.errors:
        # Parse errors already start with the file; discovery errors do not.
        message = e.message if e.message.startswith(e.file) else f"{e.file}: {e.message}"
        yield Line((Styled("error", "red"), " ", printable(message, encoding)), soft_wrap=True)
    for file, types in result.unchecked.items():
        # Not a finding (nothing is wrong in what was read), but "0 findings" must not read
        # as "all of it checked".
        yield Line(
            (
                Styled("note", "dim"),
                " ",
                printable(file, encoding),
                ": ",
                printable(not_checked(types), encoding),
            ),
            soft_wrap=True,
        )
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    by_severity = ", ".join(f"{n} {s.label}" for s, n in reversed(counts.items()) if n)
    summary = (
        f"{len(result.findings)} finding(s)"
        + (f" ({by_severity})" if by_severity else "")
        + f", {len(result.suppressed)} suppressed, {len(result.errors)} error(s) in "
        f"{result.files} file(s), {result.resources} resource(s), {result.seconds:.2f}s"
    )
    yield Line((summary,), soft_wrap=True)


def write(result: CheckResult, console: Console) -> None:
    """The report through a rich console (colours on a terminal)."""
    from rich.markup import escape

    for line in lines(result, console.encoding):
        if line.soft_wrap:
            console.print(line.markup(escape), soft_wrap=True, highlight=False)
        else:
            console.print(line.markup(escape))
