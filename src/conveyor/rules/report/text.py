"""Human output: findings grouped by file, one line each, and a summary line. Colour only when
the console is a terminal (rich decides)."""

from __future__ import annotations

import re
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from conveyor.rules.model import CheckResult, Severity, not_checked

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


def _show(text: str, encoding: str) -> str:
    return escape(printable(text, encoding))


def write(result: CheckResult, console: Console) -> None:
    encoding = console.encoding
    for file, group in groupby(result.findings, key=lambda f: f.file):
        console.print(f"[bold]{_show(file, encoding)}[/bold]")
        # One print per file, not per finding: rich's cost is mostly per call (thousands of
        # findings took longer to print than to find). Each line closes its own markup.
        lines = []
        for f in group:
            colour = COLOURS[f.severity]
            where = f"{f.file}:{f.line}"
            resource = f" {f.resource}" if f.resource else ""
            lines.append(
                f"  {_show(where, encoding)} [{colour}]{f.rule} {f.severity.label}[/{colour}]"
                f"{_show(resource, encoding)}: {_show(f.message, encoding)}"
            )
        console.print("\n".join(lines), soft_wrap=True, highlight=False)
    for e in result.errors:
        # Parse errors already start with the file; discovery errors do not.
        message = e.message if e.message.startswith(e.file) else f"{e.file}: {e.message}"
        console.print(
            f"[red]error[/red] {_show(message, encoding)}", soft_wrap=True, highlight=False
        )
    for file, types in result.unchecked.items():
        # Not a finding (nothing is wrong in what was read), but "0 findings" must not read
        # as "all of it checked".
        console.print(
            f"[dim]note[/dim] {_show(file, encoding)}: {_show(not_checked(types), encoding)}",
            soft_wrap=True,
            highlight=False,
        )
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    by_severity = ", ".join(f"{n} {s.label}" for s, n in reversed(counts.items()) if n)
    console.print(
        f"{len(result.findings)} finding(s)"
        + (f" ({by_severity})" if by_severity else "")
        + f", {len(result.suppressed)} suppressed, {len(result.errors)} error(s) in "
        f"{result.files} file(s), {result.resources} resource(s), {result.seconds:.2f}s",
        highlight=False,
        soft_wrap=True,
    )
