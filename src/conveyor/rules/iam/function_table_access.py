"""Function and the DynamoDB table it writes are not wired both ways.

Relational, for ``AWS::Lambda::Function`` with a role in this template:
- an environment variable names a table of this template, but the role is allowed no DynamoDB
  action on it (or ``*``): the function cannot reach its table (FM41);
- the role is allowed DynamoDB actions on a table of this template, but no environment variable
  names that table: the function cannot find it (FM66, ``DEPLOYMENT_TABLE_NAME`` in S4).

A SAM connector between the function and the table (an ``AWS::Serverless::Connector``, or
``Connectors`` embedded in either resource) grants the role its DynamoDB access when SAM
transforms the template, so it counts as a grant.
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/managing-permissions-connectors.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, references, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import managed_grants, statement_allows, statements
from conveyor.rules.template import Resource

TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
PROBES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query")


def _tables_in_env(res: Resource, ctx: Context) -> set[str]:
    variables = get(res.properties, "Environment", "Variables")
    if not isinstance(variables, dict):
        return set()
    return {r for r in references(variables) if ctx.relations.resource_type(r) in TABLES}


def _table_grants(role: str, ctx: Context) -> tuple[set[str], bool]:
    """Tables the role's policies name for DynamoDB actions, and whether any grant is on '*'."""
    named: set[str] = set()
    star = False
    for source in ctx.relations.policies(role):
        for _, stmt in statements(source.document):
            if not any(statement_allows(stmt, a) for a in PROBES):
                continue
            for item in as_list(stmt.get("Resource")):
                text = render(item) or ""
                if text == "*" or text.endswith(":table/*"):
                    star = True
                named |= {r for r in references(item) if ctx.relations.resource_type(r) in TABLES}
    return named, star


def _ends(connector: Any) -> set[str]:
    """Logical ids a connector's Source and Destination name with ``Id``."""
    props = get(connector, "Properties")
    ends = [get(props, "Source"), *as_list(get(props, "Destination"))]
    return {end["Id"] for end in ends if isinstance(end, dict) and isinstance(end.get("Id"), str)}


def _connector_tables(ctx: Context) -> dict[str, set[str]]:
    """For each resource a SAM connector names, the tables at that connector's ends: one pass
    over the template, shared by every function (a pass per function was quadratic)."""
    linked: dict[str, set[str]] = {}
    for lid, other in ctx.template.resources.items():
        pairs: list[set[str]] = []
        if other.type == "AWS::Serverless::Connector":
            pairs.append(_ends({"Properties": other.properties}))
        embedded = other.data.get("Connectors")
        if isinstance(embedded, dict):
            pairs.extend(_ends(c) | {lid} for c in embedded.values())
        for ends in pairs:
            tables = {e for e in ends if ctx.relations.resource_type(e) in TABLES}
            for end in ends:
                linked.setdefault(end, set()).update(tables)
    return linked


def _connected(res: Resource, ctx: Context) -> set[str]:
    """Tables a SAM connector links to the function, in either direction."""
    return ctx.memo("CV054 connector tables", lambda: _connector_tables(ctx)).get(
        res.logical_id, set()
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    if role is None:
        return
    in_env = _tables_in_env(res, ctx)
    granted, star = _table_grants(role, ctx)
    granted_by_connector = _connected(res, ctx)
    managed = any(managed_grants(ctx.relations.managed_arns(role), a) for a in PROBES)
    for table in sorted(in_env - granted - granted_by_connector):
        if not star and not managed:
            yield Hit(
                res.logical_id,
                "Properties.Role",
                f"function is given table {table} but its role {role} may not read or write it",
                key=f"not-granted:{table}",
            )
    for table in sorted(granted - in_env):
        yield Hit(
            res.logical_id,
            "Properties.Environment" if "Environment" in res.properties else "Properties",
            f"function's role may write table {table} but no environment variable names it "
            "(for example DEPLOYMENT_TABLE_NAME)",
            key=f"not-named:{table}",
        )


RULE = Rule(
    id="CV054",
    title="Function cannot reach its table",
    severity=Severity.HIGH,
    resource_types=("AWS::Lambda::Function",),
    failure_modes=("FM41", "FM66"),
    why="S4: the Lambda functions were missing the deployment table name and could not write "
    "to DynamoDB; S1: missing cross-service permissions.",
    fix_cloudformation="Add Environment.Variables.DEPLOYMENT_TABLE_NAME: !Ref Table and allow "
    "dynamodb:PutItem/UpdateItem/GetItem/Query on !GetAtt Table.Arn in the function's role.",
    fix_cdk="fn.add_environment('DEPLOYMENT_TABLE_NAME', table.table_name); "
    "table.grant_read_write_data(fn)",
    fix_conveyor="Nothing to write: conveyor wires its history handler to its table.",
    check=check,
)
