"""cdk-nag findings conveyor accepts on purpose, each with the reason it is right.

These use aws-cdk-lib's own `Validations` API, so they cost nothing when cdk-nag is not loaded.
Finding ids must match exactly (`AwsSolutions-IAM5[Action::s3:List*]`), and some embed logical
ids or the region, so they are computed from the constructs rather than written out.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

PACK = "AwsSolutions::AwsSolutions"

# CDK's `grantRead`/`grantReadWrite` on a bucket and its key expand to these action families.
_BUCKET_GRANT_ACTIONS = (
    "s3:Abort*",
    "s3:DeleteObject*",
    "s3:GetBucket*",
    "s3:GetObject*",
    "s3:List*",
)
_KEY_GRANT_ACTIONS = ("kms:GenerateDataKey*", "kms:ReEncrypt*")


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{PACK}-{finding}", reason=reason))


def artifact_access(scope: IConstruct, bucket: s3.IBucket) -> None:
    """A role that reads or writes pipeline artifacts through CDK grants."""
    stack = cdk.Stack.of(scope)
    logical_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    reason = (
        "CDK grant limited to the pipeline's own artifact bucket and its objects; object-level "
        "actions need the bucket/* ARN"
    )
    for action in _BUCKET_GRANT_ACTIONS:
        acknowledge(scope, f"IAM5[Action::{action}]", reason)
    acknowledge(scope, f"IAM5[Resource::<{logical_id}.Arn>/*]", reason)
    for action in _KEY_GRANT_ACTIONS:
        acknowledge(
            scope,
            f"IAM5[Action::{action}]",
            "CDK grant on the pipeline's own customer-managed key only; the wildcard spans the "
            "variants of one KMS operation",
        )


def key_grants(scope: IConstruct) -> None:
    """A function or role that uses a customer-managed key through CDK grants."""
    for action in _KEY_GRANT_ACTIONS:
        acknowledge(
            scope,
            f"IAM5[Action::{action}]",
            "CDK grant on one customer-managed key of this pipeline; the wildcard spans the "
            "variants of one KMS operation",
        )


def lambda_invoke_action(scope: IConstruct, function: IConstruct) -> None:
    """The role CDK gives a pipeline's Lambda invoke action."""
    stack = cdk.Stack.of(scope)
    default_child = function.node.default_child
    assert default_child is not None
    logical_id = stack.resolve(stack.get_logical_id(default_child))  # type: ignore[arg-type]
    acknowledge(
        scope,
        f"IAM5[Resource::<{logical_id}.Arn>:*]",
        "invoke permission on the versions of this pipeline's own handler (CDK grant)",
    )
    acknowledge(
        scope,
        "IAM5[Resource::*]",
        "lambda:ListFunctions, added by CDK's Lambda invoke action, supports no resource-level "
        "permissions; invocation is limited to the handler",
    )


def vpc_validator_invocation(scope: IConstruct, name: str) -> None:
    """The role of a Validate action that invokes an environment stack's in-VPC validator by
    its name (CDK grants the function and its versions, and lambda:ListFunctions)."""
    acknowledge(
        scope,
        f"IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:"
        f"{name}:*]",
        "invoke permission on the versions of the environment's own validation function (CDK "
        "grant)",
    )
    acknowledge(
        scope,
        "IAM5[Resource::*]",
        "lambda:ListFunctions, added by CDK's Lambda invoke action, supports no resource-level "
        "permissions; invocation is limited to the validation function",
    )


def function_versions(scope: IConstruct, function: IConstruct, reason: str) -> None:
    """Grants on `function` and its versions/aliases (`<Arn>:*`)."""
    stack = cdk.Stack.of(scope)
    default_child = function.node.default_child
    assert default_child is not None
    logical_id = stack.resolve(stack.get_logical_id(default_child))  # type: ignore[arg-type]
    acknowledge(scope, f"IAM5[Resource::<{logical_id}.Arn>:*]", reason)


def build_project(scope: IConstruct, project_logical_id: str, *, uses_registry: bool) -> None:
    """The CodeBuild project's role: CDK's log and report-group grants, and the ECR login."""
    stack = cdk.Stack.of(scope)
    region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
    partition = "<AWS::Partition>" if cdk.Token.is_unresolved(stack.partition) else stack.partition
    acknowledge(
        scope,
        f"IAM5[Resource::arn:{partition}:logs:{region}:<AWS::AccountId>:log-group:"
        f"/aws/codebuild/<{project_logical_id}>:*]",
        "log streams of the project's own log group; CodeBuild names each stream at run time",
    )
    acknowledge(
        scope,
        f"IAM5[Resource::arn:{partition}:codebuild:{region}:<AWS::AccountId>:report-group/"
        f"<{project_logical_id}>-*]",
        "report groups CodeBuild creates for this project, named after it",
    )
    if uses_registry:
        acknowledge(
            scope,
            "IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permissions; pushes and pulls "
            "are limited to the application's repository",
        )


def stack_deploy_actions(
    pipeline: IConstruct, stack_name: str, *, region: str | None = None
) -> None:
    """The roles of CDK's CloudFormation deploy actions, on one environment's stack (in
    `region` when it is not the pipeline's)."""
    region = region or cdk.Stack.of(pipeline).region
    shown = "<AWS::Region>" if cdk.Token.is_unresolved(region) else region
    reason = (
        "CDK's CloudFormation deploy action: read-only describe calls, on this environment's "
        "one stack, whose ARN ends in an id CloudFormation generates"
    )
    acknowledge(pipeline, "IAM5[Action::cloudformation:DescribeStack*]", reason)
    acknowledge(pipeline, "IAM5[Action::cloudformation:GetTemplate*]", reason)
    acknowledge(
        pipeline,
        f"IAM5[Resource::arn:<AWS::Partition>:cloudformation:{shown}:<AWS::AccountId>:"
        f"stack/{stack_name}/*]",
        reason,
    )
    acknowledge(
        pipeline,
        f"IAM5[Resource::arn:aws:cloudformation:{shown}:<AWS::AccountId>:stack/{stack_name}/*]",
        reason,
    )


def regional_package_key(scope: IConstruct, *, region: str) -> None:
    """The job that copies a release's package into another region's package store
    (regional_support.py): that region's keys carrying the store key's alias."""
    acknowledge(
        scope,
        f"IAM5[Resource::arn:<AWS::Partition>:kms:{region}:<AWS::AccountId>:key/*]",
        "only the key whose alias is the regional artifact store's (kms:ResourceAliases "
        "condition), which encrypts that region's package store: its ARN is not known before "
        "its stack exists, and an alias ARN as the resource covers no key",
    )


def regional_artifacts(scope: IConstruct, *, bucket_name: str, region: str) -> None:
    """A role that copies or reads artifacts in another region's store (regional_support.py):
    the bucket's objects, and the keys of that region that carry the store key's alias."""
    acknowledge(
        scope,
        f"IAM5[Resource::arn:aws:s3:::{bucket_name}/*]",
        "CDK grant limited to the pipeline's artifact bucket in this region and its objects; "
        "object-level actions need the bucket/* ARN",
    )
    acknowledge(
        scope,
        f"IAM5[Resource::arn:<AWS::Partition>:kms:{region}:<AWS::AccountId>:key/*]",
        "only the key whose alias is the regional artifact store's (kms:ResourceAliases "
        "condition): its ARN is not known before its stack exists, and an alias ARN as the "
        "resource covers no key",
    )


def change_set_reads(scope: IConstruct, stack_name: str, *, region: str | None = None) -> None:
    """The notifier's DescribeChangeSet on one environment's stack (in `region` when not the
    pipeline's): the stack's ARN ends in an id CloudFormation generates."""
    region = region or cdk.Stack.of(scope).region
    shown = "<AWS::Region>" if cdk.Token.is_unresolved(region) else region
    reason = (
        "The approval notice reads this execution's change set of this environment's one "
        "stack (read-only), whose ARN ends in an id CloudFormation generates"
    )
    for partition in ("<AWS::Partition>", "aws"):
        acknowledge(
            scope,
            f"IAM5[Resource::arn:{partition}:cloudformation:{shown}:<AWS::AccountId>:"
            f"stack/{stack_name}/*]",
            reason,
        )
