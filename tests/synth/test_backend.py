"""kind: backend (issue 15): a Fargate service with no load balancer, published by name through
ECS Service Connect, validated by its health command and the circuit breaker; and a web
service that joins a namespace as a Service Connect client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conveyor.spec import load_spec
from conveyor.synth import synthesize
from tests.synth.conftest import ROOT, Synthesized


def _synth(tmp: pytest.TempPathFactory, name: str, spec: dict[str, Any]) -> Synthesized:
    path = tmp.mktemp(name) / "conveyor.yaml"
    path.write_text(yaml.safe_dump(spec))
    result = synthesize(load_spec(path), Path(tmp.mktemp(f"{name}-out")))
    return Synthesized(
        name=name,
        spec=load_spec(path),
        outdir=result.outdir,
        templates={t.stack: json.loads(t.path.read_text()) for t in result.templates},
        nag_report={},
    )


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    spec = yaml.safe_load((ROOT / "examples" / "backend-service.yaml").read_text())
    return _synth(tmp_path_factory, "backend", spec)


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The web example, its tasks joining the backend's namespace."""
    spec = yaml.safe_load((ROOT / "examples" / "web-service.yaml").read_text())
    spec["environments"][0]["deploy"]["ecs"]["create"]["connect"] = {"namespace": "platform-prod"}
    return _synth(tmp_path_factory, "client", spec)


def _stack(example: Synthesized, env: str) -> dict[str, Any]:
    return example.templates[f"{example.spec.app}-{env}"]


def _only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = (r for r in template["Resources"].values() if r["Type"] == kind)
    props: dict[str, Any] = found["Properties"]
    return props


def test_a_backend_has_no_load_balancer_and_rolls_back_on_the_circuit_breaker(
    backend: Synthesized,
) -> None:
    for env in ("staging", "prod"):
        template = _stack(backend, env)
        kinds = {r["Type"] for r in template["Resources"].values()}
        assert not any(k.startswith("AWS::ElasticLoadBalancingV2::") for k in kinds)
        service = _only(template, "AWS::ECS::Service")
        assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
            "Enable": True,
            "Rollback": True,
        }
        assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
        assert "DeploymentController" not in service
        assert not service.get("LoadBalancers")


def test_its_container_runs_the_health_command(backend: Synthesized) -> None:
    task = _only(_stack(backend, "staging"), "AWS::ECS::TaskDefinition")
    (app,) = task["ContainerDefinitions"]
    assert app["HealthCheck"]["Command"] == [
        "CMD-SHELL",
        "curl -f http://localhost:8080/health || exit 1",
    ]
    assert app["PortMappings"] == [{"ContainerPort": 8080, "Name": "app", "Protocol": "tcp"}]


def test_staging_publishes_the_name_in_a_namespace_of_its_own(backend: Synthesized) -> None:
    template = _stack(backend, "staging")
    namespace = _only(template, "AWS::ServiceDiscovery::HttpNamespace")
    assert namespace["Name"] == "rates-staging"
    (logical,) = (
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::ServiceDiscovery::HttpNamespace"
    )
    connect = _only(template, "AWS::ECS::Service")["ServiceConnectConfiguration"]
    assert connect["Enabled"] is True
    assert connect["Namespace"] == {"Fn::GetAtt": [logical, "Arn"]}
    assert connect["Services"] == [
        {
            "ClientAliases": [{"DnsName": "rates", "Port": 8080}],
            "DiscoveryName": "rates",
            "PortName": "app",
        }
    ]
    assert connect["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "connect"
    outputs = template["Outputs"]
    assert outputs["ConnectNamespace"]["Value"] == {"Fn::GetAtt": [logical, "Arn"]}
    assert outputs["ConnectEndpoint"]["Value"] == "rates:8080"
    assert "Url" not in outputs


def test_prod_joins_the_existing_namespace_and_admits_its_clients_only(
    backend: Synthesized,
) -> None:
    template = _stack(backend, "prod")
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::ServiceDiscovery::HttpNamespace" not in kinds
    assert _only(template, "AWS::ECS::Service")["ServiceConnectConfiguration"]["Namespace"] == (
        "platform-prod"
    )
    group = _only(template, "AWS::EC2::SecurityGroup")
    admitted = {(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupIngress"]}
    assert admitted == {("10.20.0.0/16", 8080, 8080), ("10.30.0.0/16", 8080, 8080)}


def test_the_pipeline_deploys_the_stack_and_explains_why_no_validate_follows(
    backend: Synthesized,
) -> None:
    pipeline = backend.pipeline()
    stages = {s["Name"]: s for s in pipeline["Properties"]["Stages"]}
    for env in ("staging", "prod"):
        actions = stages[f"Deploy-{env}"]["Actions"]
        assert not [a for a in actions if a["ActionTypeId"]["Category"] == "Invoke"]
    suppressed = pipeline["Metadata"]["conveyor"]["suppress"]
    (reason,) = [s["reason"] for s in suppressed if s["rule"] == "CV074"]
    assert "backend deploys of staging, prod" in reason and "health" in reason


def test_a_web_service_joins_a_namespace_as_a_client(client: Synthesized) -> None:
    service = _only(_stack(client, "prod"), "AWS::ECS::Service")
    connect = service["ServiceConnectConfiguration"]
    assert connect["Enabled"] is True and connect["Namespace"] == "platform-prod"
    assert "Services" not in connect
    assert service["LoadBalancers"]


def test_ecs_rollbacks_of_a_backend_are_noticed(backend: Synthesized) -> None:
    """The circuit breaker's rollback of a backend reaches the audiences that want rollbacks,
    as a web service's does (notifications.watch_ecs_rollbacks)."""
    rules = [
        r["Properties"]["EventPattern"]
        for r in backend.template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"].get("EventPattern", {}).get("detail-type")
        == ["ECS Deployment State Change"]
    ]
    assert rules, "no ECS rollback rule"
    watched = json.dumps([pattern["resources"] for pattern in rules])
    for env in ("staging", "prod"):
        assert f"service/rates-cluster-{env}/rates-service-{env}" in watched
