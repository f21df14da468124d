"""CodeDeploy deployment group that no pipeline action of the template deploys to.

When a template defines a pipeline and a deployment group, the group is there for the pipeline:
a group no CodeDeploy action names (by ``Ref`` or by its ``DeploymentGroupName``) means the
deploy action points somewhere else (a typo, another environment's group, a group of another
stack) and the group built here, with its alarms and rollback, is never used. A group a Lambda
alias shifts traffic with (``UpdatePolicy.CodeDeployLambdaAliasUpdate``) is used by the stack
update itself, whatever the pipeline runs. A template without
a pipeline is not judged (its groups serve a pipeline elsewhere), nor is one whose deploy actions
name their group with an intrinsic it cannot resolve.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, intrinsic_name, ref_target
from conveyor.rules.model import Hit, Rule, Severity

GROUP = "AWS::CodeDeploy::DeploymentGroup"


def check_template(ctx: Context) -> Iterator[Hit]:
    groups = ctx.relations.of_type(GROUP)
    pipelines = ctx.relations.of_type("AWS::CodePipeline::Pipeline")
    if not groups or not pipelines:
        return
    # Imported here: this rule runs on every template, conveyor.rules.pipelines (three
    # dataclasses: 15 million instructions to import) is for templates with a pipeline.
    from conveyor.rules.pipelines import actions

    named: set[str] = set()
    for res in ctx.template.resources.values():
        update = get(res.data, "UpdatePolicy", "CodeDeployLambdaAliasUpdate", "DeploymentGroupName")
        if ref_target(update) is not None:
            named.add(str(ref_target(update)))
        elif isinstance(update, str):
            named.add(update)
    for pipeline in pipelines:
        for action in actions(ctx.template.resources[pipeline]):
            if not action.provider.startswith("CodeDeploy"):
                continue
            value = action.configuration.get("DeploymentGroupName")
            target = ref_target(value)
            if target is not None:
                named.add(target)
            elif isinstance(value, str):
                named.add(value)
            elif intrinsic_name(value) is not None:
                return  # a name built at deploy time may be any of the groups
    for lid in groups:
        name = ctx.template.resources[lid].properties.get("DeploymentGroupName")
        if lid in named or (isinstance(name, str) and name in named):
            continue
        yield Hit(
            lid,
            "Properties",
            "no CodeDeploy action of the template's pipelines deploys to this group; the "
            "pipeline deploys elsewhere and this group's alarms and rollback are never used",
        )


RULE = Rule(
    id="CV079",
    title="Deployment group no pipeline action uses",
    severity=Severity.MEDIUM,
    resource_types=(),
    failure_modes=("FM61", "FM63"),
    why="S5: the blue/green deployment group was created but the pipeline's deploy action named "
    "another one; the rollback and alarms configured on it never ran.",
    fix_cloudformation="Name the group in the CodeDeploy action: DeploymentGroupName: "
    "!Ref DeploymentGroup (and ApplicationName: !Ref Application).",
    fix_cdk="codepipeline_actions.CodeDeployEcsDeployAction(deployment_group=group, ...) with "
    "the group object, not a name.",
    fix_conveyor="Nothing to write: conveyor's deploy actions reference their own groups.",
    check_template=check_template,
)
