"""`conveyor check` over `terraform show -json` plans and states: the CloudFormation rules run
unchanged on the normalized view; split resources join their owner by reference; values known
only after apply are never "missing"; findings name the address and its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.rules import check_paths, check_text
from conveyor.rules.model import CheckResult

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"


def findings(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.rule, f.resource) for f in result.findings}


def resource(
    address: str,
    values: dict[str, Any],
    *,
    refs: dict[str, list[str]] | None = None,
    unknown: dict[str, Any] | None = None,
    constants: bool = True,
) -> dict[str, Any]:
    """A resource in the three places a plan holds it."""
    rtype, name = address.split("[")[0].split(".")[-2:]
    expressions: dict[str, Any] = {
        k: {"constant_value": v} for k, v in values.items() if constants and v is not None
    }
    for key, names in (refs or {}).items():
        expressions[key] = {"references": names}
    return {
        "planned": {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "values": values,
        },
        "change": {
            "address": address,
            "change": {"actions": ["create"], "after_unknown": unknown or {}},
        },
        "config": {
            "address": address.split("[")[0],
            "type": rtype,
            "name": name,
            "expressions": expressions,
        },
    }


def plan(*resources: dict[str, Any], configuration: bool = True) -> str:
    data: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": [r["planned"] for r in resources]}},
        "resource_changes": [r["change"] for r in resources],
    }
    if configuration:
        # One configuration entry per resource block, as Terraform writes it (the instances of
        # a count/for_each share it).
        configs: dict[str, Any] = {}
        for r in resources:
            configs.setdefault(r["config"]["address"], r["config"])
        data["configuration"] = {"root_module": {"resources": list(configs.values())}}
    return json.dumps(data, indent=2)


def ref(address: str, attribute: str = "id") -> list[str]:
    return [f"{address}.{attribute}", address]


# ---- the seed fixtures -------------------------------------------------------------------------

S1_BAD = {
    ("CV001", "aws_s3_bucket.artifacts"),
    ("CV002", "aws_s3_bucket.artifacts"),
    ("CV006", "aws_s3_bucket.artifacts"),
    ("CV008", "aws_s3_bucket.artifacts"),
    ("CV009", "aws_s3_bucket.artifacts"),
    # One CV090 per input, on the first untagged resource, listing all six.
    ("CV090", "aws_s3_bucket.artifacts"),
    ("CV004", "aws_ecr_repository.app"),
    ("CV008", "aws_ecr_repository.app"),
    ("CV020", "aws_ecr_repository.app"),
    ("CV021", "aws_ecr_repository.app"),
    ("CV022", "aws_ecr_repository.app"),
    ("CV050", "aws_iam_role_policy.build"),
    ("CV013", "aws_cloudwatch_log_group.build"),
    ("CV034", "aws_cloudwatch_log_group.build"),
    ("CV016", "aws_codebuild_project.build"),  # no encryption_key: artifacts use aws/s3
    ("CV030", "aws_codebuild_project.build"),
    ("CV031", "aws_codebuild_project.build"),
    ("CV032", "aws_codebuild_project.build"),
    ("CV033", "aws_codebuild_project.build"),
    ("CV038", "aws_codebuild_project.build"),
    ("CV040", "aws_codebuild_project.build"),
    ("CV012", "aws_sns_topic.failures"),
    ("CV081", "aws_sns_topic.failures"),
}


def test_seed_s1_bad_plan_reports_each_seed_failure_on_its_address() -> None:
    result = check_paths([FIXTURES / "seed-s1-bad.plan.json"])
    assert not result.errors
    assert findings(result) == S1_BAD
    assert result.exit_code() == 1


def test_seed_s1_good_plan_is_clean() -> None:
    result = check_paths([FIXTURES / "seed-s1-good.plan.json"])
    assert not result.errors
    assert result.findings == []
    assert result.resources == 10  # 15 Terraform resources; the split ones joined their owner


S4_BAD = {
    # Seed 003 (and S2/S3 for the same pipeline shape); see test_pulumi.S4_BAD.
    ("CV001", "aws_s3_bucket.artifacts"),
    ("CV002", "aws_s3_bucket.artifacts"),
    ("CV005", "aws_s3_bucket.artifacts"),
    ("CV006", "aws_s3_bucket.artifacts"),
    ("CV008", "aws_s3_bucket.artifacts"),
    ("CV009", "aws_s3_bucket.artifacts"),
    ("CV042", "aws_codepipeline.api"),
    ("CV053", "aws_codepipeline.api"),
    ("CV059", "aws_codepipeline.api"),  # the pipeline role may not create deployments
    ("CV014", "aws_dynamodb_table.deployments"),  # no SSE with a customer key or PITR
    ("CV060", "aws_codepipeline.api"),
    ("CV080", "aws_codepipeline.api"),
    ("CV084", "aws_codepipeline.api"),
    ("CV085", "aws_codepipeline.api"),
    ("CV092", "aws_codepipeline.api"),
    ("CV092", "aws_dynamodb_table.deployments"),
    ("CV055", "aws_iam_role.codedeploy"),
    ("CV076", "aws_lambda_function.api"),
    ("CV082", "aws_cloudwatch_metric_alarm.errors"),
    # A V2 pipeline whose deploy stage does not roll back to the last good release.
    ("CV102", "aws_codepipeline.api"),
}


def test_seed_s4_bad_and_good_plans() -> None:
    bad = check_paths([FIXTURES / "seed-s4-bad.plan.json"])
    good = check_paths([FIXTURES / "seed-s4-good.plan.json"])
    assert not bad.errors and not good.errors
    assert findings(bad) == S4_BAD
    # Advice only: the fixed seed has no scan stage and records deployments from its
    # function; its table is encrypted with the key and recoverable (no CV014).
    assert findings(good) == {("CV084", "aws_codepipeline.api"), ("CV085", "aws_codepipeline.api")}
    assert good.exit_code() == 0


def test_an_arn_from_a_variable_is_not_a_hard_coded_account() -> None:
    arn = "arn:aws:codestar-connections:us-east-1:111122223333:connection/abc"
    config = {"ConnectionArn": arn, "FullRepositoryId": "acme/api"}
    action = {
        "name": "Source",
        "category": "Source",
        "owner": "AWS",
        "provider": "CodeStarSourceConnection",
        "version": "1",
        "configuration": config,
    }
    values = {"name": "p", "stage": [{"name": "Source", "action": [action]}]}
    literal = resource("aws_codepipeline.p", values)
    from_var = resource("aws_codepipeline.p", values)
    stage = {
        "name": {"constant_value": "Source"},
        "action": [{"configuration": {"references": ["var.connection_arn"]}}],
    }
    from_var["config"]["expressions"]["stage"] = [stage]
    assert ("CV036", "aws_codepipeline.p") in findings(check_text(plan(literal), name="p.json"))
    assert ("CV036", "aws_codepipeline.p") not in findings(
        check_text(plan(from_var), name="p.json")
    )


def test_findings_carry_the_line_of_the_address_key() -> None:
    path = FIXTURES / "seed-s1-bad.plan.json"
    lines = path.read_text().splitlines()
    result = check_paths([path])
    for finding in result.findings:
        assert f'"address": "{finding.resource}"' in lines[finding.line - 1]
    assert {f.path for f in result.findings if f.rule == "CV032"} == {
        "aws_codebuild_project.build.build_timeout"
    }


# ---- joins ---------------------------------------------------------------------------------------

PAB_ALL = {
    "block_public_acls": True,
    "block_public_policy": True,
    "ignore_public_acls": True,
    "restrict_public_buckets": True,
}


def test_split_resources_join_the_bucket_they_reference_not_the_one_with_their_name() -> None:
    text = plan(
        resource("aws_s3_bucket.logs", {"bucket": "acme-logs"}),
        resource("aws_s3_bucket.data", {"bucket": "acme-data"}),
        # Named like "logs" but written for "data": the join follows the reference.
        resource(
            "aws_s3_bucket_public_access_block.logs",
            {"bucket": None, **PAB_ALL},
            refs={"bucket": ref("aws_s3_bucket.data")},
            unknown={"bucket": True},
        ),
    )
    result = check_text(text, name="plan.json")
    assert ("CV001", "aws_s3_bucket.logs") in findings(result)
    assert ("CV001", "aws_s3_bucket.data") not in findings(result)


def test_each_split_bucket_resource_lands_on_its_owner() -> None:
    bucket = "aws_s3_bucket.b"
    text = plan(
        resource(bucket, {"bucket": "acme-b"}),
        resource(
            "aws_s3_bucket_server_side_encryption_configuration.x",
            {
                "bucket": None,
                "rule": [
                    {
                        "apply_server_side_encryption_by_default": [
                            {"sse_algorithm": "AES256", "kms_master_key_id": None}
                        ]
                    }
                ],
            },
            refs={"bucket": ref(bucket)},
        ),
        resource(
            "aws_s3_bucket_public_access_block.y",
            {"bucket": None, **PAB_ALL},
            refs={"bucket": ref(bucket)},
        ),
    )
    result = check_text(text, name="plan.json")
    assert not {("CV001", bucket), ("CV002", bucket)} & findings(result)


def test_a_state_file_joins_by_the_owner_id() -> None:
    state = {
        "format_version": "1.0",
        "terraform_version": "1.9.8",
        "values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_s3_bucket.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket",
                        "name": "b",
                        "values": {
                            "id": "acme-b",
                            "bucket": "acme-b",
                            "arn": "arn:aws:s3:::acme-b",
                        },
                    },
                    {
                        "address": "aws_s3_bucket_public_access_block.b",
                        "mode": "managed",
                        "type": "aws_s3_bucket_public_access_block",
                        "name": "b",
                        "values": {"bucket": "acme-b", **PAB_ALL, "block_public_policy": False},
                    },
                ]
            }
        },
    }
    result = check_text(json.dumps(state), name="state.json")
    hits = [f for f in result.findings if f.rule == "CV001"]
    assert [(f.resource, "block_public_policy" in f.message) for f in hits] == [
        ("aws_s3_bucket.b", True)
    ]


def test_role_policy_attachment_and_inline_policy_join_the_role() -> None:
    role = "aws_iam_role.deploy"
    text = plan(
        resource(role, {"name": "deploy", "assume_role_policy": "{}"}),
        resource(
            "aws_iam_role_policy_attachment.codedeploy",
            {"role": None, "policy_arn": "arn:aws:iam::aws:policy/AWSCodeDeployRole"},
            refs={"role": ref(role, "name")},
        ),
        resource(
            "aws_iam_role_policy.inline",
            {
                "role": None,
                "name": "inline",
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
                ),
            },
            refs={"role": ref(role)},
        ),
    )
    result = check_text(text, name="plan.json")
    assert ("CV055", role) in findings(result)  # the deprecated policy, found on the role
    assert ("CV050", "aws_iam_role_policy.inline") in findings(result)


def test_count_instances_join_the_instance_with_the_same_key() -> None:
    text = plan(
        resource("aws_ecr_repository.r[0]", {"name": "a"}),
        resource("aws_ecr_repository.r[1]", {"name": "b"}),
        resource(
            "aws_ecr_lifecycle_policy.p[1]",
            {"repository": None, "policy": "{}"},
            refs={"repository": ["aws_ecr_repository.r[count.index].name", "aws_ecr_repository.r"]},
        ),
    )
    result = check_text(text, name="plan.json")
    cv020 = {res for rule, res in findings(result) if rule == "CV020"}
    assert cv020 == {"aws_ecr_repository.r[0]"}


def test_references_inside_a_module_resolve_within_that_module() -> None:
    data = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.ci",
                        "resources": [
                            {
                                "address": "module.ci.aws_sns_topic.t",
                                "mode": "managed",
                                "type": "aws_sns_topic",
                                "name": "t",
                                "values": {"name": "t"},
                            },
                            {
                                "address": "module.ci.aws_sns_topic_subscription.s",
                                "mode": "managed",
                                "type": "aws_sns_topic_subscription",
                                "name": "s",
                                "values": {"protocol": "email", "endpoint": "a@example.com"},
                            },
                        ],
                    }
                ]
            }
        },
        "configuration": {
            "root_module": {
                "module_calls": {
                    "ci": {
                        "module": {
                            "resources": [
                                {
                                    "address": "aws_sns_topic.t",
                                    "expressions": {"name": {"constant_value": "t"}},
                                },
                                {
                                    "address": "aws_sns_topic_subscription.s",
                                    "expressions": {
                                        "topic_arn": {
                                            "references": ["aws_sns_topic.t.arn", "aws_sns_topic.t"]
                                        }
                                    },
                                },
                            ]
                        }
                    }
                }
            }
        },
    }
    result = check_text(json.dumps(data), name="plan.json")
    assert ("CV081", "module.ci.aws_sns_topic.t") not in findings(result)
    assert ("CV012", "module.ci.aws_sns_topic.t") in findings(result)


# ---- unknown is not missing --------------------------------------------------------------------


def test_a_key_known_only_after_apply_is_not_missing_encryption() -> None:
    topic = "aws_sns_topic.t"
    unknown_key = plan(
        resource(
            topic,
            {"name": "t"},
            refs={"kms_master_key_id": ["var.key_arn"]},
            unknown={"kms_master_key_id": True},
        ),
    )
    no_key = plan(resource(topic, {"name": "t"}))
    assert ("CV012", topic) not in findings(check_text(unknown_key, name="plan.json"))
    assert ("CV012", topic) in findings(check_text(no_key, name="plan.json"))


def test_an_unknown_provider_default_the_user_did_not_write_is_absent() -> None:
    # after_unknown marks computed attributes too; only what the configuration sets counts.
    topic = "aws_sns_topic.t"
    text = plan(resource(topic, {"name": "t"}, unknown={"kms_master_key_id": True}))
    assert ("CV012", topic) in findings(check_text(text, name="plan.json"))


def test_a_policy_known_only_after_apply_is_assumed_to_grant() -> None:
    role, project = "aws_iam_role.build", "aws_codebuild_project.build"
    text = plan(
        resource(role, {"name": "build", "assume_role_policy": "{}"}),
        resource(
            "aws_iam_role_policy.push",
            {"role": None, "policy": None},
            refs={"role": ref(role), "policy": ref("aws_ecr_repository.r", "arn")},
            unknown={"policy": True},
        ),
        resource(
            project,
            {
                "name": "build",
                "environment": [{"privileged_mode": True}],
                "source": [
                    {"buildspec": "phases:\n  build:\n    commands:\n      - docker push x\n"}
                ],
            },
            refs={"service_role": ref(role, "arn")},
            unknown={"service_role": True},
        ),
    )
    result = check_text(text, name="plan.json")
    assert ("CV052", project) not in findings(result)
    assert ("CV050", "aws_iam_role_policy.push") not in findings(result)


def test_a_name_built_from_variables_is_not_hard_coded() -> None:
    bucket = "aws_s3_bucket.b"
    literal = plan(resource(bucket, {"bucket": "acme-artifacts"}))
    from_vars = plan(
        resource(bucket, {"bucket": "acme-artifacts-dev"}, refs={"bucket": ["var.environment"]})
    )
    assert ("CV009", bucket) in findings(check_text(literal, name="plan.json"))
    assert ("CV009", bucket) not in findings(check_text(from_vars, name="plan.json"))


def test_force_destroy_empties_the_bucket_before_terraform_destroy() -> None:
    bucket = "aws_s3_bucket.b"
    kept = plan(resource(bucket, {"bucket": "b", "force_destroy": False}))
    emptied = plan(resource(bucket, {"bucket": "b", "force_destroy": True}))
    assert ("CV008", bucket) in findings(check_text(kept, name="plan.json"))
    assert ("CV008", bucket) not in findings(check_text(emptied, name="plan.json"))


def test_stack_attribute_rules_do_not_apply_to_terraform() -> None:
    text = plan(resource("aws_ecr_repository.r", {"name": "r"}))
    rules = {f.rule for f in check_text(text, name="plan.json").findings}
    assert not rules & {"CV007", "CV095"}


# ---- suppressions --------------------------------------------------------------------------------


def test_the_suppress_tag_carries_rule_and_reason() -> None:
    bucket = "aws_s3_bucket.b"
    text = plan(
        resource(
            bucket,
            {
                "bucket": "b",
                "tags": {
                    "conveyor:suppress": "CV009: name fixed by the partner contract; CV006: short"
                },
            },
        )
    )
    result = check_text(text, name="plan.json")
    assert [(f.rule, f.reason) for f in result.suppressed if f.rule == "CV009"] == [
        ("CV009", "name fixed by the partner contract")
    ]
    # A reason under 10 characters does not suppress and is itself a finding.
    assert {("CV006", bucket), ("CV000", bucket)} <= findings(result)


# ---- detection and errors ----------------------------------------------------------------


def test_a_plan_in_a_directory_is_found_and_checked(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(plan(resource("aws_sns_topic.t", {"name": "t"})))
    (tmp_path / "notes.json").write_text('{"format_version": "x"}')
    result = check_paths([tmp_path])
    assert result.files == 1
    assert ("CV012", "aws_sns_topic.t") in findings(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [}}',
            "plan.json:1: invalid JSON",
        ),
        (
            '{"format_version": "1.2", "planned_values": []}',
            "plan.json: planned_values: must be an object, not a list",
        ),
        (
            '{"format_version": "1.2", "planned_values": {"root_module": {"resources": {}}}}',
            "plan.json: planned_values.root_module.resources: must be a list, not an object",
        ),
        (
            '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [{}]}}}',
            'planned_values.root_module.resources[0]: a resource needs "address" and "type"',
        ),
        (
            '{"format_version": "2.0", "planned_values": {}}',
            "format_version: version 2.0 is newer than conveyor reads",
        ),
        (
            '{"format_version": "1.2", "resource_changes": [{"address": "a"}]}',
            'resource_changes[0]: a change needs an "address" string and a "change" object',
        ),
    ],
)
def test_a_malformed_plan_exits_2_naming_the_key(text: str, message: str) -> None:
    result = check_text(text, name="plan.json")
    assert result.exit_code() == 2
    assert len(result.errors) == 1
    assert message in result.errors[0].message
    assert "internal error" not in result.errors[0].message


def test_forcing_the_wrong_input_kind_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(plan(resource("aws_sns_topic.t", {"name": "t"})))
    runner = CliRunner()
    forced = runner.invoke(app, ["check", str(path), "--input", "pulumi"])
    assert forced.exit_code == 2
    assert "--input pulumi expects the output of `pulumi preview --json`" in forced.output
    as_template = runner.invoke(app, ["check", str(path), "--input", "cloudformation"])
    assert as_template.exit_code == 2
    auto = runner.invoke(app, ["check", str(path), "--input", "terraform", "--format", "json"])
    assert auto.exit_code == 1
    assert json.loads(auto.output)["findings"][0]["resource"] == "aws_sns_topic.t"


TF_FIX = "give the output of `terraform show -json tfplan` (or of a state file) unchanged"


@pytest.mark.parametrize(
    ("values", "kind"),
    [("x", "a string"), (None, "null"), (7, "int"), ([1], "a list")],
)
def test_a_plan_section_of_the_wrong_shape_says_what_it_found(values: Any, kind: str) -> None:
    text = json.dumps({"format_version": "1.2", "planned_values": {"root_module": values}})
    result = check_text(text, name="plan.json")
    # Null too: Terraform writes an empty module as {}, and null would read as "nothing to
    # check" while the plan's resources went unread.
    expected = [f"plan.json: planned_values.root_module: must be an object, not {kind}; {TF_FIX}"]
    assert [e.message for e in result.errors] == expected


def _nested_modules(depth: int) -> dict[str, Any]:
    module: dict[str, Any] = {"resources": []}
    for _ in range(depth):
        module = {"child_modules": [module]}
    return module


@pytest.mark.parametrize(
    ("document", "where", "problem"),
    [
        (
            {"format_version": 1, "values": {}},
            "format_version",
            'must be a version string such as "1.2"',
        ),
        (
            {"format_version": "x.1", "values": {}},
            "format_version",
            'must be a version string such as "1.2"',
        ),
        (
            {"format_version": "1.2", "configuration": []},
            "configuration",
            "must be an object, not a list",
        ),
        (
            {"format_version": "1.2", "planned_values": {"root_module": {"child_modules": {}}}},
            "planned_values.root_module.child_modules",
            "must be a list, not an object",
        ),
        (
            {"format_version": "1.2", "planned_values": {"root_module": {"child_modules": [7]}}},
            "planned_values.root_module.child_modules[0]",
            "must be an object, not int",
        ),
        (
            {
                "format_version": "1.2",
                "planned_values": {
                    "root_module": {
                        "resources": [
                            {"address": "aws_sns_topic.t", "type": "aws_sns_topic", "values": []}
                        ]
                    }
                },
            },
            "planned_values.root_module.resources[0].values",
            "must be an object, not a list",
        ),
        (
            {"format_version": "1.2", "planned_values": {"root_module": _nested_modules(52)}},
            "planned_values.root_module" + ".child_modules[0]" * 51,
            "modules nested more than 50 deep",
        ),
        (
            {"format_version": "1.2", "resource_changes": {}},
            "resource_changes",
            "must be a list, not an object",
        ),
    ],
)
def test_malformed_plan_messages_name_file_key_and_fix(
    document: dict[str, Any], where: str, problem: str
) -> None:
    result = check_text(json.dumps(document), name="plan.json", input_kind="terraform")
    assert [e.message for e in result.errors] == [f"plan.json: {where}: {problem}; {TF_FIX}"]


def test_fifty_nested_modules_are_read() -> None:
    module = _nested_modules(50)
    inner = module
    while inner.get("child_modules"):
        inner = inner["child_modules"][0]
    inner["resources"] = [
        {"address": "module.deep.aws_sns_topic.t", "type": "aws_sns_topic", "values": {"name": "t"}}
    ]
    text = json.dumps({"format_version": "1.9", "planned_values": {"root_module": module}})
    result = check_text(text, name="plan.json")
    assert not result.errors
    assert ("CV012", "module.deep.aws_sns_topic.t") in findings(result)


def test_data_sources_are_skipped_and_the_resources_after_them_read() -> None:
    text = json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [
                        {
                            "address": "data.aws_sns_topic.x",
                            "mode": "data",
                            "type": "aws_sns_topic",
                            "values": {"name": "x"},
                        },
                        {
                            "address": "aws_sns_topic.t",
                            "type": "aws_sns_topic",
                            "values": {"name": "t"},
                        },
                    ]
                }
            },
        }
    )
    assert {r for _, r in findings(check_text(text, name="plan.json"))} == {"aws_sns_topic.t"}


def test_a_resource_missing_from_the_configuration_keeps_only_known_values() -> None:
    # A plan with configuration, and a resource it does not describe (a module from a
    # registry, say): its known values count, its unknown ones are absent.
    text = plan(
        resource("aws_sns_topic.described", {"name": "d"}),
        resource("aws_sns_topic.other", {"name": "o"}, unknown={"kms_master_key_id": True}),
    )
    data = json.loads(text)
    data["configuration"]["root_module"]["resources"] = [
        data["configuration"]["root_module"]["resources"][0]
    ]
    result = check_text(json.dumps(data), name="plan.json")
    assert ("CV012", "aws_sns_topic.other") not in findings(result)  # unknown, not missing


@pytest.mark.parametrize(
    "text",
    [
        # `terraform show -json` of a state with no resources prints no "values" at all
        # (hashicorp/terraform internal/command/testdata/show-json-state/empty/output.json).
        '{"format_version": "1.0"}',
        '{"format_version": "1.0", "terraform_version": "1.9.5"}',
    ],
)
def test_an_empty_state_is_a_terraform_input_with_nothing_to_report(text: str) -> None:
    for kind in ("auto", "terraform"):
        result = check_text(text, name="state.json", input_kind=kind)
        assert result.errors == [] and result.findings == [], kind


def test_tags_all_known_only_after_apply_is_unknown_not_missing() -> None:
    """With the provider's default_tags computed, tags_all is unknown in the plan: a required
    tag may come from it, so it is not reported missing (it was, once tags_all was dropped as
    an attribute the configuration does not write)."""
    from conveyor.rules import check_text

    topic = {"name": "t", "tags": {"team": "ci"}}
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_sns_topic.t",
                        "mode": "managed",
                        "type": "aws_sns_topic",
                        "name": "t",
                        "values": topic,
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": "aws_sns_topic.t",
                "mode": "managed",
                "type": "aws_sns_topic",
                "change": {
                    "actions": ["create"],
                    "after": topic,
                    "after_unknown": {"arn": True, "id": True, "tags_all": True},
                },
            }
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_sns_topic.t",
                        "mode": "managed",
                        "type": "aws_sns_topic",
                        "name": "t",
                        "expressions": {
                            "name": {"constant_value": "t"},
                            "tags": {"constant_value": {"team": "ci"}},
                        },
                    }
                ]
            }
        },
    }
    text = json.dumps(plan)
    result = check_text(text, name="plan.json", require_tags=["owner"])
    assert result.errors == [] and "CV090" not in {f.rule for f in result.findings}
    known = json.loads(text)
    known["resource_changes"][0]["change"]["after_unknown"] = {"arn": True, "id": True}
    known["resource_changes"][0]["change"]["after"]["tags_all"] = {"team": "ci"}
    known["planned_values"]["root_module"]["resources"][0]["values"]["tags_all"] = {"team": "ci"}
    result = check_text(json.dumps(known), name="plan.json", require_tags=["owner"])
    (missing,) = [f for f in result.findings if f.rule == "CV090"]  # known: it is judged
    assert "owner" in missing.message


def test_each_value_of_a_for_each_over_resources_joins_the_instance_of_the_same_key() -> None:
    """``for_each = aws_s3_bucket.b`` with ``bucket = each.value.id``: Terraform records the
    references ``each.value.id`` and ``each.value``; the bucket's id is unknown until apply, so
    only the for_each expression says which bucket each block belongs to. Read without it, the
    access block and encryption were dropped and the bucket reported as having neither."""
    from conveyor.rules import check_text

    path = Path(__file__).parent / "fixtures" / "terraform" / "for-each-value.plan.json"
    text = path.read_text()
    result = check_text(text, name="plan.json")
    assert result.errors == []
    found = {f.rule for f in result.findings}
    assert not found & {"CV001", "CV002"}
    assert result.resources == 1  # both blocks joined to their bucket
    # The same plan without the for_each expression cannot join them: the bucket lacks both.
    data = json.loads(text)
    for resource in data["configuration"]["root_module"]["resources"]:
        resource.pop("for_each_expression", None)
    blind = {f.rule for f in check_text(json.dumps(data), name="plan.json").findings}
    assert {"CV001", "CV002"} <= blind
