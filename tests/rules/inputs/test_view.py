"""The CloudFormation view the normalizer builds (what every rule reads): unknown values, references
restored from resolved ARNs, nested after_unknown, reference resolution, Pulumi name spelling."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules.inputs import load
from conveyor.rules.template import Template

ARN = "arn:aws:sns:us-east-1:111122223333:alerts"
BUCKET_ARN = "arn:aws:s3:::acme-data"


def view(data: dict[str, Any]) -> Template:
    loaded = load(json.dumps(data, indent=1), name="in.json", kind="auto")
    assert loaded is not None
    return loaded[0]


def state(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.0", "values": {"root_module": {"resources": list(resources)}}}


def res(address: str, values: dict[str, Any]) -> dict[str, Any]:
    rtype = address.split("[")[0].split(".")[-2]
    return {"address": address, "mode": "managed", "type": rtype, "values": values}


def props(template: Template, lid: str) -> dict[str, Any]:
    return template.resources[lid].properties


def test_resolved_arns_in_a_state_become_references_again() -> None:
    template = view(
        state(
            res("aws_sns_topic.alerts", {"name": "alerts", "arn": ARN}),
            res("aws_s3_bucket.data", {"bucket": "acme-data", "arn": BUCKET_ARN}),
            res(
                "aws_cloudwatch_metric_alarm.a",
                {"alarm_name": "a", "alarm_actions": [ARN, "arn:aws:sns:x:1:other"]},
            ),
            res(
                "aws_s3_bucket_policy.p",
                {
                    "bucket": "acme-data",
                    "policy": json.dumps(
                        {"Statement": [{"Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*", "*"]}]}
                    ),
                },
            ),
        )
    )
    topic = {"Fn::GetAtt": ["aws_sns_topic.alerts", "Arn"]}
    assert props(template, "aws_cloudwatch_metric_alarm.a")["AlarmActions"] == [
        topic,
        "arn:aws:sns:x:1:other",
    ]
    bucket = {"Fn::GetAtt": ["aws_s3_bucket.data", "Arn"]}
    policy = props(template, "aws_s3_bucket_policy.p")
    assert policy["Bucket"] == {"Ref": "aws_s3_bucket.data"}
    assert policy["PolicyDocument"]["Statement"][0]["Resource"] == [
        bucket,
        {"Fn::Join": ["", [bucket, "/*"]]},
        "*",
    ]


def test_unknown_list_attributes_point_at_what_they_reference() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    res("aws_sns_topic.t", {"name": "t"}),
                    res("aws_cloudwatch_metric_alarm.a", {"alarm_name": "a"}),
                    res("aws_cloudwatch_metric_alarm.b", {"alarm_name": "b"}),
                ]
            }
        },
        "resource_changes": [
            {"address": a, "change": {"after_unknown": {"alarm_actions": True}}}
            for a in ("aws_cloudwatch_metric_alarm.a", "aws_cloudwatch_metric_alarm.b")
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_sns_topic.t", "expressions": {}},
                    {
                        "address": "aws_cloudwatch_metric_alarm.a",
                        "expressions": {
                            "alarm_actions": {
                                "references": ["aws_sns_topic.t.arn", "aws_sns_topic.t"]
                            }
                        },
                    },
                    {
                        "address": "aws_cloudwatch_metric_alarm.b",
                        "expressions": {"alarm_actions": {"references": ["var.actions"]}},
                    },
                ]
            }
        },
    }
    template = view(plan)
    # A topic's Ref is its ARN in CloudFormation.
    assert props(template, "aws_cloudwatch_metric_alarm.a")["AlarmActions"] == [
        {"Ref": "aws_sns_topic.t"}
    ]
    assert props(template, "aws_cloudwatch_metric_alarm.b")["AlarmActions"] == [
        {"Ref": "aws_cloudwatch_metric_alarm.b.alarm_actions (known after apply)"}
    ]


def test_nested_after_unknown_marks_the_leaf_inside_blocks() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    res("aws_s3_bucket.b", {"bucket": "b"}),
                    res(
                        "aws_s3_bucket_server_side_encryption_configuration.b",
                        {
                            "bucket": "b",
                            "rule": [
                                {
                                    "apply_server_side_encryption_by_default": [
                                        {"sse_algorithm": "aws:kms"}
                                    ]
                                }
                            ],
                        },
                    ),
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_s3_bucket_server_side_encryption_configuration.b",
                "change": {
                    "after_unknown": {
                        "rule": [
                            {
                                "apply_server_side_encryption_by_default": [
                                    {"kms_master_key_id": True}
                                ]
                            }
                        ],
                        "extra": [True, {"x": True}],
                    }
                },
            }
        ],
    }
    encryption = props(view(plan), "aws_s3_bucket.b")["BucketEncryption"]
    default = encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == {
        "Ref": "aws_s3_bucket_server_side_encryption_configuration.b.c.rule.0."
        "apply_server_side_encryption_by_default.kms_master_key_id (known after apply)"
    }


@pytest.mark.parametrize(
    ("reference", "joined"),
    [
        ("aws_ecr_repository.r[1].name", "aws_ecr_repository.r[1]"),
        ('aws_ecr_repository.r["b"].name', 'aws_ecr_repository.r["b"]'),
        ("aws_ecr_repository.r[count.index].name", "aws_ecr_repository.r[0]"),
        ("data.aws_ecr_repository.r.name", None),
        ("var.repository", None),
        ("module.repo.name", None),
        ("aws_ecr_repository", None),
    ],
)
def test_references_resolve_to_instances(reference: str, joined: str | None) -> None:
    instances = ["aws_ecr_repository.r[0]", "aws_ecr_repository.r[1]", 'aws_ecr_repository.r["b"]']
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [res(a, {"name": a}) for a in instances]
                + [res("aws_ecr_lifecycle_policy.p[0]", {"policy": "{}"})]
            }
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_ecr_lifecycle_policy.p",
                        "expressions": {"repository": {"references": [reference]}},
                    }
                ]
            }
        },
    }
    template = view(plan)
    with_policy = {
        lid for lid, r in template.resources.items() if "LifecyclePolicy" in r.properties
    }
    assert with_policy == ({joined} if joined else set())


def test_outputs_of_child_modules_and_the_root_reference_their_resources() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [res("aws_sns_topic.t", {"name": "t"})],
                "child_modules": [{"resources": [res("module.m.aws_sns_topic.u", {"name": "u"})]}],
            }
        },
        "configuration": {
            "root_module": {
                "outputs": {
                    "topic": {"expression": {"references": ["aws_sns_topic.t.arn"]}},
                    "nothing": {"expression": {"constant_value": "x"}},
                    "broken": "not an output",
                }
            }
        },
    }
    template = view(plan)
    assert template.outputs == {
        "topic": {"Value": [{"Ref": "aws_sns_topic.t"}]},
        "nothing": {"Value": []},
        "broken": {"Value": []},
    }
    assert set(template.resources) == {"aws_sns_topic.t", "module.m.aws_sns_topic.u"}


@pytest.mark.parametrize(
    ("token", "cfn_type"),
    [
        ("aws-native:s3:Bucket", "AWS::S3::Bucket"),
        ("aws-native:sns:Topic", "AWS::SNS::Topic"),
        ("aws-native:iam:Role", "AWS::IAM::Role"),
        ("aws-native:kms:Key", "AWS::KMS::Key"),
        ("aws-native:ecr:Repository", "AWS::ECR::Repository"),
        ("aws-native:ecs:Service", "AWS::ECS::Service"),
        ("aws-native:codebuild:Project", "AWS::CodeBuild::Project"),
        ("aws-native:codepipeline:Pipeline", "AWS::CodePipeline::Pipeline"),
        ("aws-native:cloudwatch:Alarm", "AWS::CloudWatch::Alarm"),
        ("aws-native:dynamodb:Table", "AWS::DynamoDB::Table"),
        ("aws-native:logs:LogGroup", "AWS::Logs::LogGroup"),
        ("aws-native:lambda:Function", "AWS::Lambda::Function"),
    ],
)
def test_aws_native_types_are_spelled_as_cloudformation(token: str, cfn_type: str) -> None:
    urn = f"urn:pulumi:dev::p::{token}::r"
    template = view(
        {
            "steps": [
                {"op": "create", "urn": urn, "newState": {"urn": urn, "type": token, "inputs": {}}}
            ]
        }
    )
    assert template.resources["r"].type == cfn_type


def test_aws_native_properties_keep_documents_and_tag_values_as_written() -> None:
    urn = "urn:pulumi:dev::p::aws-native:sns:TopicPolicy::r"
    document = {"Statement": [{"Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    inputs = {"policyDocument": document, "topics": ["t"], "tags": [{"key": "team", "value": "a"}]}
    template = view(
        {
            "deployment": {
                "resources": [{"urn": urn, "type": "aws-native:sns:TopicPolicy", "inputs": inputs}]
            }
        }
    )
    assert props(template, "r") == {
        "PolicyDocument": document,
        "Topics": ["t"],
        "Tags": [{"Key": "team", "Value": "a"}],
    }


def test_pulumi_classic_inputs_become_terraform_names_but_tag_keys_stay() -> None:
    urn = "urn:pulumi:dev::p::aws:iam/role:Role::r"
    inputs = {
        "assumeRolePolicy": "{}",
        "inlinePolicies": [{"name": "p", "policy": json.dumps({"Statement": []})}],
        "managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "tags": {"CostCenter": "42", "conveyor:suppress": "CV050: reviewed by security"},
        "maxSessionDuration": 3600.0,
    }
    template = view(
        {"deployment": {"resources": [{"urn": urn, "type": "aws:iam/role:Role", "inputs": inputs}]}}
    )
    role = template.resources["r"]
    assert role.properties["Policies"] == [{"PolicyName": "p", "PolicyDocument": {"Statement": []}}]
    assert role.properties["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert {t["Key"] for t in role.properties["Tags"]} == {"CostCenter", "conveyor:suppress"}
    assert role.metadata == {
        "conveyor": {"suppress": [{"rule": "CV050", "reason": "reviewed by security"}]}
    }


def test_pulumi_secrets_and_unknowns_are_values_nobody_can_read() -> None:
    urn = "urn:pulumi:dev::p::aws:sns/topic:Topic::t"
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    inputs = {"kmsMasterKeyId": secret, "name": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    template = view(
        {
            "deployment": {
                "resources": [{"urn": urn, "type": "aws:sns/topic:Topic", "inputs": inputs}]
            }
        }
    )
    assert props(template, "t") == {
        "KmsMasterKeyId": {"Ref": "t.kms_master_key_id (known after apply)"},
        "TopicName": {"Ref": "t.name (known after apply)"},
    }


def test_a_pulumi_urn_names_the_resource_after_its_last_separator() -> None:
    urn = "urn:pulumi:dev::p::custom:app:Pipeline$aws:sns/topic:Topic::alerts::v2"
    template = view({"deployment": {"resources": [{"urn": urn, "type": "aws:sns/topic:Topic"}]}})
    assert list(template.resources) == ["alerts::v2"]


def _nest(value: Any, levels: int) -> Any:
    """value under levels of alternating objects and lists."""
    for level in range(levels):
        value = {"k": value} if level % 2 == 0 else [value]
    return value


def _unnest(value: Any, levels: int) -> Any:
    for level in reversed(range(levels)):
        value = value["k"] if level % 2 == 0 else value[0]
    return value


@pytest.mark.parametrize(("levels", "restored"), [(40, True), (41, False)])
def test_arns_in_policy_documents_are_restored_down_to_40_levels(
    levels: int, restored: bool
) -> None:
    # Deeper than any real document: the walk stops there instead of recursing without end.
    template = view(
        state(
            res("aws_s3_bucket.data", {"bucket": "acme-data", "arn": BUCKET_ARN}),
            res("aws_iam_policy.p", {"name": "p", "policy": json.dumps(_nest(BUCKET_ARN, levels))}),
        )
    )
    leaf = _unnest(props(template, "aws_iam_policy.p")["PolicyDocument"], levels)
    assert leaf == ({"Fn::GetAtt": ["aws_s3_bucket.data", "Arn"]} if restored else BUCKET_ARN)


@pytest.mark.parametrize(
    ("resource", "restored"),
    [
        (BUCKET_ARN, True),
        (BUCKET_ARN + "/*", True),  # an object ARN of the bucket
        (BUCKET_ARN.replace("/", "\\/"), True),  # JSON may escape "/"
        ("arn:aws:s3:::someone-elses-bucket/*", False),
    ],
)
def test_only_arns_of_resources_in_the_input_become_references(
    resource: str, restored: bool
) -> None:
    # Written as text: json.dumps would not keep the escaped "/".
    document = '{"Statement": [{"Effect": "Allow", "Resource": "' + resource + '"}]}'
    template = view(
        state(
            res("aws_s3_bucket.data", {"bucket": "acme-data", "arn": BUCKET_ARN}),
            res("aws_iam_policy.p", {"name": "p", "policy": document}),
        )
    )
    found = props(template, "aws_iam_policy.p")["PolicyDocument"]["Statement"][0]["Resource"]
    assert (found != json.loads(document)["Statement"][0]["Resource"]) is restored


def test_an_unknown_list_of_policy_arns_points_at_the_policies_arn() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    res("aws_iam_policy.p", {"name": "p"}),
                    res("aws_iam_role.r", {"name": "r"}),
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_iam_role.r",
                "change": {"after_unknown": {"managed_policy_arns": True}},
            }
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {"address": "aws_iam_policy.p", "expressions": {}},
                    {
                        "address": "aws_iam_role.r",
                        "expressions": {
                            "managed_policy_arns": {
                                "references": ["aws_iam_policy.p.arn", "aws_iam_policy.p"]
                            }
                        },
                    },
                ]
            }
        },
    }
    assert props(view(plan), "aws_iam_role.r")["ManagedPolicyArns"] == [
        {"Fn::GetAtt": ["aws_iam_policy.p", "Arn"]}
    ]


def test_alarm_actions_naming_a_topic_by_name_or_malformed_stay_readable() -> None:
    template = view(
        state(
            res("aws_sns_topic.alerts", {"name": "alerts", "arn": ARN}),
            res("aws_cloudwatch_metric_alarm.a", {"alarm_name": "a", "alarm_actions": ["alerts"]}),
            res("aws_cloudwatch_metric_alarm.b", {"alarm_name": "b", "alarm_actions": [["x"], 5]}),
        )
    )
    assert props(template, "aws_cloudwatch_metric_alarm.a")["AlarmActions"] == [
        {"Ref": "aws_sns_topic.alerts"}
    ]
    assert props(template, "aws_cloudwatch_metric_alarm.b")["AlarmActions"] == [["x"], 5]


def test_a_name_computed_from_variables_is_not_a_literal() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {"resources": [res("aws_s3_bucket.b", {"bucket": "acme-artifacts"})]}
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.b",
                        "expressions": {"bucket": {"references": ["var.app"]}},
                    }
                ]
            }
        },
    }
    assert props(view(plan), "aws_s3_bucket.b")["BucketName"] == {"Fn::Sub": ["acme-artifacts", {}]}


def test_an_unknown_marker_is_recognised_as_text_or_as_a_lone_reference() -> None:
    from conveyor.rules.inputs.view import is_unknown

    marker = "aws_iam_role.r.policy (known after apply)"
    assert is_unknown(marker)
    assert is_unknown({"Ref": marker})
    assert not is_unknown({"Ref": marker, "Other": 1})
    assert not is_unknown({"Fn::GetAtt": marker})
    assert not is_unknown({"Ref": "aws_iam_role.r"})
    assert not is_unknown(None)


KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_key_or_topic_named_by_id_or_arn_is_referenced_by_its_arn() -> None:
    template = view(
        state(
            res("aws_kms_key.k", {"id": "1234abcd-12ab-34cd-56ef-1234567890ab", "arn": KEY_ARN}),
            res("aws_sns_topic.alerts", {"name": "alerts", "arn": ARN}),
            res(
                "aws_sns_topic.other",
                {"name": "other", "kms_master_key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"},
            ),
            res("aws_sns_topic_policy.p", {"arn": ARN, "policy": "{}"}),
        )
    )
    key = {"Fn::GetAtt": ["aws_kms_key.k", "Arn"]}
    assert props(template, "aws_sns_topic.other")["KmsMasterKeyId"] == key
    assert props(template, "aws_sns_topic_policy.p")["Topics"] == [
        {"Fn::GetAtt": ["aws_sns_topic.alerts", "Arn"]}
    ]


def test_tags_prefer_tags_all_and_fall_back_to_tags() -> None:
    template = view(
        state(
            res(
                "aws_s3_bucket.a",
                {"bucket": "a", "tags": {"App": "x"}, "tags_all": {"App": "x", "Team": "t"}},
            ),
            res("aws_s3_bucket.b", {"bucket": "b", "tags": {"App": "y"}, "tags_all": {}}),
            res("aws_s3_bucket.c", {"bucket": "c", "tags": {}, "tags_all": {}}),
        )
    )
    assert props(template, "aws_s3_bucket.a")["Tags"] == [
        {"Key": "App", "Value": "x"},
        {"Key": "Team", "Value": "t"},
    ]
    assert props(template, "aws_s3_bucket.b")["Tags"] == [{"Key": "App", "Value": "y"}]
    assert "Tags" not in props(template, "aws_s3_bucket.c")


@pytest.mark.parametrize("planned", [{}, {"tags": None}, {"tags": {}}, {"tags": []}])
def test_tags_unknown_until_apply_are_some_tags_not_none(planned: dict[str, Any]) -> None:
    # Terraform leaves an unknown value out of planned_values; an empty one there is not
    # "no tags" either when after_unknown marks it.
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {"resources": [res("aws_s3_bucket.b", {"bucket": "b", **planned})]}
        },
        "resource_changes": [
            {"address": "aws_s3_bucket.b", "change": {"after_unknown": {"tags": True}}}
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.b",
                        "expressions": {
                            "bucket": {"constant_value": "b"},
                            "tags": {"references": ["var.tags"]},
                        },
                    }
                ]
            }
        },
    }
    assert props(view(plan), "aws_s3_bucket.b")["Tags"] == {
        "Ref": "aws_s3_bucket.b.tags (known after apply)"
    }


@pytest.mark.parametrize("whole", [True, False])
def test_an_after_unknown_of_one_boolean_leaves_the_planned_values_readable(whole: bool) -> None:
    # after_unknown may be one boolean for the whole object (json-format: "after_unknown" has
    # the shape of "after", or a single true/false): the values planned still read.
    plan: dict[str, Any] = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {"resources": [res("aws_kms_key.k", {"enable_key_rotation": False})]}
        },
        "resource_changes": [
            {
                "address": "aws_kms_key.k",
                "change": {"after": {"enable_key_rotation": False}, "after_unknown": whole},
            }
        ],
    }
    assert props(view(plan), "aws_kms_key.k")["EnableKeyRotation"] is False
    # Nothing planned at all, every value unknown: a resource without values, not a crash.
    plan["planned_values"]["root_module"]["resources"][0]["values"] = {}
    assert props(view(plan), "aws_kms_key.k") == {}


def test_a_key_arn_from_a_variable_inside_a_block_is_not_hard_coded() -> None:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    res(
                        "aws_ecr_repository.r",
                        {
                            "name": "r",
                            "encryption_configuration": [
                                {"encryption_type": "KMS", "kms_key": KEY_ARN}
                            ],
                        },
                    )
                ]
            }
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_ecr_repository.r",
                        "expressions": {
                            "name": {"constant_value": "r"},
                            "encryption_configuration": [
                                {
                                    "encryption_type": {"constant_value": "KMS"},
                                    "kms_key": {"references": ["var.key_arn"]},
                                }
                            ],
                        },
                    }
                ]
            }
        },
    }
    assert props(view(plan), "aws_ecr_repository.r")["EncryptionConfiguration"] == {
        "EncryptionType": "KMS",
        "KmsKey": {"Ref": "var.key_arn"},
    }


def test_a_tag_holding_another_resources_arn_references_it_and_malformed_tags_are_none() -> None:
    template = view(
        state(
            res("aws_sns_topic.alerts", {"name": "alerts", "arn": ARN}),
            res("aws_s3_bucket.a", {"bucket": "a", "tags": {"Alerts": ARN}}),
            res("aws_s3_bucket.b", {"bucket": "b", "tags": "not-a-map"}),
        )
    )
    assert props(template, "aws_s3_bucket.a")["Tags"] == [
        {"Key": "Alerts", "Value": {"Fn::GetAtt": ["aws_sns_topic.alerts", "Arn"]}}
    ]
    assert "Tags" not in props(template, "aws_s3_bucket.b")
