"""Build role cannot push to ECR.

Relational: for a CodeBuild project that pushes images (inline buildspec with ``docker push``
or ``buildx --push``; or, when the buildspec lives in the repository, an environment variable
that points at an ECR repository), the project's service role, when defined in this template,
must be allowed every ECR push action through its inline policies, attached
``AWS::IAM::Policy``/``ManagedPolicy`` resources or known AWS managed policies. Resource scopes
are not judged here (CV051 does). Roles imported by ARN cannot be judged.

A build that pulls from ECR (``docker pull`` or ``--cache-from`` of an image whose reference is an
ECR registry host, the variable its ``docker push`` uses, or a build environment variable set to
an ECR repository) must also be allowed the pull actions.

A build *image* in a private ECR repository (``Environment.Image`` on an ECR registry host or a
repository of the template) is pulled before the build starts, with the credentials
``Environment.ImagePullCredentialsType`` names. ``SERVICE_ROLE``: the project's role must be
allowed the pull actions. ``CODEBUILD`` (CloudFormation's default): CodeBuild's own identity
pulls, so the repository's policy must admit ``codebuild.amazonaws.com``; judged when the
repository is in the template (elsewhere its policy is not visible). Either way the build fails
before its first command when the pull is refused.
https://docs.aws.amazon.com/codebuild/latest/userguide/sample-ecr.html
https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectEnvironment.html
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.codebuild.ecr_push_login import PUSH
from conveyor.rules.codebuild.privileged_mode import builds_images
from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, intrinsic_name, references, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.policies import grants, managed_grants, service_allowed
from conveyor.rules.template import Resource

PUSH_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)


# What pulling an image from a private repository calls:
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-pull-ecr-image.html
PULL_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
PULL = lazy(
    r"\bdocker\s+(?:image\s+)?pull\s+(?:--?[\w-]+(?:=\S+)?\s+)*[\"']?(?P<pulled>[^\s\"']+)"
    r"|--cache-from[ =][\"']?(?:type=registry,ref=)?(?P<cache>[^\s,\"']+)"
)
_VARIABLE = lazy(r"\$\{?(\w+)")
_ECR_HOST = ".dkr.ecr."


def _ecr_variables(res: Resource, ctx: Context, spec: str) -> set[str]:
    """Variables that name an ECR image: those a push line uses, and build environment variables
    set to an ECR repository or registry host."""
    names = {
        name for line in spec.splitlines() if PUSH.search(line) for name in _VARIABLE.findall(line)
    }
    for var in as_list(get(res.properties, "Environment", "EnvironmentVariables")):
        if not isinstance(var, dict) or not isinstance(var.get("Name"), str):
            continue
        value = var.get("Value")
        if (isinstance(value, str) and _ECR_HOST in value) or any(
            ctx.relations.resource_type(r) == "AWS::ECR::Repository" for r in references(value)
        ):
            names.add(var["Name"])
    return names


def pulls(res: Resource, ctx: Context) -> bool:
    """Whether the inline buildspec pulls an image (or a build cache) from ECR."""
    spec = inline_buildspec(res)
    if spec is None:
        return False
    variables = _ecr_variables(res, ctx, spec)
    for match in PULL.finditer(spec):
        image = match.group("pulled") or match.group("cache")
        variable = _VARIABLE.match(image)
        if _ECR_HOST in image or (variable is not None and variable.group(1) in variables):
            return True
    return False


def pushes(res: Resource, ctx: Context) -> bool:
    spec = inline_buildspec(res)
    if spec is not None:
        return PUSH.search(spec) is not None
    return builds_images(res, ctx)


# What CodeBuild's own identity calls on a repository to pull a build image; the sample's
# repository policy admits codebuild.amazonaws.com to these
# (https://docs.aws.amazon.com/codebuild/latest/userguide/sample-ecr.html).
IMAGE_PULL_ACTIONS = (
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "ecr:BatchCheckLayerAvailability",
)


def _build_image(res: Resource, ctx: Context) -> tuple[str, Resource | None] | None:
    """(image as text, its repository when in the template) for a private ECR build image."""
    image = get(res.properties, "Environment", "Image")
    text = render(image) or ""
    for lid in sorted(references(image)):
        if ctx.relations.resource_type(lid) == "AWS::ECR::Repository":
            return text, ctx.template.resources[lid]
    return (text, None) if _ECR_HOST in text else None


def _image_pull(res: Resource, role: str | None, ctx: Context) -> Iterator[Hit]:
    found = _build_image(res, ctx)
    if found is None:
        return
    image, repository = found
    credentials = get(res.properties, "Environment", "ImagePullCredentialsType")
    if intrinsic_name(credentials) is not None:
        return  # chosen at deploy time: either may apply
    where = "Properties.Environment"
    if credentials == "SERVICE_ROLE":
        if role is None:
            return
        policies = ctx.relations.policies(role)
        managed = ctx.relations.managed_arns(role)
        missing = [
            a for a in PULL_ACTIONS if not grants(policies, a) and not managed_grants(managed, a)
        ]
        if missing:
            yield Hit(
                res.logical_id,
                where,
                f"build image {image} is pulled with the service role (ImagePullCredentialsType "
                f"SERVICE_ROLE), but {role} is not allowed {', '.join(missing)}; the build "
                "fails before it starts",
                key="build-image",
            )
        return
    if repository is None:
        return  # another stack's repository: its policy is not visible here
    document = repository.properties.get("RepositoryPolicyText")
    admitted = (
        False
        if document is None
        else service_allowed(document, "codebuild.amazonaws.com", IMAGE_PULL_ACTIONS)
    )
    if admitted is None:
        return  # a policy built by an intrinsic: not readable
    if not admitted:
        how = "by default" if credentials is None else "CODEBUILD"
        yield Hit(
            res.logical_id,
            where,
            f"build image {image} is pulled with CodeBuild's own credentials "
            f"(ImagePullCredentialsType {how}), but the policy of repository "
            f"{repository.logical_id} does not admit codebuild.amazonaws.com to "
            f"{', '.join(IMAGE_PULL_ACTIONS)}; the build fails before it starts. Set "
            "ImagePullCredentialsType: SERVICE_ROLE and allow the role to pull, or admit "
            "codebuild.amazonaws.com in RepositoryPolicyText",
            key="build-image",
        )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    role = ctx.relations.role_of(res.logical_id)
    yield from _image_pull(res, role, ctx)
    if role is None:
        return
    push, pull = pushes(res, ctx), pulls(res, ctx)
    needed = dict.fromkeys((*(PUSH_ACTIONS if push else ()), *(PULL_ACTIONS if pull else ())))
    policies = ctx.relations.policies(role)
    managed = ctx.relations.managed_arns(role)
    missing = [a for a in needed if not grants(policies, a) and not managed_grants(managed, a)]
    if missing:
        does = " and ".join(x for x in ("pushes" if push else "", "pulls" if pull else "") if x)
        fails = " and ".join(x for x in ("push" if push else "", "pull" if pull else "") if x)
        yield Hit(
            res.logical_id,
            "Properties.ServiceRole",
            f"project {does} images but its role {role} is not allowed {', '.join(missing)}; "
            f"docker {fails} fails with AccessDenied",
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
    "InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage on the repository ARN "
    "(and GetDownloadUrlForLayer, BatchGetImage when the build pulls from it).",
    fix_cdk="repository.grant_pull_push(project) and ecr.AuthorizationToken.grant_read(project); "
    "a build image: LinuxBuildImage.from_ecr_repository(repository, tag) (pulls with the role, "
    "and grants it)",
    fix_conveyor="Nothing to write: conveyor grants the build role push on its repository.",
    check=check,
)
