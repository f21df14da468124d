"""Lambda traffic shifting without a published version and an alias.

- A CodeDeploy deployment group of a Lambda application must be named by an
  ``AWS::Lambda::Alias`` ``UpdatePolicy.CodeDeployLambdaAliasUpdate``.
- That alias must point at an ``AWS::Lambda::Version`` (not ``$LATEST`` or a literal number).
- A SAM function with ``DeploymentPreference`` needs ``AutoPublishAlias``.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def _is_lambda_group(res: Resource, ctx: Context) -> bool:
    app = ctx.relations.target(
        res.properties.get("ApplicationName"), "AWS::CodeDeploy::Application"
    )
    return (
        app is not None
        and get(ctx.template.resources[app].properties, "ComputePlatform") == "Lambda"
    )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::Serverless::Function":
        if res.properties.get("DeploymentPreference") is not None and not res.properties.get(
            "AutoPublishAlias"
        ):
            yield Hit(
                res.logical_id,
                "Properties.DeploymentPreference",
                "DeploymentPreference without AutoPublishAlias: there is no version or alias "
                "to shift traffic between",
            )
        return
    if res.type == "AWS::Lambda::Alias":
        if get(res.data, "UpdatePolicy", "CodeDeployLambdaAliasUpdate") is None:
            return
        version = res.properties.get("FunctionVersion")
        if not any(
            ctx.relations.resource_type(r) == "AWS::Lambda::Version" for r in references(version)
        ) and not any(r in ctx.params for r in references(version)):
            yield Hit(
                res.logical_id,
                "Properties.FunctionVersion",
                "alias shifted by CodeDeploy does not point at a published AWS::Lambda::Version",
            )
        return
    if not _is_lambda_group(res, ctx):
        return
    for lid in ctx.relations.of_type("AWS::Lambda::Alias"):
        group = get(
            ctx.template.resources[lid].data,
            "UpdatePolicy",
            "CodeDeployLambdaAliasUpdate",
            "DeploymentGroupName",
        )
        if res.logical_id in references(group):
            return
    yield Hit(
        res.logical_id,
        "",
        "Lambda deployment group is not used by any alias UpdatePolicy "
        "(CodeDeployLambdaAliasUpdate); traffic shifting needs a version and an alias",
    )


RULE = Rule(
    id="CV072",
    title="Lambda traffic shifting without version and alias",
    severity=Severity.HIGH,
    resource_types=(
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::Lambda::Alias",
        "AWS::Serverless::Function",
    ),
    failure_modes=("FM62",),
    why="S4: no Lambda aliases for blue/green; CodeDeploy could not shift traffic.",
    fix_cloudformation="Publish an AWS::Lambda::Version, point an AWS::Lambda::Alias at it, and "
    "give the alias UpdatePolicy.CodeDeployLambdaAliasUpdate {ApplicationName, "
    "DeploymentGroupName}.",
    fix_cdk="alias = lambda_.Alias(self, 'Live', alias_name='live', version=fn.current_version); "
    "codedeploy.LambdaDeploymentGroup(alias=alias, ...)",
    fix_conveyor="environments[].deploy.lambda with a canary/linear strategy.",
    check=check,
)
