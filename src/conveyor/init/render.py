"""Turn what `detect` found plus the user's answers into a commented conveyor.yaml.

The text is written by hand rather than dumped from a model: comments are the point (they say
why each line is there and what to change), and a dumped model would spell out every default.
The CLI parses the result with the real loader before writing it, so it always validates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import get_args

from conveyor import lambda_runtimes
from conveyor.init.detect import Repository
from conveyor.spec.models import CodeBuildNode, CodeBuildPython

# Valid for the spec's patterns, obviously not real: the CLI lists every placeholder it wrote.
PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_CONNECTION_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_REGION = "us-east-1"
DEFAULT_ENVIRONMENTS = ("staging", "prod")
PRODUCTION_NAMES = frozenset({"prod", "production", "live", "prd"})


@dataclass(frozen=True)
class Answers:
    app: str
    owner: str
    email: str
    region: str
    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    connection: str | None = None
    repo: str | None = None  # owner/name for connection sources
    branch: str = "main"
    port: int = 8080
    health_check_path: str = "/health"


@dataclass(frozen=True)
class Rendered:
    text: str
    placeholders: tuple[str, ...] = field(default=())  # key paths the user must still fill in


def app_name(raw: str | None) -> str:
    """A spec-valid app name from a folder or package name (`@acme/Web_API` -> `web-api`)."""
    name = (raw or "").rsplit("/", 1)[-1].lower()
    name = re.sub(r"[^a-z0-9-]+", "-", name).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = f"app-{name}".rstrip("-")
    if len(name) < 2:
        name = f"app-{name}" if name else "app"
    # 16, not the spec's 24: derived names such as {app}-alb-staging must stay within AWS's
    # limits (32 characters for a load balancer) for the environments init writes.
    return name[:16].rstrip("-")


def default_answers(repo: Repository, *, region: str | None) -> Answers:
    remote = repo.remote
    remote_name = remote.repo if remote and remote.repo else None
    app = app_name(repo.name or remote_name or repo.root.resolve().name)
    chosen_region = region or (remote.region if remote else None) or DEFAULT_REGION
    return Answers(
        app=app,
        owner=f"team-{app}"[:128],
        email=f"team-{app}@example.com",
        region=chosen_region,
        repo=remote.repo if remote and remote.kind != "codecommit" else None,
        branch=repo.branch or "main",
        port=repo.port or 8080,
    )


def placeholder_connection(region: str) -> str:
    return (
        f"arn:aws:codestar-connections:{region}:{PLACEHOLDER_ACCOUNT}:connection/"
        f"{PLACEHOLDER_CONNECTION_ID}"
    )


def _q(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (JSON strings are valid YAML)."""
    if re.fullmatch(r"[A-Za-z0-9_./@-]+", value) and not re.fullmatch(
        r"(?i)(y|yes|n|no|true|false|on|off|null|~|[0-9.e+-]+)", value
    ):
        return value
    return json.dumps(value)


def render(repo: Repository, answers: Answers) -> Rendered:
    placeholders: list[str] = []
    lines = [
        "# conveyor.yaml: how this application ships. Written by `conveyor init`; edit freely.",
        "# Check it:      conveyor validate conveyor.yaml",
        "# See it:        conveyor diagram conveyor.yaml   (and `conveyor cost` for a monthly estimate)",  # noqa: E501
        "# Editor help:   conveyor schema -o .conveyor/schema.json, then keep the next line",
        "# yaml-language-server: $schema=.conveyor/schema.json",
    ]
    if repo.found:
        lines.append("# Found: " + ", ".join(repo.found) + ".")
    lines += [
        "",
        f"app: {_q(answers.app)}  # names every resource: {answers.app}-<type>-<environment>",
        f"owner: {_q(answers.owner)}  # tagged on everything, so a bill or an alarm finds a team",
        f"region: {answers.region}",
        "",
    ]
    lines += _source(repo, answers, placeholders)
    lines += ["", *_build(repo, placeholders)]
    checks = _checks(repo)
    if checks:
        lines += ["", *checks]
    lines += ["", *_environments(repo, answers)]
    email_is_placeholder = answers.email.endswith("@example.com")
    if email_is_placeholder:
        placeholders.append("notifications.email")
    lines += [
        "",
        "notifications:",
        "  # Failures, approvals waiting and rollbacks reach these addresses (each confirms once).",
        f"  email: [{_q(answers.email)}]"
        + ("  # TODO: your team's address" if email_is_placeholder else ""),
        "",
    ]
    return Rendered("\n".join(lines), tuple(placeholders))


def _source(repo: Repository, answers: Answers, placeholders: list[str]) -> list[str]:
    remote = repo.remote
    if remote is not None and remote.kind == "codecommit" and remote.repo:
        return [
            "source:",
            "  # The existing CodeCommit repository from your git remote.",
            "  codecommit:",
            f"    repository: {_q(remote.repo)}",
            f"    branch: {_q(answers.branch)}",
        ]
    if remote is None and answers.repo is None:
        return [
            "source:",
            "  # No git remote found: the pipeline starts when you upload a zip of the code",
            "  # to the source bucket conveyor creates. For GitHub, replace with",
            "  # github: {repo: owner/name, connection: <CodeStar connection ARN>}.",
            "  s3:",
            "    key: source.zip",
        ]
    repo_name = answers.repo or "owner/name"
    if answers.repo is None:
        placeholders.append("source.github.repo")
    connection = answers.connection or placeholder_connection(answers.region)
    connection_note = ""
    if answers.connection is None:
        placeholders.append("source.github.connection")
        connection_note = "  # TODO: your connection's ARN"
    host = remote.host if remote and remote.host else "github.com"
    return [
        "source:",
        f"  # {host} through an AWS CodeStar connection: create it once in the console",
        "  # (Developer Tools > Settings > Connections) and authorize it there.",
        "  github:",
        f"    repo: {_q(repo_name)}" + ("  # TODO: owner/name" if answers.repo is None else ""),
        f"    branch: {_q(answers.branch)}",
        f"    connection: {connection}{connection_note}",
    ]


def deploys_containers(repo: Repository) -> bool:
    """A Dockerfile means ECS; a handler without one means Lambda; neither: a container to come."""
    return repo.dockerfile is not None or repo.lambda_handler is None


def _build(repo: Repository, placeholders: list[str]) -> list[str]:
    if deploys_containers(repo):
        note = ""
        if repo.dockerfile is None:
            placeholders.append("build.docker.file")
            note = "  # TODO: no Dockerfile found; add one or change this path"
        return [
            "build:",
            "  # Built with docker buildx and a registry cache, pushed to ECR tagged by commit;",
            "  # the same image is promoted through every environment, never rebuilt.",
            "  docker:",
            "    context: .",
            f"    file: {_q(repo.dockerfile or 'Dockerfile')}{note}",
            "  compute: medium  # small | medium | large | xlarge | 2xlarge",
            "  timeout_minutes: 15",
            *_runtimes(repo),
        ]
    handler = repo.lambda_handler
    folder = handler.folder if handler else "."
    commands: list[str]
    if handler is not None and handler.language == "node":
        commands = [
            "npm ci --omit=dev",
            f"cd {folder} && zip -qr $CODEBUILD_SRC_DIR/function.zip . -x '*.git*'",
        ]
    else:
        # Assembled outside the source tree: copying the repository root into a folder inside
        # it fails ("cannot copy a directory into itself").
        commands = ["mkdir -p /tmp/package"]
        if "requirements.txt" in repo.found:
            commands.append("pip install -r requirements.txt -t /tmp/package")
        elif repo.python_dependencies:
            # Dependencies declared only in pyproject.toml, read when the build runs.
            commands += [
                f"python3 -c {_PYPROJECT_DEPENDENCIES!r} > /tmp/requirements.txt",
                "pip install -r /tmp/requirements.txt -t /tmp/package",
            ]
        commands += [
            f"cp -r {folder}/. /tmp/package/",
            "cd /tmp/package && zip -qr $CODEBUILD_SRC_DIR/function.zip . -x '.git/*' 'tests/*'",
        ]
    lines = [
        "build:",
        "  # Commands that write the function's deployment zip (function.zip).",
        "  commands:",
    ]
    lines += [f"    - {_q(c)}" for c in commands]
    lines += ["  compute: small", "  timeout_minutes: 15", *_runtimes(repo)]
    return lines


# What the build and test jobs can pin on CodeBuild's image: spec.models.Runtimes' own lists.
BUILD_PYTHONS: tuple[str, ...] = get_args(CodeBuildPython)
BUILD_NODES: tuple[int, ...] = get_args(CodeBuildNode)


def _runtimes(repo: Repository) -> list[str]:
    """`build.runtimes` from what the repository says it runs on: requires-python's lowest
    version, package.json's engines.node. Without a pin CodeBuild uses its image's default,
    which moves when a version reaches end of life; a version guessed here says so."""
    lines: list[str] = []
    if "python" in repo.languages:
        if repo.python_version in BUILD_PYTHONS:
            lines.append(f'    python: "{repo.python_version}"  # from requires-python')
        else:
            said = (
                f"requires-python asks for {repo.python_version}, not one of CodeBuild's "
                f"current versions ({', '.join(BUILD_PYTHONS)})"
                if repo.python_version
                else _no_requires_python(repo)
            )
            lines.append(f'    python: "3.12"{GUESSED}: {said}')
    if "node" in repo.languages:
        if repo.node_version in BUILD_NODES:
            lines.append(f"    nodejs: {repo.node_version}  # from package.json engines.node")
        else:
            said = (
                f"package.json engines.node asks for {repo.node_version}, not one of "
                f"CodeBuild's current versions ({', '.join(map(str, BUILD_NODES))})"
                if repo.node_version is not None
                else _no_engines_node(repo)
            )
            lines.append(f"    nodejs: 22{GUESSED}: {said}")
    if not lines:
        return []
    return ["  # Language versions the build and test jobs run with.", "  runtimes:", *lines]


_PYPROJECT_DEPENDENCIES = (
    "import tomllib; "
    "print(chr(10).join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))"
)
# Marks a value init guessed rather than read from the repository.
GUESSED = "  # check this"


def _no_engines_node(repo: Repository) -> str:
    if repo.package_problem is not None:
        return f"{repo.package_problem}, so init read no engines.node from it"
    return "package.json names no engines.node"


def _no_requires_python(repo: Repository) -> str:
    if repo.pyproject_problem is not None:
        return f"{repo.pyproject_problem}, so init read no requires-python from it"
    return "requires-python names no version"


def _lambda_runtime(repo: Repository) -> str:
    """The function's runtime: the one the repository declares if the spec offers it (FM65:
    only runtimes in standard support), else the newest of its language, marked as a guess."""
    handler = repo.lambda_handler
    if handler is not None and handler.language == "node":
        declared = f"nodejs{repo.node_version}.x"
        if declared in lambda_runtimes.OFFERED:
            return f"{declared}  # from package.json engines.node"
        said = (
            _no_engines_node(repo)
            if repo.node_version is None
            else f"package.json engines.node asks for {repo.node_version}"
        )
        return f"{lambda_runtimes.newest('nodejs')}{GUESSED}: {said}"
    declared = f"python{repo.python_version}"
    if declared in lambda_runtimes.OFFERED:
        return f"{declared}  # from requires-python"
    return (
        f"{lambda_runtimes.newest('python')}{GUESSED}: requires-python names no version Lambda runs"
    )


def _checks(repo: Repository) -> list[str]:
    tests: list[list[str]] = []
    tools: list[str] = ["gitleaks"]
    if "python" in repo.languages:
        tools += ["bandit", "pip-audit"]
        if repo.python_tests:
            installs = list(repo.python_test_install) or [
                repo.python_install or "pip install -r requirements.txt",
                *([] if repo.python_pytest_listed else ["pip install pytest"]),
            ]
            tests.append(
                [
                    "  - name: unit",
                    "    commands:",
                    *(f"      - {_q(install)}" for install in installs),
                    '      - "python -m pytest -q --junitxml=reports/unit.xml"',
                    '    junit: "reports/*.xml"',
                ]
            )
    if "node" in repo.languages:
        tools.append("npm-audit")
        if repo.node_tests:
            tests.append(
                [
                    f"  - name: {'unit' if not tests else 'unit-node'}",
                    "    commands:",
                    "      - npm ci",
                    "      - npm test",
                ]
            )
    if deploys_containers(repo):
        tools.append("trivy")
    lines = [
        "checks:",
        "  # Tests and scans run in parallel after the build; the scan gate stops the pipeline",
        "  # on findings at fail_on or above (accepted ones go in .conveyor/scan-allowlist.json).",
    ]
    if tests:
        lines.append("  tests:")
        for test in tests:
            lines += ["  " + line for line in test]
    lines += [
        "  scans:",
        f"    tools: [{', '.join(tools)}]",
        "    fail_on: high",
    ]
    return lines


def _environments(repo: Repository, answers: Answers) -> list[str]:
    lines = [
        "environments:",
        "  # Deployed in this order; the same artifact goes to each.",
    ]
    several = len(answers.environments) > 1
    for name in answers.environments:
        production = name in PRODUCTION_NAMES
        lines.append(f"  - name: {name}")
        if production and several:
            lines.append("    approval: true  # a person approves before production changes")
        if deploys_containers(repo):
            lines += [
                "    deploy:",
                "      ecs:",
                "        strategy: rolling  # or blue-green (CodeDeploy shifts traffic)",
                "        # conveyor creates a VPC, cluster, load balancer and Fargate service.",
                "        # To deploy to an existing service instead: cluster: x, service: y.",
                "        create:",
                f"          port: {answers.port}"
                + ("" if repo.port else f"{GUESSED}: the port your container listens on"),
                f"          health_check_path: {_q(answers.health_check_path)}{GUESSED}: "
                "a path that answers 200 when the app is healthy",
                f"          desired_count: {2 if production else 1}",
            ]
            if production:
                # Production serves HTTPS on its own name (issue 15): the example name blocks
                # `conveyor deploy` until it is replaced, like every other placeholder.
                # `conveyor validate` warns about the example name and `deploy` refuses it
                # (readiness), so it is not one of init's own placeholders.
                lines += [
                    "          # HTTPS on your name: ACM certificate and alias record in the zone.",
                    f"          domain: {{name: {answers.app}.example.com, "
                    f"hosted_zone_id: Z0000000000000000000}}{GUESSED}: your name and Route 53 "
                    "zone id",
                ]
        else:
            handler = repo.lambda_handler
            runtime = _lambda_runtime(repo)
            lines += [
                "    deploy:",
                "      lambda:",
                "        # CodeDeploy moves the alias to the new version: 10% first, then the",
                "        # rest after 5 minutes, rolling back on the alarms you list.",
                "        strategy: canary",
                "        function:",
                f"          runtime: {runtime}",
                f"          handler: {_q(handler.handler if handler else 'app.handler')}",
                "          package: function.zip",
            ]
    return lines
