"""ECS blue/green without two target groups, production and test listeners, and a deployment
group.

- A service with ``DeploymentController: CODE_DEPLOY`` needs an ECS deployment group in the
  template that names it (or the ``AWS::CodeDeployBlueGreen`` transform with a
  ``AWS::CodeDeploy::BlueGreen`` hook).
- An ECS deployment group needs two target groups in ``TargetGroupPairInfoList`` and both
  ``ProdTrafficRoute`` and ``TestTrafficRoute`` listeners.
- A service using ECS native blue/green (``DeploymentConfiguration.Strategy`` BLUE_GREEN, LINEAR,
  CANARY) needs ``AdvancedConfiguration`` (alternate target group, production listener rule,
  role) on each load balancer.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, intrinsic_name, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

NATIVE = ("BLUE_GREEN", "LINEAR", "CANARY")


def _service(res: Resource, ctx: Context) -> Iterator[Hit]:
    controller = get(res.properties, "DeploymentController", "Type")
    if controller == "CODE_DEPLOY":
        hooks = ctx.template.data.get("Hooks")
        if isinstance(hooks, dict) and any(
            get(h, "Type") == "AWS::CodeDeploy::BlueGreen" for h in hooks.values()
        ):
            return
        name = res.properties.get("ServiceName")
        for lid in ctx.relations.of_type("AWS::CodeDeploy::DeploymentGroup"):
            for svc in as_list(get(ctx.template.resources[lid].properties, "ECSServices")):
                value = get(svc, "ServiceName")
                if res.logical_id in references(value) or (isinstance(name, str) and value == name):
                    return
        yield Hit(
            res.logical_id,
            "Properties.DeploymentController",
            "service is deployed by CodeDeploy but no ECS deployment group in this template "
            "names it",
        )
        return
    strategy = get(res.properties, "DeploymentConfiguration", "Strategy")
    if strategy in NATIVE:
        balancers = as_list(res.properties.get("LoadBalancers"))
        if not balancers:
            yield Hit(
                res.logical_id, "Properties", f"{strategy} deployment without a load balancer"
            )
        for index, lb in enumerate(balancers):
            advanced = get(lb, "AdvancedConfiguration")
            missing = [
                k
                for k in ("AlternateTargetGroupArn", "ProductionListenerRule", "RoleArn")
                if get(advanced, k) is None
            ]
            if missing and intrinsic_name(lb) is None:
                yield Hit(
                    res.logical_id,
                    f"Properties.LoadBalancers.{index}",
                    f"{strategy} deployment without {', '.join(missing)} in AdvancedConfiguration",
                )


def _group(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not res.properties.get("ECSServices"):
        return
    pairs = get(res.properties, "LoadBalancerInfo", "TargetGroupPairInfoList")
    if intrinsic_name(pairs) is not None:
        return
    pair = as_list(pairs)[0] if as_list(pairs) else None
    problems = []
    if len(as_list(get(pair, "TargetGroups"))) < 2:
        problems.append("two target groups")
    if not as_list(get(pair, "ProdTrafficRoute", "ListenerArns")):
        problems.append("a production listener")
    if not as_list(get(pair, "TestTrafficRoute", "ListenerArns")):
        problems.append("a test listener")
    if get(res.properties, "DeploymentStyle", "DeploymentType") not in (None, "BLUE_GREEN"):
        problems.append("DeploymentType BLUE_GREEN")
    if problems:
        yield Hit(
            res.logical_id,
            "Properties.LoadBalancerInfo" if "LoadBalancerInfo" in res.properties else "Properties",
            f"ECS blue/green deployment group lacks {', '.join(problems)}",
        )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::ECS::Service":
        yield from _service(res, ctx)
    else:
        yield from _group(res, ctx)


RULE = Rule(
    id="CV071",
    title="ECS blue/green not fully wired",
    severity=Severity.HIGH,
    resource_types=("AWS::ECS::Service", "AWS::CodeDeploy::DeploymentGroup"),
    failure_modes=("FM61",),
    why="S5: blue/green needs coordination between two ALB target groups, production and test "
    "listeners, the ECS service and a CodeDeploy deployment group; missing pieces meant no "
    "zero-downtime deployment.",
    fix_cloudformation="Give the deployment group BlueGreenDeploymentConfiguration and "
    "LoadBalancerInfo.TargetGroupPairInfoList with two TargetGroups, ProdTrafficRoute and "
    "TestTrafficRoute; name the service in ECSServices.",
    fix_cdk="codedeploy.EcsDeploymentGroup(service=..., blue_green_deployment_config="
    "codedeploy.EcsBlueGreenDeploymentConfig(blue_target_group=..., green_target_group=..., "
    "listener=..., test_listener=...))",
    fix_conveyor="environments[].deploy.ecs.strategy: blue-green.",
    check=check,
)
