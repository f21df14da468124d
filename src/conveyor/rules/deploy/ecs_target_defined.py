"""ECS deploy action names a cluster or service that is defined nowhere.

A literal ``ClusterName``/``ServiceName`` (``ECS`` provider) or ``ApplicationName``/
``DeploymentGroupName`` (``CodeDeployToECS``) must match a resource of this template. References
(Ref, GetAtt, ImportValue, parameters) are trusted: they make the cross-stack link explicit.
A pipeline variable (``#{DeployInfra.AppName}``) is an earlier action's output, resolved at run
time: it is an explicit link too
(https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html).
Limit: a literal naming a resource of another stack is reported; reference it instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource

CHECKS = {
    "ECS": (
        ("ClusterName", "AWS::ECS::Cluster", "ClusterName"),
        ("ServiceName", "AWS::ECS::Service", "ServiceName"),
    ),
    "CodeDeployToECS": (
        ("ApplicationName", "AWS::CodeDeploy::Application", "ApplicationName"),
        ("DeploymentGroupName", "AWS::CodeDeploy::DeploymentGroup", "DeploymentGroupName"),
    ),
}


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for action in actions(res):
        for key, rtype, prop in CHECKS.get(action.provider, ()):
            value = action.configuration.get(key)
            if not isinstance(value, str) or not value or "#{" in value:
                continue
            names = [
                ctx.template.resources[lid].properties.get(prop)
                for lid in ctx.relations.of_type(rtype)
            ]
            # A name given by an intrinsic (a Ref, a Sub) may be this one: nothing to report.
            if any(name is not None and not isinstance(name, str) for name in names):
                continue
            if value not in names:
                yield Hit(
                    res.logical_id,
                    f"{action.path}.Configuration.{key}",
                    f"deploy action {action.name!r} names {key} {value!r}, which no resource "
                    "in this template defines; reference it (Ref/ImportValue/parameter)",
                )


RULE = Rule(
    id="CV070",
    title="ECS deploy target not defined",
    severity=Severity.MEDIUM,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM60",),
    why="S2: CodePipeline targeted ServiceName 'app-service', a service that did not exist; "
    "deployments failed and the pipeline got stuck.",
    fix_cloudformation="Define the cluster and service in the template (or import them) and "
    "write ClusterName: !Ref Cluster, ServiceName: !GetAtt Service.Name.",
    fix_cdk="EcsDeployAction(service=service) with the service object (or "
    "FargateService.from_fargate_service_attributes for an existing one).",
    fix_conveyor="environments[].deploy.ecs: {create: {...}} or an existing cluster/service "
    "that conveyor looks up.",
    check=check,
)
