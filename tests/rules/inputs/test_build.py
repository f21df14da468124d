"""What build.py hands the rules besides each resource's properties: policies known only after
apply, logical ids of resources sharing a name, ARNs of any resource as references, the data
and lines of the view, the suppression tag's edge cases (mutation survivors in build.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules.inputs import load
from conveyor.rules.inputs.build import suppressions
from conveyor.rules.inputs.records import Record
from conveyor.rules.template import Template

QUEUE = "arn:aws:sqs:us-east-1:111122223333:jobs"
TOPIC = "arn:aws:sns:us-east-1:111122223333:alerts"


def view(data: dict[str, Any]) -> Template:
    loaded = load(json.dumps(data, indent=1), name="in.json", kind="auto")
    assert loaded is not None
    return loaded[0]


def state(**resources: Any) -> dict[str, Any]:
    items = [
        {"address": a, "mode": "managed", "type": a.split(".")[0], "values": v}
        for a, v in resources.items()
    ]
    return {"format_version": "1.0", "values": {"root_module": {"resources": items}}}


def test_policies_known_only_after_apply_attach_to_their_role_as_unseen_policies() -> None:
    def plan(unknown: bool) -> dict[str, Any]:
        flag = {"policy": True} if unknown else {}
        values = {} if unknown else {"policy": '{"Statement": []}'}
        resources = [
            ("aws_iam_role.r", {"name": "r", "inline_policy": [{"name": "i", **values}]}),
            ("aws_iam_role_policy.p", {"name": "p", **values}),
            ("aws_iam_role.other", {"name": "other"}),
        ]
        changes = {
            "aws_iam_role.r": {"inline_policy": [flag]},
            "aws_iam_role_policy.p": flag,
        }
        return {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [
                        {"address": a, "type": a.split(".")[0], "values": v} for a, v in resources
                    ]
                }
            },
            "resource_changes": [
                {"address": a, "change": {"after_unknown": u}} for a, u in changes.items()
            ],
            "configuration": {
                "root_module": {
                    "resources": [
                        {"address": "aws_iam_role.r", "expressions": {"inline_policy": []}},
                        {
                            "address": "aws_iam_role_policy.p",
                            "expressions": {
                                "role": {"references": ["aws_iam_role.r.id", "aws_iam_role.r"]},
                                "policy": {"references": ["aws_s3_bucket.b.arn"]},
                            },
                        },
                        {"address": "aws_iam_role.other", "expressions": {}},
                    ]
                }
            },
        }

    unknown = view(plan(unknown=True)).resources
    assert unknown["aws_iam_role.r"].properties["ManagedPolicyArns"] == [
        {"Ref": "aws_iam_role.r (known after apply)"},
        {"Ref": "aws_iam_role_policy.p (known after apply)"},
    ]
    assert "ManagedPolicyArns" not in unknown["aws_iam_role.other"].properties
    known = view(plan(unknown=False)).resources
    assert "ManagedPolicyArns" not in known["aws_iam_role.r"].properties


def test_resources_sharing_a_name_get_their_type_and_then_a_number() -> None:
    def resource(rtype: str, parent: str) -> dict[str, Any]:
        return {
            "urn": f"urn:pulumi:dev::orders::{parent}{rtype}::alerts",
            "type": rtype,
            "inputs": {},
        }

    export = {
        "version": 3,
        "deployment": {
            "resources": [
                resource("aws:sns/topic:Topic", ""),
                resource("aws:cloudwatch/logGroup:LogGroup", ""),
                resource("aws:cloudwatch/logGroup:LogGroup", "acme:Service$"),
                resource("aws:cloudwatch/logGroup:LogGroup", "acme:Worker$"),
            ]
        },
    }
    assert list(view(export).resources) == [
        "alerts",
        "alerts (aws_cloudwatch_log_group)",
        "alerts (aws_cloudwatch_log_group #2)",
        "alerts (aws_cloudwatch_log_group #3)",
    ]


def test_the_arn_of_any_resource_in_the_input_becomes_a_reference_to_it() -> None:
    template = view(
        state(
            **{
                # An SQS queue is not mapped into the view; its ARN still names it.
                "aws_sqs_queue.jobs": {"name": "jobs", "arn": QUEUE},
                "aws_sns_topic.alerts": {"name": "alerts", "arn": TOPIC},
                "aws_lambda_function.f": {
                    "function_name": "f",
                    "environment": [{"variables": {"TOPIC": TOPIC, "QUEUE": QUEUE}}],
                },
                "aws_iam_role_policy.p": {
                    "name": "p",
                    "role": "r",
                    "policy": json.dumps({"Statement": [{"Resource": QUEUE}]}),
                },
                "aws_sns_topic.self": {"name": "self", "arn": "arn:aws:sns:x:1:self"},
            }
        )
    )
    variables = template.resources["aws_lambda_function.f"].properties["Environment"]["Variables"]
    assert variables == {
        "TOPIC": {"Fn::GetAtt": ["aws_sns_topic.alerts", "Arn"]},
        "QUEUE": {"Fn::GetAtt": ["aws_sqs_queue.jobs", "Arn"]},
    }
    policy = template.resources["aws_iam_role_policy.p"].properties["PolicyDocument"]
    assert policy["Statement"][0]["Resource"] == {"Fn::GetAtt": ["aws_sqs_queue.jobs", "Arn"]}


def test_the_view_is_a_template_with_resources_and_lines_of_their_addresses() -> None:
    text = json.dumps(state(**{"aws_sns_topic.t": {"name": "t"}}), indent=1)
    loaded = load(text, name="state.json", kind="auto")
    assert loaded is not None
    template = loaded[0]
    assert template.data["Resources"] == {
        "aws_sns_topic.t": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}
    }
    assert template.parameters == {}
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"aws_sns_topic.t"' in t)
    assert line > 1
    assert template.line(("aws_sns_topic.t", "Properties")) == line
    assert template.line(("not-in-the-input",)) == 1
    assert template.line(()) == 1


@pytest.mark.parametrize("end", ["", "\n", "\r\n  \n"])
def test_a_one_line_input_puts_every_resource_on_line_1(end: str) -> None:
    # What `terraform show -json` writes: one line (then a newline); a line break inside the
    # text is counted.
    plan = state(**{"aws_sns_topic.t": {"name": "t"}, "aws_sns_topic.u": {"name": "u"}})
    text = json.dumps(plan) + end
    broken = text.replace('{"address": "aws_sns_topic.u"', '\n{"address": "aws_sns_topic.u"')
    for given, line_of_u in ((text, 1), (broken, 2)):
        loaded = load(given, name="state.json", kind="auto")
        assert loaded is not None
        assert loaded[0].line(("aws_sns_topic.t", "Properties")) == 1
        assert loaded[0].line(("aws_sns_topic.u", "Properties")) == line_of_u


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CV009: “curly quoted reason”", "curly quoted reason"),
        ("CV009: \u2018single curly quotes\u2019", "single curly quotes"),
        ('CV009: "', '"'),
        ("CV009: 'one-sided quote", "'one-sided quote"),
        ("CV009: a reason ending in semicolons;;", "a reason ending in semicolons"),
        ("CV009:''", ""),
    ],
)
def test_suppression_reasons_lose_only_whole_quotes_and_trailing_semicolons(
    text: str, expected: str
) -> None:
    rec = Record("k", "k", "aws_s3_bucket", {"tags": {"conveyor:suppress": text}})
    assert suppressions(rec) == [{"rule": "CV009", "reason": expected}]


def test_a_suppression_tag_without_a_rule_id_is_kept_for_cv000_to_judge() -> None:
    rec = Record("k", "k", "aws_s3_bucket", {"tags": {"conveyor:suppress": "all: because"}})
    assert suppressions(rec) == [{"rule": "all", "reason": "because"}]
    native = Record("k", "k", "AWS::S3::Bucket", {"Tags": {"conveyor:suppress": "CV009: x"}})
    native.native = True
    assert suppressions(native) == [{"rule": "CV009", "reason": "x"}]
