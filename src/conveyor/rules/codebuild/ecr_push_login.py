"""Buildspec pushes to ECR without logging in, or misuses ``docker buildx``.

Inline buildspecs only. A push is ``docker push``, ``docker image push`` or ``buildx build
--push``; a login is ``aws ecr get-login-password``, ``aws ecr get-login``, ``docker login`` or
the ECR credential helper. ``docker buildx build`` without ``--push``, ``--load`` or
``--output`` leaves the image in the builder's cache, so a later ``docker push`` finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

PUSH = lazy(r"\bdocker\s+(?:image\s+)?push\b|\bbuildx\s+build\b[^\n]*--push\b")
LOGIN = lazy(r"ecr\s+get-login|docker\s+login\b|ecr-login|credHelpers")
BUILDX = lazy(r"\bbuildx\s+build\b[^\n]*")


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    spec = inline_buildspec(res)
    if spec is None:
        return
    path = "Properties.Source.BuildSpec"
    if PUSH.search(spec) and not LOGIN.search(spec):
        yield Hit(
            res.logical_id,
            path,
            "buildspec pushes an image but never logs in to the registry "
            "(aws ecr get-login-password | docker login)",
        )
    for match in BUILDX.finditer(spec):
        line = match.group(0)
        if not re.search(r"--push\b|--load\b|--output\b|\s-o\s", line):
            yield Hit(
                res.logical_id,
                path,
                "docker buildx build without --push or --load: the image stays in the builder "
                "cache and nothing reaches ECR",
            )
            return


RULE = Rule(
    id="CV038",
    title="ECR push without login, or buildx without --push/--load",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM27",),
    why="S5: the buildspec and docker buildx commands were wrong and the build stage failed "
    "before any image reached ECR.",
    fix_cloudformation="In pre_build run 'aws ecr get-login-password | docker login --username "
    "AWS --password-stdin $REGISTRY'; build with 'docker buildx build --push' (or --load "
    "followed by docker push).",
    fix_cdk="Same commands in codebuild.BuildSpec.from_object({...}).",
    fix_conveyor="Nothing to write: build.docker generates the login and buildx --push.",
    check=check,
)
