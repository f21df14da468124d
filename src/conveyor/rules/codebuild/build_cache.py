"""Docker build project without any build cache.

A project that builds images (see CV030 for how that is decided) needs either a CodeBuild
cache (``Cache.Type`` LOCAL or S3) or a registry cache in its buildspec (``--cache-from``,
``--cache-to``, ``BUILDKIT_INLINE_CACHE``).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.codebuild.privileged_mode import builds_images
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    cache_type = get(res.properties, "Cache", "Type")
    if cache_type is not None and cache_type != "NO_CACHE":
        return
    spec = inline_buildspec(res) or ""
    if "--cache-from" in spec or "--cache-to" in spec or "BUILDKIT_INLINE_CACHE" in spec:
        return
    if builds_images(res, ctx):
        yield Hit(
            res.logical_id,
            "Properties.Cache" if "Cache" in res.properties else "Properties",
            "Docker build has no cache (no Cache and no --cache-from); every build starts cold",
        )


RULE = Rule(
    id="CV040",
    title="Docker build without cache",
    severity=Severity.INFO,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM29",),
    why="S3: builds were slow until S3 build caching was added (the requirement was under five "
    "minutes).",
    fix_cloudformation="Set Cache: {Type: LOCAL, Modes: [LOCAL_DOCKER_LAYER_CACHE]} or use "
    "'docker buildx build --cache-from type=registry,... --cache-to type=registry,...'.",
    fix_cdk="codebuild.PipelineProject(..., cache=codebuild.Cache.local("
    "codebuild.LocalCacheMode.DOCKER_LAYER))",
    fix_conveyor="Nothing to write: build.docker uses a registry cache.",
    check=check,
)
