"""Every repository shape gives a conveyor.yaml that the real loader accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.init.detect import detect
from conveyor.init.render import Answers, app_name, default_answers, render
from conveyor.spec import parse_spec


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


GIT = {".git/HEAD": "ref: refs/heads/main\n"}


@pytest.mark.parametrize(
    ("files", "source", "deploy"),
    [
        (
            {
                "Dockerfile": "FROM node:22\nEXPOSE 3000\n",
                "package.json": '{"name": "shop", "scripts": {"test": "vitest"}}',
                **GIT,
                ".git/config": '[remote "origin"]\n\turl = git@github.com:acme/shop.git\n',
            },
            "github",
            "ecs",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "orders"\n',
                "src/orders.py": "def handler(event, context):\n    return {}\n",
                **GIT,
                ".git/config": '[remote "origin"]\n\turl = codecommit::eu-west-1://orders\n',
            },
            "codecommit",
            "lambda",
        ),
        ({"index.js": "exports.handler = async () => 1\n"}, "s3", "lambda"),
        ({"README.md": "nothing to see\n"}, "s3", "ecs"),
    ],
)
def test_rendered_file_validates(
    tmp_path: Path, files: dict[str, str], source: str, deploy: str
) -> None:
    _write(tmp_path, files)
    found = detect(tmp_path)
    rendered = render(found, default_answers(found, region="eu-west-1"))
    spec = parse_spec(rendered.text)
    assert spec.source.kind == source
    assert {env.deploy.kind for env in spec.environments} == {deploy}
    assert [env.name for env in spec.environments] == ["staging", "prod"]
    assert [env.needs_approval for env in spec.environments] == [False, True]
    assert "notifications.email" in rendered.placeholders


def test_github_remote_leaves_only_the_connection_to_fill_in(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "FROM scratch\n", **GIT})
    (tmp_path / ".git/config").write_text(
        '[remote "origin"]\n\turl = https://github.com/acme/billing\n'
    )
    found = detect(tmp_path)
    answers = default_answers(found, region=None)
    rendered = render(found, answers)
    assert rendered.placeholders == ("source.github.connection", "notifications.email")
    assert "TODO: your connection's ARN" in rendered.text
    spec = parse_spec(rendered.text)
    assert spec.region == "us-east-1"
    assert spec.source.github is not None and spec.source.github.repo == "acme/billing"
    assert spec.app == "billing"


def test_given_answers_leave_no_placeholders(tmp_path: Path) -> None:
    _write(tmp_path, {"Dockerfile": "FROM scratch\n"})
    connection = (
        "arn:aws:codestar-connections:eu-west-1:111122223333:connection/"
        "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    )
    answers = Answers(
        app="web",
        owner="team-web",
        email="oncall@acme.com",
        region="eu-west-1",
        environments=("dev", "staging", "production"),
        connection=connection,
        repo="acme/web",
    )
    rendered = render(detect(tmp_path), answers)
    assert rendered.placeholders == ()
    spec = parse_spec(rendered.text)
    assert [e.needs_approval for e in spec.environments] == [False, False, True]
    assert spec.environments[2].deploy.ecs is not None
    create = spec.environments[2].deploy.ecs.create
    assert create is not None and create.desired_count == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@acme/Shop_API", "shop-api"),
        ("9lives", "app-9lives"),
        ("x", "app-x"),
        ("A" * 40, "a" * 16),  # short enough for every derived name
        ("---", "app"),
        (None, "app"),
    ],
)
def test_app_names_are_always_valid(raw: str | None, expected: str) -> None:
    assert app_name(raw) == expected


# --- an init that builds (issue 12) --------------------------------------------------------------


def _rendered(root: Path, files: dict[str, str]) -> tuple[str, dict[str, object]]:
    import yaml

    _write(root, {**GIT, **files})
    repo = detect(root)
    text = render(repo, default_answers(repo, region="eu-west-1")).text
    parse_spec(text)  # still valid
    data: dict[str, object] = yaml.safe_load(text)
    return text, data


def _test_commands(data: dict[str, object]) -> list[str]:
    checks = data["checks"]
    assert isinstance(checks, dict)
    (unit,) = checks["tests"]
    commands: list[str] = unit["commands"]
    return commands


def test_python_tests_install_the_dev_extra_that_lists_pytest(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "orders"\ndependencies = ["requests"]\n'
        '[project.optional-dependencies]\ndocs = ["mkdocs"]\ntest = ["pytest>=8", "ruff"]\n'
    )
    _, data = _rendered(tmp_path, {"pyproject.toml": pyproject, "tests/test_x.py": ""})
    assert _test_commands(data)[:-1] == ['pip install ".[test]"']


def test_pytest_anywhere_in_a_group_is_found(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "orders"\nrequires-python = "<4"\n'
        '[project.optional-dependencies]\ndev = ["ruff", "pytest"]\n'
    )
    text, data = _rendered(tmp_path, {"pyproject.toml": pyproject, "tests/test_x.py": ""})
    assert _test_commands(data)[:-1] == ['pip install ".[dev]"']
    assert " runtime: " not in text  # a container build: no Lambda runtime to choose


def test_python_tests_install_requirements_dev(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "flask\n",
        "requirements-dev.txt": "-r requirements.txt\npytest==8.3\n",
        "tests/test_x.py": "",
    }
    _, data = _rendered(tmp_path, files)
    assert _test_commands(data)[:-1] == [
        "pip install -r requirements.txt",
        "pip install -r requirements-dev.txt",
    ]


def test_pytest_only_in_a_plugin_name_is_installed_explicitly(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "orders"\ndependencies = ["pytest-cov-helper"]\n'
    _, data = _rendered(tmp_path, {"pyproject.toml": pyproject, "tests/test_x.py": ""})
    assert _test_commands(data)[:-1] == ["pip install .", "pip install pytest"]


def test_a_lambda_package_holds_dependencies_declared_only_in_pyproject(tmp_path: Path) -> None:
    import subprocess

    pyproject = (
        '[project]\nname = "quotes"\nrequires-python = ">=3.13"\n'
        'dependencies = ["requests>=2", "pydantic>=2,<3"]\n'
    )
    files = {"pyproject.toml": pyproject, "app.py": "def handler(event, context):\n    return 1\n"}
    text, data = _rendered(tmp_path, files)
    build = data["build"]
    assert isinstance(build, dict)
    commands: list[str] = build["commands"]
    assert commands[2] == "pip install -r /tmp/requirements.txt -t /tmp/package"
    # The command that reads the dependencies, run as the build runs it (no network needed).
    reader = commands[1].replace("/tmp/requirements.txt", str(tmp_path / "requirements.txt"))
    subprocess.run(["bash", "-c", reader], cwd=tmp_path, check=True)
    assert (tmp_path / "requirements.txt").read_text() == "requests>=2\npydantic>=2,<3\n"
    # Assembled outside the repository, which is copied into it whole.
    assert commands[3] == "cp -r ./. /tmp/package/"
    assert "runtime: python3.13  # from requires-python" in text


def test_guessed_values_say_check_this(tmp_path: Path) -> None:
    text, _ = _rendered(tmp_path, {"Dockerfile": "FROM python:3.12\n", "requirements.txt": ""})
    assert "port: 8080  # check this: the port your container listens on" in text
    assert (
        "health_check_path: /health  # check this: a path that answers 200 when the app is "
        "healthy" in text
    )
    exposed, _ = _rendered(tmp_path / "exposed", {"Dockerfile": "FROM python:3.12\nEXPOSE 9000\n"})
    assert "port: 9000\n" in exposed  # read from EXPOSE: not a guess
    handler = {"app.py": "def handler(event, context):\n    return 1\n", "requirements.txt": ""}
    guessed, _ = _rendered(tmp_path / "fn", handler)
    assert "runtime: python3.14  # check this" in guessed


def test_build_runtimes_are_pinned_from_what_the_repository_declares(tmp_path: Path) -> None:
    """Issue 12: the buildspecs pin runtime-versions from requires-python and engines.node."""
    files = {
        "pyproject.toml": '[project]\nname = "shop"\nrequires-python = ">=3.11,<4"\n',
        "package.json": '{"name": "shop", "engines": {"node": ">=20"}}',
        "Dockerfile": "FROM python:3.11\nEXPOSE 8000\n",
    }
    text, data = _rendered(tmp_path, files)
    assert '    python: "3.11"  # from requires-python\n' in text
    assert "    nodejs: 20  # from package.json engines.node\n" in text
    build = data["build"]
    assert isinstance(build, dict)
    assert build["runtimes"] == {"python": "3.11", "nodejs": 20}
    spec = parse_spec(text)
    assert spec.build.runtimes.runtime_versions() == {"python": "3.11", "nodejs": "20"}


@pytest.mark.parametrize(
    ("files", "line"),
    [
        (
            {"pyproject.toml": '[project]\nname = "a"\n', "Dockerfile": "FROM x\n"},
            '    python: "3.12"  # check this: requires-python names no version\n',
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.9"\n',
                "Dockerfile": "FROM x\n",
            },
            '    python: "3.12"  # check this: requires-python asks for 3.9, not one of '
            "CodeBuild's current versions (3.11, 3.12, 3.13, 3.14)\n",
        ),
        (
            {"package.json": '{"name": "a"}', "Dockerfile": "FROM x\n"},
            "    nodejs: 22  # check this: package.json names no engines.node\n",
        ),
        (
            {
                "package.json": '{"name": "a", "engines": {"node": "16.x"}}',
                "Dockerfile": "FROM x\n",
            },
            "    nodejs: 22  # check this: package.json engines.node asks for 16, not one of "
            "CodeBuild's current versions (18, 20, 22, 24)\n",
        ),
    ],
)
def test_guessed_build_runtimes_say_check_this(
    tmp_path: Path, files: dict[str, str], line: str
) -> None:
    text, _ = _rendered(tmp_path, files)
    assert line in text
    parse_spec(text)  # the guess is a version the spec accepts


def test_the_newest_codebuild_runtimes_are_pinned_as_declared(tmp_path: Path) -> None:
    """Python 3.14 and Node.js 24 run on CodeBuild's standard:7.0 and Amazon Linux 2023
    standard:5.0 images (available-runtimes.html): a repository asking for them gets them."""
    files = {
        "pyproject.toml": '[project]\nname = "new"\nrequires-python = ">=3.14"\n',
        "package.json": '{"name": "new", "engines": {"node": ">=24"}}',
        "Dockerfile": "FROM python:3.14\nEXPOSE 8000\n",
    }
    text, _ = _rendered(tmp_path, files)
    assert '    python: "3.14"  # from requires-python\n' in text
    assert "    nodejs: 24  # from package.json engines.node\n" in text
    assert parse_spec(text).build.runtimes.runtime_versions() == {"python": "3.14", "nodejs": "24"}


def test_a_repository_in_no_known_language_pins_no_runtime(tmp_path: Path) -> None:
    text, data = _rendered(tmp_path, {"Dockerfile": "FROM scratch\n"})
    build = data["build"]
    assert isinstance(build, dict)
    assert "runtimes" not in build
    assert "runtimes:" not in text
