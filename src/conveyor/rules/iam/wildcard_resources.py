"""Identity policy that allows actions on ``Resource: "*"`` where a scoped ARN exists.

Actions that AWS only authorises on ``*`` (``ecr:GetAuthorizationToken``,
``ecs:RegisterTaskDefinition``, ``xray:PutTraceSegments``, ``cloudwatch:PutMetricData``, the
EC2 network-interface calls CodeBuild needs in a VPC, and every ``Describe*``/``List*``) are
allowed on ``*``. The list is kept short on purpose; an action missing from it is reported and
can be suppressed with the reason.

A role that pulls images for ECS tasks or App Runner (trusting ``ecs-tasks.amazonaws.com`` or
``build.apprunner.amazonaws.com``) may pull from ECR and write its logs on ``*`` unless one of
the template's task definitions runs it with an image of a repository the template defines:
the images are parameters or live in another stack, and ``*`` is what AWS's managed
AmazonECSTaskExecutionRolePolicy grants.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.iam.identity_policies import IDENTITY_TYPES, documents
from conveyor.rules.intrinsics import as_list, get, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import action_matches, statements, string_list
from conveyor.rules.template import Resource

STAR_ONLY = (
    "*:Describe*",
    "*:List*",
    "ecr:GetAuthorizationToken",
    "ecs:RegisterTaskDefinition",
    "ecs:DeregisterTaskDefinition",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "sts:GetCallerIdentity",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:PutResourcePolicy",
    "codestar-notifications:*",
    "s3:ListAllMyBuckets",
    "s3:GetBucketLocation",
    "kms:CreateKey",
    "ssm:GetParametersByPath",
    "tag:GetResources",
    "cloudformation:ValidateTemplate",
    "codedeploy:GetDeploymentConfig",
    # CodePipeline job workers (Lambda invoke actions) cannot name a job ARN.
    "codepipeline:PutJobSuccessResult",
    "codepipeline:PutJobFailureResult",
    "codepipeline:GetJobDetails",
)


PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
)
PULLING_PRINCIPALS = ("ecs-tasks.amazonaws.com", "build.apprunner.amazonaws.com")


def _star_only(action: str) -> bool:
    return any(action_matches(pattern, action) for pattern in STAR_ONLY)


def _roles(res: Resource, ctx: Context) -> list[str]:
    if res.type == "AWS::IAM::Role":
        return [res.logical_id]
    named = [*as_list(res.properties.get("Roles")), res.properties.get("RoleName")]
    return [lid for value in named if (lid := ctx.relations.target(value, "AWS::IAM::Role"))]


def _pulls_unknown_images(role: str, ctx: Context) -> bool:
    """The role pulls images for tasks, and none of this template's tasks that use it runs an
    image of a repository defined here (which could be named instead of '*')."""
    # default=str: a Terraform or Pulumi trust policy object may hold a value unknown until
    # apply (records.UNKNOWN), which json cannot encode.
    document = ctx.template.resources[role].properties.get("AssumeRolePolicyDocument")
    trust = json.dumps(document, default=str)
    if not any(principal in trust for principal in PULLING_PRINCIPALS):
        return False
    repositories = set(ctx.relations.of_type("AWS::ECR::Repository"))
    for task in ctx.relations.referrers(role, "AWS::ECS::TaskDefinition"):
        containers = get(ctx.template.resources[task].properties, "ContainerDefinitions")
        images = [get(c, "Image") for c in as_list(containers)]
        if any(references(image) & repositories for image in images):
            return False
    return True


def _allowed_on_star(res: Resource, ctx: Context) -> tuple[str, ...]:
    if any(_pulls_unknown_images(role, ctx) for role in _roles(res, ctx)):
        return PULL_ACTIONS
    return ()


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    # Worked out on the first statement that needs it: whether a role pulls images reads its
    # trust policy, which most identity policies never need (no Allow on '*').
    also_star: tuple[str, ...] | None = None
    for source in documents(res):
        for index, stmt in statements(source.document):
            if stmt.get("Effect") != "Allow" or "NotAction" in stmt:
                continue
            if "*" not in string_list(stmt.get("Resource")):
                continue
            if also_star is None:
                also_star = _allowed_on_star(res, ctx)
            scoped = [
                a
                for a in string_list(stmt.get("Action"))
                if a != "*" and not a.endswith(":*") and not _star_only(a) and a not in also_star
            ]
            if scoped:
                shown = ", ".join(sorted(set(scoped))[:4]) + (
                    " ..." if len(set(scoped)) > 4 else ""
                )
                yield Hit(
                    res.logical_id,
                    f"{source.path}.Statement.{index}",
                    f"{shown} allowed on Resource '*'; scope them to the ARNs they act on",
                )


RULE = Rule(
    id="CV051",
    title="Wildcard resources where a scoped ARN exists",
    severity=Severity.MEDIUM,
    resource_types=IDENTITY_TYPES,
    failure_modes=("FM40",),
    why="S2 ('Resource: \"*\"'), S3 and S5: broad resource scopes on pipeline roles.",
    fix_cloudformation="Replace '*' with the ARNs (!GetAtt Bucket.Arn, !Sub '${Bucket.Arn}/*', "
    "!GetAtt Repository.Arn ...).",
    fix_cdk="Use resource grants (repository.grant_pull_push(role)) which scope ARNs for you.",
    fix_conveyor="Nothing to write: conveyor's roles are scoped by CDK grants.",
    check=check,
)
