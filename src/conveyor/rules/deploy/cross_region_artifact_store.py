"""A CodePipeline action in another region with no artifact store in that region.

An action's ``Region`` runs it in that region, and CodePipeline moves its artifacts through a
store there: "There must be an artifact store for the pipeline Region and for each
cross-region action in the pipeline", and a pipeline with a cross-region action must declare
``ArtifactStores`` (one per region), not the single ``ArtifactStore``
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-artifactstoremap.html,
https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html).
Otherwise CloudFormation cannot create or update the pipeline, and the release that added the
region never runs.

Judged: with ``ArtifactStores``, an action whose region (a literal, or ``AWS::Region``, the
pipeline's own) is not one of the stores' regions; with a single ``ArtifactStore``, actions in
two or more different literal regions (a pipeline lives in one region, so one of them is
cross-region). Not judged: a region or store region written with any other intrinsic
(a parameter), a single store with one literal region (it may be the pipeline's own), and a
missing store for the pipeline's own region (a template does not say where it is deployed).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource

# The pipeline's own region as a template writes it (Ref or Fn::Sub of the pseudo parameter).
_OWN = "${AWS::Region}"


def _region(value: object) -> str | None:
    """A literal region, _OWN, or None when an intrinsic hides it."""
    text = render(value)
    if text is None or ("${" in text and text != _OWN):
        return None
    return text


def _shown(region: str) -> str:
    return "the pipeline's own region (AWS::Region)" if region == _OWN else region


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    regional = [
        (action, region)
        for action in actions(res)
        if action.data.get("Region") is not None
        and (region := _region(action.data["Region"])) is not None
    ]
    if not regional:
        return
    stores = res.properties.get("ArtifactStores")
    if isinstance(stores, list):
        store_regions = [_region(get(item, "Region")) for item in as_list(stores)]
        if any(region is None for region in store_regions):
            return  # a store's region is a parameter: any action may be covered
        listed = ", ".join(sorted(_shown(str(r)) for r in store_regions)) or "none"
        for action, region in regional:
            if region in store_regions:
                continue
            yield Hit(
                res.logical_id,
                f"{action.path}.Region",
                f"action {action.name!r} (stage {action.stage!r}) runs in {_shown(region)}, and "
                f"ArtifactStores has no store there (its regions: {listed}): CodePipeline "
                "needs an artifact store in the region of every cross-region action, so "
                "CloudFormation cannot create or update this pipeline. Add an "
                "ArtifactStores entry for that region (an encrypted bucket and key there)",
            )
        return
    literal = sorted({region for _, region in regional if region != _OWN})
    if res.properties.get("ArtifactStore") is None or len(literal) < 2:
        return
    yield Hit(
        res.logical_id,
        "Properties.ArtifactStore",
        f"actions run in {', '.join(literal)}, and a pipeline lives in one region, so at "
        "least one of them is cross-region; a pipeline with a cross-region action must list "
        "an artifact store per region in ArtifactStores (one for its own region and one for "
        "each action's), not a single ArtifactStore: CloudFormation cannot create or update "
        "this pipeline. Replace ArtifactStore with ArtifactStores",
    )


RULE = Rule(
    id="CV121",
    title="Cross-region CodePipeline action without an artifact store in its region",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM126",),
    why="Issue 10: an environment in another region deploys through a cross-region action, "
    "which CodePipeline runs only from an artifact store in that region; a region added to an "
    "action without one fails the pipeline's own stack update.",
    fix_cloudformation="ArtifactStores: [{Region: <pipeline region>, ArtifactStore: {...}}, "
    "{Region: <action region>, ArtifactStore: {Type: S3, Location: <bucket in that region>, "
    "EncryptionKey: {Type: KMS, Id: <key ARN in that region>}}}] instead of ArtifactStore.",
    fix_cdk="codepipeline.Pipeline(cross_region_replication_buckets={'<region>': bucket}) with "
    "an encrypted bucket and key in each action's region (a stack there), or let CDK create "
    "its support stacks (cdk deploy them too)",
    fix_conveyor="Nothing to write: an environment in another region (environments[].region) "
    "gets an artifact store there (the {app}-region-{region} stack conveyor deploy creates), "
    "and the pipeline lists it in ArtifactStores.",
    check=check,
)
