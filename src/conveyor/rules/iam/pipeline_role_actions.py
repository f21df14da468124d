"""Pipeline (or action) role not allowed what its actions call.

For each action, the role that runs it (the action's ``RoleArn``, else the pipeline's) must be
allowed the calls CodePipeline makes for that action type: ``codebuild:StartBuild`` and
``codebuild:BatchGetBuilds`` for CodeBuild, ``codedeploy:CreateDeployment`` and
``codedeploy:GetDeployment`` for CodeDeploy, ``ecs:UpdateService`` and
``ecs:RegisterTaskDefinition`` for an ECS deploy, ``lambda:InvokeFunction`` for a Lambda invoke,
``codestar-connections:UseConnection`` (or ``codeconnections:``) for a connection source.
https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role

Issue 16 review, from the same service-role policy and each action's reference page
(https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference.html):

- CloudFormation: the calls of its ``ActionMode`` (``CreateStack``/``UpdateStack`` for
  CREATE_UPDATE, ``CreateChangeSet``/``DescribeChangeSet``/``DeleteChangeSet`` for
  CHANGE_SET_REPLACE, ``ExecuteChangeSet`` for CHANGE_SET_EXECUTE, ``DeleteStack`` for
  DELETE_ONLY and REPLACE_ON_FAILURE), ``DescribeStacks`` always, and ``iam:PassRole`` when the
  action hands CloudFormation a ``RoleArn``.
- S3 source: ``s3:GetObject``, ``s3:GetObjectVersion``, ``s3:GetBucketVersioning``; S3 deploy:
  ``s3:PutObject`` (and ``s3:PutObjectAcl`` with a ``CannedACL``). Judged only for a bucket of
  the template, whose bucket policy may grant the role instead (another bucket's policy is not
  visible).
- ECR source: ``ecr:DescribeImages``.
- Step Functions invoke: ``states:StartExecution`` and ``states:DescribeExecution`` (the action
  polls a standard state machine's execution until it ends).
- Manual approval with a ``NotificationArn``: ``sns:Publish``.

A statement counts whatever its Resource (CV051 judges scope); a role not defined here, one with
a customer managed policy, or one whose policy document is built by an intrinsic is not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.iam.pipeline_role_artifacts import resource_policy_grants
from conveyor.rules.intrinsics import intrinsic_name, references
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.policies import PolicySource, grants, managed_grants
from conveyor.rules.template import Resource

Needs = tuple[tuple[str, ...], ...]

# Calls per provider; each tuple lists alternatives of which one must be allowed.
NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "CodeBuild": (("codebuild:StartBuild",), ("codebuild:BatchGetBuilds",)),
    "CodeDeploy": (("codedeploy:CreateDeployment",), ("codedeploy:GetDeployment",)),
    "CodeDeployToECS": (
        ("codedeploy:CreateDeployment",),
        ("codedeploy:GetDeployment",),
        ("ecs:RegisterTaskDefinition",),
    ),
    "ECS": (("ecs:UpdateService",), ("ecs:RegisterTaskDefinition",)),
    "Lambda": (("lambda:InvokeFunction",),),
    "CodeStarSourceConnection": (
        ("codestar-connections:UseConnection", "codeconnections:UseConnection"),
    ),
    "ECR": (("ecr:DescribeImages",),),
    "StepFunctions": (("states:StartExecution",), ("states:DescribeExecution",)),
}
# CloudFormation's calls per ActionMode (DescribeStacks and PassRole are added for every mode).
# https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html
STACK_CALLS: dict[str, tuple[str, ...]] = {
    "CREATE_UPDATE": ("cloudformation:CreateStack", "cloudformation:UpdateStack"),
    "REPLACE_ON_FAILURE": (
        "cloudformation:CreateStack",
        "cloudformation:UpdateStack",
        "cloudformation:DeleteStack",
    ),
    "DELETE_ONLY": ("cloudformation:DeleteStack",),
    "CHANGE_SET_REPLACE": (
        "cloudformation:CreateChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:DeleteChangeSet",
    ),
    "CHANGE_SET_EXECUTE": ("cloudformation:ExecuteChangeSet", "cloudformation:DescribeChangeSet"),
}
# https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-S3.html
S3_SOURCE = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketVersioning")


def _cloudformation(action: Action) -> Needs:
    mode = action.configuration.get("ActionMode")
    calls = STACK_CALLS.get(mode, ()) if isinstance(mode, str) else ()
    needs: list[tuple[str, ...]] = [(c,) for c in calls]
    needs.append(("cloudformation:DescribeStacks",))
    if action.configuration.get("RoleArn") is not None:
        needs.append(("iam:PassRole",))
    return tuple(needs)


def _bucket(action: Action, ctx: Context) -> str | None:
    """The template's bucket an S3 action reads or writes, if it is one of the template's."""
    value = action.configuration.get("S3Bucket", action.configuration.get("BucketName"))
    found = [
        r for r in sorted(references(value)) if ctx.relations.resource_type(r) == "AWS::S3::Bucket"
    ]
    if found:
        return found[0]
    if isinstance(value, str):
        for lid in ctx.relations.of_type("AWS::S3::Bucket"):
            if ctx.template.resources[lid].properties.get("BucketName") == value:
                return lid
    return None


def _needs(action: Action, ctx: Context) -> tuple[Needs, str | None] | None:
    """What the action's role must be allowed, and the template's bucket whose policy may
    grant it instead; None when the action is not judged."""
    if action.provider == "CloudFormation":
        return _cloudformation(action), None
    if action.provider == "S3":
        bucket = _bucket(action, ctx)
        if bucket is None:
            return None
        if action.category == "Source":
            return tuple((a,) for a in S3_SOURCE), bucket
        if action.category == "Deploy":
            acl = action.configuration.get("CannedACL") is not None
            return (("s3:PutObject",), *((("s3:PutObjectAcl",),) if acl else ())), bucket
        return None
    if action.provider == "Manual":
        notify = action.configuration.get("NotificationArn") is not None
        return ((("sns:Publish",),) if notify else ()), None
    needs = NEEDS.get(action.provider)
    return (needs, None) if needs is not None else None


def _role_of(action: Action, pipeline: Resource, ctx: Context) -> str | None:
    own = action.data.get("RoleArn")
    if own is not None:
        return ctx.relations.target(own, "AWS::IAM::Role")
    return ctx.relations.role_of(pipeline.logical_id)


def _judgeable(role: str, ctx: Context) -> bool:
    return not any(
        intrinsic_name(p.document) or not isinstance(p.document, dict)
        for p in ctx.relations.policies(role)
    )


def _missing(role: str, needs: Needs, ctx: Context, bucket: str | None = None) -> list[str]:
    policies: list[PolicySource] = list(ctx.relations.policies(role))
    if bucket is not None:
        policies += resource_policy_grants(
            "AWS::S3::BucketPolicy", "PolicyDocument", bucket, role, ctx
        )
    managed = ctx.relations.managed_arns(role)
    return [
        alternatives[0]
        for alternatives in needs
        if not any(grants(policies, a) or managed_grants(managed, a) for a in alternatives)
    ]


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for action in actions(res):
        judged = _needs(action, ctx) if action.owner == "AWS" else None
        if not judged or not judged[0]:
            continue
        needs, bucket = judged
        role = _role_of(action, res, ctx)
        if role is None or not _judgeable(role, ctx):
            continue
        missing = _missing(role, needs, ctx, bucket)
        if missing:
            yield Hit(
                res.logical_id,
                action.path,
                f"role {role} of {action.provider} action {action.name!r} is not allowed "
                f"{', '.join(missing)}; the action fails when the pipeline runs it",
            )


RULE = Rule(
    id="CV059",
    title="Pipeline role not allowed what its actions call",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM41", "FM100"),
    why="S1 and S4: the pipeline role lacked permissions its actions need (starting builds, "
    "creating deployments); the pipeline failed at that stage on its first run.",
    fix_cloudformation="Allow the action's calls (codebuild:StartBuild and "
    "codebuild:BatchGetBuilds on the project, codedeploy:CreateDeployment ...) in the policy of "
    "the pipeline role, or of the action's own RoleArn.",
    fix_cdk="Use the codepipeline_actions classes: each action grants its role what it calls.",
    fix_conveyor="Nothing to write: every conveyor action's role is granted what it calls.",
    check=check,
)
