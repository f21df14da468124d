"""CloudFormation service role that may delete, rewrite or open any resource of a service.

A stack's service role makes every call of the stack operation
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html).
One written from the resource schemas of a stack's types holds, for an ordinary service stack,
``s3:DeleteBucket``, ``s3:PutBucketPolicy``, ``logs:DeleteLogGroup``, ``sns:SetTopicAttributes``,
``lambda:UpdateFunctionCode``, ``lambda:AddPermission``, ``ecs:UpdateService``,
``ec2:DeleteVpc``, ``ec2:AuthorizeSecurityGroupIngress``, ``elasticloadbalancing:ModifyListener``,
``sqs:DeleteQueue``, ``sqs:SetQueueAttributes``, ``events:PutTargets``,
``application-autoscaling:DeregisterScalableTarget``, ``application-autoscaling:
DeleteScalingPolicy``, ``cloudwatch:DeleteAlarms``,
``ecr:DeleteRepository``, ``ecr:SetRepositoryPolicy`` and more; on ``Resource: "*"`` (or every
resource of the service, ``...:function:*``) without a condition, a staging template, or
whoever can change it, deletes production's buckets, log groups, queues, scaling and alarms,
opens its security groups and listeners, or runs other code as its functions.

Reported: an Allow statement, without ``Condition``, in a policy of a role that trusts
``cloudformation.amazonaws.com``, granting one of those actions (also through a wildcard such as
``s3:*``) on ``*`` or on every resource of a kind (``arn:...:function:*``, ``...:vpc/*``,
``arn:aws:s3:::*``). Scope each to the stack's own resources: by ARN where the stack names them,
by ``aws:ResourceTag`` where the service generates the id (each of these calls supports a
resource ARN, the Service Authorization Reference's resource type column:
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
KMS and IAM calls are CV111's. A statement with a condition is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.iam.cloudformation_role_takeover import trusted_by_cloudformation
from conveyor.rules.iam.identity_policies import documents
from conveyor.rules.intrinsics import as_list, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.policies import action_matches, statements, string_list
from conveyor.rules.template import Resource

# What deletes a resource, rewrites who may use it, or changes what it runs or lets in: one
# or two per service, enough to tell a role granted them by kind from one scoped to its own.
DESTRUCTIVE_ACTIONS = (
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPublicAccessBlock",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "sns:DeleteTopic",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "lambda:DeleteFunction",
    "lambda:UpdateFunctionCode",
    "lambda:AddPermission",
    "ecs:DeleteService",
    "ecs:UpdateService",
    "ecs:DeleteCluster",
    "ec2:DeleteVpc",
    "ec2:DeleteSubnet",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:ModifyListener",
    # A worker's queue and a job's failure rule (issue 15): deleted, its policy rewritten, or
    # its notices sent elsewhere. Each names its queue or rule.
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
    "sqs:DeleteQueue",
    "sqs:SetQueueAttributes",
    "events:DeleteRule",
    "events:PutTargets",
    # A service's scaling and its alarms (issue 15 review): the target deregistered (the
    # service stays at whatever count it had), its policy deleted, the alarms a release gate
    # or a target tracking policy watches deleted. Each names its scalable target or alarm.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:DeleteScalingPolicy",
    "cloudwatch:DeleteAlarms",
    # An image repository (the pipeline's, another region's copy): deleted with its images, or
    # its policy rewritten to let others pull or push. Each names its repository.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    "ecr:DeleteRepository",
    "ecr:SetRepositoryPolicy",
)

# The resource part of an ARN that names no resource in particular: "*", "function:*",
# "vpc/*", "loadbalancer/app/*", an S3 "*" or "*/*".
_EVERY = lazy(r"(?:[a-z-]+[:/])?(?:[a-z]+/)?\*(?:/\*)?")
_PLACEHOLDER = lazy(r"\$\{[^}]*\}|<[^>]*>")


def _every(resource: Any) -> bool:
    text = render(resource)
    if text is None:
        return False
    if text == "*":
        return True
    parts = _PLACEHOLDER.sub("X", text).split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and bool(_EVERY.fullmatch(parts[5]))


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not trusted_by_cloudformation(res, ctx):
        return
    for source in documents(res):
        for index, stmt in statements(source.document):
            if stmt.get("Effect") != "Allow" or "NotAction" in stmt or stmt.get("Condition"):
                continue
            if not any(_every(r) for r in as_list(stmt.get("Resource"))):
                continue
            patterns = string_list(stmt.get("Action"))
            granted = [
                a for a in DESTRUCTIVE_ACTIONS if any(action_matches(p, a) for p in patterns)
            ]
            if granted:
                more = len(granted) - 4
                shown = ", ".join(granted[:4]) + (f" and {more} more" if more > 0 else "")
                yield Hit(
                    res.logical_id,
                    f"{source.path}.Statement.{index}",
                    f"CloudFormation service role may {shown} on every resource of the "
                    "service: a stack it deploys (another environment's, another app's) can "
                    "delete, rewrite or open resources that are not its own. Grant these calls "
                    "on the stack's own resources: their ARNs by name, or aws:ResourceTag of "
                    "the stack's tags where the service generates the id",
                )


RULE = Rule(
    id="CV120",
    title="CloudFormation service role may delete or rewrite any bucket, function, service",
    severity=Severity.HIGH,
    resource_types=(
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
    ),
    failure_modes=("FM125",),
    why="conveyor's own review (issue 10): after keys and roles were scoped, each "
    "environment's CloudFormation role still held s3:DeleteBucket, s3:PutBucketPolicy, "
    "logs:DeleteLogGroup, lambda:UpdateFunctionCode, ecs:UpdateService, ec2:DeleteVpc, "
    "ec2:AuthorizeSecurityGroupIngress and elasticloadbalancing:ModifyListener on '*', and the "
    "pipeline stack's role the same: staging's deploy could delete production's buckets and "
    "log groups or open its security groups.",
    fix_cloudformation="Split the role's statements: the calls that act on an existing "
    "resource on the stack's ARNs (arn:aws:logs:<region>:<account>:log-group:<name>, "
    "arn:aws:lambda:<region>:<account>:function:<name>, arn:aws:s3:::<stack>-<logical id>-*), "
    "or on arn:aws:ec2:<region>:<account>:vpc/* with Condition StringEqualsIfExists "
    "aws:ResourceTag/<tag> of the stack's tags; keep only creates, reads and calls without a "
    "resource type on '*'.",
    fix_cdk="iam.PolicyStatement(actions=['logs:DeleteLogGroup', ...], "
    "resources=[f'arn:{partition}:logs:{region}:{account}:log-group:{name}'])",
    fix_conveyor="Nothing to write: conveyor scopes each CloudFormation role's calls to its "
    "stack's own resources.",
    check=check,
)
