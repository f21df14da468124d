"""ECS service with no load balancer whose essential containers have no health check.

A rolling deployment completes when its new tasks reach a steady state: RUNNING and healthy by
every check the service has, the load balancer's, Cloud Map's and the containers' own. A
service with no load balancer and no container health check has none of them, so a task counts
as healthy the moment it is RUNNING. A release whose process starts and then fails (crashes on
its first request or after a minute, hangs, cannot reach its database) completes its
deployment; the circuit breaker counts only tasks that fail to reach RUNNING or fail a health
check, and a task stopped after it reached RUNNING does not start the service's throttle, so
ECS replaces the crashing tasks in a loop while the deployment, and the CloudFormation update
or pipeline action waiting on it, reports success.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
https://repost.aws/knowledge-center/ecs-deployment-roll-back-failure
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
(ECS does not run a HEALTHCHECK written in the image's Dockerfile: only the task definition's.)

Judged: AWS::ECS::Service with no LoadBalancers (and the ECS deployment controller: CodeDeploy's
and external ones need a load balancer or their own judgement) whose task definition is in the
template. It fires when no essential container (Essential absent or true) has a HealthCheck
with a Command. A service registered in Cloud Map (ServiceRegistries) may be judged by a custom
health check there, so it is left alone. Not judged: a task definition the input does not hold
(another stack's, or one given by ARN).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

SERVICE = "AWS::ECS::Service"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"


def _essential(container: dict[str, Any]) -> bool:
    # Essential defaults to true; a condition or parameter could make it false, so only a
    # literal false takes a container out.
    return container.get("Essential") not in (False, "false", "False")


def _checked(container: dict[str, Any]) -> bool:
    return bool(as_list(get(container, "HealthCheck", "Command")))


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    props = res.properties
    if as_list(props.get("LoadBalancers")) or as_list(props.get("ServiceRegistries")):
        return
    controller = get(props, "DeploymentController", "Type")
    if isinstance(controller, str) and controller.upper() != "ECS":
        return
    task = ctx.resource(ctx.relations.target(props.get("TaskDefinition"), TASK_DEFINITION))
    if task is None:
        return
    containers = [
        c for c in as_list(task.properties.get("ContainerDefinitions")) if isinstance(c, dict)
    ]
    essential = [c for c in containers if _essential(c)]
    if not essential or any(_checked(c) for c in essential):
        return
    names = ", ".join(str(c.get("Name", "?")) for c in essential)
    yield Hit(
        res.logical_id,
        "Properties",
        f"no load balancer checks this service's tasks and no essential container of "
        f"{task.logical_id} ({names}) has a HealthCheck: a task counts as healthy once it is "
        "RUNNING, so a release that starts and then crashes or hangs completes its deployment "
        "while ECS replaces its tasks in a loop",
        key=task.logical_id,
    )


RULE = Rule(
    id="CV124",
    title="ECS service without a load balancer has no container health check",
    severity=Severity.MEDIUM,
    resource_types=(SERVICE,),
    failure_modes=("FM128",),
    why="Issue 15: backend services (no load balancer, reached through Service Connect or a "
    "queue) are judged by nothing but their container health check; without one a rolling "
    "deployment and its circuit breaker accept a release whose tasks crash after starting.",
    fix_cloudformation="Give the service's essential container a HealthCheck: {Command: "
    "[CMD-SHELL, 'curl -f http://localhost:8080/health || exit 1'], Interval: 10, Retries: 3, "
    "StartPeriod: 60, Timeout: 5}, and keep DeploymentCircuitBreaker {Enable: true, Rollback: "
    "true} on the service.",
    fix_cdk="task.add_container(..., health_check=ecs.HealthCheck(command=['CMD-SHELL', "
    "'curl -f http://localhost:8080/health || exit 1']))",
    fix_conveyor="Nothing to write for kind: backend: conveyor refuses one without "
    "create.health_command. For another service without a load balancer, add "
    "create.health_command.",
    check=check,
)
