"""A CloudFormation action in another region handed a code package from the pipeline's region.

A stack the pipeline deploys in another region (the action's ``Region``) that creates a Lambda
function from a bucket of the pipeline's template cannot: Lambda reads a function's code only
from "an Amazon S3 bucket in the same AWS Region as your function"
(https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html), so CreateFunction (or
UpdateFunctionCode) fails and the release stops there, after earlier regions already took it.
The code must be copied to a bucket in the action's region first (issue 10: conveyor copies it
into the package store of each region, regional_support.py).

Judged: a CloudFormation action that runs in another region than the pipeline's, known from
the pipeline's ``ArtifactStores`` (an entry for ``AWS::Region``, the pipeline's own, and a
different entry for the action's region: two entries never name one region), whose
``ParameterOverrides`` pass a bucket of this template (``Ref`` or ``Fn::GetAtt`` of an
``AWS::S3::Bucket``, which lives in the pipeline's region) to a parameter named for code
(code, package, artifact, asset, lambda, function, zip). Not judged: a bucket named by a
literal or another stack (its region is not in the template), a bucket passed under another
name (it may hold what a stack reads across regions, such as configuration), and an image:
a task may pull from another region's registry.

Also judged: a manual approval whose notice (``CustomData``) tells the approver to read a
stack that a CloudFormation action deploys in another region with an ``aws cloudformation``
command (``--stack-name`` that stack) and no ``--region``. The AWS CLI calls the region of the
caller's profile or ``AWS_REGION`` unless ``--region`` overrides it
(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-options.html); approvers of a
pipeline work in its region, where that stack and its change sets are not, so the approver
reads "does not exist" (or an unrelated stack of that name) and approves blind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.template import Resource

# The pipeline's own region as a template writes it (Ref or Fn::Sub of the pseudo parameter).
_OWN = "${AWS::Region}"
# Parameter names that say they carry a function's code.
_CODE = lazy(r"code|package|artifact|asset|lambda|function|zip", re.IGNORECASE)
_REFERENCE = lazy(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


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


def _elsewhere(action: Action, regions: set[str]) -> str | None:
    """The rendered region of a CloudFormation action that runs in another region."""
    if action.provider != "CloudFormation":
        return None
    region = render(action.data.get("Region"))
    if region is None or region == _OWN or region not in regions:
        return None
    return region


def _approvals_without_region(res: Resource, regions: set[str]) -> Iterator[Hit]:
    """Approval notices naming a stack deployed in another region, without its region."""
    stacks: dict[str, str] = {}
    for action in actions(res):
        region = _elsewhere(action, regions)
        stack = render(action.configuration.get("StackName"))
        if region is not None and stack is not None:
            stacks.setdefault(stack, region)
    if not stacks:
        return
    for action in actions(res):
        if action.category != "Approval":
            continue
        notice = render(action.configuration.get("CustomData"))
        if notice is None or "aws cloudformation" not in notice or "--region" in notice:
            continue
        for stack, region in sorted(stacks.items()):
            if not re.search(rf"--stack-name\s+{re.escape(stack)}(?![A-Za-z0-9-])", notice):
                continue
            shown = region if "${" not in region else f"the region {region} names"
            yield Hit(
                res.logical_id,
                f"{action.path}.Configuration.CustomData",
                f"approval {action.name!r} (stage {action.stage!r}) tells the approver to read "
                f"stack {stack} with an aws cloudformation command without --region, but the "
                f"stack is deployed in {shown}: the CLI looks in the approver's own region, "
                "where the stack and its change sets are not. Add --region to the command",
                key="approval-region",
            )
            break


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    regions = _store_regions(res)
    if regions is None:
        return
    yield from _approvals_without_region(res, regions)
    for action in actions(res):
        region = _elsewhere(action, regions)
        if region is None:
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
    title="Deploy in another region handed a package (or an approval command) of the "
    "pipeline's region",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM131",),
    why="Issue 10: a Lambda environment in another region deploys a package the build put in "
    "the pipeline's region; Lambda creates a function only from a bucket in its own region, so "
    "the release fails there after earlier environments took it. Review of issue 10: "
    "production's approval notice in another region told the approver to read its change set "
    "with a command that looks in the pipeline's region.",
    fix_cloudformation="Copy the package (a CodeBuild step, or S3 replication) to a bucket in "
    "the action's region and pass that bucket in ParameterOverrides, named by its "
    "deterministic name, not a Ref to this template's bucket. In an approval's CustomData, "
    "write --region with the action's region in the command that reads its stack.",
    fix_cdk="A stack in the action's region holding a bucket with a deterministic name; the "
    "build or a copy step writes the package there; pass its name, not bucket.bucket_name of "
    "the pipeline stack's bucket. Write the action's region into the approval's "
    "additional_information command.",
    fix_conveyor="Nothing to write: a Lambda environment in another region "
    "(environments[].region) deploys from that region's package store, into which its "
    "MarkDeployed job copies each release's package (docs/pipelines.md, 'Other regions'), "
    "and the approval's command names the region.",
    check=check,
)
