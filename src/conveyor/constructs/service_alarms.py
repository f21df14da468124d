"""A web service's alarms: what its load balancer sees of the whole service.

The pipeline's bake watches them after a release and rolls the stage back; no ECS or
CodeDeploy deployment watches them, because the load balancer's metrics cannot tell the new
revision from the old (ecs_service.ECS_DEPLOYMENTS_WATCH: why). Created in the service's scope:
the construct ids, and so the logical ids, are the service's own.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from conveyor.constructs import defaults
from conveyor.constructs.naming import Naming


def load_balancer_alarms(
    scope: Construct,
    *,
    naming: Naming,
    env_name: str,
    alb: elbv2.ApplicationLoadBalancer,
    groups: list[elbv2.ApplicationTargetGroup],
    topic: defaults.NoticeTopic,
) -> list[cloudwatch.IAlarm]:
    """5xx and unhealthy targets of the whole service: the pipeline's bake watches them
    after a release (ECS_DEPLOYMENTS_WATCH: why no deployment does)."""
    errors = defaults.alarm(
        scope,
        "ServerErrors",
        name=naming.name("5xx", env_name),
        description=f"{naming.app} {env_name}: targets answer 5xx; watched after a release",
        metric=alb.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(1)
        ),
        threshold=5,
        topic=topic,
    )
    unhealthy = defaults.alarm(
        scope,
        "UnhealthyHosts",
        name=naming.name("unhealthy", env_name),
        description=f"{naming.app} {env_name}: unhealthy targets; watched after a release",
        metric=cloudwatch.MathExpression(
            expression=" + ".join(f"u{i}" for i in range(len(groups))),
            using_metrics={
                f"u{i}": g.metrics.unhealthy_host_count(period=Duration.minutes(1))
                for i, g in enumerate(groups)
            },
            period=Duration.minutes(1),
        ),
        threshold=1,
        evaluation_periods=2,
        topic=topic,
    )
    return [errors, unhealthy]
