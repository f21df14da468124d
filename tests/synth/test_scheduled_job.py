"""A scheduled job (create.kind: job, examples/scheduled-job.yaml) in its synthesized stacks:
the release's task definition run by EventBridge Scheduler, no service and no load balancer,
the runs ECS refused kept and alarmed, the failed runs told."""

from __future__ import annotations

from typing import Any

import pytest

from tests.synth.conftest import Synthesized

NO_SERVICE = (
    "AWS::ECS::Service",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ApplicationAutoScaling::ScalableTarget",
)


@pytest.fixture(scope="session")
def job(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["scheduled-job"]


def _of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def _one(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = _of(template, kind).items()
    lid, resource = found
    props: dict[str, Any] = resource["Properties"]
    return lid, props


def test_a_job_has_a_schedule_and_no_service_or_load_balancer(job: Synthesized) -> None:
    for stack in ("reports-staging", "reports-prod"):
        template = job.templates[stack]
        assert [k for k in NO_SERVICE if _of(template, k)] == []
        assert len(_of(template, "AWS::Scheduler::Schedule")) == 1
        assert set(template["Outputs"]) == {"ClusterName", "ScheduleName"}


def test_the_schedule_runs_the_release_s_task_definition_on_time(job: Synthesized) -> None:
    template = job.templates["reports-prod"]
    task_lid, task = _one(template, "AWS::ECS::TaskDefinition")
    cluster_lid, _ = _one(template, "AWS::ECS::Cluster")
    queue_lid, _ = _one(template, "AWS::SQS::Queue")
    _, schedule = _one(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [cluster_lid, "Arn"]}
    # The revision this stack update registers (Ref of a task definition is its ARN).
    ecs = target["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == {"Ref": task_lid}
    assert (ecs["LaunchType"], ecs["TaskCount"]) == ("FARGATE", 1)
    assert ecs["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_lid, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10}
    # The image is the release's, by digest, and the job's command replaces the image's.
    (app,) = [c for c in task["ContainerDefinitions"] if c["Name"] == "app"]
    assert app["Image"] == {"Ref": "ImageUri"}
    assert app["Command"] == ["python", "-m", "reports.nightly"]
    assert "PortMappings" not in app
    # A replaced revision stays ACTIVE: a run starting during the update still finds it.
    resource = template["Resources"][task_lid]
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_staging_runs_in_public_subnets_with_an_address_and_admits_nothing(
    job: Synthesized,
) -> None:
    template = job.templates["reports-staging"]
    _, schedule = _one(template, "AWS::Scheduler::Schedule")
    network = schedule["Target"]["EcsParameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "ENABLED"
    assert _of(template, "AWS::EC2::NatGateway") == {}
    (group_ref,) = network["SecurityGroups"]
    group = template["Resources"][group_ref["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert _of(template, "AWS::EC2::SecurityGroupIngress") == {}


def test_a_run_that_cannot_start_is_kept_and_alarmed(job: Synthesized) -> None:
    template = job.templates["reports-prod"]
    queue_lid, queue = _one(template, "AWS::SQS::Queue")
    key_lid, _ = _one(template, "AWS::KMS::Key")
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [key_lid, "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    _, alarm = _one(template, "AWS::CloudWatch::Alarm")
    assert alarm["AlarmName"] == "reports-job-dlq-prod"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_lid, "QueueName"]}}
    ]
    topic_lid, _ = _one(template, "AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic_lid}]
    # The queue refuses plain HTTP (enforce_ssl).
    _, policy = _one(template, "AWS::SQS::QueuePolicy")
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }


def test_a_failed_run_notifies_the_alarm_topic(job: Synthesized) -> None:
    template = job.templates["reports-prod"]
    (rule,) = _of(template, "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert props["EventPattern"]["detail-type"] == ["ECS Task State Change"]
    assert props["EventPattern"]["detail"]["group"] == ["family:reports-task-prod"]
    topic_lid, _ = _one(template, "AWS::SNS::Topic")
    (target,) = props["Targets"]
    assert target["Arn"] == {"Ref": topic_lid}
    assert "a scheduled run of the job failed" in target["InputTransformer"]["InputTemplate"]
    # The topic admits EventBridge for this rule only.
    _, topic_policy = _one(template, "AWS::SNS::TopicPolicy")
    events = [
        s
        for s in topic_policy["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert events and all("aws:SourceArn" in str(s["Condition"]) for s in events)


def test_the_pipeline_deploys_a_job_by_its_stack_update_only(job: Synthesized) -> None:
    stages = {s["Name"]: s for s in job.pipeline()["Properties"]["Stages"]}
    staging = [a["Name"] for a in stages["Deploy-staging"]["Actions"]]
    assert staging == ["Deploy", "MarkDeployed", "Tests"]
    (tests,) = [a for a in stages["Deploy-staging"]["Actions"] if a["Name"] == "Tests"]
    configured = _json(tests["Configuration"]["EnvironmentVariables"])
    variables = {v["name"]: v["value"] for v in configured}
    assert variables["TASK_FAMILY"] == "reports-task-staging"
    assert "SERVICE_NAME" not in variables and "APP_URL" not in variables
    # No ECS deployment rollback notice: a job has no service to roll back.
    for rule in job.resources("AWS::Events::Rule").values():
        assert "ECS Deployment State Change" not in str(rule["Properties"].get("EventPattern"))


def _json(value: Any) -> list[dict[str, str]]:
    import json

    found: list[dict[str, str]] = json.loads(value) if isinstance(value, str) else value
    return found


def test_the_history_records_a_job_s_releases_like_any_other(job: Synthesized) -> None:
    """record_deployment maps each environment's Deploy stage to its environment: a job's
    release is recorded when Deploy-<env> succeeds, as a service's is."""
    import json

    recorders = [
        f["Properties"]["Environment"]["Variables"]
        for f in job.resources("AWS::Lambda::Function").values()
        if "record_deployment" in json.dumps(f["Properties"].get("Description", ""))
        or "DEPLOYMENT_TABLE_NAME" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert recorders
    stages = json.loads(recorders[0]["STAGE_ENVIRONMENTS"])
    assert stages["Deploy-staging"] == "staging" and stages["Deploy-prod"] == "prod"
