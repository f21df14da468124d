"""cdk-nag as a judge: the AwsSolutions pack, and conveyor's reasoned acknowledgements."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge_known_findings(stack: cdk.Stack) -> None:
    for finding_id, reason in ():
        cdk.Validations.of(stack).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def _unused(_: IConstruct) -> None: ...
