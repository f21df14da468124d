"""How long `conveyor check` takes on a 1,000-resource Terraform plan, against loading the same
plan with Python's `json` (issue 13: reading and normalizing within 3x of `json.loads`).

    python benchmarks/check_terraform_plan.py [--resources 1000] [--repeat 5]

The plan is generated in the `terraform show -json` shape (planned_values, resource_changes
with after_unknown, configuration with references): buckets with their split encryption and
public-access-block resources, roles with inline policies, repositories with lifecycle
policies. Prints the best CPU time (``time.process_time``: on a shared, loaded machine wall
time measures the neighbours) of --repeat runs and the ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from conveyor.rules import check_text
from conveyor.rules.inputs import load


def _resource(address: str, values: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    rtype, name = address.split(".")
    expressions: dict[str, Any] = {k: {"constant_value": v} for k, v in values.items()}
    for key, target in refs.items():
        expressions[key] = {"references": [f"{target}.id", target]}
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
            "change": {
                "actions": ["create"],
                "after": values,
                "after_unknown": {"id": True, "arn": True, **dict.fromkeys(refs, True)},
            },
        },
        "config": {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "expressions": expressions,
        },
    }


def plan(resources: int) -> str:
    items: list[dict[str, Any]] = []
    groups = max(1, resources // 5)
    for i in range(groups):
        bucket = f"aws_s3_bucket.b{i}"
        items += [
            _resource(
                bucket,
                {
                    "bucket": f"acme-{i}",
                    "force_destroy": True,
                    "tags": {"App": "acme", "Environment": "dev"},
                },
                {},
            ),
            _resource(
                f"aws_s3_bucket_public_access_block.b{i}",
                {
                    "block_public_acls": True,
                    "block_public_policy": True,
                    "ignore_public_acls": True,
                    "restrict_public_buckets": True,
                },
                {"bucket": bucket},
            ),
            _resource(
                f"aws_iam_role.r{i}",
                {
                    "name": f"r{i}",
                    "assume_role_policy": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "sts:AssumeRole",
                                    "Principal": {"Service": "codebuild.amazonaws.com"},
                                }
                            ]
                        }
                    ),
                },
                {},
            ),
            _resource(
                f"aws_iam_role_policy.r{i}",
                {
                    "name": "p",
                    "policy": json.dumps(
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject"],
                                    "Resource": f"arn:aws:s3:::acme-{i}/*",
                                }
                            ]
                        }
                    ),
                },
                {"role": f"aws_iam_role.r{i}"},
            ),
            _resource(
                f"aws_ecr_repository.e{i}",
                {"name": f"e{i}", "image_tag_mutability": "IMMUTABLE"},
                {},
            ),
        ]
    data = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": [r["planned"] for r in items]}},
        "resource_changes": [r["change"] for r in items],
        "configuration": {"root_module": {"resources": [r["config"] for r in items]}},
    }
    return json.dumps(data, indent=2)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    text = plan(args.resources)
    baseline, normalize, check = best(
        args.repeat,
        lambda: json.loads(text),
        lambda: load(text, name="plan.json", kind="auto"),
        lambda: check_text(text, name="plan.json"),
    )
    print(f"plan: {args.resources} Terraform resources, {len(text) / 1e6:.1f} MB")
    print(f"CPU time: json.loads       {baseline * 1000:8.1f} ms   1.00x")
    print(f"read + normalize (inputs)  {normalize * 1000:8.1f} ms   {normalize / baseline:.2f}x")
    print(f"conveyor check (all rules) {check * 1000:8.1f} ms   {check / baseline:.2f}x")


if __name__ == "__main__":
    main()
