"""CodeBuild project on an outdated or deprecated managed image.

Judged: ``aws/codebuild/standard:N.0`` with N < 5, ``amazonlinux2-x86_64-standard:N.0`` with
N < 4, ``amazonlinux2-aarch64-standard:1.0``, and the retired per-language images
(``aws/codebuild/python:*``, ``nodejs:*``, ``docker:*``, ``ubuntu-base:*`` ...). Custom images
(ECR, Docker Hub) are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

_VERSIONED = (
    (lazy(r"^aws/codebuild/standard:(\d+)\.\d+$"), 5),
    (lazy(r"^aws/codebuild/amazonlinux2-x86_64-standard:(\d+)\.\d+$"), 4),
    (lazy(r"^aws/codebuild/amazonlinux2-aarch64-standard:(\d+)\.\d+$"), 2),
)
_RETIRED = lazy(
    r"^aws/codebuild/(ubuntu-base|docker|python|nodejs|java|golang|ruby|php|dot-net|"
    r"android-java-\d+|eb-[a-z0-9-]+):"
)


def outdated(image: str) -> bool:
    for pattern, minimum in _VERSIONED:
        match = pattern.match(image)
        if match:
            return int(match.group(1)) < minimum
    return _RETIRED.match(image) is not None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for image in possible(get(res.properties, "Environment", "Image"), ctx.params):
        if isinstance(image, str) and outdated(image):
            yield Hit(
                res.logical_id,
                "Properties.Environment.Image",
                f"build image {image!r} is outdated; use aws/codebuild/standard:7.0 "
                "or amazonlinux2-x86_64-standard:5.0",
            )
            return


RULE = Rule(
    id="CV031",
    title="Outdated CodeBuild image",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM21",),
    why="S2: the project used aws/codebuild/standard:2.0: missing tools, known "
    "vulnerabilities and runtime versions that no longer install.",
    fix_cloudformation="Set Environment.Image: aws/codebuild/standard:7.0.",
    fix_cdk="codebuild.LinuxBuildImage.STANDARD_7_0",
    fix_conveyor="Nothing to write: conveyor builds on aws/codebuild/standard:7.0.",
    check=check,
)
