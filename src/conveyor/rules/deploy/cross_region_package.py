"""A CloudFormation action in another region handed a code package from the pipeline's region.

A stack the pipeline deploys in another region (the action's ``Region``) that creates a Lambda
function from a bucket of the pipeline's template cannot: Lambda reads a function's code only
from "an Amazon S3 bucket in the same AWS Region as your function"
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html), so CreateFunction (or
UpdateFunctionCode) fails and the release stops there, after earlier regions already took it.
The code must be copied to a bucket in the action's region first (issue 10: conveyor's package
store in each region).

Judged: a CloudFormation action that runs in another region than the pipeline's, known from
the pipeline's ``ArtifactStores`` (an entry for ``AWS::Region``, the pipeline's own, and a
different entry for the action's region: two entries never name one region), whose
``ParameterOverrides`` pass a bucket of this template (``Ref`` or ``Fn::GetAtt`` of an
``AWS::S3::Bucket``, which lives in the pipeline's region) to a parameter named for code
(code, package, artifact, asset, lambda, function, zip). Not judged: a bucket named by a
literal or another stack (its region is not in the template), a bucket passed under another
name (it may hold what a stack reads across regions, such as configuration), and an image:
a task may pull from another region's registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource

# The pipeline's own region as a template writes it (Ref or Fn::Sub of the pseudo parameter).
_OWN = "${AWS::Region}"
# Parameter names that say they carry a function's code.
_CODE = re.compile(r"code|package|artifact|asset|lambda|function|zip", re.IGNORECASE)
_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def _store_regions(res: Resource) -> set[str] | None:
    """The rendered regions of ArtifactStores, when it lists the pipeline's own."""
    stores = res.properties.get("ArtifactStores")
    if not isinstance(stores, list):
        return None
    regions = {render(get(item, "Region")) for item in as_list(stores)}
    if _OWN not in regions or None in regions:
        return None
    return {r for r in regions if r is not None}


def _overrides(value: object) -> dict[str, str]:
    """ParameterOverrides as name -> rendered value, when it reads as a JSON object."""
    text = render(value)
    if text is None:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {str(k): v for k, v in parsed.items() if isinstance(v, str)}


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    regions = _store_regions(res)
    if regions is None:
        return
    for action in actions(res):
        if action.provider != "CloudFormation":
            continue
        region = render(action.data.get("Region"))
        if region is None or region == _OWN or region not in regions:
            continue
        overrides = _overrides(action.configuration.get("ParameterOverrides"))
        for name, value in sorted(overrides.items()):
            if not _CODE.search(name):
                continue
            for logical_id in _REFERENCE.findall(value):
                bucket = ctx.resource(logical_id)
                if bucket is None or bucket.type != "AWS::S3::Bucket":
                    continue
                shown = region if "${" not in region else f"the region {region} names"
                yield Hit(
                    res.logical_id,
                    f"{action.path}.Configuration.ParameterOverrides",
                    f"action {action.name!r} (stage {action.stage!r}) deploys in {shown} and "
                    f"passes {name} = bucket {logical_id} of this template, which is in the "
                    "pipeline's region: Lambda reads a function's code only from a bucket in "
                    "the function's region, so the stack there cannot create or update a "
                    "function from it. Copy the package to a bucket in that region and pass "
                    "that bucket",
                )
                break


RULE = Rule(
    id="CV127",
    title="Deploy in another region handed a package from the pipeline's region",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM131",),
    why="Issue 10: a Lambda environment in another region deploys a package the build put in "
    "the pipeline's region; Lambda creates a function only from a bucket in its own region, so "
    "the release fails there after earlier environments took it.",
    fix_cloudformation="Copy the package (a CodeBuild step, or S3 replication) to a bucket in "
    "the action's region and pass that bucket in ParameterOverrides, named by its "
    "deterministic name, not a Ref to this template's bucket.",
    fix_cdk="A stack in the action's region holding a bucket with a deterministic name; the "
    "build or a copy step writes the package there; pass its name, not bucket.bucket_name of "
    "the pipeline stack's bucket.",
    fix_conveyor="Nothing to write: conveyor refuses a Lambda environment in another region "
    "(environments[].region) until it writes a package store there.",
    check=check,
)
