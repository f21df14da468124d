"""Inline function code reads an environment variable the function does not define.

Heuristic over inline code (``Code.ZipFile``, SAM ``InlineCode``): ``os.environ['X']``,
``os.environ.get('X')`` / ``os.getenv('X')`` without a default, and ``process.env.X`` /
``process.env['X']`` without a ``||``/``??`` fallback must name a key of
``Environment.Variables``. Variables Lambda sets itself (``AWS_*``, ``LAMBDA_*``, ``_HANDLER``,
``TZ``) are ignored. Variables a Greengrass (V1) function definition sets for the function (or
for a version or alias of it) in ``FunctionConfiguration.Environment.Variables`` count as
defined: on a core, that is where the function gets its environment.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-greengrass-functiondefinition-environment.html
Code shipped as a zip or image is not visible.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, ref_target, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

READS = lazy(
    r"""os\.environ\[\s*['"](?P<a>\w+)['"]\s*\]"""
    r"""|os\.(?:environ\.get|getenv)\(\s*['"](?P<b>\w+)['"]\s*\)"""
    r"""|process\.env\.(?P<c>\w+)(?!\s*(?:\|\||\?\?))"""
    r"""|process\.env\[\s*['"](?P<d>\w+)['"]\s*\](?!\s*(?:\|\||\?\?))"""
)
RESERVED = lazy(r"^(AWS_|LAMBDA_|_)|^(TZ|LANG|PATH|LD_LIBRARY_PATH|NODE_PATH|PYTHONPATH)$")


GREENGRASS_DEFINITIONS = (
    "AWS::Greengrass::FunctionDefinition",
    "AWS::Greengrass::FunctionDefinitionVersion",
)


def _greengrass_variables(res: Resource, ctx: Context) -> set[str]:
    """Environment variables Greengrass function definitions give this function."""
    aliases = {res.logical_id} | {
        lid
        for lid in ctx.relations.referrers(
            res.logical_id, "AWS::Lambda::Version", "AWS::Lambda::Alias"
        )
        if ref_target(ctx.template.resources[lid].properties.get("FunctionName")) == res.logical_id
    }
    names: set[str] = set()
    for lid in ctx.relations.of_type(*GREENGRASS_DEFINITIONS):
        props = ctx.template.resources[lid].properties
        functions = get(props, "InitialVersion", "Functions") or props.get("Functions")
        for function in as_list(functions):
            if ref_target(get(function, "FunctionArn")) in aliases:
                variables = get(function, "FunctionConfiguration", "Environment", "Variables")
                names |= set(variables) if isinstance(variables, dict) else set()
    return names


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    code = render(get(res.properties, "Code", "ZipFile") or res.properties.get("InlineCode"))
    if not code:
        return
    variables = get(res.properties, "Environment", "Variables")
    if variables is not None and not isinstance(variables, dict):
        return
    defined = set(variables or {}) | _greengrass_variables(res, ctx)
    missing = sorted(
        {
            name
            for m in READS.finditer(code)
            for name in [m.group("a") or m.group("b") or m.group("c") or m.group("d")]
            if name and name not in defined and not RESERVED.search(name)
        }
    )
    if missing:
        yield Hit(
            res.logical_id,
            "Properties.Environment" if "Environment" in res.properties else "Properties",
            f"code reads environment variable(s) {', '.join(missing)} that the function does "
            "not define",
        )


RULE = Rule(
    id="CV077",
    title="Function reads an environment variable it does not define",
    severity=Severity.MEDIUM,
    resource_types=("AWS::Lambda::Function", "AWS::Serverless::Function"),
    failure_modes=("FM66",),
    why="S4: the functions were missing the DEPLOYMENT_TABLE_NAME environment variable and "
    "could not write to DynamoDB.",
    fix_cloudformation="Add the variable under Environment.Variables (for a table: !Ref Table).",
    fix_cdk="fn.add_environment('DEPLOYMENT_TABLE_NAME', table.table_name)",
    fix_conveyor="Nothing to write: conveyor sets every variable its handlers read.",
    check=check,
)
