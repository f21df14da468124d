"""TLS by default in production (issue 15), as synthesized: a created certificate validated in
the hosted zone, an alias record, HTTPS on 443 with a current policy, 80 redirecting, and the
pipeline's validation calling the domain."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.constructs.defaults import TLS_POLICY
from conveyor.rules import check_paths
from tests.synth.conftest import Synthesized

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"


@pytest.fixture(scope="session")
def payments(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["payments"]


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_the_policy_is_the_one_elb_recommends() -> None:
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
    assert TLS_POLICY.value == "TLS13_12_RES_PQ"


def test_production_gets_a_dns_validated_certificate_and_an_alias_record(
    payments: Synthesized,
) -> None:
    prod = payments.templates["payments-prod"]
    (certificate,) = _resources(prod, "AWS::CertificateManager::Certificate")
    assert certificate["Properties"]["DomainName"] == "payments.example.com"
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": "payments.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"}
    ]
    (record,) = _resources(prod, "AWS::Route53::RecordSet")
    assert record["Properties"]["Name"] == "payments.example.com"
    assert record["Properties"]["Type"] == "A"
    alias = record["Properties"]["AliasTarget"]
    assert alias["DNSName"]["Fn::GetAtt"][1] == "DNSName"
    assert alias["HostedZoneId"]["Fn::GetAtt"][1] == "CanonicalHostedZoneID"
    assert prod["Outputs"]["Url"]["Value"] == "https://payments.example.com"


def test_production_listeners_are_https_with_the_policy_and_80_redirects(
    payments: Synthesized,
) -> None:
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in _resources(payments.templates["payments-prod"], LISTENER)
    }
    assert sorted(listeners) == [80, 443, 9000]
    for port in (443, 9000):
        assert listeners[port]["Protocol"] == "HTTPS"
        assert listeners[port]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
        assert listeners[port]["Certificates"] == [
            {"CertificateArn": {"Ref": next(iter(_certificate_ids(payments)))}}
        ]
    assert listeners[80]["Protocol"] == "HTTP"
    assert listeners[80]["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]


def _certificate_ids(example: Synthesized) -> list[str]:
    prod = example.templates["payments-prod"]["Resources"]
    return [k for k, r in prod.items() if r["Type"] == "AWS::CertificateManager::Certificate"]


def test_the_load_balancer_accepts_443_and_80_from_anywhere(payments: Synthesized) -> None:
    groups = _resources(payments.templates["payments-prod"], "AWS::EC2::SecurityGroup")
    (alb,) = [g for g in groups if "load balancer" in g["Properties"]["GroupDescription"]]
    public = {
        rule["FromPort"]
        for rule in alb["Properties"]["SecurityGroupIngress"]
        if rule.get("CidrIp") == "0.0.0.0/0"
    }
    assert public == {80, 443}


def test_validation_and_tests_call_the_domain(payments: Synthesized) -> None:
    pipeline = json.dumps(payments.template)
    assert '\\"url\\":\\"#{StackProd.Url}/health\\"' in pipeline
    assert '\\"server_name\\":\\"payments.example.com\\"' in pipeline
    hook = [
        r
        for r in _resources(payments.templates["payments-prod"], "AWS::Lambda::Function")
        if "VALIDATE_URL" in json.dumps(r)
    ]
    (function,) = hook
    variables = function["Properties"]["Environment"]["Variables"]
    # The test listener is reached through the load balancer's name, with the domain as SNI.
    assert variables["VALIDATE_SERVER_NAME"] == "payments.example.com"


def test_a_domain_whose_dns_is_not_conveyors_is_validated_through_the_load_balancer(
    synthesized: dict[str, Synthesized],
) -> None:
    web = synthesized["web-service"]
    prod = web.templates["web-prod"]
    assert _resources(prod, "AWS::Route53::RecordSet") == []
    assert _resources(prod, "AWS::CertificateManager::Certificate") == []
    assert prod["Outputs"]["Url"]["Value"] == "https://www.example.com"
    assert "LoadBalancerUrl" in prod["Outputs"]
    pipeline = json.dumps(web.template)
    assert '\\"url\\":\\"#{StackProd.LoadBalancerUrl}/health\\"' in pipeline
    assert '\\"server_name\\":\\"www.example.com\\"' in pipeline
    assert [p for p in prod["Parameters"] if p.startswith("WebCertificateArn")]


def test_plain_http_outside_production_is_a_suppressed_cv103_finding_with_its_reason(
    payments: Synthesized,
) -> None:
    staging = payments.templates["payments-staging"]
    for listener in _resources(staging, LISTENER):
        assert listener["Properties"]["Protocol"] == "HTTP"
        (suppression,) = listener["Metadata"]["conveyor"]["suppress"]
        assert suppression["rule"] == "CV105"
        assert "staging is not production" in suppression["reason"]
    stripped = {
        **staging,
        "Resources": {
            k: {key: v for key, v in r.items() if key != "Metadata"} if r["Type"] == LISTENER else r
            for k, r in staging["Resources"].items()
        },
    }
    path = payments.outdir / "staging-unsuppressed.json"
    path.write_text(json.dumps(stripped))
    try:
        found = {f.resource for f in check_paths([path]).findings if f.rule == "CV105"}
    finally:
        path.unlink()
    assert len(found) == 2  # the production and the test listener of blue/green
