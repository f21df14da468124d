"""The evaluator the contracts rely on answers as AWS documents, on small policies."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contracts.evaluator import Caller, conditions_hold, evaluate

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


# (condition block, request context, holds?) by the documented operator semantics:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
CONDITIONS: list[tuple[dict[str, Any], dict[str, str], bool]] = [
    ({"StringEquals": {"k": "a"}}, {"k": "a"}, True),
    ({"StringEquals": {"k": "a"}}, {"k": "A"}, False),
    ({"StringEquals": {"k": ["b", "a"]}}, {"k": "a"}, True),
    ({"StringEqualsIgnoreCase": {"k": "a"}}, {"k": "A"}, True),
    ({"StringEqualsIgnoreCase": {"k": "a"}}, {"k": "b"}, False),
    ({"StringNotEquals": {"k": "a"}}, {"k": "b"}, True),
    ({"StringNotEquals": {"k": "a"}}, {"k": "a"}, False),
    ({"StringNotEqualsIfExists": {"k": "a"}}, {}, True),
    ({"StringLike": {"k": "ab*"}}, {"k": "abc"}, True),
    ({"StringLike": {"k": "a?c"}}, {"k": "abc"}, True),
    ({"StringLike": {"k": "ab*"}}, {"k": "xabc"}, False),
    ({"StringNotLike": {"k": "ab*"}}, {"k": "abc"}, False),
    ({"ArnLike": {"k": "arn:aws:sns:*:1:t"}}, {"k": "arn:aws:sns:eu-west-1:1:t"}, True),
    ({"ArnEquals": {"k": "arn:aws:sns:*:1:t"}}, {"k": "arn:aws:sns:eu-west-1:2:t"}, False),
    ({"ArnNotEquals": {"k": "arn:aws:sns:*:1:t"}}, {"k": "arn:aws:sns:eu-west-1:2:t"}, True),
    ({"ArnNotLike": {"k": "arn:aws:sns:*:1:t"}}, {"k": "arn:aws:sns:eu-west-1:1:t"}, False),
    ({"Bool": {"k": "false"}}, {"k": "FALSE"}, True),
    ({"Bool": {"k": "false"}}, {"k": "true"}, False),
    ({"NumericLessThan": {"k": 1.2}}, {"k": "1.0"}, True),
    ({"NumericLessThan": {"k": 1.2}}, {"k": "1.2"}, False),
    ({"NumericLessThanEquals": {"k": 1.2}}, {"k": "1.2"}, True),
    ({"NumericLessThanEquals": {"k": 1.2}}, {"k": "1.3"}, False),
    ({"NumericGreaterThan": {"k": 1}}, {"k": "2"}, True),
    ({"NumericGreaterThan": {"k": 1}}, {"k": "1"}, False),
    ({"NumericGreaterThanEquals": {"k": 1}}, {"k": "1"}, True),
    ({"NumericGreaterThanEquals": {"k": 1}}, {"k": "0"}, False),
    ({"NumericEquals": {"k": 1}}, {"k": "1.0"}, True),
    ({"NumericEquals": {"k": 1}}, {"k": "2"}, False),
    ({"NumericNotEquals": {"k": 1}}, {"k": "2"}, True),
    ({"NumericNotEquals": {"k": 1}}, {"k": "1"}, False),
    ({"NumericLessThanIfExists": {"k": 1}}, {}, True),
    ({"NumericLessThan": {"k": 1}}, {}, False),
    ({"Null": {"k": "true"}}, {}, True),
    ({"Null": {"k": "true"}}, {"k": "x"}, False),
    ({"Null": {"k": "false"}}, {"k": "x"}, True),
    ({"Null": {"k": "false"}}, {}, False),
    ({"Null": {"k": "true"}, "StringEquals": {"j": "a"}}, {"j": "a"}, True),
    ({"StringEquals": {"j": "a", "k": "b"}}, {"j": "a", "k": "c"}, False),
    ({"StringEqualsIfExists": {"j": "a"}, "StringEquals": {"k": "b"}}, {"k": "b"}, True),
    # Set operators: ForAllValues holds for a missing key, ForAnyValue does not.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": "a"}, True),
    ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": "c"}, False),
    ({"ForAllValues:StringEquals": {"k": "a"}}, {}, True),
    ({"ForAnyValue:StringEquals": {"k": "a"}}, {"k": "a"}, True),
    ({"ForAnyValue:StringEquals": {"k": "a"}}, {}, False),
]


@pytest.mark.parametrize(("condition", "context", "holds"), CONDITIONS)
def test_conditions_hold_as_documented(
    condition: dict[str, Any], context: dict[str, str], holds: bool
) -> None:
    assert conditions_hold(condition, context) is holds


def test_an_operator_the_suite_does_not_know_is_an_error_not_a_guess() -> None:
    with pytest.raises(NotImplementedError, match="DateGreaterThan"):
        conditions_hold({"DateGreaterThan": {"k": "2020-01-01"}}, {"k": "2021-01-01"})
    with pytest.raises(NotImplementedError, match="SomeValues"):
        conditions_hold({"SomeValues:StringEquals": {"k": "a"}}, {"k": "a"})


ACCOUNT_ROLE = "arn:aws:iam::111111111111:role/deployer"
PRINCIPALS: list[tuple[Any, Caller, bool]] = [
    ("*", ROLE, True),
    ({"AWS": "*"}, Caller(service="events.amazonaws.com"), True),
    ({"AWS": ACCOUNT_ROLE}, ROLE, True),
    ({"AWS": [ACCOUNT_ROLE]}, Caller(arn="arn:aws:iam::111111111111:role/other"), False),
    (
        {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
        Caller(service="cloudwatch.amazonaws.com"),
        True,
    ),
    ({"Service": "events.amazonaws.com"}, ROLE, False),
    ({"AWS": "111111111111"}, ROLE, True),
    ({"AWS": "arn:aws:iam::111111111111:root"}, ROLE, True),
    ({"AWS": "arn:aws:iam::222222222222:root"}, ROLE, False),
]


@pytest.mark.parametrize(("principal", "caller", "named"), PRINCIPALS)
def test_a_resource_policy_applies_to_the_principals_it_names(
    principal: Any, caller: Caller, named: bool
) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sns:Publish",
        "Resource": TOPIC,
    }
    publish = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC})
    identity = [publish] if caller.arn else []
    # Cross-account request: only the resource policy can let the caller in.
    verdict = evaluate(
        caller,
        "sns:Publish",
        TOPIC,
        identity=identity,
        resource_policy=policy(statement),
        resource_account="999999999999",
    )
    assert bool(verdict) is named


def test_not_principal_applies_to_everyone_else() -> None:
    deny_others = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": ACCOUNT_ROLE},
        "Action": "sns:Publish",
        "Resource": TOPIC,
    }
    publish = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC})
    assert evaluate(
        ROLE, "sns:Publish", TOPIC, identity=[publish], resource_policy=policy(deny_others)
    )
    other = Caller(arn="arn:aws:iam::111111111111:role/other")
    verdict = evaluate(
        other, "sns:Publish", TOPIC, identity=[publish], resource_policy=policy(deny_others)
    )
    assert not verdict
    assert verdict.why == f"explicit Deny of sns:Publish on {TOPIC}"


def test_verdicts_say_why() -> None:
    publish = policy({"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC})
    assert evaluate(ROLE, "sns:Publish", TOPIC, identity=[publish]).why == "allowed"
    assert evaluate(ROLE, "sns:Subscribe", TOPIC, identity=[publish]).why == (
        f"no Allow of sns:Subscribe on {TOPIC} for {ROLE.arn}"
    )
    key = "arn:aws:kms:eu-west-1:111111111111:key/k"
    direct = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE.arn},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    assert (
        evaluate(ROLE, "kms:Decrypt", key, resource_policy=direct, key_policy=True).why
        == "allowed by the resource policy"
    )
    account = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "111111111111"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    allow = policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key})
    assert evaluate(
        ROLE, "kms:Decrypt", key, identity=[allow], resource_policy=account, key_policy=True
    ).why == ("allowed by IAM, delegated by the resource policy")
    refused = evaluate(ROLE, "kms:Decrypt", key, resource_policy=account, key_policy=True)
    assert refused.why.endswith("in the key policy")
    elsewhere = evaluate(
        ROLE,
        "sns:Publish",
        TOPIC,
        identity=[publish],
        resource_policy=policy(),
        resource_account="2",
    )
    assert elsewhere.why.endswith("in the resource policy of the other account")


def test_a_service_needs_the_key_policy_itself_and_iam_cannot_stand_in() -> None:
    key = "arn:aws:kms:eu-west-1:111111111111:key/k"
    alarms = Caller(service="cloudwatch.amazonaws.com")
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    assert evaluate(
        alarms, "kms:GenerateDataKey", key, resource_policy=policy(grant), key_policy=True
    )
    assert not evaluate(alarms, "kms:Encrypt", key, resource_policy=policy(grant), key_policy=True)
    assert not evaluate(ROLE, "kms:Decrypt", key, resource_policy=policy(grant), key_policy=True)


def test_the_request_is_over_tls_unless_the_context_says_otherwise() -> None:
    tls_versions = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
    }
    get = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert evaluate(
        ROLE,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=[get],
        resource_policy=policy(tls_versions, TLS_ONLY),
    )
    old = {"s3:TlsVersion": "1.0"}
    assert not evaluate(
        ROLE,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        identity=[get],
        resource_policy=policy(tls_versions),
        context=old,
    )
