"""CV105 (plain HTTP that does not redirect) and CV106 (TLS older than 1.2) beyond their
fixtures: listener rules, parameters, CloudFormation's defaults, and Terraform input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules import check_text

ALB_ARN = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/0a1b2c3d"


def template(
    listener: dict[str, Any], *, balancer: dict[str, Any] | None = None, **more: Any
) -> str:
    resources: dict[str, Any] = {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": balancer or {}},
        "Targets": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"Port": 8080, "Protocol": "HTTP", "VpcId": "vpc-0a1b2c3d"},
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {"LoadBalancerArn": {"Ref": "Alb"}, **listener},
        },
        **more,
    }
    return json.dumps(
        {"Parameters": {"Policy": {"Type": "String", "Default": "x"}}, "Resources": resources}
    )


def found(text: str, rule: str) -> list[tuple[str, str]]:
    result = check_text(text, name="template.json")
    assert result.errors == []
    return [(f.resource, f.message) for f in result.findings if f.rule == rule]


FORWARD = [{"Type": "forward", "TargetGroupArn": {"Ref": "Targets"}}]
REDIRECT = [
    {
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
    }
]


def test_a_forwarding_http_listener_of_a_public_alb_is_reported_with_its_port() -> None:
    ((resource, message),) = found(
        template({"Port": 80, "Protocol": "HTTP", "DefaultActions": FORWARD}), "CV105"
    )
    assert resource == "Listener"
    assert "port 80" in message and "forward" in message and "Alb" in message


def test_a_listener_rule_that_forwards_behind_a_redirecting_default_is_reported() -> None:
    rule = {
        "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Properties": {
            "ListenerArn": {"Ref": "Listener"},
            "Priority": 1,
            "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
            "Actions": FORWARD,
        },
    }
    text = template({"Port": 80, "Protocol": "HTTP", "DefaultActions": REDIRECT}, Rule=rule)
    ((resource, message),) = found(text, "CV105")
    assert resource == "Listener" and "listener rule Rule" in message


@pytest.mark.parametrize(
    ("balancer", "listener"),
    [
        ({"Scheme": "internal"}, {"Protocol": "HTTP", "DefaultActions": FORWARD}),
        ({"Type": "network"}, {"Protocol": "TCP", "DefaultActions": FORWARD}),
        ({}, {"Protocol": "HTTP", "DefaultActions": REDIRECT}),
        (
            {},
            {
                "Protocol": "HTTP",
                "DefaultActions": [
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
                ],
            },
        ),
        (
            {},
            {
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "DefaultActions": FORWARD,
            },
        ),
    ],
)
def test_what_cv103_leaves_alone(balancer: dict[str, Any], listener: dict[str, Any]) -> None:
    assert found(template(listener, balancer=balancer), "CV105") == []


def test_a_load_balancer_of_another_stack_is_not_judged() -> None:
    text = template({"Protocol": "HTTP", "DefaultActions": FORWARD})
    data = json.loads(text)
    data["Resources"]["Listener"]["Properties"]["LoadBalancerArn"] = ALB_ARN
    assert found(json.dumps(data), "CV105") == []


@pytest.mark.parametrize(
    ("policy", "reported"),
    [
        (None, "no SslPolicy: the listener gets ELBSecurityPolicy-2016-08"),
        ("ELBSecurityPolicy-2016-08", "SslPolicy ELBSecurityPolicy-2016-08 accepts"),
        (
            "ELBSecurityPolicy-TLS13-1-0-2021-06",
            "SslPolicy ELBSecurityPolicy-TLS13-1-0-2021-06 accepts",
        ),
        (
            "ELBSecurityPolicy-TLS-1-1-2017-01",
            "SslPolicy ELBSecurityPolicy-TLS-1-1-2017-01 accepts",
        ),
        ("ELBSecurityPolicy-FS-2018-06", "SslPolicy ELBSecurityPolicy-FS-2018-06 accepts"),
        ("ELBSecurityPolicy-TLS13-1-2-2021-06", None),
        ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", None),
        ("ELBSecurityPolicy-TLS13-1-3-2021-06", None),
        ("ELBSecurityPolicy-FS-1-2-Res-2020-10", None),
        ("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", None),
    ],
)
def test_cv104_reads_the_lowest_tls_version_from_the_policy_name(
    policy: str | None, reported: str | None
) -> None:
    listener: dict[str, Any] = {"Protocol": "HTTPS", "Port": 443, "DefaultActions": FORWARD}
    if policy is not None:
        listener["SslPolicy"] = policy
    hits = found(template(listener), "CV106")
    if reported is None:
        assert hits == []
    else:
        ((resource, message),) = hits
        assert resource == "Listener" and message.startswith(reported)


def test_cv104_judges_a_parameter_by_its_default_and_leaves_an_open_one_alone() -> None:
    listener = {"Protocol": "HTTPS", "SslPolicy": {"Ref": "Policy"}, "DefaultActions": FORWARD}
    data = json.loads(template(listener))
    data["Parameters"]["Policy"]["Default"] = "ELBSecurityPolicy-2016-08"
    assert [r for r, _ in found(json.dumps(data), "CV106")] == ["Listener"]
    del data["Parameters"]["Policy"]["Default"]
    assert found(json.dumps(data), "CV106") == []


def _state(listener: dict[str, Any], internal: bool = False) -> str:
    items = [
        {
            "address": "aws_lb.web",
            "mode": "managed",
            "type": "aws_lb",
            "name": "web",
            "values": {"arn": ALB_ARN, "internal": internal, "load_balancer_type": "application"},
        },
        {
            "address": "aws_lb_listener.http",
            "mode": "managed",
            "type": "aws_lb_listener",
            "name": "http",
            "values": {"load_balancer_arn": ALB_ARN, **listener},
        },
    ]
    return json.dumps({"format_version": "1.0", "values": {"root_module": {"resources": items}}})


def test_terraform_listeners_are_judged_like_cloudformation_ones() -> None:
    forward = {"port": 80, "protocol": "HTTP", "default_action": [{"type": "forward"}]}
    redirect = {
        "port": 80,
        "protocol": "HTTP",
        "default_action": [
            {
                "type": "redirect",
                "redirect": [{"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}],
            }
        ],
    }
    assert [r for r, _ in found(_state(forward), "CV105")] == ["aws_lb_listener.http"]
    assert found(_state(forward, internal=True), "CV105") == []
    assert found(_state(redirect), "CV105") == []
    old = {
        "port": 443,
        "protocol": "HTTPS",
        "ssl_policy": "ELBSecurityPolicy-2016-08",
        "default_action": [{"type": "forward"}],
    }
    assert [r for r, _ in found(_state(old), "CV106")] == ["aws_lb_listener.http"]
    current = {**old, "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}
    assert found(_state(current), "CV106") == []
