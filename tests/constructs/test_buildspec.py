"""The generated buildspec, read as the shell script CodeBuild will run (no CDK needed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conveyor.constructs.buildspec import build_spec
from conveyor.spec.models import Build, DockerBuild, RegistryLogin


def _script(spec: dict[str, object]) -> str:
    phases = spec["phases"]
    assert isinstance(phases, dict)
    lines: list[str] = []
    for phase in ("install", "pre_build", "build", "post_build"):
        if phase in phases:
            lines += phases[phase]["commands"]
    return "\n".join(lines)


def test_docker_build_logs_in_tags_by_commit_pushes_and_describes() -> None:
    spec = build_spec(Build(docker=DockerBuild(context="app", build_args={"VERSION": "1.2"})))
    script = _script(spec)
    assert script.index("aws ecr get-login-password") < script.index("docker buildx build")
    assert "--file app/Dockerfile" in script
    assert "--build-arg VERSION=1.2" in script
    assert "--cache-from" in script and "mode=max,image-manifest=true" in script
    assert "IMAGE_TAG=" in script and "COMMIT_ID" in script
    assert "already in ECR; reusing it" in script  # immutable tags: a re-run must not fail
    assert 'IMAGE_URI="$REPOSITORY_URI@$IMAGE_DIGEST"' in script  # deploy by digest
    assert spec["artifacts"] == {"files": ["imagedefinitions.json", "imageDetail.json"]}


def test_no_account_or_region_literal() -> None:
    """FM25: everything comes from CodeBuild's environment."""
    script = _script(build_spec(Build(docker=DockerBuild())))
    assert not re.search(r"\d{12}", script)
    assert not re.search(r"(us|eu|ap|sa|ca|me|af)-[a-z]+-\d", script)
    assert '"$AWS_REGION"' in script


def test_missing_dockerfile_fails_with_a_sentence() -> None:
    """FM28: fail early and say what to change, instead of a docker error."""
    script = _script(build_spec(Build(docker=DockerBuild(file="docker/api.Dockerfile"))))
    assert "test -f docker/api.Dockerfile" in script
    assert "set build.docker.file in conveyor.yaml" in script


def test_registry_login_uses_variables_not_values() -> None:
    login = RegistryLogin(username="ssm:/ci/hub/user", password="ssm:/ci/hub/password")
    script = _script(build_spec(Build(docker=DockerBuild(login=login))))
    assert "--password-stdin docker.io" in script
    assert "ssm:/" not in script  # the reference becomes a CodeBuild variable, not text


def test_commands_only_build_exports_the_workspace() -> None:
    spec = build_spec(Build(commands=["make package"]))
    assert spec["artifacts"] == {"files": ["**/*"]}
    assert "make package" in _script(spec)
    assert "docker" not in _script(spec)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_script_is_valid_bash() -> None:
    login = RegistryLogin(username="ssm:/u", password="ssm:/p")
    build = Build(docker=DockerBuild(target="prod", login=login), commands=["echo 'hi there'"])
    result = subprocess.run(
        ["bash", "-n"], input=_script(build_spec(build)), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("runtime", "architecture", "expected"),
    [
        (
            "python3.12",
            "arm64",
            {
                "LAMBDA_ARCHITECTURE": "arm64",
                "LAMBDA_PIP_PLATFORM": "manylinux2014_aarch64",
                "LAMBDA_PYTHON_VERSION": "3.12",
            },
        ),
        (
            "python3.13",
            "x86_64",
            {
                "LAMBDA_ARCHITECTURE": "x86_64",
                "LAMBDA_PIP_PLATFORM": "manylinux2014_x86_64",
                "LAMBDA_PYTHON_VERSION": "3.13",
            },
        ),
        ("nodejs22.x", "arm64", {"LAMBDA_ARCHITECTURE": "arm64"}),
    ],
)
def test_lambda_build_targets_the_functions_architecture(
    runtime: str, architecture: str, expected: dict[str, str]
) -> None:
    """Defect 3: the variables a Lambda build installs wheels with."""
    from conveyor.constructs.buildspec import lambda_build_variables

    assert lambda_build_variables(runtime, architecture) == expected
