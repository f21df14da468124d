"""What `conveyor --help`, `validate` and `check` load before they run.

Start-up time itself is measured in benchmarks/startup.py (never asserted: it depends on the
machine); these tests pin the behaviour that keeps it low: importing the CLI loads neither the
checker, nor the CDK, nor the AWS SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.cli import check as check_command
from conveyor.rules import bounds

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web-service.yaml"
TEMPLATE = str(Path(__file__).resolve().parents[1] / "rules" / "fixtures" / "CV008" / "good.yaml")
HEAVY = ("conveyor.rules", "aws_cdk", "jsii", "boto3", "botocore")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    report = "import json, sys; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


def _loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.mark.parametrize("package", HEAVY)
def test_importing_the_cli_loads_no_checker_cdk_or_sdk(package: str) -> None:
    assert _loaded(_modules_after("import conveyor.cli.main"), package) == []


HELP_OF_CHECK = (
    "from conveyor.cli.main import app\n"
    "try:\n"
    "    app(['check', '--help'], prog_name='conveyor')\n"
    "except SystemExit:\n"
    "    pass\n"
)


def test_the_help_of_check_loads_no_checker_cdk_or_sdk() -> None:
    modules = _modules_after(HELP_OF_CHECK)
    assert [m for package in HEAVY for m in _loaded(modules, package)] == []


def test_the_help_of_check_loads_no_pydantic() -> None:
    # typer coerces a flag left out (None) through pydantic; the group's --help defaults to
    # False so that `check --help` never needs it (pydantic was a third of its start-up).
    modules = _modules_after(HELP_OF_CHECK)
    assert "typer" in modules  # the help was rendered by this process
    assert _loaded(modules, "pydantic") == []


@pytest.mark.parametrize(
    "code", ["import conveyor.cli.main", HELP_OF_CHECK], ids=["import", "help"]
)
def test_help_through_a_pipe_loads_no_rich(code: str) -> None:
    # rich was about a third of `conveyor --help`; help off a terminal is click's plain layout
    # and the shared consoles are made when something is printed (conveyor.cli.output).
    modules = _modules_after(code)
    assert _loaded(modules, "rich") == []


def test_validate_loads_no_checker_cdk_or_sdk() -> None:
    code = (
        "from conveyor.cli.main import app\n"
        "try:\n"
        f"    app(['validate', {str(EXAMPLE)!r}], prog_name='conveyor')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
    )
    modules = _modules_after(code)
    assert "conveyor.spec.models" in modules  # it did validate
    assert [m for package in HEAVY for m in _loaded(modules, package)] == []
    # Its message and warnings, through a pipe, are markup's plain text (conveyor.cli.markup):
    # rich was a tenth of validate's start-up.
    assert _loaded(modules, "rich") == []


def test_the_check_defaults_shown_in_help_are_the_checkers_own() -> None:
    assert check_command.TIME_LIMIT == bounds.TIME_LIMIT
    assert check_command.MEMORY_LIMIT_MIB == bounds.MEMORY_LIMIT_MIB
    assert check_command.MAX_TIME_LIMIT == bounds.MAX_TIME_LIMIT
    assert check_command.MAX_MEMORY_LIMIT_MIB == bounds.MAX_MEMORY_LIMIT_MIB
    assert check_command.MAX_JOBS == bounds.MAX_JOBS


def test_check_of_a_template_loads_no_pydantic() -> None:
    # typer converts option values through pydantic (a third of check's start-up);
    # conveyor.cli.coercion converts the plain ones check takes (--format, --jobs, the paths).
    code = (
        "from conveyor.cli.main import app\n"
        "try:\n"
        f"    app(['check', '-f', 'json', '-j', '1', '--fail-on', 'high', {TEMPLATE!r}],"
        " prog_name='conveyor')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    modules = _modules_after(code)
    assert "conveyor.rules.engine" in modules  # it did check
    assert _loaded(modules, "pydantic") == []


def test_the_spec_patterns_compile_with_pythons_re() -> None:
    """pydantic-core's Rust regex engine took about a tenth of `validate`'s CPU time building
    the models' patterns (benchmarks/startup.py); Python's re builds them in a fraction."""
    from conveyor.spec.models import Spec

    assert Spec.model_config.get("regex_engine") == "python-re"


def test_the_help_of_conveyor_imports_no_command_module() -> None:
    # `conveyor --help` lists the commands from their summaries in conveyor.cli.main; building
    # every command's click objects was a fifth of its start-up.
    code = (
        "from conveyor.cli.main import build_app\n"
        "try:\n"
        "    build_app()(['--help'], prog_name='conveyor')\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    modules = _modules_after(code)
    assert "conveyor.cli.help" in modules  # the help was rendered by this process
    from conveyor.cli.main import _COMMANDS

    command_modules = {f"conveyor.cli.{entry.module}" for entry in _COMMANDS.values()}
    assert sorted(command_modules & modules) == []


def test_each_summary_is_the_first_paragraph_of_its_commands_help() -> None:
    from conveyor.cli.main import _COMMANDS, command, unwrapped

    for name, entry in _COMMANDS.items():
        assert entry.summary == unwrapped(command(name).__doc__).split("\n\n")[0], name


def test_a_command_is_built_when_asked_for_and_a_misspelt_one_gets_a_suggestion() -> None:
    from typer.testing import CliRunner

    from conveyor.cli.main import build_app

    runner = CliRunner()
    result = runner.invoke(build_app(), ["validate", str(EXAMPLE)])
    assert result.exit_code == 0 and "is valid" in result.stdout, result.output
    result = runner.invoke(build_app(), ["valdate", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.output


def test_python_dash_m_conveyor_is_the_same_cli() -> None:
    # Where the console script is not on PATH (an unactivated venv, a CI image), users run
    # `python -m conveyor`; it must give the same version line and the same exit codes.
    version = subprocess.run(
        [sys.executable, "-m", "conveyor", "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("conveyor ")
    unknown = subprocess.run(
        [sys.executable, "-m", "conveyor", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 2
    assert "no-such-command" in unknown.stderr


def test_the_console_scripts_module_imports_no_typer() -> None:
    # `conveyor check FILE` is parsed without typer (conveyor.cli.fast_check); the module the
    # console script and `python -m conveyor` import must not pull typer in on its own.
    modules = _modules_after("import conveyor.cli.main, conveyor.__main__")
    assert [m for package in ("typer", "click", "rich") for m in _loaded(modules, package)] == []
