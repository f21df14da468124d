"""`conveyor validate` and `conveyor synth` as a user runs them: exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "web-service.yaml"
runner = CliRunner()


def long_directory(tmp_path: Path) -> Path:
    """A directory whose path is over 200 characters, like a deep CI checkout."""
    deep = tmp_path.joinpath(*(f"{'d' * 60}{n}" for n in range(4)))
    deep.mkdir(parents=True)
    assert len(str(deep)) > 200
    return deep


def test_validate_accepts_the_examples(tmp_path: Path) -> None:
    # Copied under a long path: the message must not depend on where the checkout lives.
    deep = long_directory(tmp_path)
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        spec = deep / example.name
        spec.write_text(example.read_text())
        result = runner.invoke(app, ["validate", str(spec)])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"✓ {spec} is valid: app "), result.output
        assert result.stdout.count("\n") == 1, result.output  # one message, one line


def test_errors_through_a_pipe_keep_each_problem_on_one_line(tmp_path: Path) -> None:
    spec = long_directory(tmp_path) / "conveyor.yaml"
    spec.write_text(EXAMPLE.read_text().replace("timeout_minutes: 15", "timeout_minutes: 999"))
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 2
    line = f"error: {spec}:11: build.timeout_minutes: 999 is out of range: write at most 120"
    assert line in result.output.splitlines()[0], result.output


def test_validate_reports_file_line_and_key_with_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text(EXAMPLE.read_text().replace("timeout_minutes: 15", "timeout_minutes: 999"))
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 2
    assert f"{spec}:11: build.timeout_minutes:" in result.output
    assert "999 is out of range: write at most 120" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_synth_refuses_an_invalid_spec_before_starting_cdk(tmp_path: Path) -> None:
    spec = tmp_path / "conveyor.yaml"
    spec.write_text("app: web\n")
    result = runner.invoke(app, ["synth", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "required key 'owner' is missing" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["--help"], ["validate", str(EXAMPLE)]])
def test_commands_that_do_not_synthesize_never_import_cdk(command: list[str]) -> None:
    code = (
        "import sys\n"
        "from conveyor.cli.main import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('aws_cdk', 'jsii', 'cdk_nag'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.xdist_group("synth")
def test_synth_writes_templates_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["synth", str(ROOT / "examples" / "minimal.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    template = json.loads((out / "api-pipeline.template.json").read_text())
    assert "AWS::CodePipeline::Pipeline" in {r["Type"] for r in template["Resources"].values()}
    assert "Stack api-pipeline" in result.output
    assert "AWS::CodeBuild::Project" in result.output
    assert str(out / "api-pipeline.template.json") in result.output.replace("\n", "")


@pytest.mark.parametrize(
    "planted", [".conveyor-write-test", "manifest.json"], ids=["probe", "cdk-output"]
)
def test_synth_never_writes_through_a_link_planted_in_the_output(
    tmp_path: Path, planted: str
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / planted).symlink_to(outside)
    result = runner.invoke(app, ["synth", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"-o {out} holds symbolic links ({planted}); conveyor synth never writes" in (
        result.output
    )
    assert outside.read_text() == "keep me\n"
    assert (out / planted).is_symlink()


def test_synth_refuses_a_named_pipe_planted_in_the_output(tmp_path: Path) -> None:
    """The CDK opens manifest.json by name: a named pipe there would block synth forever."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    os.mkfifo(out / "manifest.json")
    result = runner.invoke(app, ["synth", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert (
        f"-o {out} holds what is not a regular file or directory (manifest.json); conveyor "
        "synth writes only regular files"
    ) in " ".join(result.output.split())
    assert (out / "manifest.json").is_fifo()


def test_validate_warns_about_placeholders_and_still_exits_0() -> None:
    minimal = str(ROOT / "examples" / "minimal.yaml")
    result = runner.invoke(app, ["validate", minimal])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: {minimal}:8: source.github.connection: this is an example connection ARN: "
        "create a connection (Developer Tools > Settings > Connections), authorize it, and "
        "write its ARN here",
        f"warning: {minimal}:18: notifications.email[0]: team-api@example.com is an example "
        "address that never receives mail: write the address that should hear about failures "
        "and approvals",
    ]


def test_validate_of_a_spec_without_placeholders_prints_no_warning() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "tests" / "cli" / "deployable.yaml")])
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.xdist_group("synth")
def test_synth_calls_no_outdated_cdk_api(tmp_path: Path) -> None:
    """jsii prints `[WARNING] ... is deprecated` for every deprecated call, into every user's
    synth output; JSII_DEPRECATED=fail turns each into an error. The blue/green example reaches
    both of conveyor's explicit DependsOn (pipeline on role policies, service on its task)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from conveyor.cli.main import run; run()",
            "synth",
            str(ROOT / "examples" / "codecommit-blue-green.yaml"),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "JSII_DEPRECATED": "fail"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is deprecated" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["validate", "synth", "diagram", "cost", "plan", "deploy"])
def test_an_empty_spec_path_is_refused_not_read_as_the_current_directory(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # click makes '' into Path(''), which is '.': validate said ". is a directory".
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command, ""])
    assert result.exit_code == 2, result.output
    assert "'' (an empty path) names no file; name the spec file" in result.stderr
    assert ".:" not in result.output and "Traceback" not in result.output
