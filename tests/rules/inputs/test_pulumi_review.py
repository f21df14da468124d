"""Pulumi inputs the review of issue 13 broke: aws-native property spelling, suppression and
provider default tags, masked secrets, exports without propertyDependencies, ARNs the engine
resolved, stack names inside names; and the suppression tag's syntax in every tool."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conveyor.rules import check_text
from conveyor.rules.inputs import cfn_spelling, load
from conveyor.rules.inputs.build import suppressions
from conveyor.rules.inputs.records import Record
from conveyor.rules.model import CheckResult
from conveyor.rules.template import Template

STACK_URN = "urn:pulumi:dev::orders::pulumi:pulumi:Stack::orders-dev"


def findings(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.rule, f.resource) for f in result.findings}


def urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:dev::orders::{rtype}::{name}"


def state(rtype: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"urn": urn(rtype, name), "custom": True, "type": rtype, "inputs": inputs, **extra}


def export(*states: dict[str, Any]) -> str:
    return json.dumps({"version": 3, "deployment": {"resources": list(states)}}, indent=1)


def preview(*states: dict[str, Any]) -> str:
    steps = [{"op": "create", "urn": s["urn"], "newState": s} for s in states]
    return json.dumps({"steps": steps}, indent=1)


def view(text: str) -> Template:
    loaded = load(text, name="stack.json", kind="auto")
    assert loaded is not None
    return loaded[0]


# ---- aws-native spelling ------------------------------------------------------------------------


def test_aws_native_properties_take_cloudformations_irregular_spelling_per_type() -> None:
    template = view(
        export(
            state("aws-native:sns:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"}),
            state(
                "aws-native:dynamodb:Table",
                "table",
                {"sseSpecification": {"sseEnabled": True, "kmsMasterKeyId": "alias/t"}},
            ),
            state(
                "aws-native:codedeploy:DeploymentGroup",
                "group",
                {"ecsServices": [{"clusterName": "c", "serviceName": "s"}]},
            ),
            state("aws-native:elasticloadbalancingv2:TargetGroup", "tg", {"healthCheckPath": "/"}),
        )
    )
    assert template.resources["topic"].properties == {"KmsMasterKeyId": "alias/aws/sns"}
    assert template.resources["table"].properties == {
        "SSESpecification": {"SSEEnabled": True, "KMSMasterKeyId": "alias/t"}
    }
    assert template.resources["group"].properties == {
        "ECSServices": [{"ClusterName": "c", "ServiceName": "s"}]
    }
    assert template.resources["tg"].type == "AWS::ElasticLoadBalancingV2::TargetGroup"


def test_an_aws_native_topic_with_a_key_is_encrypted() -> None:
    text = export(state("aws-native:sns:Topic", "topic", {"kmsMasterKeyId": "alias/aws/sns"}))
    assert ("CV012", "topic") not in findings(check_text(text, name="stack.json"))


def test_the_spelling_table_is_the_one_the_installed_cfn_lint_schemas_give() -> None:
    committed = cfn_spelling.TABLE.read_text(encoding="utf-8")
    assert committed == cfn_spelling.render(cfn_spelling.generate()), (
        "run: python -m conveyor.rules.inputs.cfn_spelling --write"
    )


# ---- suppression and default tags -------------------------------------------------------------

REASON = "name fixed by the partner's integration contract; see ADR 12"


def test_the_suppression_tag_works_on_an_aws_native_tag_list() -> None:
    text = export(
        state(
            "aws-native:s3:Bucket",
            "drop",
            {
                "bucketName": "acme-drop",
                "tags": [{"key": "conveyor:suppress", "value": f"CV009: {REASON}"}],
            },
        )
    )
    result = check_text(text, name="stack.json")
    assert ("CV009", "drop") not in findings(result)
    assert [(f.rule, f.reason) for f in result.suppressed if f.rule == "CV009"] == [
        ("CV009", REASON)
    ]


def test_pulumi_provider_default_tags_count_as_the_resources_tags() -> None:
    provider_urn = urn("pulumi:providers:aws", "tagged")
    provider = {
        "urn": provider_urn,
        "custom": True,
        "id": "p1",
        "type": "pulumi:providers:aws",
        "inputs": {"defaultTags": json.dumps({"tags": {"App": "orders"}})},
    }
    untagged = state("aws:sns/topic:Topic", "t", {})
    tagged = state("aws:sns/topic:Topic", "t", {}, provider=f"{provider_urn}::p1")
    assert ("CV090", "t") in findings(check_text(export(provider, untagged), name="stack.json"))
    assert ("CV090", "t") not in findings(check_text(export(provider, tagged), name="stack.json"))
    from_output = state("aws:sns/topic:Topic", "t", {}, outputs={"tagsAll": {"App": "orders"}})
    assert ("CV090", "t") not in findings(check_text(export(from_output), name="stack.json"))


def _terraform_bucket(values: dict[str, Any], unknown: dict[str, Any] | None = None) -> str:
    address = "aws_s3_bucket.drop"
    return json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [{"address": address, "type": "aws_s3_bucket", "values": values}]
                }
            },
            "resource_changes": [{"address": address, "change": {"after_unknown": unknown or {}}}],
        }
    )


def test_terraform_default_tags_carry_the_suppression_tag_too() -> None:
    tag = {"conveyor:suppress": f"CV009: {REASON}"}
    via_default = _terraform_bucket({"bucket": "acme-drop", "tags": None, "tags_all": tag})
    result = check_text(via_default, name="plan.json")
    assert ("CV009", "aws_s3_bucket.drop") not in findings(result)
    # The merge unknown until apply (a default tag from another resource): the own tag counts.
    unknown_merge = _terraform_bucket(
        {"bucket": "acme-drop", "tags": tag}, unknown={"tags_all": True}
    )
    result = check_text(unknown_merge, name="plan.json")
    assert ("CV009", "aws_s3_bucket.drop") not in findings(result)
    assert ("CV090", "aws_s3_bucket.drop") not in findings(result)


def _suppress(text: str) -> list[dict[str, str]]:
    return suppressions(Record("k", "k", "aws_s3_bucket", {"tags": {"conveyor:suppress": text}}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "CV002: bucket encrypted by the org's SCP; CV009: fixed name",
            [
                {"rule": "CV002", "reason": "bucket encrypted by the org's SCP"},
                {"rule": "CV009", "reason": "fixed name"},
            ],
        ),
        (
            "CV002;CV009: shared by the partner's contract",
            [
                {"rule": "CV002", "reason": "shared by the partner's contract"},
                {"rule": "CV009", "reason": "shared by the partner's contract"},
            ],
        ),
        (
            "CV002, cv009: 'quoted; with a semicolon'",
            [
                {"rule": "CV002", "reason": "quoted; with a semicolon"},
                {"rule": "CV009", "reason": "quoted; with a semicolon"},
            ],
        ),
        (
            "CV009: it's fixed; don't rename",
            [{"rule": "CV009", "reason": "it's fixed; don't rename"}],
        ),
        ("CV009", [{"rule": "CV009", "reason": ""}]),
    ],
)
def test_suppression_tag_syntax(text: str, expected: list[dict[str, str]]) -> None:
    assert _suppress(text) == expected


# ---- secrets, outputs, resolved values, stack names ----------------------------------------


def test_a_secret_masked_in_a_preview_is_unknown_not_a_plain_text_token() -> None:
    pipeline = {
        "roleArn": "arn:aws:iam::111122223333:role/p",
        "artifactStores": [{"location": "b", "type": "S3"}],
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "GitHub",
                        "category": "Source",
                        "owner": "ThirdParty",
                        "provider": "GitHub",
                        "version": "1",
                        "outputArtifacts": ["src"],
                        "configuration": {"Owner": "a", "Repo": "o", "OAuthToken": "[secret]"},
                    }
                ],
            }
        ],
    }
    text = preview(state("aws:codepipeline/pipeline:Pipeline", "p", pipeline))
    result = findings(check_text(text, name="preview.json"))
    assert ("CV042", "p") not in result
    assert ("CV060", "p") in result  # still an OAuth source
    name = preview(state("aws:s3/bucketV2:BucketV2", "b", {"bucket": "[secret]"}))
    assert ("CV009", "b") not in findings(check_text(name, name="preview.json"))


def test_outputs_without_property_dependencies_claim_no_missing_output() -> None:
    repo = state("aws:ecr/repository:Repository", "repo", {})
    pipeline = state("aws:codepipeline/pipeline:Pipeline", "p", {"stages": []})
    old_stack = {"urn": STACK_URN, "type": "pulumi:pulumi:Stack", "outputs": {"url": "x"}}
    bare_stack = {"urn": STACK_URN, "type": "pulumi:pulumi:Stack"}

    def cv092(*states: dict[str, Any]) -> set[str]:
        result = check_text(export(*states), name="stack.json")
        return {f.resource for f in [*result.findings, *result.suppressed] if f.rule == "CV092"}

    assert cv092(old_stack, repo, pipeline) == set()
    assert cv092(bare_stack, repo, pipeline) == {"repo", "p"}  # no outputs at all: visible


def test_arns_the_engine_resolved_into_aws_native_properties_are_not_hard_coded() -> None:
    role_arn = "arn:aws:iam::111122223333:role/build"
    role = state("aws-native:iam:Role", "build-role", {}, outputs={"arn": role_arn})
    project = state(
        "aws-native:codebuild:Project",
        "build",
        {"serviceRole": role_arn, "name": "build"},
        propertyDependencies={"serviceRole": [urn("aws-native:iam:Role", "build-role")]},
    )
    template = view(export(role, project))
    assert template.resources["build"].properties["ServiceRole"] == {
        "Fn::GetAtt": ["build-role", "Arn"]
    }
    # Resolved from a resource the view does not map, known only by its dependency.
    elsewhere = state(
        "aws-native:codebuild:Project",
        "build",
        {"serviceRole": role_arn},
        propertyDependencies={"serviceRole": [urn("aws-native:iam:Role", "not-exported")]},
    )
    result = check_text(export(elsewhere), name="stack.json")
    assert ("CV036", "build") not in findings(result)
    literal = state("aws-native:codebuild:Project", "build", {"serviceRole": role_arn})
    assert ("CV036", "build") in findings(check_text(export(literal), name="stack.json"))


@pytest.mark.parametrize(
    ("bucket", "hard_coded"),
    [("orders-dev-artifacts", False), ("dev.artifacts", False), ("devops-artifacts", True)],
)
def test_a_name_carries_the_stack_name_only_as_a_whole_part(bucket: str, hard_coded: bool) -> None:
    text = export(state("aws:s3/bucketV2:BucketV2", "b", {"bucket": bucket}))
    assert (("CV009", "b") in findings(check_text(text, name="stack.json"))) is hard_coded
