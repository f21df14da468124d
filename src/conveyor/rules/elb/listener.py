"""What the ELB listener rules share: the load balancer a listener belongs to and the actions it
(and the listener rules attached to it) take."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import UNKNOWN, as_list, possible
from conveyor.rules.template import Resource

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"


def protocols(res: Resource, ctx: Context) -> set[str]:
    """The listener's protocol, every value it may take (upper case); empty when unknown."""
    found = possible(res.properties.get("Protocol"), ctx.params)
    if any(value is UNKNOWN or not isinstance(value, str) for value in found):
        return set()
    return {value.upper() for value in found}


def load_balancer(res: Resource, ctx: Context) -> Resource | None:
    """The listener's load balancer when this template defines it (by Ref)."""
    return ctx.resource(ctx.relations.target(res.properties.get("LoadBalancerArn"), LOAD_BALANCER))


def internet_facing_application(balancer: Resource, ctx: Context) -> bool:
    """An Application Load Balancer reachable from the internet: both are CloudFormation's
    defaults when Scheme and Type are absent.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-loadbalancer.html"""
    props = balancer.properties
    scheme = possible(props.get("Scheme", "internet-facing"), ctx.params)
    kind = possible(props.get("Type", "application"), ctx.params)
    return "internet-facing" in scheme and "application" in kind


def actions(res: Resource, ctx: Context) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource, path, action) for the listener's default actions and the actions of every
    listener rule of this template attached to it."""
    for index, action in enumerate(as_list(res.properties.get("DefaultActions"))):
        if isinstance(action, dict):
            yield res.logical_id, f"Properties.DefaultActions[{index}]", action
    for rule in ctx.relations.referrers(res.logical_id, LISTENER_RULE):
        props = ctx.template.resources[rule].properties
        if ctx.relations.target(props.get("ListenerArn"), LISTENER) != res.logical_id:
            continue
        for index, action in enumerate(as_list(props.get("Actions"))):
            if isinstance(action, dict):
                yield rule, f"Properties.Actions[{index}]", action
