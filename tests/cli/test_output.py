"""The shared console: output through a pipe or into a file is never wrapped."""

from __future__ import annotations

import errno
import io
import os

import pytest
from rich.table import Table

from conveyor.cli.console import PipeSafeConsole, ReportConsole

LONG = "arn:aws:codeconnections:eu-west-1:123456789012:connection/" + "0" * 120


def test_text_off_a_terminal_stays_on_one_line() -> None:
    buffer = io.StringIO()
    PipeSafeConsole(file=buffer).print(f"[bold]connection[/] {LONG} is in another region")
    assert buffer.getvalue() == f"connection {LONG} is in another region\n"


def test_table_cells_off_a_terminal_are_not_wrapped() -> None:
    buffer = io.StringIO()
    table = Table("Name", "Value")
    table.add_row("connection", LONG)
    PipeSafeConsole(file=buffer).print(table)
    assert any(LONG in line for line in buffer.getvalue().splitlines()), buffer.getvalue()


def test_a_terminal_still_wraps_at_its_width() -> None:
    buffer = io.StringIO()
    PipeSafeConsole(file=buffer, force_terminal=True, width=40, highlight=False).print(LONG)
    assert all(len(line) <= 40 for line in buffer.getvalue().splitlines())


def test_a_message_longer_than_any_width_stays_on_one_line() -> None:
    words = "word " * 25_000  # 125,000 characters: past the unbounded width too
    buffer = io.StringIO()
    PipeSafeConsole(file=buffer).print(words.strip())
    assert buffer.getvalue() == words.strip() + "\n"


def test_print_options_still_apply() -> None:
    buffer = io.StringIO()
    PipeSafeConsole(file=buffer).print("[bold]literal[/]", markup=False, end="|")
    assert buffer.getvalue() == "[bold]literal[/]|"


def test_the_report_console_raises_on_a_closed_pipe() -> None:
    # rich's own answer to a reader that went away is exit 1, conveyor check's code for
    # findings; check's report console raises instead, and check exits 2 saying why.
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "w") as stream:
        console = ReportConsole(file=stream, highlight=False)
        with pytest.raises(BrokenPipeError) as raised:
            console.print("finding " * 10_000)
        assert raised.value.errno == errno.EPIPE
        assert console.quiet  # nothing more is attempted
