"""The habits of a command-line tool: --version, -h, help that shows examples and is not
hard-wrapped by the source's line breaks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from conveyor.cli.main import COMMANDS, app

runner = CliRunner()


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_installed_version(flag: str) -> None:
    result = runner.invoke(app, [flag])
    assert result.exit_code == 0
    assert result.output == f"conveyor {version('conveyor')}\n"


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_dash_h_is_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage: conveyor" in result.output
    assert "--help" in result.output and "-h" in result.output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_shows_an_example(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    examples = [line.strip() for line in (command.help or "").splitlines()]
    assert any(line.startswith(f"conveyor {name}") for line in examples), command.help


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_paragraphs_are_not_hard_wrapped(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    for paragraph in (command.help or "").split("\n\n"):
        assert "\n" not in paragraph, paragraph


def test_help_on_a_wide_screen_keeps_a_paragraph_on_one_line() -> None:
    env = {**os.environ, "COLUMNS": "300"}
    out = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "check", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert (
        "Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 a usage error, an input "
        "that cannot be read or parsed, or an internal error (the other files are still "
        "checked)." in out
    ), out


def test_the_licence_is_an_spdx_expression() -> None:
    # A `license = {text = ...}` table made setuptools print a deprecation warning on every
    # install; the SPDX string (PEP 639) is written as License-Expression.
    from importlib.metadata import metadata

    assert metadata("conveyor")["License-Expression"] == "Apache-2.0"


# --- help through a pipe (issue 12): plain, unwrapped, arguments as users type them -----------

HELP_OF_EVERY_COMMAND = (
    "from conveyor.cli.main import COMMANDS, app\n"
    "for command in [[], *([name] for name in COMMANDS)]:\n"
    "    print('=== ' + ' '.join(command), flush=True)\n"
    "    try:\n"
    "        app([*command, '-h'], prog_name='conveyor')\n"
    "    except SystemExit as exc:\n"
    "        assert exc.code in (0, None), exc.code\n"
)


def _helps_through_a_pipe(columns: str | None) -> dict[str, str]:
    """Every command's help, as `conveyor NAME -h | cat` prints it, by command name."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    out = subprocess.run(
        [sys.executable, "-c", HELP_OF_EVERY_COMMAND],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    helps: dict[str, str] = {}
    for block in out.split("=== ")[1:]:
        name, _, text = block.partition("\n")
        helps[name] = text
    return helps


@pytest.fixture(scope="module", params=[None, "40", "80", "200"], ids=lambda c: f"COLUMNS={c}")
def piped_helps(request: pytest.FixtureRequest) -> dict[str, str]:
    return _helps_through_a_pipe(request.param)


def _expected_lines(name: str) -> list[str]:
    """What must each stand whole on one line of `name`'s help: every paragraph of its help
    text, and every argument's and option's help."""
    group = typer.main.get_command(app)
    command = group if not name else group.commands[name]  # type: ignore[attr-defined]
    wanted = [p.strip() for p in (command.help or "").split("\n\n") if p.strip()]
    for param in command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            wanted.append(" ".join(help_text.split()))
    return wanted


def test_every_command_has_its_help_through_a_pipe(piped_helps: dict[str, str]) -> None:
    assert set(piped_helps) == {"", *COMMANDS}


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_through_a_pipe_splits_no_word_and_no_sentence(
    piped_helps: dict[str, str], name: str
) -> None:
    text = piped_helps[name]
    lines = [line.strip() for line in text.splitlines()]
    for wanted in _expected_lines(name):
        assert any(wanted in line for line in lines), f"{wanted!r} is not on one line:\n{text}"
    # No boxes either: rich's panels were what cut the lines.
    assert not set("╭╮╰╯│─") & set(text), text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_usage_line_names_arguments_as_users_type_them(
    piped_helps: dict[str, str], name: str
) -> None:
    usage = piped_helps[name].splitlines()[0]
    assert usage.startswith(f"Usage: conveyor {name} [OPTIONS]"), usage
    assert "{" not in usage and "}" not in usage, usage
    arguments = usage.removeprefix(f"Usage: conveyor {name} [OPTIONS]").split()
    assert all(a.strip("[].").isupper() for a in arguments), usage


def test_the_usage_lines_of_commands_with_arguments() -> None:
    helps = _helps_through_a_pipe(None)
    assert helps["check"].startswith("Usage: conveyor check [OPTIONS] PATH...\n")
    assert helps["validate"].startswith("Usage: conveyor validate [OPTIONS] SPEC\n")
    assert helps["init"].startswith("Usage: conveyor init [OPTIONS] [DIR]\n")
    assert helps["rollback"].startswith("Usage: conveyor rollback [OPTIONS] ENVIRONMENT\n")
    assert helps[""].startswith("Usage: conveyor [OPTIONS] COMMAND [ARGS]...\n")


def test_a_usage_error_through_a_pipe_is_plain_lines() -> None:
    env = {**os.environ, "COLUMNS": "40"}
    completed = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", "check", "-f", "x"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "Usage: -c check [OPTIONS] PATH...",
        "Try '-c check -h' for help.",
        "",
        "Error: Invalid value for '--format' / '-f': 'x' is not one of 'text', 'json', 'sarif'.",
    ], completed.stderr


def test_a_missing_argument_is_named_as_users_type_it() -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "Missing argument 'PATH'." in result.output


def test_help_on_a_terminal_is_still_typers() -> None:
    # A person at a terminal gets typer's panels at the terminal's width.
    code = (
        "from conveyor.cli.main import app\n"
        "try:\n"
        "    app(['check', '-h'], prog_name='conveyor')\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    primary, secondary = os.openpty()
    env = {**os.environ, "COLUMNS": "60"}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=secondary, env=env)
    os.close(secondary)
    chunks = []
    with os.fdopen(primary, "rb") as reader:
        try:
            while chunk := reader.read(4096):
                chunks.append(chunk)
        except OSError:  # EIO: the terminal closed when the child exited
            pass
    assert process.wait() == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())  # colours
    assert "Usage: conveyor check [OPTIONS] PATH..." in text
    assert "─ Options ─" in text
    assert max(len(line) for line in text.splitlines()) <= 60


# --- help on a terminal (issue 12): words, not Python types; the terminal's width -------------


def _helps_on_a_terminal(columns: int) -> dict[str, str]:
    """Every command's help as a person sees it on a terminal `columns` wide (its window size,
    no COLUMNS variable), colours removed, by command name."""
    import fcntl
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", HELP_OF_EVERY_COMMAND],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    chunks = []
    try:
        while chunk := os.read(primary, 65536):
            chunks.append(chunk)
    except OSError:  # EIO: the terminal closed when the child exited
        pass
    os.close(primary)
    assert process.wait() == 0
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode()).replace("\r", "")
    helps: dict[str, str] = {}
    for block in text.split("=== ")[1:]:
        name, _, body = block.partition("\n")
        helps[name] = body
    return helps


@pytest.fixture(scope="module", params=[80, 200], ids=lambda c: f"{c}-columns")
def terminal_helps(request: pytest.FixtureRequest) -> tuple[int, dict[str, str]]:
    return request.param, _helps_on_a_terminal(request.param)


def _params(name: str) -> list[Any]:
    """The parameters `name`'s help shows (the group's when `name` is empty)."""
    group = typer.main.get_command(app)
    command = group if not name else group.commands[name]  # type: ignore[attr-defined]
    return [p for p in command.get_params(typer.Context(command)) if not getattr(p, "hidden", 0)]


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_on_a_terminal_names_values_in_words_and_cuts_no_word(
    terminal_helps: tuple[int, dict[str, str]], name: str
) -> None:
    columns, helps = terminal_helps
    text = helps[name]
    assert "─ Options ─" in text  # typer's panels: this is the terminal's help
    assert max(len(line) for line in text.splitlines()) <= columns
    # No Python types: typer printed <list[str]>, <path>, <int range>, <bool> after a flag.
    assert not re.search(r"<(list|path|text|int|float|bool|str)\b|list\[", text), text
    words = set(re.sub(r"[│╭╮╰╯─]", " ", text).split())
    for param in _params(name):
        names = (
            [o for o in param.opts if o.startswith("--")]
            if param.param_type_name == "option"
            else []
        )
        shown = [*names, *([param.metavar] if param.metavar else [])]
        shown += (param.help or "").split()
        missing = [w for w in shown if w not in words]
        assert missing == [], f"cut or missing in `conveyor {name} -h`: {missing}\n{text}"


def test_help_on_a_wide_terminal_uses_its_width() -> None:
    helps = _helps_on_a_terminal(200)
    lines = [line.strip(" │") for line in helps["check"].splitlines()]
    # One paragraph on one line: not folded at 80 columns.
    paragraph = (
        "Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 a usage error, an input "
        "that cannot be read or parsed,"
    )
    assert any(line.startswith(paragraph) for line in lines), helps["check"]


def test_every_value_an_option_takes_is_named_in_words() -> None:
    """Each option that takes a value shows a metavar in capitals (a word, not a type); each
    choice option's help names every choice (its metavar is a word, so help must)."""
    for name in COMMANDS:
        for param in _params(name):
            if param.param_type_name != "option" or param.is_flag or param.count:
                continue
            assert param.metavar and param.metavar == param.metavar.upper(), (name, param.opts)
            choices = param.type_descriptor.choices
            for choice in choices or ():
                value = getattr(choice, "value", choice)
                assert value in (param.help or ""), (name, param.opts, value)
