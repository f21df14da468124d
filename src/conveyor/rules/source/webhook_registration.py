"""Pipeline that depends on registering a webhook with a third party.

``AWS::CodePipeline::Webhook`` with ``RegisterWithThirdParty: true`` (and CodeBuild GitHub
webhooks) need a token with admin rights on the repository; without them creation fails with
"Not found [StatusCode: 404]".
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodePipeline::Webhook":
        if not definitely_not_true(res.properties.get("RegisterWithThirdParty"), ctx.params):
            yield Hit(
                res.logical_id,
                "Properties.RegisterWithThirdParty",
                "pipeline webhook registers itself with GitHub; creation fails with 404 when "
                "the token cannot manage hooks",
            )
        return
    source_type = get(res.properties, "Source", "Type")
    webhook = get(res.properties, "Triggers", "Webhook")
    if source_type in ("GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET") and not definitely_not_true(
        webhook, ctx.params
    ):
        yield Hit(
            res.logical_id,
            "Properties.Triggers.Webhook",
            "build project registers a webhook with the source host; creation fails with 404 "
            "when the credentials cannot manage hooks",
        )


RULE = Rule(
    id="CV061",
    title="Pipeline depends on webhook registration",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Webhook", "AWS::CodeBuild::Project"),
    failure_modes=("FM51",),
    why="S3: GitHub webhook registration failed with 'Not found [StatusCode: 404]' and the "
    "pipeline could not be created.",
    fix_cloudformation="Use a CodeStar connection source; with a V2 pipeline, trigger on push "
    "with Triggers (GitConfiguration) instead of a registered webhook.",
    fix_cdk="CodeStarConnectionsSourceAction(..., trigger_on_push=True) on a PipelineType.V2 "
    "pipeline.",
    fix_conveyor="Nothing to write: conveyor triggers through the connection.",
    check=check,
)
