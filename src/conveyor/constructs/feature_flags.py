"""aws-cdk-lib's recommended feature flags: what `cdk init` writes into cdk.json."""

from __future__ import annotations

import json
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Construct


@cache
def recommended_feature_flags() -> dict[str, Any]:
    """The flags, read from the installed aws-cdk-lib (its jsii tarball ships them).

    Without a cdk.json an App gets none of them (CDK-NOTES), and generated stacks would differ
    from what CDK users get.
    """
    jsii_dir = Path(cdk.__file__).parent / "_jsii"
    tarball = next(jsii_dir.glob("aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        if member is None:  # pragma: no cover - aws-cdk-lib always ships it
            return {}
        flags: dict[str, Any] = json.load(member)
    return flags


def apply_recommended(scope: Construct) -> None:
    """Give `scope`'s subtree the recommended flags its app has not set, so conveyor's
    constructs synthesize the same inside any CDK app (e.g. S3 access logs through a bucket
    policy rather than an ACL the private buckets refuse). Must run before `scope` has
    children."""
    for name, value in sorted(recommended_feature_flags().items()):
        if scope.node.try_get_context(name) is None:
            scope.node.set_context(name, value)
