"""What a user can type never ends in a traceback: odd paths, unwritable outputs, full disks,
markup-like text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "examples" / "minimal.yaml"
runner = CliRunner()


def test_brackets_in_paths_and_values_are_text_not_markup(tmp_path: Path) -> None:
    odd = tmp_path / "[/b]"
    odd.mkdir(parents=True)
    spec = odd / "conveyor.yaml"
    spec.write_text(MINIMAL.read_text())
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "[/b]" in result.output

    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.read_text().replace("app: api", 'app: "[/x]"'))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "'[/x]'" in result.output


def test_unwritable_outputs_exit_2(tmp_path: Path) -> None:
    file_not_dir = tmp_path / "file"
    file_not_dir.write_text("")
    result = runner.invoke(app, ["synth", str(MINIMAL), "-o", str(file_not_dir)])
    assert result.exit_code == 2
    assert "cannot write templates to -o" in result.output
    template = ROOT / "tests" / "rules" / "fixtures" / "CV001" / "bad.yaml"
    result = runner.invoke(
        app, ["check", str(template), "-o", str(tmp_path / "no" / "dir" / "r.json")]
    )
    assert result.exit_code == 2
    assert "cannot write the report" in result.output


def test_full_standard_output_exits_2() -> None:
    if not Path("/dev/full").exists():
        return
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from conveyor.cli.main import run; run()",
                "plan",
                str(MINIMAL),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "cannot write the output" in done.stderr


def test_infinite_usage_is_refused() -> None:
    result = runner.invoke(app, ["cost", str(MINIMAL), "--deploys-per-day", "inf"])
    assert result.exit_code == 2
    assert "finite" in result.output


def test_since_before_year_one_is_refused() -> None:
    result = runner.invoke(
        app, ["history", "--app", "web", "--since", "99999999d", "--region", "eu-west-1"]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_check_names_missing_files_counts_duplicates_once_and_notes_empty_dirs(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.json"
    result = runner.invoke(app, ["check", str(missing)])
    assert result.exit_code == 2
    assert f"{missing}: no such file" in result.output

    template = ROOT / "tests" / "rules" / "fixtures" / "CV001" / "bad.yaml"
    once = runner.invoke(app, ["check", str(template), "-f", "json"])
    twice = runner.invoke(app, ["check", str(template), str(template), "-f", "json"])
    assert once.stdout == twice.stdout.replace(
        twice.stdout[twice.stdout.index('"seconds"') :],
        once.stdout[once.stdout.index('"seconds"') :],
    )

    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["check", str(empty)])
    assert result.exit_code == 0
    assert "no CloudFormation templates found" in result.output
    # The note names every kind of file the walker reads (docs/check.md lists them too).
    assert "(looked for *.json, *.yaml, *.yml, *.template, *.cfn with Resources)" in result.output


@pytest.mark.parametrize("command", ["validate", "plan", "cost"])
@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_an_output_that_is_not_utf8_gets_escapes_not_a_traceback(
    command: str, encoding: str
) -> None:
    """A standard output that is not UTF-8 (PYTHONIOENCODING, a POSIX locale with UTF-8 mode
    off, a redirect on Windows in the ANSI code page) cannot write validate's check mark, the
    plan's box lines or cost's bullets: they are escaped, never a traceback and exit 1 (the code
    `check` uses for findings)."""
    done = subprocess.run(
        [sys.executable, "-c", "from conveyor.cli.main import run; run()", command, str(MINIMAL)],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"},
    )
    assert b"Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert b"api" in done.stdout
