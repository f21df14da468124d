"""GitHub source through the version 1 OAuth action (Owner ThirdParty, Provider GitHub)."""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for action in actions(res):
        if action.owner == "ThirdParty" and action.provider == "GitHub":
            yield Hit(
                res.logical_id,
                f"{action.path}.ActionTypeId",
                f"source action {action.name!r} uses the deprecated GitHub OAuth (version 1) "
                "action; use a CodeStar connection",
            )


RULE = Rule(
    id="CV060",
    title="GitHub OAuth source instead of a CodeStar connection",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM50",),
    why="S2 and S4: the pipeline used the deprecated GitHub OAuth integration with a personal "
    "token instead of a CodeStar connection.",
    fix_cloudformation="ActionTypeId {Category: Source, Owner: AWS, Provider: "
    "CodeStarSourceConnection, Version: '1'} with Configuration ConnectionArn, "
    "FullRepositoryId, BranchName.",
    fix_cdk="codepipeline_actions.CodeStarConnectionsSourceAction(connection_arn=..., owner=..., "
    "repo=..., branch=...)",
    fix_conveyor="source: {github: {repo: owner/name, branch: main, connection: <ARN>}}.",
    check=check,
)
