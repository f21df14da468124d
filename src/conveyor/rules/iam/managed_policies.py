"""Deprecated or non-existent AWS managed policy, or the wrong CodeDeploy policy for Lambda.

Names are read from literal ARNs, ``Fn::Sub`` (``arn:${AWS::Partition}:iam::aws:policy/...``)
and ``Fn::Join``. Service-role policies written without their ``service-role/`` path do not
exist and fail the deploy with "Policy ... does not exist or is not attachable".
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import managed_policy_name
from conveyor.rules.template import Resource

REPLACED = {
    "AWSCodePipelineFullAccess": "AWSCodePipeline_FullAccess",
    "AWSCodePipelineReadOnlyAccess": "AWSCodePipeline_ReadOnlyAccess",
    "AWSCodePipelineServiceRole": "a least-privilege inline policy (no such managed policy)",
    "service-role/AWSCodePipelineServiceRole": "a least-privilege inline policy "
    "(no such managed policy)",
    "AWSLambdaFullAccess": "AWSLambda_FullAccess",
    "AWSLambdaReadOnlyAccess": "AWSLambda_ReadOnlyAccess",
    "AmazonEC2ContainerServiceFullAccess": "AmazonECS_FullAccess",
    "AWSCodeStarFullAccess": "scoped CodeConnections permissions (CodeStar is discontinued)",
}
# AWSCodeCommitFullAccess is not here: it is a current AWS managed policy, neither deprecated nor
# removed (https://docs.aws.amazon.com/codecommit/latest/userguide/security-iam-awsmanpol.html);
# whether the account may create repositories at all is CV062's concern.
SERVICE_ROLE_ONLY = frozenset(
    {
        "AWSCodeDeployRole",
        "AWSCodeDeployRoleForLambda",
        "AWSCodeDeployRoleForLambdaLimited",
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaVPCAccessExecutionRole",
        "AWSLambdaRole",
        "AWSLambdaDynamoDBExecutionRole",
        "AWSLambdaKinesisExecutionRole",
        "AWSLambdaSQSQueueExecutionRole",
        "AmazonECSTaskExecutionRolePolicy",
        "AmazonEC2ContainerServiceforEC2Role",
        "AmazonEC2ContainerServiceEventsRole",
        "AmazonEC2ContainerServiceAutoscaleRole",
    }
)


def _compute_platforms(role: str, ctx: Context) -> set[str]:
    platforms: set[str] = set()
    for group in ctx.relations.referrers(role, "AWS::CodeDeploy::DeploymentGroup"):
        app = ctx.relations.target(
            ctx.template.resources[group].properties.get("ApplicationName"),
            "AWS::CodeDeploy::Application",
        )
        platform = get(ctx.template.resources[app].properties, "ComputePlatform") if app else None
        if isinstance(platform, str):
            platforms.add(platform)
    return platforms


# The CodeDeploy policy a deployment group's role needs depends on its compute platform: the
# plain AWSCodeDeployRole is for EC2/on-premises only.
# https://docs.aws.amazon.com/codedeploy/latest/userguide/getting-started-create-service-role.html
CODEDEPLOY_FOR_PLATFORM = {
    "Lambda": "service-role/AWSCodeDeployRoleForLambda",
    "ECS": "AWSCodeDeployRoleForECS",
}


def _for_platform(base: str, platforms: set[str]) -> str:
    """The right policy for a misplaced one; AWSCodeDeployRole by the group's platform."""
    if base == "AWSCodeDeployRole":
        for platform, policy in CODEDEPLOY_FOR_PLATFORM.items():
            if platform in platforms:
                return policy
    return f"service-role/{base}"


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    platforms = _compute_platforms(res.logical_id, ctx) if res.type == "AWS::IAM::Role" else set()
    for index, arn in enumerate(as_list(res.properties.get("ManagedPolicyArns"))):
        named = managed_policy_name(arn)
        if named is None or not named[1]:
            continue
        name = named[0]
        base = name.rsplit("/", 1)[-1]
        path = f"Properties.ManagedPolicyArns.{index}"
        if name in REPLACED or (base in REPLACED and "/" not in name):
            yield Hit(
                res.logical_id,
                path,
                f"managed policy {name} is deprecated or does not exist; use {REPLACED[name]}",
            )
        elif base in SERVICE_ROLE_ONLY and not name.startswith("service-role/"):
            yield Hit(
                res.logical_id,
                path,
                f"managed policy {name} does not exist at that path; it is "
                f"{_for_platform(base, platforms)}",
            )
        elif base == "AWSCodeDeployRole" and "Lambda" in platforms:
            yield Hit(
                res.logical_id,
                path,
                "role of a Lambda deployment group uses AWSCodeDeployRole; use "
                "service-role/AWSCodeDeployRoleForLambda",
            )
        elif base == "AWSCodeDeployRole" and "ECS" in platforms:
            yield Hit(
                res.logical_id,
                path,
                "role of an ECS deployment group uses AWSCodeDeployRole; "
                "use AWSCodeDeployRoleForECS",
            )


RULE = Rule(
    id="CV055",
    title="Deprecated or non-existent managed policy",
    severity=Severity.HIGH,
    resource_types=("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"),
    failure_modes=("FM42",),
    why="S3: 'Policy arn:aws:iam::aws:policy/AWSCodePipelineFullAccess does not exist or is not "
    "attachable'; S4: arn:aws:iam::aws:policy/AWSCodeDeployRole used instead of "
    "service-role/AWSCodeDeployRoleForLambda.",
    fix_cloudformation="Use the current policy name and path (service-role/"
    "AWSCodeDeployRoleForLambda, AWSCodePipeline_FullAccess) or a least-privilege inline policy.",
    fix_cdk="iam.ManagedPolicy.from_aws_managed_policy_name('service-role/"
    "AWSCodeDeployRoleForLambda'), or let codedeploy.LambdaDeploymentGroup create its role.",
    fix_conveyor="Nothing to write: conveyor uses grants and current service-role policies only.",
    check=check,
)
