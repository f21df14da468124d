"""ECS service behind a load balancer whose tasks have public IP addresses and whose security
group lets the internet reach the application port directly.

A Fargate task in a public subnet needs a public address to reach ECR and CloudWatch Logs
without a NAT gateway (conveyor's `placement: public`); that is safe while the task's security
group admits the load balancer's security group only. An ingress rule from 0.0.0.0/0 or ::/0
that covers a port the task listens on makes every task answer the internet itself, around the
load balancer: around its TLS listener and redirect, its listener rules, its access logs and
whatever WAF sits on it.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html

Judged: AWS::ECS::Service with LoadBalancers and AwsvpcConfiguration.AssignPublicIp ENABLED
(any value a condition or parameter may give it), and each of its security groups that this
template defines: their inline SecurityGroupIngress and every AWS::EC2::SecurityGroupIngress
of the template whose GroupId references them. The ports judged are the container ports of the
service's load balancers (and of its task definition when this template defines it); a rule
for all protocols (-1) covers every port. Not judged: security groups of another stack (given
by id or import), prefix lists, and services without a load balancer (a task that serves the
internet directly on purpose). Terraform plans and Pulumi exports map the service but not yet
its security groups, so there the rule reports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import ABSENT, UNKNOWN, as_list, get, possible
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

SERVICE = "AWS::ECS::Service"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
INGRESS = "AWS::EC2::SecurityGroupIngress"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
WORLD = frozenset({"0.0.0.0/0", "::/0"})


def _public_ip(props: dict[str, Any], ctx: Context) -> bool:
    value = get(props, "NetworkConfiguration", "AwsvpcConfiguration", "AssignPublicIp")
    return any(
        isinstance(v, str) and v.upper() == "ENABLED"
        for v in possible(value, ctx.params)
        if v is not UNKNOWN and v is not ABSENT
    )


def _ports(res: Resource, ctx: Context) -> set[int]:
    """The ports the service's tasks listen on, as far as the template says."""
    found: set[int] = set()
    for balancer in as_list(res.properties.get("LoadBalancers")):
        port = get(balancer, "ContainerPort")
        if isinstance(port, int | str) and str(port).isdigit():
            found.add(int(port))
    task = ctx.resource(ctx.relations.target(res.properties.get("TaskDefinition"), TASK_DEFINITION))
    if task is not None:
        for container in as_list(task.properties.get("ContainerDefinitions")):
            for mapping in as_list(get(container, "PortMappings")):
                port = get(mapping, "ContainerPort")
                if isinstance(port, int | str) and str(port).isdigit():
                    found.add(int(port))
    return found


def _open_to_world(rule: Any, ports: set[int]) -> str | None:
    """The world range of an ingress rule that covers one of `ports`, else None."""
    if not isinstance(rule, dict):
        return None
    world = next((str(rule[key]) for key in ("CidrIp", "CidrIpv6") if rule.get(key) in WORLD), None)
    if world is None:
        return None
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return world
    if protocol not in ("tcp", "6"):
        return None
    low, high = rule.get("FromPort"), rule.get("ToPort")
    if not (isinstance(low, int | str) and isinstance(high, int | str)):
        return None
    try:
        first, last = int(low), int(high)
    except ValueError:
        return None
    if first == -1 and last == -1:
        return world
    return world if any(first <= port <= last for port in ports) else None


def _ingress(group: str, ctx: Context) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource, path, rule) for each ingress rule of the security group `group`."""
    resource = ctx.template.resources[group]
    for index, rule in enumerate(as_list(resource.properties.get("SecurityGroupIngress"))):
        if isinstance(rule, dict):
            yield group, f"Properties.SecurityGroupIngress[{index}]", rule
    for lid in ctx.relations.referrers(group, INGRESS):
        props = ctx.template.resources[lid].properties
        if ctx.relations.target(props.get("GroupId"), SECURITY_GROUP) == group:
            yield lid, "Properties", props


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    props = res.properties
    if not props.get("LoadBalancers") or not _public_ip(props, ctx):
        return
    ports = _ports(res, ctx)
    groups = get(props, "NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")
    for value in as_list(groups):
        group = ctx.relations.target(value, SECURITY_GROUP)
        if group is None:
            continue
        for owner, _path, rule in _ingress(group, ctx):
            world = _open_to_world(rule, ports)
            if world is None:
                continue
            where = "" if owner == group else f" (ingress rule {owner})"
            yield Hit(
                res.logical_id,
                "Properties.NetworkConfiguration.AwsvpcConfiguration",
                f"tasks have public IP addresses and security group {group} admits {world} "
                f"on their port{where}: the internet reaches each task directly, around the "
                "load balancer's TLS, listener rules and access logs",
                key=f"{group}:{owner}",
            )


RULE = Rule(
    id="CV122",
    title="Public ECS tasks behind a load balancer admit the internet directly",
    severity=Severity.HIGH,
    resource_types=(SERVICE,),
    failure_modes=("FM127",),
    why="Issue 15: NAT-free environments put Fargate tasks in public subnets with public "
    "addresses; one ingress rule from 0.0.0.0/0 on the container port then exposes every task "
    "to the internet, beside the load balancer meant to be the only way in.",
    fix_cloudformation="Admit the load balancer only: an ingress rule on the container port "
    "with SourceSecurityGroupId: !GetAtt LoadBalancerSecurityGroup.GroupId, no CidrIp "
    "0.0.0.0/0 or CidrIpv6 ::/0; or run the tasks in private subnets with AssignPublicIp "
    "DISABLED.",
    fix_cdk="service_group.add_ingress_rule(alb_group, ec2.Port.tcp(port)) (not "
    "ec2.Peer.any_ipv4()), or FargateService(assign_public_ip=False, vpc_subnets=PRIVATE_...)",
    fix_conveyor="Nothing to write: with placement: public conveyor's task security group "
    "admits the load balancer's security group only.",
    check=check,
)
