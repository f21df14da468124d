"""A pull-request build's role may push images, deploy or hand on roles.

For a pipeline whose trigger has a pull-request filter, each CodeBuild project it runs (defined
in this template) executes the pull request's code with its service role's credentials
(https://aws.amazon.com/blogs/security/implementing-defense-security-for-aws-codebuild-pipelines/):
whatever the role may do, the pull request's author may do. Reported when that role is allowed
(through inline policies, attached policies or known AWS managed policies) any of: the ECR
upload actions (``ecr:InitiateLayerUpload``, ``ecr:UploadLayerPart``,
``ecr:CompleteLayerUpload``, ``ecr:PutImage``), stack changes (``cloudformation:CreateStack``,
``UpdateStack``, ``CreateChangeSet``, ``ExecuteChangeSet``, ``DeleteStack``), ``iam:PassRole``,
``sts:AssumeRole``, or service deploys (``ecs:UpdateService``, ``codedeploy:CreateDeployment``,
``lambda:UpdateFunctionCode``, ``lambda:UpdateAlias``). Resource scopes are not judged: any
grant is one too many for code nobody reviewed.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions, project_of, pull_request_trigger
from conveyor.rules.policies import grants, managed_grants
from conveyor.rules.template import Resource

FORBIDDEN = (
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:CreateChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteStack",
    "iam:PassRole",
    "sts:AssumeRole",
    "ecs:UpdateService",
    "codedeploy:CreateDeployment",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateAlias",
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if pull_request_trigger(res) is None:
        return
    seen: set[str] = set()
    for action in actions(res):
        project = project_of(action, ctx.template)
        if project is None or project.logical_id in seen:
            continue
        seen.add(project.logical_id)
        role = ctx.relations.role_of(project.logical_id)
        if role is None:
            continue
        policies = ctx.relations.policies(role)
        managed = ctx.relations.managed_arns(role)
        allowed = [a for a in FORBIDDEN if grants(policies, a) or managed_grants(managed, a)]
        if allowed:
            yield Hit(
                res.logical_id,
                action.path,
                f"pull requests start this pipeline, and action {action.name!r} runs project "
                f"{project.logical_id}, whose role {role} may {', '.join(allowed)}: the pull "
                "request's code holds those rights; give pull-request builds a role of their "
                "own without them",
            )


RULE = Rule(
    id="CV117",
    title="Pull-request build role may push or deploy",
    severity=Severity.HIGH,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM117",),
    why="Issue 11: a pull request's build runs code anyone who can open a pull request wrote; "
    "a role that may push images, change stacks or pass and assume roles hands those rights "
    "to that code.",
    fix_cloudformation="Give the projects of the pull-request pipeline their own service role "
    "with logs, its own artifact bucket and key, and nothing else.",
    fix_cdk="A separate codebuild.PipelineProject per pull-request job; never "
    "repository.grant_pull_push() or role.grant_pass_role() to it.",
    fix_conveyor="Nothing to write: the {app}-pr pipeline's projects have roles of their own "
    "without registry, stack or role rights.",
    check=check,
)
