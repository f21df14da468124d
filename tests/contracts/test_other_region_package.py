"""The package of a Lambda environment in another region (examples/lambda-multi-region.yaml),
run with the stub CLIs: production's MarkDeployed copies the release's package from the
pipeline's package store into production's key of that region's package store, every call on
that key sent to that region; each call's IAM action and resource, and the store keys S3 uses
on the job's behalf (SSE-KMS: decrypt the source, encrypt the copy), are allowed by the job's
synthesized role, and nothing more of either store: the role writes no key of another
environment, neither here nor there. The stack there deploys that copy, which its
CloudFormation role (in that region's stack) may read and decrypt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contracts.buildspecs import aws_requests, environment, run
from tests.contracts.model import Example, Located
from tests.contracts.test_buildspecs import build_output, projects

OTHER = "us-east-1"
PACKAGE = "fares-package.zip"


def _regional(example: Example, kind: str) -> list[Located]:
    return [r for r in example.of_type(kind) if r.stack == f"fares-region-{OTHER}"]


def _key_use(example: Example, key: Located) -> dict[str, str]:
    """What KMS gives a request S3 makes with `key` on the caller's behalf: the service it
    comes through, and the key's aliases."""
    (alias,) = [a.value("AliasName") for a in _regional(example, "AWS::KMS::Alias")]
    region = key.arn.split(":")[3]
    return {"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:ResourceAliases": alias}


@pytest.mark.parametrize("example", ["lambda-multi-region"], indirect=True)
def test_production_copies_its_package_into_its_regions_store(
    example: Example, tmp_path: Path
) -> None:
    _, built = build_output(example, tmp_path)
    (marker,) = [p for p in projects(example) if p.value("Name") == "fares-mark-deployed"]
    role = example.role(marker.value("ServiceRole"))
    regional_bucket = f"fares-packages-{example.account}-{OTHER}"
    # The bucket of that region's stack (a literal name: the pipeline's stack names it so).
    assert [
        b for b in _regional(example, "AWS::S3::Bucket") if b.value("BucketName") == regional_bucket
    ]
    marks = [
        action
        for stage, action in example.actions()
        if stage.endswith("-prod") and action["Name"] == "MarkDeployed"
    ]
    assert marks
    for index, action in enumerate(marks):
        root = tmp_path / f"mark{index}"
        result = run(example, marker, root, inputs=built, action=action)
        assert result.returncode == 0, result.output
        copies = [c for c in result.calls if c[:3] == ["aws", "s3api", "copy-object"]]
        assert copies, result.output
        for copy in copies:
            assert copy[copy.index("--region") + 1] == OTHER
            assert copy[copy.index("--bucket") + 1] == regional_bucket
        state = json.loads((root / "s3.json").read_text())
        assert state[f"{regional_bucket}/deployed/prod/{PACKAGE}"][-1]["Metadata"] == {
            "conveyor-package-version": "stub-package_version"
        }
        env = environment(example, marker, result.workdir, root)
        requests = aws_requests(result, env, marker.resolver.region, marker.resolver.account)
        assert any(
            r == f"arn:aws:s3:::{regional_bucket}/deployed/prod/{PACKAGE}" for _, _, r in requests
        )
        refused = [f"{a} {r}" for _, a, r in requests if not example.allows(role, a, r)]
        assert refused == []
    # S3 decrypts the build's package with the pipeline's key and encrypts the copy with the
    # region's (its bucket's default), each on the job's behalf.
    (regional_key,) = _regional(example, "AWS::KMS::Key")
    for call in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert example.allows(role, call, regional_key.arn, _key_use(example, regional_key))
    # Any other key of that region is refused (the grant names the store's key by alias).
    other = {**_key_use(example, regional_key), "kms:ResourceAliases": "alias/someone-else"}
    assert not example.allows(role, "kms:GenerateDataKey", regional_key.arn, other)


@pytest.mark.parametrize("example", ["lambda-multi-region"], indirect=True)
def test_the_copy_job_writes_only_each_environments_own_key(example: Example) -> None:
    (marker,) = [p for p in projects(example) if p.value("Name") == "fares-mark-deployed"]
    role = example.role(marker.value("ServiceRole"))
    pipeline_store = marker.value("Environment")["EnvironmentVariables"]
    (source,) = [v["Value"] for v in pipeline_store if v["Name"] == "PACKAGE_BUCKET"]
    regional = f"fares-packages-{example.account}-{OTHER}"
    assert example.allows(role, "s3:PutObject", f"arn:aws:s3:::{source}/deployed/staging/{PACKAGE}")
    assert example.allows(role, "s3:PutObject", f"arn:aws:s3:::{regional}/deployed/prod/{PACKAGE}")
    # Production's copy lives in its region only; staging's in the pipeline's only.
    assert not example.allows(
        role, "s3:PutObject", f"arn:aws:s3:::{source}/deployed/prod/{PACKAGE}"
    )
    assert not example.allows(
        role, "s3:PutObject", f"arn:aws:s3:::{regional}/deployed/staging/{PACKAGE}"
    )
    assert not example.allows(role, "s3:PutObject", f"arn:aws:s3:::{regional}/{PACKAGE}")


@pytest.mark.parametrize("example", ["lambda-multi-region"], indirect=True)
def test_the_stack_there_deploys_the_copy_which_its_role_may_read(example: Example) -> None:
    regional = f"fares-packages-{example.account}-{OTHER}"
    overrides = [
        json.loads(action["Configuration"]["ParameterOverrides"])
        for stage, action in example.actions()
        if stage.endswith("-prod")
        and action["Name"] in ("ChangeSet", "Deploy")
        and "ParameterOverrides" in action["Configuration"]
    ]
    assert overrides
    for found in overrides:
        assert found["CodeBucket"] == regional
        assert found["CodeKey"] == f"deployed/prod/{PACKAGE}"
    (role,) = [
        example.role(r.arn)
        for r in _regional(example, "AWS::IAM::Role")
        if r.value("RoleName") == "fares-cloudformation-prod"
    ]
    copy = f"arn:aws:s3:::{regional}/deployed/prod/{PACKAGE}"
    for action in ("s3:GetObject", "s3:GetObjectVersion"):
        assert example.allows(role, action, copy)
    (regional_key,) = _regional(example, "AWS::KMS::Key")
    assert example.allows(role, "kms:Decrypt", regional_key.arn, _key_use(example, regional_key))
