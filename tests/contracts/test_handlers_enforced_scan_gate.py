# mypy: disable-error-code="import-untyped"
"""The scan gate under enforced IAM (harness: test_handlers_enforced.py): a CodePipeline job
built from the example's own gate action, whose input artifacts are zips in the pipeline's
artifact bucket, SSE-KMS encrypted, read with artifactCredentials that hold exactly the
pipeline role's policies. CodePipeline issues those credentials for the pipeline's artifact
bucket: https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_AWSSessionCredentials.html
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from tests.contracts.conftest import EXAMPLE_NAMES
from tests.contracts.model import Example, Located
from tests.contracts.test_handlers_enforced import (
    _user_with_policies,
    assert_answered_calls_allowed,
    function_for,
    run_under_role_policy,
)

JOB_ID = "22222222-abcd-2222-abcd-222222222222"


def _sarif(results: list[dict[str, Any]]) -> bytes:
    run = {"tool": {"driver": {"name": "contract-scan", "rules": []}}, "results": results}
    return json.dumps({"version": "2.1.0", "runs": [run]}).encode()


# A critical finding (security-severity 9.0 and up), which blocks at any fail_on; a clean report.
BLOCKING = _sarif(
    [
        {
            "ruleId": "CONTRACT-1",
            "level": "error",
            "message": {"text": "a finding the gate must stop"},
            "properties": {"security-severity": "9.5"},
        }
    ]
)
CLEAN = _sarif([])


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def gate_action(example: Example, function: Located) -> dict[str, Any]:
    (action,) = [
        action
        for _, action in example.actions()
        if action["ActionTypeId"]["Provider"] == "Lambda"
        and action["Configuration"]["FunctionName"] == function.value("FunctionName")
    ][:1]
    return action


def _job_event(example: Example, action: dict[str, Any], report: bytes) -> dict[str, Any]:
    """Creates the artifacts in moto (bucket, KMS key, objects) and returns the job event."""
    bucket = example.artifact_bucket.split(":::", 1)[1]
    s3 = boto3.client("s3", region_name=example.region)
    create = (
        {}
        if example.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": example.region}}
    )
    s3.create_bucket(Bucket=bucket, **create)
    key_id = boto3.client("kms", region_name=example.region).create_key()["KeyMetadata"]["KeyId"]
    scans = set(json.loads(action["Configuration"]["UserParameters"])["scans"])
    pipeline = example.pipeline.value("Name")
    artifacts = []
    for artifact in action["InputArtifacts"]:
        name = artifact["Name"]
        content = _zip({"report.sarif": report} if name in scans else {"README.md": b"app"})
        object_key = f"{pipeline[:20]}/{name[:10]}/contract"
        s3.put_object(
            Bucket=bucket,
            Key=object_key,
            Body=content,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_id,
        )
        location = {"bucketName": bucket, "objectKey": object_key}
        artifacts.append({"name": name, "location": {"type": "S3", "s3Location": location}})
    role_arn = action.get("RoleArn") or example.pipeline.value("RoleArn")
    keys = _user_with_policies(example, "pipeline-artifact-reader", role_arn)
    return {
        "CodePipeline.job": {
            "id": JOB_ID,
            "accountId": example.account,
            "data": {
                "actionConfiguration": {"configuration": action["Configuration"]},
                "inputArtifacts": artifacts,
                "outputArtifacts": [],
                "artifactCredentials": {
                    "accessKeyId": keys["AWS_ACCESS_KEY_ID"],
                    "secretAccessKey": keys["AWS_SECRET_ACCESS_KEY"],
                    "sessionToken": "",
                },
                "encryptionKey": {"id": example.artifact_key, "type": "KMS"},
            },
        }
    }


@pytest.mark.parametrize("example", EXAMPLE_NAMES, indirect=True)
@pytest.mark.parametrize(
    ("report", "result"),
    [(CLEAN, "PutJobSuccessResult"), (BLOCKING, "PutJobFailureResult")],
    ids=["passing", "blocking"],
)
def test_scan_gate_runs_under_exactly_its_role_policy(
    example: Example, report: bytes, result: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        function = function_for(example, "scan_gate")
    except LookupError:
        pytest.skip(f"{example.name} has no scan gate")
    action = gate_action(example, function)
    recorder = run_under_role_policy(
        example,
        function,
        "scan_gate",
        lambda env: _job_event(example, action, report),
        monkeypatch,
    )
    made = [(service, operation) for service, operation, _ in recorder.calls]
    assert ("s3", "GetObject") in made
    assert ("codepipeline", result) in made, made
    assert recorder.result["status"] == ("succeeded" if report is CLEAN else "failed")
    env = (function.value("Environment") or {}).get("Variables", {})
    if "SECURITY_TOPIC_ARN" in env:
        assert ("sns", "Publish") in made, made
    assert_answered_calls_allowed(example, function, recorder)
    # S3 decrypts SSE-KMS objects as the reader: the reader needs kms:Decrypt on the key.
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms
    reader = example.role(action.get("RoleArn") or example.pipeline.value("RoleArn"))
    verdict = example.allows(reader, "kms:Decrypt", example.artifact_key)
    assert verdict, verdict.why
