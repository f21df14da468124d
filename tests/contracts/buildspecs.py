"""Run a generated buildspec's phases in bash, the way CodeBuild does, against stub CLIs.

CodeBuild runs every command of every phase in one shell instance, in phase order
(install, pre_build, build, post_build), and fails the build on the first failing command:
https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html
The stubs (stub_cli.py) record each call; `aws_requests` turns the recorded calls into the IAM
actions and resources AWS would authorize.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conveyor.rules.runtime_contracts import CLI_SERVICE_PREFIX, ECR_PULL, ECR_PUSH
from tests.contracts.model import Example, Located
from tests.contracts.obligations import buildspec, project_environment
from tests.contracts.stub_cli import flag
from tests.synth.conftest import ROOT

EXAMPLES = ROOT / "examples"

PHASES = ("install", "pre_build", "build", "post_build")
STUBBED = (
    "aws",
    "docker",
    "pip",
    "pip3",
    "python",
    "curl",
    "wget",
    "tar",
    "sha256sum",
    "gitleaks",
    "trivy",
    "syft",
    "bandit",
    "semgrep",
    "pip-audit",
    "pytest",
    "npm",
    "npx",
    "conveyor",
)
SOURCE_REVISION = "0123456789abcdef0123456789abcdef01234567"


@dataclass(frozen=True)
class Run:
    project: str
    returncode: int
    output: str
    workdir: Path
    calls: list[list[str]]
    exported: dict[str, str]


def install_stubs(bin_dir: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    here = str(Path(__file__).parent)
    for tool in STUBBED:
        path = bin_dir / tool
        path.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {here!r})\n"
            f"import stub_cli\nsys.exit(stub_cli.main({tool!r}))\n"
        )
        path.chmod(0o755)


def fake_checkout(
    workdir: Path, dockerfile: str = "Dockerfile", *, optional_files: bool = True
) -> None:
    """A repository shaped like the examples expect: a Dockerfile, src/, and unless told
    otherwise the files a repository may or may not have (requirements.txt)."""
    (workdir / dockerfile).parent.mkdir(parents=True, exist_ok=True)
    (workdir / dockerfile).write_text("FROM public.ecr.aws/docker/library/python:3.12-slim\n")
    if optional_files:
        (workdir / "requirements.txt").write_text("requests==2.32.3\n")
    (workdir / "requirements-dev.txt").write_text("pytest==8.3.3\n")
    (workdir / "src").mkdir(exist_ok=True)
    (workdir / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (workdir / "tests" / "integration").mkdir(parents=True, exist_ok=True)


def _action_environment(
    example: Example, project_name: str, only: dict[str, Any] | None = None
) -> dict[str, str]:
    """The pipeline action's EnvironmentVariables (`only`'s, else those of the actions running
    the project), with pipeline variables made concrete."""
    found: dict[str, str] = {}
    for _, action in example.actions() if only is None else [("", only)]:
        config = action.get("Configuration", {})
        if config.get("ProjectName") != project_name or "EnvironmentVariables" in found:
            continue
        for variable in json.loads(config.get("EnvironmentVariables", "[]")):
            value = str(variable["value"])
            value = re.sub(r"#\{[^}]*CommitId\}", SOURCE_REVISION, value)
            found[variable["name"]] = re.sub(
                r"#\{[^}]+\}", f"stub-{variable['name'].lower()}", value
            )
    if "IMAGE_URI" in found:
        repository = next(
            (r for r in example.of_type("AWS::ECR::Repository")),
            None,
        )
        if repository is not None:
            name = repository.resolver.name(repository.lid)
            registry = f"{example.account}.dkr.ecr.{example.region}.amazonaws.com"
            found["IMAGE_URI"] = f"{registry}/{name}@sha256:{'ab' * 32}"
    return found


def environment(
    example: Example,
    project: Located,
    workdir: Path,
    bin_dir: Path,
    action: dict[str, Any] | None = None,
) -> dict[str, str]:
    region = project.resolver.region
    variables = project.value("Environment").get("EnvironmentVariables", [])
    secrets = {
        v["Name"]: "stub-secret" for v in variables if v.get("Type", "PLAINTEXT") != "PLAINTEXT"
    }
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(workdir.parent / "home"),
        "LANG": "C.UTF-8",
        "STUB_CALLS": str(workdir.parent / "calls.jsonl"),
        "STUB_REAL_PYTHON": sys.executable,
        "STUB_SYNTH_FROM": str(example.synthesized.outdir),
        "STUB_S3": str(workdir.parent / "s3.json"),
        # What CodeBuild sets in every build:
        # https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "CODEBUILD_BUILD_NUMBER": "7",
        "CODEBUILD_BUILD_ID": f"{project.value('Name')}:0b1c2d3e",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": SOURCE_REVISION,
        "CODEBUILD_SRC_DIR": str(workdir),
        **project_environment(project),
        **secrets,
        **_action_environment(example, project.value("Name"), action),
    }


def script(spec: dict[str, Any]) -> str:
    lines = []
    for phase in PHASES:
        for command in spec.get("phases", {}).get(phase, {}).get("commands", []):
            lines += [command, 'rc=$?; if [ "$rc" -ne 0 ]; then exit "$rc"; fi']
    exported = spec.get("env", {}).get("exported-variables", [])
    # CodeBuild reads the exported variables from the shell at the end of the build.
    lines += [f'printf "%s=%s\\n" {name} "${{{name}-}}" >> ../exported.env' for name in exported]
    return "\n".join(lines) + "\n"


def run(
    example: Example,
    project: Located,
    root: Path,
    inputs: dict[str, bytes] | None = None,
    *,
    optional_files: bool = True,
    with_spec: bool = True,
    action: dict[str, Any] | None = None,
    stub_env: dict[str, str] | None = None,
) -> Run:
    """`action`: the pipeline action whose variables the run gets (default: any running it);
    `stub_env`: what the stubs answer (stub_cli.py's STUB_* variables)."""
    workdir = root / "src"
    workdir.mkdir(parents=True)
    (root / "home").mkdir()
    bin_dir = root / "bin"
    install_stubs(bin_dir)
    fake_checkout(workdir, _dockerfile(example), optional_files=optional_files)
    if with_spec:  # the repository's conveyor.yaml, which the UpdatePipeline stage reads
        (workdir / "conveyor.yaml").write_bytes((EXAMPLES / f"{example.name}.yaml").read_bytes())
    for name, content in (inputs or {}).items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_bytes(content)
    (root / "calls.jsonl").touch()
    (root / "exported.env").touch()
    env = {**environment(example, project, workdir, bin_dir, action), **(stub_env or {})}
    seed_packages(env, Path(env["STUB_S3"]))
    completed = subprocess.run(
        ["bash", "-c", script(buildspec(project))],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    calls = [json.loads(line) for line in (root / "calls.jsonl").read_text().splitlines()]
    exported = dict(
        line.split("=", 1)
        for line in (root / "exported.env").read_text().splitlines()
        if "=" in line
    )
    return Run(
        project.value("Name"),
        completed.returncode,
        completed.stdout + completed.stderr,
        workdir,
        calls,
        exported,
    )


def seed_packages(env: dict[str, str], state: Path) -> None:
    """What an action that reads the build's package finds in the package store: the version
    the build uploaded (the action's PACKAGE_VERSION, from #{Build.PACKAGE_VERSION})."""
    if {"PACKAGE_BUCKET", "PACKAGE_KEY", "PACKAGE_VERSION"} <= set(env):
        path = f"{env['PACKAGE_BUCKET']}/{env['PACKAGE_KEY']}"
        state.write_text(
            json.dumps({path: [{"VersionId": env["PACKAGE_VERSION"], "Metadata": {}}]})
        )


def _dockerfile(example: Example) -> str:
    docker = getattr(example.synthesized.spec.build, "docker", None)
    return str(getattr(docker, "file", None) or "Dockerfile")


def _camel(operation: str) -> str:
    return "".join(part.capitalize() for part in operation.split("-"))


def _repository_arn(image: str) -> str | None:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<name>[:tag|@digest]` as its repository ARN."""
    match = re.match(r"(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@,]+)", image)
    if match is None:
        return None
    account, region, name = match.groups()
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def _docker_requests(args: list[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    copies = args[:3] == ["buildx", "imagetools", "create"]
    pushes = (
        args[:1] == ["push"] or (args[:2] == ["buildx", "build"] and "--push" in args) or copies
    )
    # Every --tag (one build pushes the same image to each repository it names).
    tags = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--tag", "-t")]
    tags += [a.split("=", 1)[1] for a in args if a.startswith(("--tag=", "-t="))]
    if pushes:
        for tag in [*tags, *args[1:2]]:
            arn = _repository_arn(tag or "")
            if arn:
                found += [(action, arn) for action in ECR_PUSH + ECR_PULL]
    if copies:
        # The source image: read from its repository (the last argument).
        arn = _repository_arn(args[-1])
        if arn:
            found += [(action, arn) for action in ECR_PULL]
    for name, actions in (("--cache-from", ECR_PULL), ("--cache-to", ECR_PUSH + ECR_PULL)):
        ref = re.search(r"ref=([^,]+)", flag(args, name) or "")
        arn = _repository_arn(ref.group(1)) if ref else None
        if arn:
            found += [(action, arn) for action in actions]
    if args[:1] == ["pull"]:
        arn = _repository_arn(args[1] if len(args) > 1 else "")
        if arn:
            found += [(action, arn) for action in ECR_PULL]
    return sorted(set(found))


def _aws_request(
    args: list[str], env: dict[str, str], region: str, account: str
) -> list[tuple[str, str]]:
    service, operation = args[0], args[1]
    prefix = CLI_SERVICE_PREFIX.get(service, service)
    # A call to another region (the image repositories of environments there).
    region = flag(args, "--region") or region
    if (service, operation) == ("ecr", "get-login-password"):
        # The CLI's get-login-password calls GetAuthorizationToken.
        return [("ecr:GetAuthorizationToken", "*")]
    if service == "lambda" and operation == "wait":
        # The published-version-active waiter polls GetFunctionConfiguration.
        operation = "get-function-configuration"
    resource = "*"
    if (service, operation) == ("cloudwatch", "describe-alarms") and "--alarm-names" in args:
        # One request naming several alarms is authorized on each alarm's ARN.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
        names = args[args.index("--alarm-names") + 1 :]
        names = names[: next((i for i, a in enumerate(names) if a.startswith("--")), len(names))]
        return [
            ("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
            for name in names
        ]
    if flag(args, "--repository-name"):
        resource = f"arn:aws:ecr:{region}:{account}:repository/{flag(args, '--repository-name')}"
    if flag(args, "--function-name"):
        resource = f"arn:aws:lambda:{region}:{account}:function:{flag(args, '--function-name')}"
    if service == "s3api":
        return _s3_requests(operation, args)
    if service == "deploy":
        application = flag(args, "--application-name") or env.get("CODEDEPLOY_APPLICATION", "")
        group = flag(args, "--deployment-group-name") or env.get("CODEDEPLOY_GROUP", "")
        resource = f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:{application}/{group}"
    found = [(f"{prefix}:{_camel(operation)}", resource)]
    if (service, operation) == ("lambda", "update-function-code") and "--publish" in args:
        found.append(("lambda:PublishVersion", resource))
    return found


def _s3_requests(operation: str, args: list[str]) -> list[tuple[str, str]]:
    """S3 authorizes a call per object or bucket; a version needs s3:GetObjectVersion besides
    s3:GetObject, a copy reads its source and writes its target, and HeadObject tells a missing
    object (404) from a forbidden one only to a caller allowed s3:ListBucket.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html"""
    bucket = f"arn:aws:s3:::{flag(args, '--bucket')}"
    target = f"{bucket}/{flag(args, '--key')}"
    if operation == "put-object":
        return [("s3:PutObject", target)]
    if operation == "head-object":
        found = [("s3:GetObject", target), ("s3:ListBucket", bucket)]
        if flag(args, "--version-id"):
            found.append(("s3:GetObjectVersion", target))
        return found
    if operation == "list-object-versions":
        return [("s3:ListBucketVersions", bucket)]
    if operation == "copy-object":
        source, _, version = (flag(args, "--copy-source") or "").partition("?versionId=")
        found = [("s3:PutObject", target), ("s3:GetObject", f"arn:aws:s3:::{source}")]
        if version:
            found.append(("s3:GetObjectVersion", f"arn:aws:s3:::{source}"))
        return found
    return [(f"s3:{_camel(operation)}", "*")]


def _publish_requests(region: str, account: str) -> list[tuple[str, str]]:
    """The CDK CLI publishes a stack's assets as the bootstrap file-publishing role of the
    stack's account and region (its asset manifest names the role):
    https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html"""
    role = f"arn:aws:iam::{account}:role/cdk-hnb659fds-file-publishing-role-{account}-{region}"
    return [("sts:AssumeRole", role)]


def aws_requests(
    run: Run, env: dict[str, str], region: str, account: str, other_regions: Sequence[str] = ()
) -> list[tuple[str, str, str]]:
    """(recorded command, IAM action, resource) for every call that reaches AWS;
    `other_regions`: where stacks of the app live besides `region` (their assets are published
    there too)."""
    found = []
    for tool, *args in run.calls:
        requests = []
        if tool == "aws" and len(args) >= 2:
            requests = _aws_request(args, env, region, account)
        elif tool == "docker":
            requests = _docker_requests(args)
        elif tool == "npx" and "publish-assets" in args:
            requests = [
                request
                for where in (region, *other_regions)
                for request in _publish_requests(where, account)
            ]
        command = shlex.join([tool, *args])[:160]
        found += [(command, action, resource) for action, resource in requests]
    return found
