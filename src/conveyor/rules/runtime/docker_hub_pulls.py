"""Images or build tools pulled from Docker Hub without credentials.

Docker Hub limits anonymous pulls per source IP address. CodeBuild and Fargate tasks without
a public IP of their own share NAT and service addresses, so anonymous pulls fail at random with
"toomanyrequests" — a build or a task start that worked yesterday fails today. Reported:

- an ECS container definition whose ``Image`` is a Docker Hub reference (no registry host, or
  ``docker.io``) without ``RepositoryCredentials``;
- a CodeBuild environment ``Image`` on Docker Hub without ``RegistryCredential``
  (``aws/codebuild/...`` images are CodeBuild's own);
- an inline buildspec that runs ``docker buildx create`` with the docker-container driver but no
  ``--driver-opt image=...`` (it pulls ``moby/buildkit`` from Docker Hub), or ``docker pull`` of
  a Docker Hub image, unless the buildspec logs in to a registry other than ECR first.
Images chosen through parameters or named by a shell variable (``docker pull $REPOSITORY_URI``)
cannot be judged. Base images named inside a Dockerfile are not
visible in a template.

Sources:
- https://docs.docker.com/docker-hub/usage/ (pull limits per IP address for anonymous users)
- https://docs.aws.amazon.com/codebuild/latest/userguide/troubleshooting.html
  ("Error: 'toomanyrequests' ... when pulling from Docker Hub")
- https://docs.aws.amazon.com/AmazonECR/latest/public/public-registries.html (ECR Public)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from conveyor.rules.buildspec import buildspec_commands
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
BUILDX_CREATE = lazy(r"docker\s+buildx\s+create\b[^\n;&|]*")
DOCKER_PULL = lazy(r"docker\s+(?:image\s+)?pull\s+([^\n;&|]+)")
DOCKER_LOGIN = lazy(r"docker\s+login\b[^\n;&|]*")
ECR_LOGIN = lazy(r"(--username|-u)[\s=]+AWS\b|amazonaws\.com|public\.ecr\.aws")
VALUE_FLAGS = frozenset({"--platform"})


def is_docker_hub(image: Any) -> bool:
    """Whether an image reference resolves to Docker Hub; False when it cannot be told."""
    text = image if isinstance(image, str) else render(image)
    # "$" is a variable: an intrinsic's ${...}, or a buildspec's shell variable ($REPOSITORY_URI,
    # usually the build's own ECR repository): where it points cannot be told here.
    if not text or "$" in text or text.startswith("aws/codebuild/"):
        return False
    first, _, rest = text.partition("/")
    if not rest:
        return True  # "nginx:1.27" is docker.io/library/nginx
    if first in DOCKER_HUB_HOSTS:
        return True
    return not ("." in first or ":" in first or first == "localhost")


def _pulled_images(commands: list[str]) -> Iterator[str]:
    for match in (m for c in commands for m in DOCKER_PULL.finditer(c)):
        tokens = match.group(1).split()
        skip = False
        for token in tokens:
            if skip:
                skip = False
            elif token in VALUE_FLAGS:
                skip = True
            elif not token.startswith("-"):
                yield token
                break


def _logs_in_elsewhere(commands: list[str]) -> bool:
    return any(not ECR_LOGIN.search(m.group(0)) for c in commands for m in DOCKER_LOGIN.finditer(c))


def _check_buildspec(res: Resource) -> Iterator[Hit]:
    commands = buildspec_commands(res)
    if _logs_in_elsewhere(commands):
        return
    for match in (m for c in commands for m in BUILDX_CREATE.finditer(c)):
        line = match.group(0)
        if "image=" not in line and not re.search(r"--driver[\s=]+docker(?:\s|$)", line):
            yield Hit(
                res.logical_id,
                "Properties.Source.BuildSpec",
                "docker buildx create pulls moby/buildkit from Docker Hub anonymously; pass "
                "--driver-opt image=public.ecr.aws/... (or an ECR copy) to avoid its rate limit",
                key="buildkit",
            )
            break
    for image in _pulled_images(commands):
        if is_docker_hub(image):
            yield Hit(
                res.logical_id,
                "Properties.Source.BuildSpec",
                f"docker pull {image} is an anonymous Docker Hub pull; use ECR Public "
                "(public.ecr.aws) or a pull-through cache in your own ECR",
                key="pull",
            )
            break


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::ECS::TaskDefinition":
        for index, container in enumerate(as_list(res.properties.get("ContainerDefinitions"))):
            if not isinstance(container, dict) or container.get("RepositoryCredentials"):
                continue
            if is_docker_hub(container.get("Image")):
                yield Hit(
                    res.logical_id,
                    f"Properties.ContainerDefinitions.{index}.Image",
                    f"container {container.get('Name', index)} pulls {container.get('Image')} "
                    "from Docker Hub anonymously; tasks fail to start when the pull limit is "
                    "hit. Use ECR Public (public.ecr.aws), your own ECR, or RepositoryCredentials",
                )
        return
    image = get(res.properties, "Environment", "Image")
    if is_docker_hub(image) and get(res.properties, "Environment", "RegistryCredential") is None:
        yield Hit(
            res.logical_id,
            "Properties.Environment.Image",
            f"build image {image} comes from Docker Hub without RegistryCredential; builds fail "
            "when the anonymous pull limit is hit",
        )
    yield from _check_buildspec(res)


RULE = Rule(
    id="CV098",
    title="Images or build tools pulled from Docker Hub anonymously",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECS::TaskDefinition", "AWS::CodeBuild::Project"),
    failure_modes=("FM104",),
    why="conveyor's own review (2026-12): docker buildx create pulled moby/buildkit and services "
    "started from a Docker Hub placeholder; CodeBuild's shared addresses hit Docker Hub's "
    "anonymous rate limit.",
    fix_cloudformation="Reference images on ECR Public (public.ecr.aws/...) or your own ECR "
    "(pull-through cache); for buildx, --driver-opt image=public.ecr.aws/vend/moby/buildkit:TAG.",
    fix_cdk="ecs.ContainerImage.from_registry('public.ecr.aws/...') or from_ecr_repository(...)",
    fix_conveyor="Nothing to write: conveyor pulls from ECR Public and your ECR only.",
    check=check,
)
