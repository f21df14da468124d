"""The evaluator the contracts rely on answers as AWS documents, on small policies."""

from __future__ import annotations

from typing import Any

from tests.contracts.evaluator import Caller, evaluate

ROLE = Caller(arn="arn:aws:iam::111111111111:role/deployer")
TOPIC = "arn:aws:sns:eu-west-1:111111111111:notices"
TLS_ONLY: dict[str, Any] = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_wildcard_actions_match_case_insensitively_and_resources_by_arn() -> None:
    allow = policy(
        {
            "Effect": "Allow",
            "Action": "ECS:Register*",
            "Resource": "arn:aws:ecs:*:*:task-definition/web:*",
        }
    )
    assert evaluate(
        ROLE,
        "ecs:RegisterTaskDefinition",
        "arn:aws:ecs:eu-west-1:1:task-definition/web:3",
        identity=[allow],
    )
    assert not evaluate(
        ROLE,
        "ecs:RegisterTaskDefinition",
        "arn:aws:ecs:eu-west-1:1:task-definition/api:3",
        identity=[allow],
    )
    assert not evaluate(
        ROLE, "ecs:TagResource", "arn:aws:ecs:eu-west-1:1:task-definition/web:3", identity=[allow]
    )


def test_explicit_deny_wins_and_not_action_excludes() -> None:
    documents = [
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        policy({"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}),
    ]
    assert evaluate(ROLE, "s3:GetObject", "arn:aws:s3:::b/k", identity=documents)
    assert not evaluate(ROLE, "s3:DeleteObject", "arn:aws:s3:::b/k", identity=documents)
    assert not evaluate(ROLE, "iam:PassRole", "arn:aws:iam::1:role/r", identity=documents)


def test_a_tls_only_topic_policy_shuts_out_a_service_but_not_the_owner() -> None:
    publish = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC})
    assert evaluate(
        ROLE, "sns:Publish", TOPIC, identity=[publish], resource_policy=policy(TLS_ONLY)
    )
    alarms = Caller(service="cloudwatch.amazonaws.com")
    assert not evaluate(alarms, "sns:Publish", TOPIC, resource_policy=policy(TLS_ONLY))
    allow_alarms = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC,
        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
    }
    both = policy(TLS_ONLY, allow_alarms)
    mine = {"aws:SourceAccount": "111111111111"}
    assert evaluate(alarms, "sns:Publish", TOPIC, resource_policy=both, context=mine)
    other = {"aws:SourceAccount": "999999999999"}
    assert not evaluate(alarms, "sns:Publish", TOPIC, resource_policy=both, context=other)
    plain = {"aws:SecureTransport": "false", **mine}
    assert not evaluate(alarms, "sns:Publish", TOPIC, resource_policy=both, context=plain)


def test_a_key_policy_naming_the_account_delegates_to_iam() -> None:
    key = "arn:aws:kms:eu-west-1:111111111111:key/k"
    account = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    decrypt = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    assert evaluate(
        ROLE, "kms:Decrypt", key, identity=[decrypt], resource_policy=account, key_policy=True
    )
    assert not evaluate(
        ROLE, "kms:Decrypt", key, identity=[], resource_policy=account, key_policy=True
    )
    stranger = Caller(arn="arn:aws:iam::222222222222:role/deployer")
    assert not evaluate(
        stranger, "kms:Decrypt", key, identity=[decrypt], resource_policy=account, key_policy=True
    )


def test_conditions_on_missing_keys_do_not_hold_unless_if_exists() -> None:
    statement = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    strict = policy(
        {**statement, "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.*"}}}
    )
    lenient = policy(
        {**statement, "Condition": {"StringLikeIfExists": {"iam:PassedToService": "ecs-tasks.*"}}}
    )
    role = "arn:aws:iam::1:role/task"
    assert not evaluate(ROLE, "iam:PassRole", role, identity=[strict])
    assert evaluate(ROLE, "iam:PassRole", role, identity=[lenient])
    ecs = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert evaluate(ROLE, "iam:PassRole", role, identity=[strict], context=ecs)
    lam = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert not evaluate(ROLE, "iam:PassRole", role, identity=[strict], context=lam)
