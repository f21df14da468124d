"""ECS service that may never stabilise.

For the ECS (rolling) controller: the deployment circuit breaker must be enabled with rollback,
and ``MinimumHealthyPercent``/``MaximumPercent`` must leave room to start new tasks. For any
controller: a service behind a load balancer needs ``HealthCheckGracePeriodSeconds`` so slow
starters are not killed before they are healthy.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import definitely_not_true, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    props = res.properties
    controller = get(props, "DeploymentController", "Type") or "ECS"
    config = props.get("DeploymentConfiguration")
    if controller == "ECS" and get(config, "Strategy") in (None, "ROLLING"):
        breaker = get(config, "DeploymentCircuitBreaker")
        if definitely_not_true(get(breaker, "Enable"), ctx.params) or definitely_not_true(
            get(breaker, "Rollback"), ctx.params
        ):
            yield Hit(
                res.logical_id,
                "Properties.DeploymentConfiguration" if config is not None else "Properties",
                "no deployment circuit breaker with rollback: a failing deployment retries "
                "forever and the stack never stabilises",
                key="circuit-breaker",
            )
        minimum, maximum = get(config, "MinimumHealthyPercent"), get(config, "MaximumPercent")
        if str(minimum) == "100" and str(maximum) == "100":
            yield Hit(
                res.logical_id,
                "Properties.DeploymentConfiguration",
                "MinimumHealthyPercent 100 with MaximumPercent 100 leaves no room to start new "
                "tasks",
                key="no-room",
            )
    if props.get("LoadBalancers") and props.get("HealthCheckGracePeriodSeconds") is None:
        yield Hit(
            res.logical_id,
            "Properties",
            "service behind a load balancer has no HealthCheckGracePeriodSeconds; new tasks "
            "can be killed before they become healthy",
            key="grace-period",
        )


RULE = Rule(
    id="CV075",
    title="ECS service may never stabilise",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECS::Service",),
    failure_modes=("FM64",),
    why="S3: ECS services got stuck in CREATE_IN_PROGRESS and did not stabilise; health checks "
    "had to be relaxed.",
    fix_cloudformation="DeploymentConfiguration: {DeploymentCircuitBreaker: {Enable: true, "
    "Rollback: true}, MinimumHealthyPercent: 100, MaximumPercent: 200} and "
    "HealthCheckGracePeriodSeconds: 60.",
    fix_cdk="ecs.FargateService(..., circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True), "
    "min_healthy_percent=100, health_check_grace_period=Duration.seconds(60))",
    fix_conveyor="Nothing to write: conveyor's services have a circuit breaker and grace period.",
    check=check,
)
