"""CV125 on Terraform state: aws_sqs_queue's redrive_policy (JSON text naming the dead-letter
queue's ARN) and aws_cloudwatch_metric_alarm's dimensions (a queue's name) become the
references the rule follows, as CloudFormation's RedrivePolicy and Dimensions are."""

from __future__ import annotations

import json
from typing import Any

from conveyor.rules import check_text

ACCOUNT = "111122223333"
JOBS_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"
DLQ_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs-dlq"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alarms"


def state(**resources: dict[str, Any]) -> str:
    items = [
        {"address": address, "mode": "managed", "type": address.split(".")[0], "values": values}
        for address, values in resources.items()
    ]
    return json.dumps({"format_version": "1.0", "values": {"root_module": {"resources": items}}})


def system(*, redrive: bool, alarm_actions: list[str]) -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": JOBS_ARN}],
    }
    redrive_policy = (
        json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5}) if redrive else ""
    )
    resources: dict[str, dict[str, Any]] = {
        "aws_sqs_queue.jobs": {
            "name": "jobs",
            "arn": JOBS_ARN,
            "id": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs",
            "redrive_policy": redrive_policy,
            "sqs_managed_sse_enabled": True,
        },
        "aws_sqs_queue.dlq": {
            "name": "jobs-dlq",
            "arn": DLQ_ARN,
            "id": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs-dlq",
            "message_retention_seconds": 1209600,
            "sqs_managed_sse_enabled": True,
        },
        "aws_sns_topic.alarms": {"name": "alarms", "arn": TOPIC_ARN},
        "aws_cloudwatch_metric_alarm.dlq": {
            "alarm_name": "jobs-dlq",
            "namespace": "AWS/SQS",
            "metric_name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": "jobs-dlq"},
            "treat_missing_data": "notBreaching",
            "alarm_actions": alarm_actions,
        },
        "aws_iam_role.worker": {"name": "worker", "arn": f"arn:aws:iam::{ACCOUNT}:role/w"},
        "aws_iam_role_policy.consume": {
            "name": "consume",
            "role": "worker",
            "policy": json.dumps(policy),
        },
    }
    return state(**resources)


def findings(text: str) -> dict[str, str]:
    result = check_text(text, name="state.json")
    assert result.errors == []
    return {f.resource: f.message for f in result.findings if f.rule == "CV125"}


def test_a_consumed_queue_without_a_redrive_policy_is_reported() -> None:
    found = findings(system(redrive=False, alarm_actions=[TOPIC_ARN]))
    assert list(found) == ["aws_sqs_queue.jobs"]
    assert "consumes this queue, which has no dead-letter queue" in found["aws_sqs_queue.jobs"]


def test_a_dead_letter_queue_whose_alarm_tells_nobody_is_reported() -> None:
    found = findings(system(redrive=True, alarm_actions=[]))
    assert list(found) == ["aws_sqs_queue.dlq"]
    assert "no alarm watches it" in found["aws_sqs_queue.dlq"]


def test_a_redriven_queue_with_an_alarmed_dead_letter_queue_passes() -> None:
    assert findings(system(redrive=True, alarm_actions=[TOPIC_ARN])) == {}


def test_a_queue_a_lambda_event_source_mapping_reads_is_consumed() -> None:
    text = state(
        **{
            "aws_sqs_queue.jobs": {
                "name": "jobs",
                "arn": JOBS_ARN,
                "id": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/jobs",
                "redrive_policy": "",
            },
            "aws_lambda_event_source_mapping.worker": {
                "event_source_arn": JOBS_ARN,
                "function_name": "worker",
            },
        }
    )
    found = findings(text)
    assert list(found) == ["aws_sqs_queue.jobs"]
    assert (
        "aws_lambda_event_source_mapping.worker consumes this queue" in found["aws_sqs_queue.jobs"]
    )
