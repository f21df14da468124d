"""`conveyor check` over `pulumi preview --json` and `pulumi stack export`: AWS Classic types map
through their Terraform names, aws-native types are CloudFormation already; split resources join
their owner through propertyDependencies; Pulumi's unknown sentinel is never "missing"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules.model import CheckResult

FIXTURES = Path(__file__).parent / "fixtures" / "pulumi"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
STACK = "urn:pulumi:dev::orders::pulumi:pulumi:Stack::orders-dev"


def findings(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.rule, f.resource) for f in result.findings}


def urn(rtype: str, name: str) -> str:
    return f"urn:pulumi:dev::orders::{rtype}::{name}"


def state(
    rtype: str,
    name: str,
    inputs: dict[str, Any],
    deps: dict[str, list[str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "urn": urn(rtype, name),
        "custom": True,
        "type": rtype,
        "inputs": inputs,
        "propertyDependencies": deps or {},
        **extra,
    }


def export(*states: dict[str, Any]) -> str:
    return json.dumps({"version": 3, "deployment": {"resources": list(states)}}, indent=2)


def preview(*states: dict[str, Any]) -> str:
    steps = [{"op": "create", "urn": s["urn"], "newState": s} for s in states]
    return json.dumps({"steps": steps, "changeSummary": {"create": len(steps)}}, indent=2)


S1_BAD = {
    ("CV001", "artifacts"),
    ("CV002", "artifacts"),
    ("CV006", "artifacts"),
    ("CV008", "artifacts"),
    ("CV090", "artifacts"),  # one per input, listing the six untagged resources
    ("CV004", "app-repo"),
    ("CV008", "app-repo"),
    ("CV020", "app-repo"),
    ("CV021", "app-repo"),
    ("CV022", "app-repo"),
    ("CV013", "build-logs"),
    ("CV034", "build-logs"),
    ("CV012", "build-failures"),
    ("CV081", "build-failures"),
    ("CV016", "build"),  # no encryption_key: its artifacts use aws/s3
    ("CV030", "build"),
    ("CV031", "build"),
    ("CV032", "build"),
    ("CV033", "build"),
    ("CV038", "build"),
    ("CV040", "build"),
    ("CV050", "build-policy"),
}


S4_BAD = {
    # Seed 003: bucket named without the stack, no force destroy; GitHub OAuth (version 1)
    # with the token in the program; AWSCodeDeployRole for a Lambda group; Node.js 18; an alarm
    # without treatMissingData; and what S2/S3 name for the same pipeline shape.
    ("CV001", "pipeline-artifacts"),
    ("CV002", "pipeline-artifacts"),
    ("CV005", "pipeline-artifacts"),
    ("CV006", "pipeline-artifacts"),
    ("CV008", "pipeline-artifacts"),
    ("CV009", "pipeline-artifacts"),
    ("CV042", "pipeline"),
    ("CV053", "pipeline"),
    ("CV060", "pipeline"),
    ("CV080", "pipeline"),
    ("CV083", "pipeline"),
    ("CV084", "pipeline"),
    ("CV085", "pipeline"),
    ("CV092", "pipeline"),
    ("CV092", "deployments"),
    ("CV055", "codedeploy-role"),
    ("CV076", "api"),
    ("CV082", "api-errors"),
    # The pipeline role has no policy: it may not create the CodeDeploy deployment (CV059);
    # the deployments table has neither SSE nor point-in-time recovery (CV014).
    ("CV059", "pipeline"),
    ("CV014", "deployments"),
    # A V2 pipeline whose deploy stage does not roll back to the last good release.
    ("CV102", "pipeline"),
}
# Advice the fixed seed still earns: it has no scan stage, and records deployments from its
# function, which CV084 cannot see from the pipeline.
S4_GOOD = {("CV084", "pipeline"), ("CV085", "pipeline")}


@pytest.mark.parametrize("kind", ["export", "preview"])
def test_seed_s4_bad_and_good(kind: str) -> None:
    bad = check_paths([FIXTURES / f"seed-s4-bad.{kind}.json"])
    good = check_paths([FIXTURES / f"seed-s4-good.{kind}.json"])
    assert not bad.errors and not good.errors
    assert findings(bad) == S4_BAD
    assert findings(good) == S4_GOOD
    assert good.exit_code() == 0  # advice only


@pytest.mark.parametrize("kind", ["export", "preview"])
def test_seed_s1_bad_reports_each_seed_failure_on_its_urn_name(kind: str) -> None:
    result = check_paths([FIXTURES / f"seed-s1-bad.{kind}.json"])
    assert not result.errors
    assert findings(result) == S1_BAD
    # The seed's auto-named bucket ("artifacts-5f3a9c1", __defaults) is not a hard-coded name.
    assert ("CV009", "artifacts") not in findings(result)


@pytest.mark.parametrize("kind", ["export", "preview"])
def test_seed_s1_good_is_clean(kind: str) -> None:
    result = check_paths([FIXTURES / f"seed-s1-good.{kind}.json"])
    assert not result.errors
    assert result.findings == []
    assert result.resources == 10  # 14 registrations; SSE, access block and lifecycle joined


@pytest.mark.parametrize("kind", ["export", "preview"])
def test_findings_carry_the_line_of_the_urn_key(kind: str) -> None:
    path = FIXTURES / f"seed-s1-bad.{kind}.json"
    lines = path.read_text().splitlines()
    for finding in check_paths([path]).findings:
        assert '"urn": "urn:pulumi:' in lines[finding.line - 1]
        assert lines[finding.line - 1].rstrip('",').endswith(f"::{finding.resource}")


def test_split_resources_join_by_property_dependency_not_by_name() -> None:
    logs, data = urn("aws:s3/bucketV2:BucketV2", "logs"), urn("aws:s3/bucketV2:BucketV2", "data")
    text = preview(
        state("aws:s3/bucketV2:BucketV2", "logs", {}),
        state("aws:s3/bucketV2:BucketV2", "data", {}),
        state(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "logs",
            {
                "bucket": UNKNOWN,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            {"bucket": [data]},
        ),
    )
    result = check_text(text, name="preview.json")
    assert ("CV001", "logs") in findings(result)
    assert ("CV001", "data") not in findings(result)
    assert logs != data


def test_an_export_joins_by_the_owner_id() -> None:
    text = export(
        state("aws:ecr/repository:Repository", "repo", {"name": "orders"}, id="orders"),
        state(
            "aws:ecr/lifecyclePolicy:LifecyclePolicy",
            "keep",
            {"repository": "orders", "policy": "{}"},
        ),
    )
    assert ("CV020", "repo") not in findings(check_text(text, name="stack.json"))


def test_the_unknown_sentinel_is_not_missing_encryption() -> None:
    key = urn("aws:kms/key:Key", "k")
    unknown_key = preview(
        state("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": UNKNOWN}, {"kmsMasterKeyId": [key]})
    )
    no_key = preview(state("aws:sns/topic:Topic", "t", {}))
    assert ("CV012", "t") not in findings(check_text(unknown_key, name="preview.json"))
    assert ("CV012", "t") in findings(check_text(no_key, name="preview.json"))


def test_a_secret_token_is_not_a_plain_text_token() -> None:
    secret = {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "ciphertext": "v1:abc",
    }
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
                        "configuration": {"Owner": "acme", "Repo": "orders", "OAuthToken": "TOKEN"},
                    }
                ],
            }
        ],
    }
    plain = export(state("aws:codepipeline/pipeline:Pipeline", "p", pipeline))
    pipeline["stages"][0]["actions"][0]["configuration"]["OAuthToken"] = secret  # type: ignore[index]
    hidden = export(state("aws:codepipeline/pipeline:Pipeline", "p", pipeline))
    plain_findings = findings(check_text(plain, name="stack.json"))
    assert {("CV042", "p"), ("CV060", "p")} <= plain_findings  # seeds 001 and 003
    hidden_findings = findings(check_text(hidden, name="stack.json"))
    assert ("CV042", "p") not in hidden_findings
    assert ("CV060", "p") in hidden_findings


def test_aws_native_resources_are_cloudformation_already() -> None:
    text = preview(
        state(
            "aws-native:s3:Bucket",
            "native",
            {
                "bucketEncryption": {
                    "serverSideEncryptionConfiguration": [
                        {
                            "serverSideEncryptionByDefault": {
                                "sseAlgorithm": "aws:kms",
                                "kmsMasterKeyId": UNKNOWN,
                            }
                        }
                    ]
                },
                "publicAccessBlockConfiguration": {"blockPublicAcls": True},
            },
        ),
    )
    result = check_text(text, name="preview.json")
    assert ("CV002", "native") not in findings(result)
    cv001 = [f for f in result.findings if f.rule == "CV001"]
    assert [f.resource for f in cv001] == ["native"]
    assert "blockPublicPolicy" in cv001[0].message  # aws-native: CloudFormation names, camelCase


def test_retain_on_delete_keeps_the_bucket_instead_of_failing_to_delete_it() -> None:
    deleted = export(state("aws:s3/bucketV2:BucketV2", "b", {}))
    kept = export(state("aws:s3/bucketV2:BucketV2", "b", {}, retainOnDelete=True))
    assert ("CV008", "b") in findings(check_text(deleted, name="stack.json"))
    assert ("CV008", "b") not in findings(check_text(kept, name="stack.json"))


def test_resources_the_stack_only_reads_or_is_deleting_are_not_judged() -> None:
    text = export(
        state("aws:sns/topic:Topic", "shared", {}, external=True),
        state("aws:sns/topic:Topic", "old", {}, delete=True),
        state("aws:sns/topic:Topic", "mine", {}),
    )
    assert {r for _, r in findings(check_text(text, name="stack.json"))} == {"mine"}


def test_two_resources_with_one_name_are_told_apart_by_type() -> None:
    text = preview(
        state("aws:sns/topic:Topic", "alerts", {}),
        state("aws:cloudwatch/logGroup:LogGroup", "alerts", {}),
    )
    resources = {f.resource for f in check_text(text, name="preview.json").findings}
    assert {"alerts", "alerts (aws_cloudwatch_log_group)"} <= resources


def test_stack_outputs_expose_resources() -> None:
    repo = urn("aws:ecr/repository:Repository", "repo")
    stack = {
        "urn": STACK,
        "type": "pulumi:pulumi:Stack",
        "custom": False,
        "outputs": {"repositoryUrl": "x"},
        "propertyDependencies": {"repositoryUrl": [repo]},
    }
    pipeline = state("aws:codepipeline/pipeline:Pipeline", "p", {"stages": []})
    with_output = export(stack, state("aws:ecr/repository:Repository", "repo", {}), pipeline)
    without = export(state("aws:ecr/repository:Repository", "repo", {}), pipeline)
    assert ("CV092", "repo") not in findings(check_text(with_output, name="stack.json"))
    assert ("CV092", "repo") in {
        (f.rule, f.resource) for f in check_text(without, name="stack.json").findings
    } | {(f.rule, f.resource) for f in check_text(without, name="stack.json").suppressed}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"steps": {}}', "preview.json: steps: must be a list"),
        ('{"steps": [7]}', "preview.json: steps[0]: must be an object"),
        ('{"steps": [{"newState": []}]}', "steps[0].newState: must be an object"),
        (
            '{"steps": [{"newState": {"type": "aws:sns/topic:Topic"}}]}',
            'steps[0].newState: a resource needs "urn" and "type" strings',
        ),
        ('{"deployment": {"resources": {}}}', "deployment.resources: must be a list"),
        (
            '{"deployment": {"resources": [{"urn": "urn:pulumi:a::b::aws:sns/topic:Topic::t", '
            '"type": "aws:sns/topic:Topic", "inputs": []}]}}',
            "deployment.resources[0].inputs: must be an object",
        ),
    ],
)
def test_a_malformed_preview_or_export_exits_2_naming_the_key(text: str, message: str) -> None:
    result = check_text(text, name="preview.json", input_kind="pulumi")
    assert result.exit_code() == 2
    assert [message in e.message for e in result.errors] == [True]
    assert "internal error" not in result.errors[0].message


FIX = "give the output of `pulumi preview --json` or `pulumi stack export` unchanged"


@pytest.mark.parametrize(
    ("document", "where", "problem"),
    [
        ({"deployment": [], "steps": []}, "deployment", "must be an object"),
        ({"deployment": {"resources": "x"}}, "deployment.resources", "must be a list"),
        ({"deployment": {"resources": [None]}}, "deployment.resources[0]", "must be an object"),
        ({"steps": [{"op": "same", "newState": "x"}]}, "steps[0].newState", "must be an object"),
        (
            {
                "steps": [
                    {
                        "newState": {
                            "urn": "urn:pulumi:a::b::aws:sns/topic:Topic::t",
                            "type": "aws:sns/topic:Topic",
                            "inputs": "x",
                        }
                    }
                ]
            },
            "steps[0].newState.inputs",
            "must be an object",
        ),
    ],
)
def test_malformed_pulumi_messages_name_file_key_and_fix(
    document: dict[str, Any], where: str, problem: str
) -> None:
    result = check_text(json.dumps(document), name="in.json", input_kind="pulumi")
    assert [e.message for e in result.errors] == [f"in.json: {where}: {problem}; {FIX}"]


def test_a_deleted_step_is_skipped_and_later_steps_still_read() -> None:
    topic = state("aws:sns/topic:Topic", "t", {})
    text = json.dumps(
        {
            "steps": [
                {"op": "delete", "urn": "urn:pulumi:dev::orders::aws:sns/topic:Topic::old"},
                {"op": "create", "urn": topic["urn"], "newState": topic},
            ]
        }
    )
    assert ("CV012", "t") in findings(check_text(text, name="preview.json"))


def test_inputs_that_are_one_secret_read_as_nothing() -> None:
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    text = export({**state("aws:sns/topic:Topic", "t", {}), "inputs": secret})
    result = check_text(text, name="stack.json")
    assert not result.errors
    assert ("CV012", "t") in findings(result)


@pytest.mark.parametrize("make", [export, preview])
def test_a_schedule_starting_an_ecs_task_without_a_dead_letter_queue(make: Any) -> None:
    """CV126 on Pulumi AWS Classic (bridged from aws_scheduler_schedule): camelCase inputs."""
    target = {
        "arn": "arn:aws:ecs:eu-west-1:111122223333:cluster/jobs",
        "roleArn": "arn:aws:iam::111122223333:role/scheduler",
        "ecsParameters": {
            "taskDefinitionArn": "arn:aws:ecs:eu-west-1:111122223333:task-definition/report:3"
        },
    }
    schedule = state(
        "aws:scheduler/schedule:Schedule",
        "report",
        {"name": "report", "scheduleExpression": "rate(1 day)", "target": target},
    )
    result = check_text(make(schedule), name="stack.json")
    assert ("CV126", "report") in findings(result)
    kept = {**target, "deadLetterConfig": {"arn": "arn:aws:sqs:eu-west-1:111122223333:dlq"}}
    fixed = state(
        "aws:scheduler/schedule:Schedule",
        "report",
        {"name": "report", "scheduleExpression": "rate(1 day)", "target": kept},
    )
    assert "CV126" not in {rule for rule, _ in findings(check_text(make(fixed), name="s.json"))}


def test_an_unknown_inside_a_trust_policy_object_is_judged_not_an_internal_error() -> None:
    """pulumi_aws takes assumeRolePolicy as an object too; a principal unknown until apply
    (another stack's role ARN) is the unknown sentinel inside it. CV051 reads the trust policy
    as text to find image-pulling principals: it judged the role instead of stopping with
    'internal error ... Unknown is not JSON serializable' (exit 2)."""
    role = urn("aws:iam/role:Role", "task")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com", "AWS": UNKNOWN},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    text = preview(
        state("aws:iam/role:Role", "task", {"assumeRolePolicy": trust}),
        state(
            "aws:iam/rolePolicy:RolePolicy",
            "task-policy",
            {"role": UNKNOWN, "policy": policy},
            {"role": [role]},
        ),
    )
    result = check_text(text, name="preview.json")
    assert [e.message for e in result.errors] == []
    assert ("CV051", "task-policy") in findings(result)
