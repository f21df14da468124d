# mypy: disable-error-code="import-untyped"
"""Test helpers shared by the handler tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from conveyor.handlers import asset_path


@dataclass
class FakeContext:
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def load_event(handler: str, name: str) -> dict[str, Any]:
    path = asset_path(handler) / "events" / name
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def log_lines(captured: str) -> list[dict[str, Any]]:
    """Every stdout line must be one JSON object: that is the structured-log contract."""
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


def events_dir(handler: str) -> Path:
    return asset_path(handler) / "events"


def record_calls(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every API call a (stubbed or mocked) client makes, with the parameters it sent."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def capture(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.*.*", capture)
    return calls


class Inbox:
    """An SQS queue subscribed to the topic: what subscribers would receive."""

    def __init__(self, topic_arn: str, queue_url: str) -> None:
        self.topic_arn = topic_arn
        self.queue_url = queue_url

    @classmethod
    def for_new_topic(cls, name: str) -> Inbox:
        """Needs an active moto mock."""
        topic = boto3.client("sns").create_topic(Name=name)["TopicArn"]
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        return cls(topic, queue_url)

    def messages(self) -> list[dict[str, Any]]:
        response = boto3.client("sqs").receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10
        )
        return [json.loads(m["Body"]) for m in response.get("Messages", [])]

    def only(self) -> dict[str, Any]:
        [message] = self.messages()
        return message


def create_idempotency_table(name: str) -> str:
    """The table Powertools' idempotency records go to, shaped as the construct creates it
    (partition key `id`). Needs an active moto mock."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
