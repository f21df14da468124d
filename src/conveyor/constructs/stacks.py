"""Stacks conveyor creates: the pipeline's (from `conveyor synth`) and one for each environment
in another account."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct


class ConveyorStack(cdk.Stack):
    """A stack whose availability zones resolve at deploy time.

    With an explicit account and region and no CDK CLI context lookups, CDK would put
    placeholder zones (dummy1a, dummy1b) into every VPC: not deployable (cfn-lint W3010,
    CDK-NOTES). Fn::GetAZs asks CloudFormation for the account's real zones instead.
    """

    @property
    def availability_zones(self) -> list[str]:
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(2)]


class AccountStack(ConveyorStack):
    """An environment's stack in another account: deployed to that account (its environment
    names it, for the CDK CLI), while its template names the account by token, never by literal
    (FM25): key policies, bucket policies and ARNs say AWS::AccountId.
    """

    @property
    def account(self) -> str:
        return cdk.Aws.ACCOUNT_ID


def app_scope(construct: Construct) -> Construct:
    """Where stacks beside `construct`'s go: its Stage (an App is one), or the tree's root."""
    stage = cdk.Stage.of(construct)
    if stage is not None:
        return stage
    root = construct.node.root
    assert isinstance(root, Construct)
    return root
