"""CodeBuild project with no explicit timeout (60 minutes by default) or one over two hours."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

MAX_MINUTES = 120


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    value = res.properties.get("TimeoutInMinutes")
    if value is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "no TimeoutInMinutes: a hung build runs for the 60-minute default",
        )
        return
    for minutes in possible(value, ctx.params):
        try:
            number = int(str(minutes))
        except (TypeError, ValueError):
            continue
        if number > MAX_MINUTES:
            yield Hit(
                res.logical_id,
                "Properties.TimeoutInMinutes",
                f"TimeoutInMinutes {number} is excessive (over {MAX_MINUTES}); "
                "hanging builds waste money and delay feedback",
            )
            return


RULE = Rule(
    id="CV032",
    title="Build timeout missing or excessive",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM22",),
    why="S2: buildTimeout 480 (8 hours); a Docker build needs about 15 minutes.",
    fix_cloudformation="Set TimeoutInMinutes to what the build needs (15 for a Docker build).",
    fix_cdk="codebuild.PipelineProject(..., timeout=Duration.minutes(15))",
    fix_conveyor="build: {timeout_minutes: 15} (the default).",
    check=check,
)
