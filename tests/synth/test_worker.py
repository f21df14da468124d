"""A worker (create.kind: worker, examples/worker-service.yaml): a Fargate service with no load
balancer consuming the SQS queue its environment's stack creates, with a dead-letter queue and
an alarm on it, scaling on the backlog per task."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules import check_paths
from tests.synth.conftest import Synthesized

PRODUCER = "arn:aws:iam::123456789012:role/uploads-api"


@pytest.fixture(scope="session")
def worker(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["worker-service"]


def _env(worker: Synthesized, env: str) -> dict[str, Any]:
    template: dict[str, Any] = worker.templates[f"thumbs-{env}"]
    return template


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def _queues(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["QueueName"]: r["Properties"]
        for r in _of_type(template, "AWS::SQS::Queue").values()
    }


def _lid(template: dict[str, Any], kind: str, name_key: str, name: str) -> str:
    (found,) = [
        lid for lid, r in _of_type(template, kind).items() if r["Properties"].get(name_key) == name
    ]
    return found


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_each_environment_has_its_own_encrypted_queue_redriven_to_a_dead_letter_queue(
    worker: Synthesized, env: str
) -> None:
    template = _env(worker, env)
    queues = _queues(template)
    assert set(queues) == {f"thumbs-queue-{env}", f"thumbs-queue-dlq-{env}"}
    (key,) = _of_type(template, "AWS::KMS::Key")
    queue, dead = queues[f"thumbs-queue-{env}"], queues[f"thumbs-queue-dlq-{env}"]
    for props in (queue, dead):
        assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    dlq = _lid(template, "AWS::SQS::Queue", "QueueName", f"thumbs-queue-dlq-{env}")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["VisibilityTimeout"] == 120
    assert queue["MessageRetentionPeriod"] == 4 * 86400
    assert dead["MessageRetentionPeriod"] == 14 * 86400


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_both_queues_refuse_requests_without_tls(worker: Synthesized, env: str) -> None:
    template = _env(worker, env)
    policies = list(_of_type(template, "AWS::SQS::QueuePolicy").values())
    assert len(policies) == 2
    for policy in policies:
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Action"] == "sqs:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_task_role_may_consume_and_decrypt_only(worker: Synthesized) -> None:
    template = _env(worker, "prod")
    queue = _lid(template, "AWS::SQS::Queue", "QueueName", "thumbs-queue-prod")
    (key,) = _of_type(template, "AWS::KMS::Key")
    (policy,) = [
        r for lid, r in _of_type(template, "AWS::IAM::Policy").items() if "TaskRole" in lid
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        },
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": {"Fn::GetAtt": [key, "Arn"]}},
    ]


def test_the_container_finds_its_queue_and_is_judged_by_its_health_command(
    worker: Synthesized,
) -> None:
    template = _env(worker, "prod")
    queue = _lid(template, "AWS::SQS::Queue", "QueueName", "thumbs-queue-prod")
    (task,) = _of_type(template, "AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    assert {e["Name"]: e["Value"] for e in container["Environment"]} == {
        "QUEUE_URL": {"Ref": queue},
        "QUEUE_ARN": {"Fn::GetAtt": [queue, "Arn"]},
    }
    assert container["HealthCheck"]["Command"][0] == "CMD-SHELL"
    assert "PortMappings" not in container or container["PortMappings"] == []


def test_the_service_has_no_load_balancer_and_admits_nothing(worker: Synthesized) -> None:
    template = _env(worker, "prod")
    assert not _of_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (service,) = _of_type(template, "AWS::ECS::Service").values()
    props = service["Properties"]
    assert props.get("LoadBalancers", []) == []
    configuration = props["DeploymentConfiguration"]
    assert configuration["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert configuration["MinimumHealthyPercent"] == 100
    assert "DesiredCount" not in props  # scaling decides
    (group,) = _of_type(template, "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"]
    assert not _of_type(template, "AWS::EC2::SecurityGroupIngress")


def test_the_dead_letter_queue_alarm_tells_the_environment_topic(worker: Synthesized) -> None:
    template = _env(worker, "prod")
    dlq = _lid(template, "AWS::SQS::Queue", "QueueName", "thumbs-queue-dlq-prod")
    (topic,) = _of_type(template, "AWS::SNS::Topic")
    (alarm,) = _of_type(template, "AWS::CloudWatch::Alarm").values()
    props = alarm["Properties"]
    assert props["AlarmName"] == "thumbs-dlq-prod"
    assert (props["Namespace"], props["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}
    ]
    assert (props["Threshold"], props["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    assert props["AlarmActions"] == [{"Ref": topic}]
    (policy,) = _of_type(template, "AWS::SNS::TopicPolicy").values()
    allows = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert allows and all(s["Action"] == "sns:Publish" for s in allows)


def test_prod_scales_on_the_backlog_per_task(worker: Synthesized) -> None:
    template = _env(worker, "prod")
    (target,) = _of_type(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (2, 10)
    (policy,) = _of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    config = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 50
    metrics = {m["Id"]: m for m in config["CustomizedMetricSpecification"]["Metrics"]}
    assert metrics["e1"] == {
        "Id": "e1",
        "Label": "Backlog per task",
        "Expression": "m1 / m2",
        "ReturnData": True,
    }
    queue_metric = metrics["m1"]["MetricStat"]["Metric"]
    assert (queue_metric["Namespace"], queue_metric["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    tasks = metrics["m2"]["MetricStat"]["Metric"]
    assert (tasks["Namespace"], tasks["MetricName"]) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
    )
    assert [d["Name"] for d in tasks["Dimensions"]] == ["ClusterName", "ServiceName"]
    # Container Insights is on in the cluster, or RunningTaskCount has no data.
    (cluster,) = _of_type(template, "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enhanced"} in cluster["Properties"][
        "ClusterSettings"
    ] or {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"][
        "ClusterSettings"
    ]


def test_a_producer_may_send_and_encrypt_through_sqs_only(worker: Synthesized) -> None:
    template = _env(worker, "prod")
    queue = _lid(template, "AWS::SQS::Queue", "QueueName", "thumbs-queue-prod")
    (policy,) = [
        r
        for r in _of_type(template, "AWS::SQS::QueuePolicy").values()
        if r["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    (send,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert send["Principal"] == {"AWS": PRODUCER}
    assert "sqs:SendMessage" in send["Action"] and "sqs:ReceiveMessage" not in send["Action"]
    (key,) = _of_type(template, "AWS::KMS::Key").values()
    (grant,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"AWS": PRODUCER}
    ]
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "kms:ViaService" in grant["Condition"]["StringEquals"]
    staging = json.dumps(_env(worker, "staging"))
    assert PRODUCER not in staging


def test_the_queue_is_an_output_and_there_is_no_url(worker: Synthesized) -> None:
    outputs = _env(worker, "prod")["Outputs"]
    assert {"QueueUrl", "QueueArn", "QueueKeyArn", "ServiceName"} <= set(outputs)
    assert "Url" not in outputs


def test_the_pipeline_validates_a_worker_by_its_deployment(worker: Synthesized) -> None:
    pipeline = worker.templates["thumbs-pipeline"]
    (resource,) = [
        r for r in pipeline["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    actions = [
        action["Name"]
        for stage in resource["Properties"]["Stages"]
        if stage["Name"].startswith("Deploy-")
        for action in stage["Actions"]
    ]
    assert "Validate" not in actions
    suppressed = resource["Metadata"]["conveyor"]["suppress"]
    (cv074,) = [s for s in suppressed if s["rule"] == "CV074"]
    assert "workers of staging, prod" in cv074["reason"]
    assert "circuit breaker" in cv074["reason"]


def test_conveyor_check_finds_nothing_on_the_worker(worker: Synthesized) -> None:
    result = check_paths([str(p) for p in worker.template_paths()])
    assert result.errors == []
    assert [(f.rule, f.resource) for f in result.findings] == []
