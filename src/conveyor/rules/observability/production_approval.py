"""Production deployment without a manual approval before it.

Heuristic: a Deploy action is "production" when its stage or action name, or a deploy target
it names (stack, service, cluster), says prod/production/prd/live. It needs an Approval action
earlier in the pipeline and after any earlier non-production deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions, is_production, order
from conveyor.rules.template import Resource


def _production(action: Action) -> bool:
    return (
        is_production(action.stage)
        or is_production(action.name)
        or is_production(json.dumps(action.configuration, default=str))
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    all_actions = sorted(actions(res), key=order)
    # A change set waiting for the approval is how the approver sees what will change.
    deploys = [a for a in all_actions if a.is_deploy and not a.changes_nothing]
    for deploy in (a for a in deploys if _production(a)):
        earlier = [a for a in all_actions if order(a) < order(deploy)]
        boundary = max(
            (order(a) for a in earlier if a in deploys and not _production(a)), default=(-1, 0)
        )
        if not any(a.category == "Approval" and order(a) > boundary for a in earlier):
            yield Hit(
                res.logical_id,
                deploy.path,
                f"production deploy action {deploy.name!r} has no manual approval before it",
            )


RULE = Rule(
    id="CV086",
    title="No approval before production",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM76",),
    why="S3: staging -> approval -> production was required; without the approval, every "
    "change that passed staging went straight to production.",
    fix_cloudformation="Add an action {Category: Approval, Owner: AWS, Provider: Manual} in a "
    "stage (or lower RunOrder) before the production deploy.",
    fix_cdk="stage.add_action(codepipeline_actions.ManualApprovalAction(action_name='Approve'))",
    fix_conveyor="environments: [{name: prod, approval: true, ...}].",
    check=check,
)
