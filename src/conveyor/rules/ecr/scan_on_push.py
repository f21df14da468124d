"""ECR repository without scan on push.

Registry-level enhanced scanning (Inspector) is configured outside the repository and is not
visible here; a repository relying on it should suppress this rule with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    value = get(res.properties, "ImageScanningConfiguration", "ScanOnPush")
    if definitely_not_true(value, ctx.params):
        yield Hit(
            res.logical_id,
            "Properties.ImageScanningConfiguration"
            if "ImageScanningConfiguration" in res.properties
            else "Properties",
            "images are not scanned on push (ImageScanningConfiguration.ScanOnPush is not true)",
        )


RULE = Rule(
    id="CV021",
    title="ECR repository without scan on push",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECR::Repository",),
    failure_modes=("FM11",),
    why="Best practice recorded with S1: pushed images were never scanned, so known "
    "vulnerabilities reached production unnoticed.",
    fix_cloudformation="Set ImageScanningConfiguration: {ScanOnPush: true}.",
    fix_cdk="ecr.Repository(..., image_scan_on_push=True)",
    fix_conveyor="Nothing to write: conveyor's ImageRepository scans on push.",
    check=check,
)
