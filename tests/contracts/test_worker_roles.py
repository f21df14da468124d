"""A worker's runtime contract (examples/worker-service.yaml): its task role may consume its
queue and nothing more, and a listed producer may send through SQS. Evaluated with the IAM
evaluator against the synthesized task role, queue and key policies.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.evaluator import Caller, evaluate
from tests.contracts.model import Example, Located
from tests.synth.conftest import Synthesized

CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
PRODUCER = "arn:aws:iam::123456789012:role/uploads-api"


@pytest.fixture(scope="module")
def worker(synthesized: dict[str, Synthesized]) -> Example:
    return Example(synthesized["worker-service"])


def _queue(worker: Example, name: str) -> Located:
    found = worker.by_name("AWS::SQS::Queue", name)
    assert found is not None, name
    return found


def _queue_policy(worker: Example, queue: Located) -> dict[str, Any]:
    (policy,) = [
        p
        for p in worker.of_type("AWS::SQS::QueuePolicy")
        if p.value("Queues") == [queue.resolver.value({"Ref": queue.lid})]
    ]
    document: dict[str, Any] = policy.value("PolicyDocument")
    return document


def _task_role_arn(worker: Example, env: str) -> str:
    (role,) = [r for r in worker.roles if r.endswith(f":role/thumbs-task-{env}")]
    return role


def _key_arn(worker: Example, env: str) -> str:
    (key,) = [k for k in worker.of_type("AWS::KMS::Key") if k.stack == f"thumbs-{env}"]
    return key.arn


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_task_role_consumes_its_own_queue_and_decrypts(worker: Example, env: str) -> None:
    role = worker.role(_task_role_arn(worker, env))
    queue = _queue(worker, f"thumbs-queue-{env}").arn
    for action in CONSUME:
        assert worker.allows(role, action, queue), action
    assert worker.allows(role, "kms:Decrypt", _key_arn(worker, env))


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_task_role_may_not_send_purge_or_read_another_queue(worker: Example, env: str) -> None:
    role = worker.role(_task_role_arn(worker, env))
    queue = _queue(worker, f"thumbs-queue-{env}").arn
    for action in ("sqs:SendMessage", "sqs:PurgeQueue", "sqs:SetQueueAttributes"):
        assert not worker.allows(role, action, queue), action
    dead = _queue(worker, f"thumbs-queue-dlq-{env}").arn
    assert not worker.allows(role, "sqs:ReceiveMessage", dead)
    other = "staging" if env == "prod" else "prod"
    assert not worker.allows(
        role, "sqs:ReceiveMessage", _queue(worker, f"thumbs-queue-{other}").arn
    )
    assert not worker.allows(role, "kms:GenerateDataKey", _key_arn(worker, env))


def test_a_listed_producer_sends_and_encrypts_through_sqs_only(worker: Example) -> None:
    queue = _queue(worker, "thumbs-queue-prod")
    caller = Caller(arn=PRODUCER)
    policy = _queue_policy(worker, queue)
    account = queue.resolver.account
    tls = {"aws:SecureTransport": "true"}
    assert evaluate(
        caller, "sqs:SendMessage", queue.arn, resource_policy=policy, resource_account=account
    )
    assert not evaluate(
        caller, "sqs:ReceiveMessage", queue.arn, resource_policy=policy, resource_account=account
    )
    assert not evaluate(
        caller,
        "sqs:SendMessage",
        queue.arn,
        resource_policy=policy,
        resource_account=account,
        context={**tls, "aws:SecureTransport": "false"},
    )
    key = _key_arn(worker, "prod")
    via_sqs = {"kms:ViaService": f"sqs.{queue.resolver.region}.amazonaws.com"}
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert evaluate(
            caller,
            action,
            key,
            resource_policy=worker.key_policy(key),
            resource_account=key.split(":")[4],
            key_policy=True,
            context=via_sqs,
        ), action
        assert not evaluate(
            caller,
            action,
            key,
            resource_policy=worker.key_policy(key),
            resource_account=key.split(":")[4],
            key_policy=True,
        ), action
