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


def test_a_wrong_answer_is_asked_again_and_the_earlier_ones_are_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(init_command, "_on_terminal", lambda: True)
    typed = [
        "shop",
        "",
        "oncall",  # not an address: asked again, app and owner kept
        "oncall@acme.com",
        "Europe",  # not a region: asked again
        "eu-west-1",
        "",
        CONNECTION,
        "staging, Prod",  # one bad name: the list is asked again
        "staging, production",
        "",
    ]
    result = runner.invoke(app, ["init", str(repo)], input="\n".join(typed))
    assert result.exit_code == 0, result.output
    assert (
        "Error: 'oncall' is not an email address: An email address — for example: "
        "oncall@example.com" in result.output
    )
    assert "Error: 'Europe' is not an AWS region: AWS region of the pipeline" in result.output
    assert "for example: eu-west-1" in result.output
    assert "Error: 'Prod' is not an environment name: Lowercase letters" in result.output
    spec = load_spec(repo / "conveyor.yaml")
    assert (spec.app, spec.owner, spec.pipeline_region) == ("shop", "team-shop", "eu-west-1")
    assert spec.notifications.email == ["oncall@acme.com"]
    assert [e.name for e in spec.environments] == ["staging", "production"]


def test_answers_that_clash_are_asked_again_with_every_answer_kept(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(init_command, "_on_terminal", lambda: True)
    first = ["shop", "", "oncall@acme.com", "eu-west-1", "", CONNECTION, "staging staging"]
    # Second round: Enter keeps each earlier answer; only the environments change.
    second = ["", "", "", "", "", "staging prod", ""]
    result = runner.invoke(app, ["init", str(repo)], input="\n".join(first + second))
    assert result.exit_code == 0, result.output
    assert "environment name 'staging' is used twice" in result.output
    assert "Enter keeps what you wrote" in result.output
    spec = load_spec(repo / "conveyor.yaml")
    assert (spec.app, spec.notifications.email) == ("shop", ["oncall@acme.com"])
    assert [e.name for e in spec.environments] == ["staging", "prod"]


def test_yes_never_prompts_even_on_a_terminal(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_command, "_on_terminal", lambda: True)
    result = runner.invoke(app, ["init", str(repo), "--yes"], input="")
    assert result.exit_code == 0, result.output
    assert "Application name" not in result.output


# --- hostile repositories and planted links (issue 18, item 13) ----------------------------------


def test_a_dangling_link_in_place_of_conveyor_yaml_is_not_written_through(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "planted.yaml"
    (repo / "conveyor.yaml").symlink_to(outside)
    for force in ([], ["--force"]):
        result = runner.invoke(app, ["init", str(repo), "--yes", *force])
        assert result.exit_code == 2, result.output
        assert f"{repo / 'conveyor.yaml'} is a symbolic link; conveyor never writes through" in (
            result.output
        )
        assert not outside.exists()
    assert (repo / "conveyor.yaml").is_symlink()


def test_force_never_writes_through_a_link(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "precious.txt"
    outside.write_text("keep me\n")
    (repo / "conveyor.yaml").symlink_to(outside)
    result = runner.invoke(app, ["init", str(repo), "--yes", "--force"])
    assert result.exit_code == 2
    assert "is a symbolic link" in result.output
    assert outside.read_text() == "keep me\n"


def test_force_replaces_a_file_and_keeps_its_permissions(repo: Path) -> None:
    target = repo / "conveyor.yaml"
    target.write_text("# old\n")
    target.chmod(0o640)
    result = runner.invoke(app, ["init", str(repo), "--yes", "--force"])
    assert result.exit_code == 0, result.output
    assert load_spec(target).app == "web"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in repo.iterdir()) == [".git", "Dockerfile", "conveyor.yaml"]


def _init(repo: Path) -> str:
    result = runner.invoke(app, ["init", str(repo), "--yes", "--print"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


@pytest.mark.parametrize(
    ("dockerfile", "port"),
    [
        ("FROM x\nEXPOSE " + "9" * 5000 + "\n", 8080),
        ("FROM x\nEXPOSE 99999\nEXPOSE 8000\n", 8000),
        ("FROM x\nEXPOSE 0\n", 8080),
        ("FROM x\nEXPOSE 3000/tcp\n", 3000),
    ],
    ids=["5000-digits", "out-of-range-then-valid", "zero", "with-protocol"],
)
def test_only_a_port_a_container_can_listen_on_is_taken_from_expose(
    repo: Path, dockerfile: str, port: int
) -> None:
    (repo / "Dockerfile").write_text(dockerfile)
    lines = [line for line in _init(repo).splitlines() if line.startswith("          port:")]
    assert lines and {line.split()[1] for line in lines} == {str(port)}  # 8080: "# check this"


@pytest.mark.parametrize(
    ("package", "said"),
    [
        (
            '{"name": "shop", "version": ' + "1" * 5000 + "}",
            "package.json holds a number too long to read (over 4,300 digits)",
        ),
        (
            '{"name": "shop", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "package.json is nested too deeply to read",
        ),
        (
            '{"name": "shop", "x": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}",
            "package.json is nested too deeply to read",
        ),
        # A trailing comma, the usual hand-edit: it was reported as "names no engines.node".
        (
            '{\n  "name": "shop",\n  "engines": {"node": ">=22"},\n}\n',
            "package.json is not valid JSON (line 4, column 1: "
            "Expecting property name enclosed in double quotes)",
        ),
        ("[1, 2]", "package.json is valid JSON but not an object ({...})"),
    ],
    ids=["5000-digit-number", "nested-lists", "nested-objects", "trailing-comma", "array"],
)
def test_unreadable_package_json_is_said_with_what_init_did_instead(
    tmp_path: Path, package: str, said: str
) -> None:
    (tmp_path / "package.json").write_text(package)
    (tmp_path / "index.js").write_text("exports.handler = async (event) => ({})\n")
    result = runner.invoke(app, ["init", str(tmp_path), "--yes", "--print"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert (
        f"runtime: nodejs24.x  # check this: {said}, so init read no engines.node from it\n"
        in result.stdout
    )
    assert "names no engines.node" not in result.stdout
    assert f"{said}: init read nothing from it and guessed instead" in result.stderr
    assert "fix it and run init again" in result.stderr


def test_unreadable_pyproject_is_said_not_taken_for_a_missing_requires_python(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\nrequires-python = \n')
    result = runner.invoke(app, ["init", str(tmp_path), "--yes", "--print"])
    assert result.exit_code == 0, result.output
    said = "pyproject.toml is not valid TOML (Invalid value (at line 3, column 19))"
    assert f"{said}, so init read no requires-python from it" in result.stdout
    assert "requires-python names no version\n" not in result.stdout
    assert f"{said}: init read nothing from it" in result.stderr


@pytest.mark.parametrize(
    ("node", "runtime"),
    [
        ("1" * 5000, "nodejs24.x  # check this: package.json names no engines.node\n"),
        (">=20.11", "nodejs24.x  # check this: package.json engines.node asks for 20\n"),
        (20, "nodejs24.x  # check this: package.json engines.node asks for 20\n"),
        (True, "nodejs24.x  # check this: package.json names no engines.node\n"),
        (">=22", "nodejs22.x  # from package.json engines.node\n"),
        ("24.x", "nodejs24.x  # from package.json engines.node\n"),
    ],
    ids=["5000-digits", "range", "number", "bool", "offered-22", "offered-24"],
)
def test_engines_node_never_gives_a_runtime_the_spec_refuses(
    tmp_path: Path, node: object, runtime: str
) -> None:
    import json

    (tmp_path / "package.json").write_text(json.dumps({"name": "shop", "engines": {"node": node}}))
    (tmp_path / "index.js").write_text("exports.handler = async (event) => ({})\n")
    assert f"runtime: {runtime}" in _init(tmp_path)


@pytest.mark.parametrize(
    "pyproject",
    [
        "[project]\nname = 'shop'\nx = " + "[" * 100_000 + "]" * 100_000 + "\n",
        "[project]\nname = 'shop'\nx = " + "{a = " * 5_000 + "1" + "}" * 5_000 + "\n",
        "[project]\nname = 'shop'\nx = " + "1" * 5000 + "\n",
        "[project]\nname = 'shop'\nreleased = 2024-01-01\n[tool.pytest.ini_options]\n",
    ],
    ids=["nested-arrays", "nested-tables", "5000-digit-number", "toml-date"],
)
def test_hostile_pyproject_never_ends_in_a_traceback(tmp_path: Path, pyproject: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {}\n")
    assert "pyproject.toml" in _init(tmp_path)


def test_repository_files_linked_from_outside_are_not_read(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "package.json").write_text('{"name": "not-this-repo"}')
    (outside / "Dockerfile").write_text("FROM x\nEXPOSE 1234\n")
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "package.json").symlink_to(outside / "package.json")
    (repo / "Dockerfile").symlink_to(outside / "Dockerfile")
    (repo / "src").symlink_to(outside)
    (outside / "index.js").write_text("exports.handler = async (event) => ({})\n")
    text = _init(repo)
    assert "not-this-repo" not in text and "1234" not in text
    assert "app: shop" in text
    assert "index.js" not in text


def test_special_files_in_the_repository_are_skipped(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "package.json")
    (tmp_path / "Dockerfile").symlink_to("/dev/zero")
    (tmp_path / "requirements.txt").symlink_to("requirements.txt")  # a loop
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {}\n")
    text = _init(tmp_path)
    assert "runtime: python" in text
