"""Auto scaling of created services (issue 15), as synthesized: a scalable target between
scaling.min and max, target tracking per metric, and no DesiredCount for a stack update to
reset."""

from __future__ import annotations

from typing import Any

from tests.synth.conftest import Synthesized


def _of(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def _tracking(template: dict[str, Any]) -> dict[str, Any]:
    return {
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: p["TargetTrackingScalingPolicyConfiguration"]
        for p in _of(template, "AWS::ApplicationAutoScaling::ScalingPolicy")
    }


def test_payments_production_scales_3_to_10_on_cpu_and_memory(
    synthesized: dict[str, Synthesized],
) -> None:
    prod = synthesized["payments"].templates["payments-prod"]
    (target,) = _of(prod, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 10)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    policies = _tracking(prod)
    assert sorted(policies) == [
        "ECSServiceAverageCPUUtilization",
        "ECSServiceAverageMemoryUtilization",
    ]
    assert policies["ECSServiceAverageCPUUtilization"]["TargetValue"] == 60
    assert policies["ECSServiceAverageMemoryUtilization"]["TargetValue"] == 75
    for policy in policies.values():
        assert (policy["ScaleOutCooldown"], policy["ScaleInCooldown"]) == (60, 300)
    (service,) = _of(prod, "AWS::ECS::Service")
    assert "DesiredCount" not in service


def test_requests_per_target_tracks_the_rolling_services_target_group(
    synthesized: dict[str, Synthesized],
) -> None:
    prod = synthesized["validated-service"].templates["orders-prod"]
    policy = _tracking(prod)["ALBRequestCountPerTarget"]
    assert policy["TargetValue"] == 1000
    label = str(policy["PredefinedMetricSpecification"]["ResourceLabel"])
    (group,) = [
        k
        for k, r in prod["Resources"].items()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    ]
    assert group in label


def test_a_fixed_count_service_keeps_its_desired_count(synthesized: dict[str, Synthesized]) -> None:
    staging = synthesized["payments"].templates["payments-staging"]
    assert _of(staging, "AWS::ApplicationAutoScaling::ScalableTarget") == []
    (service,) = _of(staging, "AWS::ECS::Service")
    assert service["DesiredCount"] == 2
