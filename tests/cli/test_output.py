"""The shared console: output through a pipe or into a file is never wrapped."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.table import Table

from conveyor.cli import output
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


# --- fail() and write_file() (mutation survivors) -----------------------------------------------


def test_an_error_on_a_terminal_is_one_soft_wrapped_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # The terminal wraps it where it must; rich would break it into lines of 40 with hard
    # newlines, which a copy-paste of the message then carries.
    buffer = io.StringIO()
    terminal = PipeSafeConsole(file=buffer, force_terminal=True, width=40, highlight=False)
    monkeypatch.setattr(output, "errors", terminal)
    with pytest.raises(typer.Exit) as raised:
        output.fail(f"{LONG} is in another region [see docs]")
    assert raised.value.exit_code == 2
    plain = re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())  # the bold of "error:"
    assert plain == f"error: {LONG} is in another region [see docs]\n"


def test_write_file_makes_the_folders_and_a_file_only_its_owner_may_run_nothing(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a" / "b" / "conveyor.yaml"
    old = os.umask(0o022)
    try:
        output.write_file(target, "app: web\n", force=False, instead="choose another name")
    finally:
        os.umask(old)
    assert target.read_text() == "app: web\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # created 0o666 less the umask


def test_write_file_refuses_an_existing_file_and_says_what_to_do_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "conveyor.yaml"
    target.write_text("kept\n")
    with pytest.raises(typer.Exit):
        output.write_file(target, "new\n", force=False, instead="pass --print to see it")
    assert "pass --print to see it" in " ".join(capsys.readouterr().err.split())
    assert target.read_text() == "kept\n"


def test_a_file_that_appears_while_writing_is_not_replaced_even_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "conveyor.yaml"

    def raced(path: Path, payload: bytes) -> None:
        path.write_text("someone else's\n")  # between the check and the exclusive create
        raise FileExistsError(17, "File exists", str(path))

    monkeypatch.setattr(output, "_create", raced)
    with pytest.raises(typer.Exit) as raised:
        output.write_file(target, "mine\n", force=True, instead="try again")
    assert raised.value.exit_code == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "someone else's\n"


def test_a_replaced_file_is_renamed_from_a_temporary_file_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rename() is atomic only within one file system: the temporary file sits beside the target.
    target = tmp_path / "conveyor.yaml"
    target.write_text("old\n")
    made: list[Path] = []
    mkstemp = tempfile.mkstemp

    def spy(*args: Any, **kwargs: Any) -> tuple[int, str]:
        fd, name = mkstemp(*args, **kwargs)
        made.append(Path(name))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    output.write_file(target, "new\n", force=True, instead="x")
    assert target.read_text() == "new\n"
    assert [p.parent for p in made] == [tmp_path]
    assert made[0].name.startswith(".conveyor.yaml.")  # hidden while it is written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conveyor.yaml"]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("kind", ["named pipe", "directory"])
def test_write_file_never_replaces_what_is_not_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, force: bool
) -> None:
    """--force replaces a file by renaming a new one over it: over a named pipe or a device
    (`-o /dev/null --force` as root) that would delete the node itself, and over a directory
    --force cannot help. Refused (exit 2), naming what is there and what to do instead."""
    target = tmp_path / "diagram.png"
    if kind == "named pipe":
        os.mkfifo(target)
    else:
        target.mkdir()
    with pytest.raises(typer.Exit) as raised:
        output.write_file(target, b"png", force=force, instead="choose another file with -o")
    assert raised.value.exit_code == 2
    said = " ".join(capsys.readouterr().err.split())
    assert f"{target} is a {kind}, not a regular file" in said
    assert "choose another file with -o" in said
    assert "--force" not in said  # it would not help
    assert target.is_fifo() if kind == "named pipe" else target.is_dir()
