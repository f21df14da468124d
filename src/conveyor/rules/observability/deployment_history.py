"""Pipeline that deploys but records no deployment history.

Heuristic: some Lambda function of this template, invoked by the pipeline (Invoke action) or by
an EventBridge rule on ``aws.codepipeline``/``aws.codedeploy`` events, must be wired to a
DynamoDB table (environment variable or role policy). History kept elsewhere (another stack, a
third-party tool) is not visible; suppress with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource

TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def _writes_table(fn: str, ctx: Context) -> bool:
    if any(ctx.relations.resource_type(r) in TABLES for r in ctx.relations.refs_from.get(fn, ())):
        return True
    role = ctx.relations.role_of(fn)
    if role is None:
        return False
    for source in ctx.relations.policies(role):
        owner_refs = ctx.relations.refs_from.get(source.owner, set())
        if any(ctx.relations.resource_type(r) in TABLES for r in owner_refs):
            return True
    return False


def _recorders(res: Resource, ctx: Context) -> set[str]:
    functions: set[str] = set()
    for action in actions(res):
        if action.category == "Invoke":
            functions |= set(ctx.relations.refs_from.get(res.logical_id, set())) & set(
                ctx.relations.of_type("AWS::Lambda::Function")
            )
    for lid in ctx.relations.of_type("AWS::Events::Rule"):
        props = ctx.template.resources[lid].properties
        pattern = json.dumps(props.get("EventPattern"), default=str)
        if "aws.codepipeline" in pattern or "aws.codedeploy" in pattern:
            functions |= {
                r
                for r in ctx.relations.refs_from.get(lid, set())
                if ctx.relations.resource_type(r) == "AWS::Lambda::Function"
            }
    return functions


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not any(a.is_deploy for a in actions(res)):
        return
    if any(_writes_table(fn, ctx) for fn in _recorders(res, ctx)):
        return
    yield Hit(
        res.logical_id,
        "",
        "pipeline deploys but nothing records deployments (who deployed what, when, outcome)",
    )


RULE = Rule(
    id="CV084",
    title="No deployment history",
    severity=Severity.INFO,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM74",),
    why="S2: there was no audit trail of deployments; rollbacks and investigations had no "
    "record of what ran where.",
    fix_cloudformation="Add a DynamoDB table and a Lambda function, triggered by an EventBridge "
    "rule on pipeline/deployment state changes, that writes each deployment.",
    fix_cdk="events.Rule(event_pattern=events.EventPattern(source=['aws.codepipeline']), "
    "targets=[targets.LambdaFunction(recorder)]); table.grant_write_data(recorder)",
    fix_conveyor="Nothing to write: conveyor records every deployment in its history table.",
    check=check,
)
