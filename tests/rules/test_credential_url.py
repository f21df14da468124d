"""CV123: a literal URL carrying a credential in an environment or UserParameters is found on
the property that holds it; user names alone, references and ordinary queries are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.rules.inputs.test_terraform import plan, resource

from conveyor.rules import check_paths, check_text
from conveyor.rules.deploy.credential_url import credential_in


def _findings(tmp_path: Path, resources: dict[str, object]) -> list[tuple[str, str]]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": resources}), encoding="utf-8")
    result = check_paths([path])
    assert result.errors == []
    return [(f.resource, f.message) for f in result.findings if f.rule == "CV123"]


@pytest.mark.parametrize(
    "value",
    [
        "https://admin:hunter2@app.example.com/health",
        "postgres://app:pw@db.internal:5432/app",
        "https://app.example.com/hook?token=abc123",
        "https://api.example.com/v1?access_token=abc",
        "https://api.example.com/v1?api_key=abc",
        "https://api.example.com/v1?apikey=abc",
        "https://api.example.com/v1?password=abc",
        "https://api.example.com/v1?secret=abc",
        "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=abc%3D",
        "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIA/x&X-Amz-Signature=f00",
        "https://bucket.s3.amazonaws.com/k?X-Amz-Security-Token=IQo",
        # A credential word is a word of the name, however the name is written.
        "https://api.example.com/v1?authToken=abc",
        "https://api.example.com/v1?API-KEY=abc",
        "https://api.example.com/v1?apiKey=abc",
        "https://api.example.com/v1?subscription-key=abc",
        "https://api.example.com/v1?session.token=abc",
        "https://api.example.com/v1?oauth_token=abc",
        "https://api.example.com/v1?clientSecret=abc",
        "https://api.example.com/v1?private_key=abc",
        "https://api.example.com/v1?pwd=abc",
        "https://api.example.com/v1?pass=abc",
        "https://api.example.com/v1?Authorization=Bearer%20abc",
        "https://api.example.com/v1?credentials=abc",
        {"Fn::Sub": "https://admin:hunter2@${Host}/health"},
        '{"url": "https://u:p@h.example.com/", "expect": 200}',
    ],
)
def test_a_literal_credential_in_a_url_is_found(value: object) -> None:
    assert credential_in(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com/health",
        "ssh://git@github.com/example/app.git",
        "https://deploy@git.example.com/app.git",
        "https://app.example.com/search?full=1&q=a@b",
        "https://app.example.com/hook?token=",
        # A credential word inside another word is not one (auth in author, pass in bypass).
        "https://app.example.com/posts?author=x",
        "https://app.example.com/health?bypass_cache=1",
        "https://app.example.com/trips?passenger=2",
        "https://app.example.com/layouts?keyboard=uk",
        "https://app.example.com/zoo?monkey=1",
        "https://app.example.com/docs?design=2&compass=n&tokenizer=word",
        # A key that opens nothing: a sort or partition key names a field.
        "https://app.example.com/items?sort_key=name&partitionKey=a",
        # Paging tokens are handed out by the service to anyone who lists (ListObjectsV2).
        "https://bucket.s3.amazonaws.com/?list-type=2&continuation-token=abc",
        "https://api.example.com/v1?nextToken=abc&page_token=def",
        {"Fn::Sub": "https://app.example.com/hook?token=${Token}"},
        {"Fn::Sub": "https://admin:${Password}@app.example.com/"},
        "postgres://app:{{resolve:secretsmanager:prod/db:SecretString:password}}@db/app",
        {"Ref": "HealthUrl"},
        "http://[::1/health",
        "not a url: user:password@host",
        "",
        None,
    ],
)
def test_no_finding_without_a_literal_credential(value: object) -> None:
    assert credential_in(value) is None


URL = "https://monitor:pa55@app.example.com/health"


def test_each_place_a_url_is_written_in_plain_text(tmp_path: Path) -> None:
    found = _findings(
        tmp_path,
        {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Environment": {"Variables": {"VALIDATE_URL": URL}}},
            },
            "Build": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "Environment": {
                        "EnvironmentVariables": [
                            {"Name": "HEALTH_URL", "Value": URL},
                            {"Name": "TYPED_URL", "Type": "PLAINTEXT", "Value": URL},
                            {"Name": "REF_URL", "Type": "PARAMETER_STORE", "Value": "/ci/url"},
                        ]
                    }
                },
            },
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "ContainerDefinitions": [
                        {"Name": "app", "Environment": [{"Name": "PEER_URL", "Value": URL}]}
                    ]
                },
            },
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {
                    "Stages": [
                        {
                            "Name": "Validate",
                            "Actions": [
                                {
                                    "Name": "Check",
                                    "ActionTypeId": {"Category": "Invoke", "Provider": "Lambda"},
                                    "Configuration": {"UserParameters": json.dumps({"url": URL})},
                                }
                            ],
                        }
                    ]
                },
            },
        },
    )
    assert sorted(resource for resource, _ in found) == ["Build", "Build", "Fn", "Pipeline", "Task"]
    messages = dict(found)
    assert "VALIDATE_URL" in messages["Fn"] and "user:password@" in messages["Fn"]
    assert "action Check's UserParameters" in messages["Pipeline"]
    assert "PEER_URL" in messages["Task"]
    assert "REF_URL" not in " ".join(m for r, m in found if r == "Build")


def test_the_spec_keeps_refusing_a_user_name_alone() -> None:
    # One matcher, two policies: the spec refuses user@ in validate.http.url (the URL is
    # committed and conveyor needs no account in it); the rule reports only a password.
    from conveyor.spec.refs import secret_in_url

    assert secret_in_url("https://deploy@app.example.com/health") is not None
    assert credential_in("https://deploy@app.example.com/health") is None


def test_a_terraform_plan_is_judged_on_the_same_values() -> None:
    # Terraform's configuration = { UserParameters = ... } and environment { variables } map
    # onto the CloudFormation properties the rule reads (rules/inputs/mapping.py).
    function = resource(
        "aws_lambda_function.validate",
        {"function_name": "validate", "environment": [{"variables": {"CHECK_URL": URL}}]},
    )
    action = {
        "name": "Check",
        "category": "Invoke",
        "owner": "AWS",
        "provider": "Lambda",
        "version": "1",
        "configuration": {"FunctionName": "validate", "UserParameters": URL},
    }
    pipeline = resource(
        "aws_codepipeline.release",
        {"name": "release", "stage": [{"name": "Validate", "action": [action]}]},
    )
    result = check_text(plan(function, pipeline), name="plan.json")
    assert result.errors == []
    assert {f.resource for f in result.findings if f.rule == "CV123"} == {
        "aws_lambda_function.validate",
        "aws_codepipeline.release",
    }
