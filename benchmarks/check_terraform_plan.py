"""How long `conveyor check` takes on a 1,000-resource Terraform plan, against loading the same
plan with Python's `json` (issue 13: "speed on a 1,000-resource plan within 3x of loading it
with json").

    python benchmarks/check_terraform_plan.py [--resources 1000] [--repeat 10]

What is measured, per plan, as the best CPU time (``time.process_time``: on a shared, loaded
machine wall time measures the neighbours) of --repeat interleaved runs, in one process (the
interpreter's start-up and imports are the same for any input, and `benchmarks/startup.py`
measures them):

- ``json.loads``: the baseline, the plan text parsed by the C decoder, as Python runs it, and
  with the cyclic garbage collector off as conveyor parses (the stricter baseline: the
  collector's passes over 10^5 new containers are a fifth of json's time);
- parse, repeats refused: the parse ``load`` begins with (collector off): json's C decoder with
  a hook that records how many keys each object kept, and a few C scans of the text that bound
  how many keys it holds (equal counts prove no key was repeated; otherwise the text is parsed
  again with a hook that finds the repeat);
- read + normalize: ``conveyor.rules.inputs.load``, that parse and the Terraform reader, joins
  and mapping -- what a Terraform input costs beyond a CloudFormation template;
- whole check: ``check_text``, everything `conveyor check plan.json` does for the file after
  start-up: read, normalize, every rule, findings placed, reworded and suppressed.

The plan has Terraform's own shape (what `terraform show -json tfplan` writes for AWS provider
5.x, one line, no indentation): each resource in ``planned_values`` with ``provider_name``,
``schema_version``, every attribute of its schema (null when unset) and ``sensitive_values``;
in ``resource_changes`` with ``before``, ``after``, ``after_unknown`` (every computed
attribute), ``before_sensitive`` and ``after_sensitive``; in ``configuration`` with
``provider_config_key`` and ``expressions``; top-level ``variables``, ``relevant_attributes``,
``timestamp``, ``applyable``/``complete``/``errored``. Shape source: a plan of Terraform 1.4.6
and AWS provider 5 (aquasecurity/defsec ``pkg/scanners/terraformplan`` tests) and the JSON
format, https://developer.hashicorp.com/terraform/internals/json-format; attribute lists from the
provider's resource pages (https://registry.terraform.io/providers/hashicorp/aws/latest/docs).
A lean plan (values the user wrote only, indented; the shape earlier versions of this script
generated) is measured too: per resource it is the normalizer's worst case against json.

The configuration is a maintained one, ten resources per application: a bucket with its
encryption, public access block, versioning and TLS-only policy, a KMS key, a build role and
its policy, a repository and its lifecycle policy. ``--findings`` leaves the buckets'
encryption out (200 findings more). Prints times and ratios; asserts nothing.

CPU times on a shared machine move by a fifth between runs; instruction counts do not. Last
counted on 2026-12-03 by ``benchmarks/count_check_instructions.py`` under ``valgrind
--tool=callgrind --dump-before=getppid`` (one ``check_text`` of each plan in a warm process
between two ``os.getppid()`` markers, the same count every run): the clean plan 303.9M
instructions against 107.4M for ``json.loads`` (2.83x; 316.9M, 2.96x, before the last round
of cuts), the plan with findings 315.0M against 108.7M (2.90x; 331.5M before). Where they go:
docs/check.md, "Speed". What a user's whole ``conveyor check plan.json`` costs, start-up
included: ``benchmarks/count_check_process.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from conveyor.rules import check_text
from conveyor.rules.inputs import _parse, load

PROVIDER = "registry.terraform.io/hashicorp/aws"
# Per type: every attribute of the provider schema a plan lists (null when unset) besides
# those written, and the computed ones (unknown until apply for a new resource).
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "aws_s3_bucket": (
        ("bucket_prefix", "force_destroy", "object_lock_enabled", "tags", "timeouts"),
        (
            "acceleration_status",
            "acl",
            "arn",
            "bucket_domain_name",
            "bucket_regional_domain_name",
            "cors_rule",
            "grant",
            "hosted_zone_id",
            "id",
            "lifecycle_rule",
            "logging",
            "object_lock_configuration",
            "policy",
            "region",
            "replication_configuration",
            "request_payer",
            "server_side_encryption_configuration",
            "tags_all",
            "versioning",
            "website",
            "website_domain",
            "website_endpoint",
        ),
    ),
    "aws_s3_bucket_server_side_encryption_configuration": (
        ("expected_bucket_owner",),
        ("id",),
    ),
    "aws_s3_bucket_public_access_block": (("skip_destroy",), ("id",)),
    "aws_s3_bucket_versioning": (("expected_bucket_owner", "mfa"), ("id",)),
    "aws_s3_bucket_policy": ((), ("id",)),
    "aws_kms_key": (
        (
            "bypass_policy_lockout_safety_check",
            "custom_key_store_id",
            "customer_master_key_spec",
            "deletion_window_in_days",
            "is_enabled",
            "key_usage",
            "multi_region",
            "tags",
            "timeouts",
            "xks_key_id",
        ),
        ("arn", "id", "key_id", "policy", "rotation_period_in_days", "tags_all"),
    ),
    "aws_iam_role": (
        ("description", "force_detach_policies", "max_session_duration", "name_prefix"),
        (
            "arn",
            "create_date",
            "id",
            "inline_policy",
            "managed_policy_arns",
            "permissions_boundary",
            "tags_all",
            "unique_id",
        ),
    ),
    "aws_iam_role_policy": (("name_prefix",), ("id",)),
    "aws_ecr_repository": (
        ("force_delete", "timeouts"),
        ("arn", "id", "registry_id", "repository_url", "tags_all"),
    ),
    "aws_ecr_lifecycle_policy": ((), ("id", "registry_id")),
}


def _resource(
    address: str,
    written: dict[str, Any],
    refs: dict[str, str],
    *,
    lean: bool,
    from_variables: tuple[str, ...] = (),
) -> dict[str, Any]:
    rtype, name = address.split(".")
    optional, computed = SCHEMA[rtype]
    expressions: dict[str, Any] = {k: {"constant_value": v} for k, v in written.items()}
    for key in from_variables:  # "${var.environment}-...": known at plan time, not a literal
        expressions[key] = {"references": ["var.environment"]}
    for key, target in refs.items():
        # Terraform lists each reference with its shorter forms.
        expressions[key] = {"references": [f"{target}.id", target]}
    unknown = dict.fromkeys((*computed, *refs), True)
    if lean:
        values = dict(written)
        planned = {"address": address, "mode": "managed", "type": rtype, "name": name}
        change = {"actions": ["create"], "after": values, "after_unknown": unknown}
        config = {"address": address, "mode": "managed", "type": rtype, "name": name}
        return {
            "planned": {**planned, "values": values},
            "change": {"address": address, "change": change},
            "config": {**config, "expressions": expressions},
        }
    values = {**dict.fromkeys(optional), **written}
    sensitive: dict[str, Any] = {
        k: [] for k in computed if k.endswith(("_rule", "_configuration", "grant"))
    }
    return {
        "planned": {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_name": PROVIDER,
            "schema_version": 0,
            "values": values,
            "sensitive_values": sensitive,
        },
        "change": {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_name": PROVIDER,
            "change": {
                "actions": ["create"],
                "before": None,
                "after": values,
                "after_unknown": unknown,
                "before_sensitive": False,
                "after_sensitive": sensitive,
            },
        },
        "config": {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_config_key": "aws",
            "expressions": expressions,
            "schema_version": 0,
        },
    }


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _application(i: int, *, lean: bool, findings: bool) -> list[dict[str, Any]]:
    bucket, key, role, repo = (
        f"aws_s3_bucket.b{i}",
        f"aws_kms_key.k{i}",
        f"aws_iam_role.r{i}",
        f"aws_ecr_repository.e{i}",
    )
    tags = {"App": f"app{i}", "Environment": "prod"}
    deny_plain_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::acme-{i}-prod", f"arn:aws:s3:::acme-{i}-prod/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    items = [
        _resource(
            bucket,
            {"bucket": f"acme-{i}-prod", "force_destroy": True, "tags": tags},
            {},
            lean=lean,
            from_variables=("bucket",),
        ),
        _resource(
            f"aws_s3_bucket_public_access_block.b{i}",
            dict.fromkeys(
                (
                    "block_public_acls",
                    "block_public_policy",
                    "ignore_public_acls",
                    "restrict_public_buckets",
                ),
                True,
            ),
            {"bucket": bucket},
            lean=lean,
        ),
        _resource(
            f"aws_s3_bucket_versioning.b{i}",
            {"versioning_configuration": [{"mfa_delete": None, "status": "Enabled"}]},
            {"bucket": bucket},
            lean=lean,
        ),
        _resource(
            f"aws_s3_bucket_policy.b{i}",
            {"policy": _policy([deny_plain_http])},
            {"bucket": bucket},
            lean=lean,
        ),
        _resource(
            key,
            {"description": f"app{i}", "enable_key_rotation": True, "tags": tags},
            {},
            lean=lean,
        ),
        _resource(
            role,
            {
                "name": f"app{i}-build-prod",
                "path": "/",
                "assume_role_policy": _policy(
                    [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "codebuild.amazonaws.com"},
                        }
                    ]
                ),
                "tags": tags,
            },
            {},
            lean=lean,
            from_variables=("name",),
        ),
        _resource(
            f"aws_iam_role_policy.r{i}",
            {
                "name": "build",
                "policy": _policy(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": f"arn:aws:s3:::acme-{i}-prod/*",
                        }
                    ]
                ),
            },
            {"role": role},
            lean=lean,
        ),
        _resource(
            repo,
            {
                "name": f"app{i}-prod",
                "image_tag_mutability": "IMMUTABLE",
                "image_scanning_configuration": [{"scan_on_push": True}],
                "encryption_configuration": [{"encryption_type": "KMS", "kms_key": None}],
                "force_delete": True,
                "tags": tags,
            },
            {},
            lean=lean,
            from_variables=("name",),
        ),
        _resource(
            f"aws_ecr_lifecycle_policy.e{i}",
            {
                "policy": json.dumps(
                    {
                        "rules": [
                            {
                                "rulePriority": 1,
                                "selection": {
                                    "tagStatus": "untagged",
                                    "countType": "sinceImagePushed",
                                    "countUnit": "days",
                                    "countNumber": 1,
                                },
                                "action": {"type": "expire"},
                            }
                        ]
                    }
                )
            },
            {"repository": repo},
            lean=lean,
        ),
    ]
    if not findings:
        items.append(
            _resource(
                f"aws_s3_bucket_server_side_encryption_configuration.b{i}",
                {
                    "rule": [
                        {
                            "apply_server_side_encryption_by_default": [
                                {"sse_algorithm": "aws:kms", "kms_master_key_id": None}
                            ],
                            "bucket_key_enabled": True,
                        }
                    ]
                },
                {"bucket": bucket},
                lean=lean,
            )
        )
    return items


def plan(resources: int, *, lean: bool = False, findings: bool = False) -> str:
    items: list[dict[str, Any]] = []
    i = 0
    while len(items) < resources:
        items += _application(i, lean=lean, findings=findings)
        i += 1
    items = items[:resources]
    data: dict[str, Any] = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": [r["planned"] for r in items]}},
        "resource_changes": [r["change"] for r in items],
        "configuration": {"root_module": {"resources": [r["config"] for r in items]}},
    }
    if lean:
        return json.dumps(data, indent=2)
    data["variables"] = {"environment": {"value": "prod"}}
    data["configuration"]["provider_config"] = {
        "aws": {
            "name": "aws",
            "full_name": PROVIDER,
            "expressions": {"region": {"constant_value": "eu-west-1"}},
        }
    }
    data["relevant_attributes"] = []
    data["timestamp"] = "2026-12-02T16:00:00Z"
    data["applyable"] = True
    data["complete"] = True
    data["errored"] = False
    # Terraform writes its JSON on one line.
    return json.dumps(data, separators=(",", ":"))


def best(repeat: int, *actions: Callable[[], object]) -> list[float]:
    """Best CPU time of each action; runs interleaved, so a burst of load on a shared machine
    slows all of them alike instead of one."""
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, spent in zip(actions, times, strict=True):
            started = time.process_time()
            action()
            spent.append(time.process_time() - started)
    return [min(spent) for spent in times]


def measure(label: str, text: str, repeat: int) -> None:
    result = check_text(text, name="plan.json")
    assert not result.errors, result.errors

    def without_gc() -> object:
        # json.loads as conveyor's own parse runs it: the cyclic collector off (a plan holds
        # no cycles; runner._without_cyclic_gc), the stricter baseline.
        gc.disable()
        try:
            return json.loads(text)
        finally:
            gc.enable()

    def parse() -> object:
        # The parse load() begins with (collector off, as load runs it): json's C decoder,
        # with the keys each object kept counted against the keys the text holds.
        gc.disable()
        try:
            return _parse(text, "plan.json", "auto")
        finally:
            gc.enable()

    baseline, quiet, parsed, normalize, check = best(
        repeat,
        lambda: json.loads(text),
        without_gc,
        parse,
        lambda: load(text, name="plan.json", kind="auto"),
        lambda: check_text(text, name="plan.json"),
    )
    print(
        f"{label}: {result.resources:,} resources in the view, {len(text) / 1e6:.1f} MB, "
        f"{len(result.findings)} findings"
    )
    print(f"  json.loads              {baseline * 1000:8.1f} ms   1.00x")
    print(
        f"  json.loads, gc off      {quiet * 1000:8.1f} ms   {quiet / baseline:.2f}x   "
        "(ratios to this below in brackets)"
    )
    print(
        f"  parse, repeats refused  {parsed * 1000:8.1f} ms   {parsed / baseline:.2f}x "
        f"({parsed / quiet:.2f}x)"
    )
    print(
        f"  read + normalize        {normalize * 1000:8.1f} ms   {normalize / baseline:.2f}x "
        f"({normalize / quiet:.2f}x)   parse included"
    )
    print(
        f"  whole check             {check * 1000:8.1f} ms   {check / baseline:.2f}x "
        f"({check / quiet:.2f}x)"
    )
    # Differences of best times: where the rest of the time goes, roughly.
    print(
        f"  of the check: reader and view {(normalize - parsed) * 1000:.1f} ms, rules, "
        f"placement and wording {(check - normalize) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"{args.resources} Terraform resources; best CPU time of {args.repeat} runs")
    measure("plan (terraform show -json)", plan(args.resources), args.repeat)
    measure(
        "plan, buckets without encryption",
        plan(args.resources, findings=True),
        args.repeat,
    )
    measure("lean plan (written values only)", plan(args.resources, lean=True), args.repeat)


if __name__ == "__main__":
    main()
