"""What `conveyor init` learns from a repository by reading files (never running anything).

Everything here is best effort: a file that cannot be read or parsed is treated as absent, so a
strange repository gives a plainer conveyor.yaml rather than an error. Repository files are read
only when they are regular files inside the repository (a link out of it, a FIFO or a device is
treated as absent), and only up to a size limit.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conveyor.files import read_bounded

Language = Literal["python", "node"]
RemoteKind = Literal["github", "connection", "codecommit"]

# Where a Lambda handler usually lives; deeper searches find test fixtures and vendored code.
_HANDLER_DIRS = (".", "src", "app", "function", "lambda", "handler", "handlers")
_PY_HANDLER = re.compile(r"^def (lambda_handler|handler)\s*\(\s*event\b", re.MULTILINE)
_JS_HANDLER = re.compile(
    r"(exports\.(handler)\s*=|export\s+(?:const|async\s+function|function)\s+(handler)\b)"
)
_NPM_DEFAULT_TEST = 'echo "Error: no test specified" && exit 1'


@dataclass(frozen=True)
class Remote:
    kind: RemoteKind
    url: str
    repo: str | None = None  # owner/name (connection sources) or repository name (CodeCommit)
    region: str | None = None  # CodeCommit remotes name their region
    host: str | None = None


@dataclass(frozen=True)
class LambdaHandler:
    path: str  # file, relative to the repository root
    handler: str  # module.function, relative to the folder that is zipped
    language: Language

    @property
    def folder(self) -> str:
        parent = str(Path(self.path).parent)
        return "." if parent in {"", "."} else parent


@dataclass(frozen=True)
class Repository:
    root: Path
    name: str | None = None
    dockerfile: str | None = None
    port: int | None = None
    languages: tuple[Language, ...] = ()
    python_tests: bool = False
    python_pytest_listed: bool = False  # pytest is already among the declared dependencies
    python_install: str | None = None  # how to install dependencies before tests
    # What the test job installs: the project with the extra that lists pytest, or a
    # requirements-dev file; empty when neither names pytest.
    python_test_install: tuple[str, ...] = ()
    python_dependencies: bool = False  # pyproject.toml declares [project] dependencies
    python_version: str | None = None  # from requires-python (">=3.12" -> "3.12")
    node_tests: bool = False
    node_version: int | None = None
    lambda_handler: LambdaHandler | None = None
    remote: Remote | None = None
    branch: str | None = None
    found: tuple[str, ...] = field(default=())  # what was seen, for the generated header
    # Why package.json / pyproject.toml was present but not read (not valid JSON, line and
    # column): said where init falls back, so a typo is not reported as a missing key.
    package_problem: str | None = None
    pyproject_problem: str | None = None


def detect(root: Path) -> Repository:
    found: list[str] = []
    languages: list[Language] = []

    dockerfile, port = _dockerfile(root)
    if dockerfile:
        found.append(dockerfile + (f" (EXPOSE {port})" if port else ""))

    package, package_problem = _json(_text(root / "package.json", within=root))
    pyproject_text = _text(root / "pyproject.toml", within=root)
    pyproject, pyproject_problem = _toml(pyproject_text)
    requirements = _text(root / "requirements.txt", within=root)
    name = None
    node_tests = python_tests = pytest_listed = python_dependencies = False
    node_version = None
    python_install = python_version = None
    test_install: tuple[str, ...] = ()
    if package is not None:
        found.append("package.json")
        languages.append("node")
        name = _string(package.get("name"))
        scripts = package.get("scripts")
        test = scripts.get("test") if isinstance(scripts, dict) else None
        node_tests = isinstance(test, str) and test.strip() not in {"", _NPM_DEFAULT_TEST}
        node_version = _node_major(package.get("engines"))
    if pyproject is not None or requirements is not None:
        languages.append("python")
        if pyproject is not None:
            found.append("pyproject.toml")
            project = pyproject.get("project")
            name = name or (_string(project.get("name")) if isinstance(project, dict) else None)
            python_install = "pip install ."
        if requirements is not None:
            found.append("requirements.txt")
            python_install = "pip install -r requirements.txt"
        project = pyproject.get("project") if pyproject is not None else None
        project = project if isinstance(project, dict) else {}
        python_dependencies = bool(project.get("dependencies"))
        python_version = _python_version(project.get("requires-python"))
        test_install = _python_test_install(root, project, python_install)
        pytest_listed = bool(test_install) or _names_pytest(requirements or "")
        pytest_listed = pytest_listed or _names_pytest(
            " ".join(_strings(project.get("dependencies")))
        )
        python_tests = pytest_listed or (root / "tests").is_dir()

    handler = None if dockerfile else _lambda_handler(root)
    if handler is not None:
        found.append(f"Lambda handler {handler.path}")
        if handler.language not in languages:
            languages.append(handler.language)

    remote, branch = _git(root)
    if remote is not None:
        found.append(f"git remote {remote.url}")

    return Repository(
        root=root,
        name=name,
        dockerfile=dockerfile,
        port=port,
        languages=tuple(languages),
        python_tests=python_tests,
        python_pytest_listed=pytest_listed,
        python_install=python_install,
        python_test_install=test_install,
        python_dependencies=python_dependencies,
        python_version=python_version,
        node_tests=node_tests,
        node_version=node_version,
        lambda_handler=handler,
        remote=remote,
        branch=branch,
        found=tuple(found),
        package_problem=package_problem,
        pyproject_problem=pyproject_problem,
    )


# --- files --------------------------------------------------------------------------------------


def _text(path: Path, limit: int = 1_000_000, *, within: Path | None = None) -> str | None:
    """The file's text; None if it is missing, not a regular file, larger than `limit`,
    unreadable, or (given `within`) reached through a link that leads out of that folder."""
    try:
        if within is not None and not path.resolve().is_relative_to(within.resolve()):
            return None
        if not path.is_file():
            return None
        raw = read_bounded(path, limit)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop, on Python 3.11
        return None
    return None if len(raw) > limit else raw.decode("utf-8", errors="replace")


# What a hostile file can make the parsers raise besides a syntax error: integers over 4,300
# digits (ValueError) and deep nesting (RecursionError).
_UNPARSABLE = (ValueError, RecursionError)


def _json(text: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """package.json's object (None when absent) and, when it could not be read, why."""
    if text is None:
        return None, None
    try:
        value = json.loads(text)
    except _UNPARSABLE as exc:
        # Present but broken: still a Node project, just nothing more to learn from it.
        return {}, _unreadable("package.json", exc)
    if not isinstance(value, dict):
        return {}, "package.json is valid JSON but not an object ({...})"
    return value, None


def _toml(text: str | None) -> tuple[dict[str, Any] | None, str | None]:
    if text is None:
        return None, None
    try:
        return tomllib.loads(text), None
    except _UNPARSABLE as exc:
        return {}, _unreadable("pyproject.toml", exc)


def _unreadable(name: str, exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"{name} is not valid TOML ({exc})"
    if isinstance(exc, RecursionError):
        return f"{name} is nested too deeply to read"
    return f"{name} holds a number too long to read (over 4,300 digits)"


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _node_major(engines: object) -> int | None:
    if not isinstance(engines, dict):
        return None
    node = engines.get("node")
    text = str(node) if isinstance(node, str | int) and not isinstance(node, bool) else ""
    # Digits only up to 3: a longer run is no Node version (and int() refuses 4,301 digits).
    match = re.search(r"(?<!\d)\d{1,3}(?!\d)", text)
    return int(match.group()) if match else None


def _dockerfile(root: Path) -> tuple[str | None, int | None]:
    for candidate in ("Dockerfile", "docker/Dockerfile", "Containerfile"):
        text = _text(root / candidate, within=root)
        if text is not None:
            lines = re.findall(r"^\s*EXPOSE\s+(.*)$", text, re.MULTILINE | re.IGNORECASE)
            # EXPOSE <port>[-<port>][/<protocol>], several per line, TCP unless said otherwise
            # (https://docs.docker.com/reference/dockerfile/#expose). The service goes behind an
            # Application Load Balancer, which speaks HTTP over TCP: a /udp port is none for it.
            tcp = (
                re.fullmatch(r"(\d{1,5})(?:-\d{1,5})?(?:/tcp)?", token, re.IGNORECASE)
                for line in lines
                for token in line.split()
            )
            # The first port a container can listen on; `EXPOSE 99999` or 5,000 digits is not one.
            valid = (int(m.group(1)) for m in tcp if m and 1 <= int(m.group(1)) <= 65535)
            return candidate, next(valid, None)
    return None, None


def _lambda_handler(root: Path) -> LambdaHandler | None:
    for folder in _HANDLER_DIRS:
        # `root / "."` is `root` itself: its own name (a checkout in a folder named `build` or
        # `dist`) says nothing about what it holds, and no conventional folder is skipped.
        directory = root / folder
        try:
            if not directory.is_dir():
                continue
            paths = sorted(directory.iterdir())
        except OSError:  # a folder the user cannot list
            continue
        for path in paths:
            if path.suffix not in {".py", ".js", ".mjs"} or path.name.startswith("test"):
                continue
            text = _text(path, limit=200_000, within=root)
            if text is None:
                continue
            relative = path.relative_to(root).as_posix()
            if path.suffix == ".py":
                match = _PY_HANDLER.search(text)
                if match:
                    return LambdaHandler(relative, f"{path.stem}.{match.group(1)}", "python")
            elif _JS_HANDLER.search(text):
                return LambdaHandler(relative, f"{path.stem}.handler", "node")
    return None


# --- git ----------------------------------------------------------------------------------------


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    # Worktrees and submodules: .git is a file that says where the real directory is.
    text = _text(dot_git)
    if text and text.startswith("gitdir:"):
        target = Path(text.split(":", 1)[1].strip())
        target = target if target.is_absolute() else root / target
        return target if target.is_dir() else None
    return None


def _git(root: Path) -> tuple[Remote | None, str | None]:
    git_dir = _git_dir(root)
    if git_dir is None:
        return None, None
    head = _text(git_dir / "HEAD") or ""
    branch_match = re.match(r"ref: refs/heads/(\S+)", head)
    branch = branch_match.group(1) if branch_match else None
    config = _text(git_dir / "config")
    # Worktrees keep config in the common directory.
    common = _text(git_dir / "commondir")
    if config is None and common:
        config = _text((git_dir / common.strip()) / "config")
    remotes = _remote_urls(config or "")
    url = remotes.get("origin") or next(iter(remotes.values()), None)
    return (parse_remote(url) if url else None), branch


def _remote_urls(config: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    section = None
    for line in config.splitlines():
        header = re.match(r'\s*\[remote\s+"([^"]+)"\]', line)
        if header:
            section = header.group(1)
            continue
        if line.strip().startswith("["):
            section = None
            continue
        value = re.match(r"\s*url\s*=\s*(\S+)", line)
        if section and value and section not in urls:
            urls[section] = value.group(1)
    return urls


def parse_remote(url: str) -> Remote | None:
    """A git remote URL as a conveyor source: GitHub, another connection host, or CodeCommit."""
    codecommit = re.match(r"codecommit::([a-z0-9-]+)://(?:[^@]+@)?([\w.-]+)$", url) or re.match(
        r"https://git-codecommit\.([a-z0-9-]+)\.amazonaws\.com/v1/repos/([\w.-]+)$", url
    )
    if codecommit:
        return Remote("codecommit", url, repo=codecommit.group(2), region=codecommit.group(1))
    hosted = re.match(
        r"(?:(?:https?|ssh|git)://)?(?:[^@/]+@)?([^:/]+)(?::\d+)?[:/](.+?)(?:\.git)?/?$", url
    )
    if not hosted:
        return None
    host, path = hosted.group(1).lower(), hosted.group(2)
    repo = path if re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", path) else None
    kind: RemoteKind = "github" if host == "github.com" else "connection"
    return Remote(kind, url, repo=repo, host=host)


# Files that conventionally hold what tests need beyond the application's own dependencies.
DEV_REQUIREMENTS = ("requirements-dev.txt", "requirements-test.txt", "dev-requirements.txt")


def _python_test_install(root: Path, project: dict[str, Any], base: str | None) -> tuple[str, ...]:
    """How the test job gets pytest: `pip install ".[dev]"` when an optional-dependencies group
    lists it, or `pip install -r requirements-dev.txt`; () when nothing declares it."""
    extras = project.get("optional-dependencies")
    if isinstance(extras, dict):
        for group, requirements in extras.items():
            if isinstance(group, str) and _names_pytest(" ".join(_strings(requirements))):
                return (f'pip install ".[{group}]"',)
    for name in DEV_REQUIREMENTS:
        text = _text(root / name, within=root)
        if text is not None and _names_pytest(text):
            return (*([base] if base else []), f"pip install -r {name}")
    return ()


def _names_pytest(requirements: str) -> bool:
    return re.search(r"(?im)^\s*[\"']?pytest(?![\w-])", requirements.replace(" ", "\n")) is not None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _python_version(requires: Any) -> str | None:
    """The lowest Python a `requires-python` allows (">=3.12,<4" -> "3.12"), if it says one."""
    if not isinstance(requires, str):
        return None
    # At most three digits: a hostile 5,000-digit minor would be echoed into the written file.
    found = re.search(r"(?:>=|~=|==)\s*(3\.\d{1,3})(?!\d)", requires)
    return found.group(1) if found else None
