"""The generated buildspec, read as the shell script CodeBuild will run (no CDK needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conveyor.constructs.buildspec import build_spec
from conveyor.spec.models import Build, DockerBuild, RegistryLogin, Runtimes


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
      echo "An error occurred ($ALREADY) when calling the PutImage operation: ..." >&2
      exit 254
    fi
    touch "$CALLS.tagged";;
esac
"""


# A repeated put-image of the same tag and digest: ECR's answer differs on repositories with
# immutable tags (ImageTagAlreadyExistsException), as conveyor's own are.
@pytest.mark.parametrize(
    "already", ["ImageAlreadyExistsException", "ImageTagAlreadyExistsException"]
)
def test_mark_deployed_tags_the_deployed_digest_once(tmp_path: Path, already: str) -> None:
    """Defect 8: the job re-tags the deployed digest (manifest copy) and a re-run succeeds."""
    from conveyor.constructs.buildspec import mark_deployed_buildspec

    stub = tmp_path / "bin" / "aws"
    stub.parent.mkdir()
    stub.write_text(_STUB_AWS.replace("$ALREADY", already))
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
    get = f"ecr batch-get-image --repository-name web-images --image-ids imageDigest={digest}"
    put = (
        f"ecr put-image --repository-name web-images --image-tag deployed-prod-{'ab' * 32} "
        f'--image-digest {digest} --image-manifest {{"schemaVersion":2}} '
        "--image-manifest-media-type application/vnd.docker.distribution.manifest.v2+json"
    )
    once = [
        f"{get} --output text --query images[0].imageManifest",
        f"{get} --output text --query images[0].imageManifestMediaType",
        put,
    ]
    assert calls == once + once
    assert mark_deployed_buildspec()["version"] == "0.2"
    assert mark_deployed_buildspec()["env"] == {"shell": "bash"}


def test_mark_deployed_fails_on_other_errors(tmp_path: Path) -> None:
    from conveyor.constructs.buildspec import mark_deployed_buildspec

    stub = tmp_path / "aws"
    stub.write_text(
        '#!/bin/bash\ncase "$*" in *put-image*) echo AccessDenied >&2; exit 254;; '
        "*imageManifest*) echo '{}';; esac\n"
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


def test_mark_deployed_fails_saying_so_when_the_image_expired(tmp_path: Path) -> None:
    """Issue 11: Release-<env> tags the image after the approval; an image the lifecycle
    expired meanwhile is no ECR error (BatchGetImage answers ImageNotFound among its failures,
    no image: `None` as text), and the job fails before put-image, saying what to do."""
    from conveyor.constructs.buildspec import mark_deployed_buildspec

    stub = tmp_path / "aws"
    stub.write_text(
        '#!/bin/bash\necho "$*" >> "$CALLS"\ncase "$*" in *batch-get-image*) echo None;; esac\n'
    )
    stub.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
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
    assert "r/x@sha256:" + "0" * 64 + " is no longer in x" in done.stderr
    assert "release again" in done.stderr
    assert "put-image" not in (tmp_path / "calls").read_text()


_RECORDING_STUB = """#!/bin/bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$(basename "$0") $*" in
  "aws ecr get-login-password"*) echo token;;
  "docker login"*) cat > /dev/null;;
  "aws ecr describe-images"*"--query"*) echo "sha256:$(printf 'c%.0s' {1..64})";;
  "aws ecr describe-images"*) [ -f "$CALLS.pushed" ] || exit 254;;
  "docker buildx build"*) touch "$CALLS.pushed";;
esac
"""


def _run(spec: dict[str, object], tmp_path: Path, env: dict[str, str]) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("aws", "docker"):
        (bin_dir / tool).write_text(_RECORDING_STUB)
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls"
    done = subprocess.run(
        ["bash", "-c", _script(spec)],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines()


def test_docker_build_runs_as_written(tmp_path: Path) -> None:
    """The whole Docker buildspec, run in bash with recording `aws` and `docker`: log in,
    build for the platform through ECR Public's BuildKit, push, describe, write both image
    files and the deploy documents."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    build = Build(
        docker=DockerBuild(platform="linux/arm64", target="app", build_args={"A": "1"}),
        commands=["echo user-command > user.txt"],
    )
    spec = build_spec(build, deploy_files=["taskdef-prod.json"])
    repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-images"
    calls = _run(
        spec,
        tmp_path,
        {
            "REPOSITORY_URI": repo,
            "IMAGE_REPO_NAME": "web-images",
            "CONTAINER_NAME": "app",
            "COMMIT_ID": "0123456789abcdef0123456789abcdef01234567xyz",
            "AWS_REGION": "eu-west-1",
            "CONVEYOR_FILE_TASKDEF_PROD_JSON": '{"family": "web"}',
        },
    )
    tag = "0123456789abcdef0123456789abcdef01234567"  # 40 characters at most
    digest = "sha256:" + "c" * 64
    # The two sides of the login pipe start together: either may record first.
    assert sorted(calls[:2]) == [
        "aws ecr get-login-password --region eu-west-1",
        "docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    ]
    assert calls[2:] == [
        "docker run --privileged --rm public.ecr.aws/vend/tonistiigi/binfmt:latest --install arm64",
        f"aws ecr describe-images --repository-name web-images --image-ids imageTag={tag}",
        "docker buildx create --name conveyor --driver docker-container "
        "--driver-opt image=public.ecr.aws/vend/moby/buildkit:buildx-stable-1 --use",
        f"docker buildx build --platform linux/arm64 --file Dockerfile "
        f"--cache-from type=registry,ref={repo}:buildcache "
        f"--cache-to type=registry,ref={repo}:buildcache,mode=max,image-manifest=true,"
        f"oci-mediatypes=true --tag {repo}:{tag} --provenance=false --push --target app "
        "--build-arg A=1 .",
        f"aws ecr describe-images --repository-name web-images --image-ids imageTag={tag} "
        "--query imageDetails[0].imageDigest --output text",
    ]
    assert (tmp_path / "user.txt").read_text() == "user-command\n"
    assert (tmp_path / "imagedefinitions.json").read_text() == (
        f'[{{"name":"app","imageUri":"{repo}@{digest}"}}]'
    )
    assert (tmp_path / "imageDetail.json").read_text() == f'{{"ImageURI":"{repo}@{digest}"}}'
    assert (tmp_path / "taskdef-prod.json").read_text() == '{"family": "web"}'
    assert spec["version"] == "0.2"
    assert spec["env"] == {
        "shell": "bash",
        "exported-variables": ["IMAGE_URI", "IMAGE_TAG", "IMAGE_DIGEST"],
    }
    assert spec["cache"] == {
        "paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/uv/**/*"]
    }
    assert spec["artifacts"] == {
        "files": ["imagedefinitions.json", "imageDetail.json", "taskdef-prod.json"]
    }
    assert list(spec["phases"]) == ["pre_build", "build"]


def test_a_failing_command_stops_the_build(tmp_path: Path) -> None:
    spec = build_spec(Build(commands=["false", "echo not reached > after.txt"]))
    done = subprocess.run(
        ["bash", "-c", _script(spec)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert not (tmp_path / "after.txt").exists()
    assert spec == {
        "version": "0.2",
        "env": {"shell": "bash"},
        "phases": {
            "build": {"commands": ["set -euo pipefail", "false", "echo not reached > after.txt"]}
        },
        "artifacts": {"files": ["**/*"]},
        "cache": {"paths": ["/root/.cache/pip/**/*", "/root/.npm/**/*", "/root/.cache/uv/**/*"]},
    }


def test_amd64_builds_need_no_emulation(tmp_path: Path) -> None:
    script = _script(build_spec(Build(docker=DockerBuild())))
    assert "binfmt" not in script
    assert "--platform linux/amd64" in script


@pytest.mark.parametrize(
    ("file_name", "variable"),
    [
        ("taskdef-prod.json", "CONVEYOR_FILE_TASKDEF_PROD_JSON"),
        ("appspec-eu-1.yaml", "CONVEYOR_FILE_APPSPEC_EU_1_YAML"),
    ],
)
def test_deploy_documents_travel_in_named_variables(file_name: str, variable: str) -> None:
    from conveyor.constructs.buildspec import deploy_file_variable

    assert deploy_file_variable(file_name) == variable


def test_build_runtimes_are_pinned_in_the_install_phase() -> None:
    """Without runtime-versions CodeBuild runs the image's default, which changes at its end
    of life (issue 12)."""
    pinned = Build(commands=["make"], runtimes=Runtimes(python="3.13", nodejs=22))
    assert build_spec(pinned)["phases"]["install"] == {
        "runtime-versions": {"python": "3.13", "nodejs": "22"}
    }
    assert list(build_spec(pinned)["phases"]) == ["install", "build"]  # before everything
    assert "install" not in build_spec(Build(commands=["make"]))["phases"]
    only_node = Build(commands=["make"], runtimes=Runtimes(nodejs=20))
    assert build_spec(only_node)["phases"]["install"] == {"runtime-versions": {"nodejs": "20"}}


@pytest.mark.parametrize(
    ("python", "nodejs", "accepted"),
    [
        ("3.14", 24, True),  # on standard:7.0 and AL2023 standard:5.0 (available-runtimes.html)
        ("3.11", 18, True),
        ("3.10", None, False),  # on the image, past its end of life
        ("3.15", None, False),  # not on any image
        (None, 16, False),
        (None, 26, False),
    ],
)
def test_build_runtimes_are_the_versions_codebuild_offers(
    python: str | None, nodejs: int | None, accepted: bool
) -> None:
    from pydantic import ValidationError

    try:
        Runtimes.model_validate({"python": python, "nodejs": nodejs})
    except ValidationError:
        assert not accepted
    else:
        assert accepted


def test_the_synth_job_runs_a_node_that_is_not_past_its_end_of_life() -> None:
    from conveyor.constructs.synth_job import synth_buildspec
    from conveyor.stages.self_update import self_update_buildspec

    for buildspec in (synth_buildspec("conveyor[cdk]==0.1.0"), self_update_buildspec()):
        versions = buildspec["phases"]["install"]["runtime-versions"]
        assert versions == {"python": "3.12", "nodejs": "22"}
