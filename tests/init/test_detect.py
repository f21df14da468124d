"""Repository detection: what conveyor init learns from files alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conveyor.init.detect import detect, parse_remote


def _git(root: Path, url: str | None, branch: str = "main") -> None:
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
    config = '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://example.com/x/y.git\n'
    if url:
        config += f'[remote "origin"]\n\turl = {url}\n\tfetch = +refs/heads/*\n'
    (root / ".git" / "config").write_text(config)


@pytest.mark.parametrize(
    ("url", "kind", "repo", "region"),
    [
        ("git@github.com:acme/web.git", "github", "acme/web", None),
        ("https://github.com/acme/web", "github", "acme/web", None),
        ("ssh://git@github.com/acme/web.git", "github", "acme/web", None),
        ("https://gitlab.com/acme/web.git", "connection", "acme/web", None),
        ("https://gitlab.com/acme/group/web.git", "connection", None, None),
        ("codecommit::eu-west-1://web", "codecommit", "web", "eu-west-1"),
        ("codecommit::eu-west-1://profile@web", "codecommit", "web", "eu-west-1"),
        (
            "https://git-codecommit.us-east-2.amazonaws.com/v1/repos/web",
            "codecommit",
            "web",
            "us-east-2",
        ),
    ],
)
def test_remote_urls(url: str, kind: str, repo: str | None, region: str | None) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert (remote.kind, remote.repo, remote.region) == (kind, repo, region)
    assert remote.url == url  # init writes it into the spec's comment and source


def test_container_service_with_python_tests(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nexpose 8000\nEXPOSE 9000\n")
    (tmp_path / "requirements.txt").write_text("flask\npytest==8\n")
    _git(tmp_path, "git@github.com:acme/web.git", branch="trunk")
    found = detect(tmp_path)
    assert (found.dockerfile, found.port) == ("Dockerfile", 8000)
    assert found.languages == ("python",)
    assert found.python_tests and found.python_pytest_listed
    assert found.remote is not None and found.remote.repo == "acme/web"
    assert found.branch == "trunk"
    assert found.lambda_handler is None


def test_origin_wins_over_other_remotes(tmp_path: Path) -> None:
    _git(tmp_path, "https://github.com/acme/origin.git")
    remote = detect(tmp_path).remote
    assert remote is not None and remote.repo == "acme/origin"


def test_node_project_ignores_the_npm_placeholder_test_script(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{"name": "@acme/Shop_API", "engines": {"node": ">=20"},'
        ' "scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'
    )
    found = detect(tmp_path)
    assert found.name == "@acme/Shop_API"
    assert found.languages == ("node",)
    assert not found.node_tests
    assert found.node_version == 20


def test_lambda_handlers_in_python_and_node(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "orders.py").write_text("def lambda_handler(event, context):\n    pass\n")
    handler = detect(tmp_path).lambda_handler
    assert handler is not None
    assert (handler.path, handler.handler, handler.folder) == (
        "src/orders.py",
        "orders.lambda_handler",
        "src",
    )

    node = tmp_path / "node"
    node.mkdir()
    (node / "index.mjs").write_text("export const handler = async (event) => ({});\n")
    found = detect(node).lambda_handler
    assert found is not None and (found.handler, found.language) == ("index.handler", "node")


def test_a_dockerfile_means_no_lambda_search(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app.py").write_text("def handler(event, context):\n    pass\n")
    assert detect(tmp_path).lambda_handler is None


def test_broken_files_are_treated_as_present_but_unhelpful(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{not json")
    (tmp_path / "pyproject.toml").write_text("[project\n")
    found = detect(tmp_path)
    assert found.languages == ("node", "python")
    assert found.name is None


def test_worktree_git_file_points_at_the_real_directory(tmp_path: Path) -> None:
    _git(tmp_path, "git@github.com:acme/wt.git")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {tmp_path / '.git'}\n")
    remote = detect(worktree).remote
    assert remote is not None and remote.repo == "acme/wt"


@pytest.mark.parametrize(
    ("package_name", "expected"),
    [("web", "web"), ("   ", "from-pyproject"), (7, "from-pyproject"), (None, "from-pyproject")],
)
def test_a_blank_or_non_text_package_name_is_not_a_name(
    tmp_path: Path, package_name: object, expected: str
) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": package_name}))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "from-pyproject"\n')
    assert detect(tmp_path).name == expected


@pytest.mark.parametrize(
    ("engine", "major"),
    [(">=22", 22), (20, 20), ("^18.17 || >=20", 18), ([22], None), ({"v": 22}, None), (True, None)],
)
def test_engines_node_is_read_from_text_or_a_number_only(
    tmp_path: Path, engine: object, major: int | None
) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "engines": {"node": engine}}))
    assert detect(tmp_path).node_version == major


def test_dev_requirements_behind_a_link_out_of_the_repository_are_not_read(
    tmp_path: Path,
) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside.txt"
    repo.mkdir()
    outside.write_text("pytest\n")
    (repo / "pyproject.toml").write_text('[project]\nname = "a"\n')
    (repo / "requirements-dev.txt").symlink_to(outside)
    found = detect(repo)
    assert found.python_test_install == ()
    assert not found.python_pytest_listed
    # The same file inside the repository is read.
    (repo / "requirements-dev.txt").unlink()
    (repo / "requirements-dev.txt").write_text("pytest\n")
    assert detect(repo).python_test_install == (
        "pip install .",
        "pip install -r requirements-dev.txt",
    )


def test_what_was_found_names_the_dockerfile_and_its_port(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nEXPOSE 8000\n")
    assert detect(tmp_path).found[0] == "Dockerfile (EXPOSE 8000)"
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    assert detect(tmp_path).found[0] == "Dockerfile"


def test_a_pyproject_behind_a_link_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "pyproject.toml"
    repo.mkdir()
    outside.write_text('[project]\nname = "elsewhere"\nrequires-python = ">=3.13"\n')
    (repo / "pyproject.toml").symlink_to(outside)
    found = detect(repo)
    assert "python" not in found.languages
    assert found.name is None and found.python_version is None


def test_a_lambda_handler_skips_test_files_and_unreadable_or_empty_candidates(
    tmp_path: Path,
) -> None:
    # Sorted before the real handler: a test file, a file too large to read, one without one.
    (tmp_path / "a_big.py").write_text("def handler(event, context):\n" + "#" * 200_001)
    (tmp_path / "notes.py").write_text("# no handler here\n")
    (tmp_path / "test_worker.py").write_text("def handler(event, context):\n    return 0\n")
    (tmp_path / "worker.py").write_text("def handler(event, context):\n    return 1\n")
    handler = detect(tmp_path).lambda_handler
    assert handler is not None
    assert (handler.path, handler.handler, handler.language) == (
        "worker.py",
        "worker.handler",
        "python",
    )


def test_a_lambda_handler_is_looked_for_in_each_conventional_folder(tmp_path: Path) -> None:
    # No src/ or app/: the search goes on to function/.
    (tmp_path / "function").mkdir()
    (tmp_path / "function" / "index.py").write_text("def lambda_handler(event, ctx):\n    pass\n")
    handler = detect(tmp_path).lambda_handler
    assert handler is not None
    assert handler.path == "function/index.py" and handler.handler == "index.lambda_handler"


@pytest.mark.parametrize("folder", ["build", "dist", "node_modules", ".venv", "cdk.out"])
def test_a_checkout_in_a_folder_named_like_build_output_finds_its_root_handler(
    tmp_path: Path, folder: str
) -> None:
    # Only folders inside the repository are skipped; the repository's own name is not looked at.
    root = tmp_path / folder
    root.mkdir()
    (root / "app.py").write_text("def handler(event, context):\n    pass\n")
    handler = detect(root).lambda_handler
    assert handler is not None and (handler.path, handler.handler) == ("app.py", "app.handler")


def test_a_lambda_handler_larger_than_200_kb_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "def handler(event, context):\n    return 1\n" + "#" * 200_001 + "\n"
    )
    assert detect(tmp_path).lambda_handler is None


def test_remote_sections_end_at_the_next_header(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "config").write_text(
        '[remote "origin"]\n\tfetch = +refs/heads/*\n[branch "main"]\n'
        "\turl = https://github.com/acme/not-a-remote.git\n"
    )
    assert detect(tmp_path).remote is None


@pytest.mark.parametrize(
    ("url", "repo", "host"),
    [
        ("git@GitHub.com:Acme/Web-App.git", "Acme/Web-App", "github.com"),
        ("https://gitlab.example.com:8443/Team/svc.git", "Team/svc", "gitlab.example.com"),
    ],
)
def test_hosted_remotes_keep_the_case_of_their_path_and_name_their_host(
    url: str, repo: str, host: str
) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert (remote.url, remote.repo, remote.host) == (url, repo, host)


@pytest.mark.parametrize(
    ("scripts", "tests"),
    [
        ({"test": "jest --ci"}, True),
        ({"test": 'echo "Error: no test specified" && exit 1'}, False),  # npm init's default
        ({"test": "  "}, False),
        ({"build": "tsc"}, False),
        ("jest", False),
    ],
)
def test_node_tests_are_a_real_test_script(tmp_path: Path, scripts: object, tests: bool) -> None:
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "scripts": scripts}))
    found = detect(tmp_path)
    assert found.node_tests is tests
    assert "package.json" in found.found


def test_requirements_behind_a_link_out_of_the_repository_are_not_read(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "requirements.txt"
    repo.mkdir()
    outside.write_text("flask\npytest\n")
    (repo / "requirements.txt").symlink_to(outside)
    found = detect(repo)
    assert "python" not in found.languages
    assert not found.python_pytest_listed


@pytest.mark.parametrize("candidate", ["Dockerfile", "docker/Dockerfile", "Containerfile"])
def test_each_conventional_dockerfile_is_found(tmp_path: Path, candidate: str) -> None:
    (tmp_path / candidate).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / candidate).write_text("FROM scratch\nexpose 65535\n")
    found = detect(tmp_path)
    assert (found.dockerfile, found.port) == (candidate, 65535)


@pytest.mark.parametrize(("expose", "port"), [("0", None), ("65536", None), ("123456", None)])
def test_an_exposed_port_no_container_can_listen_on_is_none(
    tmp_path: Path, expose: str, port: int | None
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM scratch\nEXPOSE {expose}\n")
    assert detect(tmp_path).port == port


@pytest.mark.parametrize(
    ("expose", "port"),
    [
        ("EXPOSE 53/udp", None),
        ("EXPOSE 53/udp\nEXPOSE 8080", 8080),
        ("EXPOSE 53/udp 8080/tcp", 8080),
        ("EXPOSE 9000/TCP", 9000),
        ("EXPOSE 8000-8010", 8000),
        ("EXPOSE $PORT 3000", 3000),
    ],
)
def test_the_port_is_the_first_tcp_port_exposed(
    tmp_path: Path, expose: str, port: int | None
) -> None:
    """The service is put behind an Application Load Balancer, which speaks HTTP over TCP: a
    UDP port (`EXPOSE 53/udp`) is no port for it, and every port on an EXPOSE line counts
    (https://docs.docker.com/reference/dockerfile/#expose)."""
    (tmp_path / "Dockerfile").write_text(f"FROM scratch\n{expose}\n")
    assert detect(tmp_path).port == port


def test_a_git_worktree_reads_its_branch_and_the_common_config(tmp_path: Path) -> None:
    # `git worktree add`: .git is a file naming the worktree's folder, whose commondir leads to
    # the main repository's .git, where the remotes are.
    main = tmp_path / "main" / ".git"
    worktree_git = main / "worktrees" / "feature"
    worktree_git.mkdir(parents=True)
    (main / "config").write_text('[remote "origin"]\n\turl = git@github.com:acme/web.git\n')
    (worktree_git / "HEAD").write_text("ref: refs/heads/feature/x\n")
    (worktree_git / "commondir").write_text("../..\n")
    root = tmp_path / "feature"
    root.mkdir()
    (root / ".git").write_text(f"gitdir: {worktree_git}\n")
    found = detect(root)
    assert found.branch == "feature/x"
    assert found.remote is not None and found.remote.repo == "acme/web"


def test_a_python_version_of_thousands_of_digits_is_no_version(tmp_path: Path) -> None:
    """A hostile pyproject's requires-python of 5,000 digits is not echoed into the written
    conveyor.yaml's comment (one line of 5,000 characters): no Python 3 minor has four digits."""
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\nrequires-python = ">=3.{"9" * 5000}"\n'
    )
    assert detect(tmp_path).python_version is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nrequires-python = ">=3.12"\n')
    assert detect(tmp_path).python_version == "3.12"
