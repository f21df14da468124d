"""Network choices of created services (issue 15), as synthesized: private subnets behind one
NAT gateway by default; with placement: public, a VPC without NAT gateway or private subnets,
tasks with public addresses admitting the load balancer only, and (blue/green) no in-VPC
validation hook, since none could reach the test listener or CodeDeploy from there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths
from tests.synth.conftest import Synthesized

BLUE_GREEN_PUBLIC = """\
app: shop
owner: team-shop
region: eu-west-1
source: {s3: {key: shop/source.zip}}
build: {docker: {context: .}}
environments:
  - name: staging
    deploy:
      ecs:
        strategy: blue-green
        create: {port: 8080, placement: public}
    validate: {http: {path: /health}}
notifications: {email: [oncall@acme.io]}
"""


def _of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _service_network(template: dict[str, Any]) -> dict[str, Any]:
    (service,) = _of(template, "AWS::ECS::Service").values()
    config: dict[str, Any] = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    return config


@pytest.fixture(scope="session")
def blue_green_public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from conveyor.spec import parse_spec
    from conveyor.synth import synthesize

    outdir = tmp_path_factory.mktemp("blue-green-public")
    # nag=True: cdk-nag's errors fail the synth, so a public task that tripped a rule would
    # raise here.
    result = synthesize(parse_spec(BLUE_GREEN_PUBLIC), outdir, nag=True)
    yield result.outdir


def test_public_placement_creates_no_nat_gateway_and_no_private_subnet(
    synthesized: dict[str, Synthesized],
) -> None:
    staging = synthesized["validated-service"].templates["orders-staging"]
    assert _of(staging, "AWS::EC2::NatGateway") == {}
    assert _of(staging, "AWS::EC2::EIP") == {}
    subnets = _of(staging, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is True for s in subnets.values())
    network = _service_network(staging)
    assert network["AssignPublicIp"] == "ENABLED"
    assert sorted(ref["Ref"] for ref in network["Subnets"]) == sorted(subnets)


def test_public_tasks_admit_the_load_balancer_alone(synthesized: dict[str, Synthesized]) -> None:
    staging = synthesized["validated-service"].templates["orders-staging"]
    (group,) = _service_network(staging)["SecurityGroups"]
    group_id = group["Fn::GetAtt"][0]
    assert "SecurityGroupIngress" not in staging["Resources"][group_id]["Properties"]
    ingress = [
        r["Properties"]
        for r in _of(staging, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == group_id
    ]
    (rule,) = ingress
    assert (rule["FromPort"], rule["ToPort"]) == (8080, 8080)
    (balancer,) = _of(staging, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    assert rule["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [balancer["Properties"]["SecurityGroups"][0]["Fn::GetAtt"][0], "GroupId"]
    }


def test_production_keeps_private_subnets_behind_its_nat_gateway(
    synthesized: dict[str, Synthesized],
) -> None:
    prod = synthesized["validated-service"].templates["orders-prod"]
    assert len(_of(prod, "AWS::EC2::NatGateway")) == 1
    network = _service_network(prod)
    assert network["AssignPublicIp"] == "DISABLED"
    private = {
        k
        for k, s in _of(prod, "AWS::EC2::Subnet").items()
        if not s["Properties"]["MapPublicIpOnLaunch"]
    }
    assert {ref["Ref"] for ref in network["Subnets"]} == private


def test_nat_free_blue_green_has_no_in_vpc_hook_and_the_pipeline_validates(
    blue_green_public: Path,
) -> None:
    templates = {
        p.name.removesuffix(".template.json"): json.loads(p.read_text())
        for p in blue_green_public.glob("*.template.json")
    }
    staging = templates["shop-staging"]
    assert _of(staging, "AWS::EC2::NatGateway") == {}
    functions = _of(staging, "AWS::Lambda::Function")
    assert not any("VpcConfig" in f["Properties"] for f in functions.values())
    assert not any(
        "validate-http" in str(f["Properties"].get("FunctionName")) for f in functions.values()
    )
    # The appspec CodeDeploy reads names no hook; the pipeline's Validate action runs after.
    pipeline = json.dumps(templates["shop-pipeline"])
    assert "AfterAllowTestTraffic" not in pipeline
    (deploy_stage,) = [
        s
        for p in _of(templates["shop-pipeline"], "AWS::CodePipeline::Pipeline").values()
        for s in p["Properties"]["Stages"]
        if s["Name"] == "Deploy-staging"
    ]
    assert "Validate" in [a["Name"] for a in deploy_stage["Actions"]]
    result = check_paths(sorted(blue_green_public.glob("*.template.json")))
    assert result.errors == []
    assert [(f.rule, f.resource, f.message) for f in result.findings] == []


def test_an_internal_load_balancer_sits_in_private_subnets_and_admits_the_vpc(
    synthesized: dict[str, Synthesized],
) -> None:
    for stack in ("ledger-staging", "ledger-prod"):
        template = synthesized["internal-service"].templates[stack]
        (balancer,) = _of(template, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
        assert balancer["Properties"]["Scheme"] == "internal"
        subnets = _of(template, "AWS::EC2::Subnet")
        private = {k for k, s in subnets.items() if not s["Properties"]["MapPublicIpOnLaunch"]}
        assert {ref["Ref"] for ref in balancer["Properties"]["Subnets"]} == private
        (group,) = balancer["Properties"]["SecurityGroups"]
        rules = template["Resources"][group["Fn::GetAtt"][0]]["Properties"]["SecurityGroupIngress"]
        (vpc,) = _of(template, "AWS::EC2::VPC").values()
        assert vpc["Properties"]["CidrBlock"] == "10.0.0.0/16"
        # A literal range, so cdk-nag's EC23 can judge the rules (it fails on a token).
        assert rules and all(rule["CidrIp"] == "10.0.0.0/16" for rule in rules)


def test_the_pipeline_validates_an_internal_service_from_a_function_in_its_vpc(
    synthesized: dict[str, Synthesized],
) -> None:
    ledger = synthesized["internal-service"]
    for env in ("staging", "prod"):
        template = ledger.templates[f"ledger-{env}"]
        (validator,) = [
            f["Properties"]
            for f in _of(template, "AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") == f"ledger-validate-http-{env}-vpc"
        ]
        subnets = {ref["Ref"] for ref in validator["VpcConfig"]["SubnetIds"]}
        assert all("private" in subnet for subnet in subnets)
        (stage,) = [
            s for s in ledger.pipeline()["Properties"]["Stages"] if s["Name"] == f"Deploy-{env}"
        ]
        (validate,) = [a for a in stage["Actions"] if a["Name"] == "Validate"]
        assert f"function:ledger-validate-http-{env}-vpc" in json.dumps(
            validate["Configuration"]["FunctionName"]
        )
    # No validator of an internal service runs outside a VPC, in the pipeline's stack.
    assert not any(
        "validate-http" in str(f["Properties"].get("FunctionName"))
        for f in _of(ledger.template, "AWS::Lambda::Function").values()
    )


def test_an_internal_services_validator_keeps_its_decisions_in_its_own_table(
    synthesized: dict[str, Synthesized],
) -> None:
    for env in ("staging", "prod"):
        template = synthesized["internal-service"].templates[f"ledger-{env}"]
        (table,) = _of(template, "AWS::DynamoDB::GlobalTable").values()
        assert table["Properties"]["TableName"] == f"ledger-idempotency-{env}"
        (validator,) = [
            f["Properties"]
            for f in _of(template, "AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") == f"ledger-validate-http-{env}-vpc"
        ]
        variables = validator["Environment"]["Variables"]
        assert variables["IDEMPOTENCY_TABLE_NAME"] == {
            "Ref": next(iter(_of(template, "AWS::DynamoDB::GlobalTable")))
        }
