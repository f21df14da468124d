"""The habits of a command-line tool: --version, -h, help that shows examples and is not
hard-wrapped by the source's line breaks."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

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
