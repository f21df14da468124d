"""Build role cannot push to ECR.

Relational: for a CodeBuild project that pushes images (inline buildspec with ``docker push``
or ``buildx --push``; or, when the buildspec lives in the repository, an environment variable
that points at an ECR repository), the project's service role, when defined in this template,
must be allowed every ECR push action through its inline policies, attached
``AWS::IAM::Policy``/``ManagedPolicy`` resources or known AWS managed policies. Resource scopes
are not judged here (CV051 does). Roles imported by ARN cannot be judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.codebuild.ecr_push_login import PUSH
from conveyor.rules.codebuild.privileged_mode import builds_images
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import grants, managed_grants
from conveyor.rules.template import Resource

PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)


def pushes(res: Resource, ctx: Context) -> bool:
    spec = inline_buildspec(res)
    if spec is not None:
        return PUSH.search(spec) is not None
    return builds_images(res, ctx)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    if role is None or not pushes(res, ctx):
        return
    policies = ctx.relations.policies(role)
    managed = ctx.relations.managed_arns(role)
    missing = [
        a for a in PUSH_ACTIONS if not grants(policies, a) and not managed_grants(managed, a)
    ]
    if missing:
        yield Hit(
            res.logical_id,
            "Properties.ServiceRole",
            f"project pushes images but its role {role} is not allowed {', '.join(missing)}; "
            "docker push fails with AccessDenied",
        )


RULE = Rule(
    id="CV052",
    title="Build role cannot push to ECR",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM41",),
    why="S1: the CodeBuild role lacked ECR permissions and docker push failed with "
    "AccessDeniedException.",
    fix_cloudformation="Allow ecr:GetAuthorizationToken on '*' and BatchCheckLayerAvailability, "
    "InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage on the repository ARN.",
    fix_cdk="repository.grant_pull_push(project) and ecr.AuthorizationToken.grant_read(project)",
    fix_conveyor="Nothing to write: conveyor grants the build role push on its repository.",
    check=check,
)
