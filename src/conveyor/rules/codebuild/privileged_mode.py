"""CodeBuild project that builds Docker images without privileged mode.

Heuristic: a project "builds images" when its inline buildspec runs ``docker build``/``buildx``/
``docker push``; when the buildspec lives in the source repository, when an environment variable
references an ECR repository in the template or is named like one (``*REPOSITORY_URI``,
``IMAGE_REPO*``, ``ECR_*``). A repository buildspec that builds images with no such variable is
not detected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.buildspec import runs_docker
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, definitely_not_true, get, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

IMAGE_VAR = lazy(r"REPOSITORY_URI|IMAGE_REPO|^ECR_|_ECR_|ECR_REPO", re.IGNORECASE)


def builds_images(res: Resource, ctx: Context) -> bool:
    docker = runs_docker(res)
    if docker is not None:
        return docker
    for var in as_list(get(res.properties, "Environment", "EnvironmentVariables")):
        if not isinstance(var, dict):
            continue
        if isinstance(var.get("Name"), str) and IMAGE_VAR.search(var["Name"]):
            return True
        if any(
            ctx.relations.resource_type(r) == "AWS::ECR::Repository"
            for r in references(var.get("Value"))
        ):
            return True
    return False


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    env = res.properties.get("Environment")
    if not isinstance(env, dict) or str(env.get("Type", "")).startswith("WINDOWS"):
        return
    if not definitely_not_true(env.get("PrivilegedMode"), ctx.params):
        return
    if builds_images(res, ctx):
        yield Hit(
            res.logical_id,
            "Properties.Environment",
            "project builds Docker images but PrivilegedMode is not true; "
            "the Docker daemon cannot start",
        )


RULE = Rule(
    id="CV030",
    title="Docker build without privileged mode",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM20",),
    why="S1 and S2: Docker builds failed with permission errors because privilegedMode was "
    "false or omitted.",
    fix_cloudformation="Set Environment.PrivilegedMode: true on projects that run Docker.",
    fix_cdk="codebuild.BuildEnvironment(privileged=True, ...)",
    fix_conveyor="Nothing to write: build.docker turns privileged mode on.",
    check=check,
)
