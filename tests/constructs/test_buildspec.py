"""The generated buildspec, read as the shell script CodeBuild will run (no CDK needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

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


_STUB_AWS = """#!/bin/bash
echo "$*" >> "$CALLS"
case "$*" in
  *"batch-get-image"*imageManifestMediaType*)
    echo "application/vnd.docker.distribution.manifest.v2+json";;
  *"batch-get-image"*) echo '{"schemaVersion":2}';;
  *"put-image"*)
    if [ -f "$CALLS.tagged" ]; then
      echo "An error occurred (ImageAlreadyExistsException) when calling the PutImage operation" >&2
      exit 254
    fi
    touch "$CALLS.tagged";;
esac
"""


def test_mark_deployed_tags_the_deployed_digest_once(tmp_path: Path) -> None:
    """Defect 8: the job re-tags the deployed digest (manifest copy) and a re-run succeeds."""
    from conveyor.constructs.buildspec import mark_deployed_buildspec

    stub = tmp_path / "bin" / "aws"
    stub.parent.mkdir()
    stub.write_text(_STUB_AWS)
    stub.chmod(0o755)
    digest = "sha256:" + "ab" * 32
    env = {
        "PATH": f"{stub.parent}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "IMAGE_URI": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-images@{digest}",
        "IMAGE_REPO_NAME": "web-images",
        "DEPLOY_ENVIRONMENT": "prod",
    }
    script = _script(mark_deployed_buildspec())
    for _ in range(2):
        done = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    assert "already tagged" in done.stdout
    calls = (tmp_path / "calls").read_text().splitlines()
    (put, _) = [c for c in calls if c.startswith("ecr put-image")]
    assert f"--image-tag deployed-prod-{'ab' * 32}" in put
    assert f"--image-digest {digest}" in put
    assert '--image-manifest {"schemaVersion":2}' in put
    assert all("--repository-name web-images" in c for c in calls)


def test_mark_deployed_fails_on_other_errors(tmp_path: Path) -> None:
    from conveyor.constructs.buildspec import mark_deployed_buildspec

    stub = tmp_path / "aws"
    stub.write_text(
        '#!/bin/bash\ncase "$*" in *put-image*) echo AccessDenied >&2; exit 254;; esac\n'
    )
    stub.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "IMAGE_URI": "r/x@sha256:" + "0" * 64,
        "IMAGE_REPO_NAME": "x",
        "DEPLOY_ENVIRONMENT": "prod",
    }
    done = subprocess.run(
        ["bash", "-c", _script(mark_deployed_buildspec())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "AccessDenied" in done.stderr
