"""`conveyor diagram` as a user runs it: formats, files, and the errors on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "web-service.yaml"
runner = CliRunner()


def test_prints_mermaid_by_default() -> None:
    result = runner.invoke(app, ["diagram", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("flowchart LR")
    assert "Deploy-prod · environment prod" in result.stdout
    assert "• Fargate service + ALB (prod)" in result.stdout


@pytest.mark.parametrize(
    ("name", "starts"),
    [("pipeline.png", b"\x89PNG"), ("pipeline.svg", b"<?xml"), ("pipeline.mmd", b"flowchart")],
)
def test_format_follows_the_output_suffix(tmp_path: Path, name: str, starts: bytes) -> None:
    if name.endswith(".png"):
        pytest.importorskip("PIL")
    target = tmp_path / "docs" / name
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(starts)
    assert f"to {target}" in result.output


def test_markdown_output_is_fenced(tmp_path: Path) -> None:
    target = tmp_path / "PIPELINE.md"
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.startswith("```mermaid\nflowchart LR") and text.endswith("```\n")


def test_explicit_format_wins(tmp_path: Path) -> None:
    target = tmp_path / "diagram.txt"
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "--format", "svg", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "<svg" in target.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "give a file with -o"),
        (["-o", "pipeline.gif"], "cannot tell the format"),
        (["--format", "jpeg"], "jpeg"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["diagram", str(EXAMPLE), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_directory_as_output_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(tmp_path), "-f", "svg"])
    assert result.exit_code == 2
    assert "is a directory" in result.output


def test_invalid_spec_exits_2_with_the_line(tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text("app: web\n")
    result = runner.invoke(app, ["diagram", str(spec)])
    assert result.exit_code == 2
    assert "owner" in result.output


def test_an_existing_output_is_replaced_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "pipeline.mmd"
    target.write_text("mine\n")
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(target)])
    assert result.exit_code == 2
    assert f"{target} already exists; pass --force to replace it" in result.output
    assert target.read_text() == "mine\n"
    result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("flowchart LR")


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling", "to-a-file"])
def test_a_link_in_place_of_the_output_is_never_written_through(
    tmp_path: Path, dangling: bool
) -> None:
    outside = tmp_path / "outside" / "precious.svg"
    outside.parent.mkdir()
    if not dangling:
        outside.write_text("keep me\n")
    target = tmp_path / "docs" / "pipeline.svg"
    target.parent.mkdir()
    target.symlink_to(outside)
    for force in ([], ["--force"]):
        result = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", str(target), *force])
        assert result.exit_code == 2, result.output
        assert f"{target} is a symbolic link; conveyor never writes through links" in result.output
    assert outside.exists() is not dangling
    assert dangling or outside.read_text() == "keep me\n"


def test_output_dash_is_standard_output_and_empty_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in `conveyor check -o -`; '-' said "cannot tell the format from -", '' "." is a directory.
    monkeypatch.chdir(tmp_path)
    dash = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", "-"])
    assert dash.exit_code == 0, dash.output
    assert dash.stdout.startswith("flowchart LR") and list(tmp_path.iterdir()) == []
    empty = runner.invoke(app, ["diagram", str(EXAMPLE), "-o", ""])
    assert empty.exit_code == 2
    assert "-o '' (an empty path) names no file; name a file" in empty.stderr
