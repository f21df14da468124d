"""`conveyor init` as a user runs it: files written, never overwritten, prompts, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli import init as init_command
from conveyor.cli.main import app
from conveyor.spec import load_spec

runner = CliRunner()
CONNECTION = (
    "arn:aws:codestar-connections:eu-west-1:111122223333:connection/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nEXPOSE 8000\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = git@github.com:acme/web.git\n'
    )
    return tmp_path


def test_writes_a_valid_file_and_lists_placeholders(repo: Path) -> None:
    result = runner.invoke(app, ["init", str(repo), "--yes"])
    assert result.exit_code == 0, result.output
    spec = load_spec(repo / "conveyor.yaml")
    assert spec.app == "web"
    assert spec.environments[0].deploy.ecs is not None
    create = spec.environments[0].deploy.ecs.create
    assert create is not None and create.port == 8000
    assert "wrote" in result.output
    assert "source.github.connection" in result.output
    assert "notifications.email" in result.output


def test_flags_fill_in_everything(repo: Path) -> None:
    result = runner.invoke(
        app,
        [
            "init",
            str(repo),
            "--yes",
            "--app",
            "shop",
            "--email",
            "oncall@acme.com",
            "--connection",
            CONNECTION,
            "--region",
            "eu-west-1",
            "--env",
            "qa",
            "--env",
            "prod",
            "--port",
            "9000",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "still to fill in" not in result.output
    spec = load_spec(repo / "conveyor.yaml")
    assert (spec.app, spec.owner, spec.region) == ("shop", "team-shop", "eu-west-1")
    assert [e.name for e in spec.environments] == ["qa", "prod"]
    assert spec.notifications.email == ["oncall@acme.com"]


def test_never_overwrites_without_force(repo: Path) -> None:
    target = repo / "conveyor.yaml"
    target.write_text("# mine\n")
    result = runner.invoke(app, ["init", str(repo), "--yes"])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert target.read_text() == "# mine\n"

    result = runner.invoke(app, ["init", str(repo), "--yes", "--force"])
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("# conveyor.yaml")


def test_print_writes_nothing(repo: Path) -> None:
    result = runner.invoke(app, ["init", str(repo), "--print"])
    assert result.exit_code == 0, result.output
    assert "app: web" in result.stdout
    assert not (repo / "conveyor.yaml").exists()


def test_output_path(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "pipeline.yaml"
    result = runner.invoke(app, ["init", str(repo), "--yes", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert load_spec(target).app == "web"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--app", "Web App", "app:"),
        ("--email", "not-an-email", "notifications.email"),
        ("--connection", "arn:aws:nope", "source.github.connection"),
        ("--env", "Prod!", "environments"),
    ],
)
def test_a_flag_the_spec_rejects_exits_2_and_writes_nothing(
    repo: Path, flag: str, value: str, message: str
) -> None:
    result = runner.invoke(app, ["init", str(repo), "--yes", flag, value])
    assert result.exit_code == 2
    assert "would not be valid" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (repo / "conveyor.yaml").exists()


def test_not_a_directory_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_prompts_on_a_terminal(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_command, "_on_terminal", lambda: True)
    answers = "\n".join(
        ["shop", "", "oncall@acme.com", "eu-west-1", "", CONNECTION, "staging, production", ""]
    )
    result = runner.invoke(app, ["init", str(repo)], input=answers)
    assert result.exit_code == 0, result.output
    spec = load_spec(repo / "conveyor.yaml")
    assert (spec.app, spec.owner) == ("shop", "team-shop")
    assert spec.source.github is not None
    assert spec.source.github.connection == CONNECTION
    assert spec.source.github.repo == "acme/web"
    assert [e.name for e in spec.environments] == ["staging", "production"]


def test_yes_never_prompts_even_on_a_terminal(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_command, "_on_terminal", lambda: True)
    result = runner.invoke(app, ["init", str(repo), "--yes"], input="")
    assert result.exit_code == 0, result.output
    assert "Application name" not in result.output
