"""Resources of a Terraform plan or Pulumi stack that no rule reads (a type the normalizer does
not map, a split resource whose owner is not in the input) are reported as not checked in every
output format, never as a finding: "0 findings" must not read as "all of it checked"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.rules import check_text
from conveyor.rules.catalog import RULES
from conveyor.rules.report import json as json_report
from conveyor.rules.report import sarif

FIXTURES = Path(__file__).parent / "fixtures"
SARIF_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "sarif-schema-2.1.0.json").read_text("utf-8")
)


def _plan(*resources: tuple[str, dict[str, Any]]) -> str:
    return json.dumps(
        {
            "format_version": "1.2",
            "planned_values": {
                "root_module": {
                    "resources": [
                        {"address": a, "type": a.split(".")[0], "values": v} for a, v in resources
                    ]
                }
            },
        }
    )


PLAN = _plan(
    ("aws_vpc.main", {"cidr_block": "10.0.0.0/16", "tags": {"App": "a"}}),
    ("aws_subnet.a", {"cidr_block": "10.0.1.0/24", "tags": {"App": "a"}}),
    ("aws_subnet.b", {"cidr_block": "10.0.2.0/24", "tags": {"App": "a"}}),
    # Its bucket is not in the plan: nothing to join it to, so nothing judged it.
    ("aws_s3_bucket_public_access_block.orphan", {"bucket": "elsewhere"}),
    ("aws_sns_topic.t", {"name": "t", "kms_master_key_id": "alias/k", "tags": {"App": "a"}}),
)


def test_unmapped_types_and_orphaned_split_resources_are_counted() -> None:
    result = check_text(PLAN, name="plan.json")
    assert result.unchecked == {
        "plan.json": {"aws_subnet": 2, "aws_vpc": 1, "aws_s3_bucket_public_access_block": 1}
    }
    assert result.resources == 1  # the topic, the only resource the rules read
    assert all(f.resource == "aws_sns_topic.t" for f in result.findings)


def test_text_says_how_many_resources_of_which_types_were_not_checked() -> None:
    out = CliRunner().invoke(app, ["check", "-", "--ignore", "CV081"], input=PLAN)
    assert out.exit_code == 0, out.output  # a note, never a reason to fail
    assert (
        "note <stdin>: 4 resources of 3 types not checked (no rule reads them): "
        "aws_subnet (2), aws_s3_bucket_public_access_block (1), aws_vpc (1)"
    ) in out.output


def test_json_lists_them_per_file() -> None:
    report = json_report.as_dict(check_text(PLAN, name="plan.json"))
    assert report["not_checked"] == [
        {
            "file": "plan.json",
            "resources": 4,
            "types": {"aws_s3_bucket_public_access_block": 1, "aws_subnet": 2, "aws_vpc": 1},
        }
    ]
    assert (
        json.loads(json_report.render(check_text(PLAN, name="plan.json")))["not_checked"]
        == (report["not_checked"])
    )


def test_sarif_carries_a_note_notification_and_stays_valid() -> None:
    report = sarif.as_dict(check_text(PLAN, name="plan.json"), RULES)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(report)
    invocation = report["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "note"
    assert note["message"]["text"].startswith("plan.json: 4 resources of 3 types not checked")
    assert note["properties"]["notChecked"] == {
        "aws_s3_bucket_public_access_block": 1,
        "aws_subnet": 2,
        "aws_vpc": 1,
    }
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "plan.json"


def test_pulumi_names_its_own_type_tokens_and_other_providers() -> None:
    data = json.loads((FIXTURES / "pulumi" / "seed-s1-good.export.json").read_text())
    resources = data["deployment"]["resources"]
    stack = resources[0]["urn"].rsplit("::", 2)[0]
    resources += [
        {
            "urn": f"{stack}::aws:ec2/vpc:Vpc::main",
            "custom": True,
            "type": "aws:ec2/vpc:Vpc",
            "inputs": {"cidrBlock": "10.0.0.0/16"},
        },
        {
            "urn": f"{stack}::random:index/randomId:RandomId::suffix",
            "custom": True,
            "type": "random:index/randomId:RandomId",
            "inputs": {"byteLength": 4},
        },
        # A component resource is no cloud resource: not counted.
        {"urn": f"{stack}::acme:Pipeline::ci", "custom": False, "type": "acme:Pipeline"},
    ]
    before = check_text(
        (FIXTURES / "pulumi" / "seed-s1-good.export.json").read_text(), name="s.json"
    )
    result = check_text(json.dumps(data), name="stack.json")
    assert result.unchecked["stack.json"] == {
        **before.unchecked.get("s.json", {}),
        "aws:ec2/vpc:Vpc": 1,
        "random:index/randomId:RandomId": 1,
    }


def test_cloudformation_and_fully_mapped_plans_report_nothing() -> None:
    template = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    assert check_text(template, name="t.json").unchecked == {}
    plan = (FIXTURES / "terraform" / "seed-s1-bad.plan.json").read_text()
    assert check_text(plan, name="plan.json").unchecked == {}
