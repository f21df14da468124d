"""ECS task whose execution role cannot pull its private ECR image.

On Fargate (and on ECS Managed Instances and external instances) the agent pulls a container
image from a private ECR repository with the task's execution role, not with any role of a
host: the role must be allowed ``ecr:GetAuthorizationToken`` (through an IAM policy, on
``*``: the token is the registry's, no repository is named) and ``ecr:BatchGetImage`` and
``ecr:GetDownloadUrlForLayer`` on the repository (through the role's policies or the
repository's own policy). Without them every task stops with CannotPullContainerError, so the
service never reaches a steady state and the deployment that starts it fails; a Fargate task
definition with no execution role at all is refused when registered ("Fargate requires task
definition to have execution role ARN to support ECR images").
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
https://docs.aws.amazon.com/AmazonECR/latest/userguide/ECR_on_ECS.html
https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html
(either the identity policy or the repository policy may allow a repository action within one
account; GetAuthorizationToken only through an IAM policy)

Judged: an AWS::ECS::TaskDefinition whose RequiresCompatibilities names FARGATE, EXTERNAL or
MANAGED_INSTANCES, for each container whose Image is a private ECR image: a registry host
``ACCOUNT.dkr.ecr.REGION.amazonaws.com`` written out or through Fn::Sub/Fn::Join, or a
reference to an AWS::ECR::Repository of the template. The execution role must be a role of the
template; its inline policies, attached policies and known AWS managed policies
(AmazonECSTaskExecutionRolePolicy, AmazonEC2ContainerRegistryReadOnly, ...) are read by the
same evaluator as every other role rule (``policies.grants``). Not judged: a task definition
for EC2 only (or with no RequiresCompatibilities: EC2's), whose container instance role may
pull; an execution role given by parameter or imported ARN, or a customer managed policy the
input does not hold (they cannot be seen); an image given by parameter. A repository of another
account must also admit the role in its repository policy, which this template does not hold.

Bad: the execution role may write logs, nothing grants it the sidecar's repository.

```yaml
Task:
  Type: AWS::ECS::TaskDefinition
  Properties:
    RequiresCompatibilities: [FARGATE]
    ExecutionRoleArn: !GetAtt ExecutionRole.Arn
    ContainerDefinitions:
      - Name: proxy
        Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/mirror/envoy:v1.31.0
```

Good: the execution role's policy allows the pull (or its ManagedPolicyArns hold
``arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy``).

```yaml
- Effect: Allow
  Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
  Resource: !Sub arn:${AWS::Partition}:ecr:eu-west-1:111122223333:repository/mirror/envoy
- Effect: Allow
  Action: ecr:GetAuthorizationToken
  Resource: "*"
```
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.iam.pipeline_role_artifacts import resource_policy_grants
from conveyor.rules.intrinsics import as_list, is_no_value, references, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.policies import PolicySource, grants, managed_grants
from conveyor.rules.template import Resource

TASK_DEFINITION = "AWS::ECS::TaskDefinition"
REPOSITORY = "AWS::ECR::Repository"
# Where the execution role pulls the image (task_execution_IAM_role.html, "Fargate, Amazon ECS
# Managed Instances, or an external instance"); on EC2 the container instance role may.
EXECUTION_ROLE_PULLS = frozenset({"FARGATE", "EXTERNAL", "MANAGED_INSTANCES"})
REGISTRY_LOGIN = "ecr:GetAuthorizationToken"
# What the agent calls on the repository (ECR_on_ECS.html).
REPOSITORY_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# A private registry host, literal or with placeholders (CDK writes ${AWS::URLSuffix} for
# amazonaws.com, and an account or region through Ref/Select); public.ecr.aws does not match,
# nor a host whose account is not 12 digits (no registry answers there; conveyor's generator
# grants by the same pattern).
PRIVATE_ECR_IMAGE = lazy(
    r"^(?P<account>\d{12}|\$\{[^}]+\})\.dkr\.ecr\.(?P<region>[^/]+?)\."
    r"(?:amazonaws\.com(?:\.cn)?|\$\{AWS::URLSuffix\})/(?P<name>[^:@]+)"
)

PLACEHOLDER = lazy(r"\$\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class PrivateImage:
    """A private ECR image: how it reads, and what is known of its repository (None: not
    known here, a placeholder)."""

    text: str
    repository: str | None  # logical id, when the repository is the template's
    account: str | None
    region: str | None
    name: str | None


def _known(part: str | None) -> str | None:
    return None if part is None or "${" in part else part


def private_image(value: Any, ctx: Context) -> PrivateImage | None:
    text = render(value)
    if text is None:
        return None
    repository = next(
        (r for r in sorted(references(value)) if ctx.relations.resource_type(r) == REPOSITORY),
        None,
    )
    match = PRIVATE_ECR_IMAGE.match(text)
    if repository is None and match is None:
        return None
    name = _known(match.group("name")) if match else None
    if repository is not None:
        written = ctx.template.resources[repository].properties.get("RepositoryName")
        name = written if isinstance(written, str) else None
    return PrivateImage(
        text,
        repository,
        _known(match.group("account")) if match else None,
        _known(match.group("region")) if match else None,
        name,
    )


def _field_matches(pattern: str, known: str | None) -> bool:
    # A placeholder on either side could be the same value: do not guess against the template.
    return known is None or "${" in pattern or fnmatchcase(known, pattern)


def _other_repositories(item: Any, image: PrivateImage, ctx: Context) -> bool:
    return any(
        r != image.repository and ctx.relations.resource_type(r) == REPOSITORY
        for r in references(item)
    )


def _on_repository(image: PrivateImage, ctx: Context) -> Callable[[Any], bool]:
    """Whether a statement's Resource covers the image's repository."""

    def ok(item: Any) -> bool:
        text = render(item)
        if text is None or text == "*":
            return True
        if image.repository is not None and image.repository in references(item):
            return True
        if _other_repositories(item, image, ctx):
            return False
        # Placeholders first: ${AWS::Partition} holds the colons the ARN is split on.
        parts = PLACEHOLDER.sub("${}", text).split(":", 5)
        if len(parts) == 6 and parts[0] == "arn":
            _, _, service, region, account, resource = parts
            name = f"repository/{image.name}" if image.name else None
            return (
                _field_matches(service, "ecr")
                and _field_matches(region, image.region)
                and _field_matches(account, image.account)
                and _field_matches(resource, name)
            )
        return _unseen(item, ctx)

    return ok


def _unseen(item: Any, ctx: Context) -> bool:
    """A Resource built from parameters or imports only: what it names cannot be seen."""
    return "${" in (render(item) or "") and not any(
        r in ctx.template.resources for r in references(item)
    )


def _login_resource(ctx: Context) -> Callable[[Any], bool]:
    # GetAuthorizationToken names no resource: only a statement on "*" allows it.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    def ok(item: Any) -> bool:
        return render(item) == "*" or _unseen(item, ctx)

    return ok


def _pulled_by_execution_role(res: Resource) -> bool:
    compatibilities = as_list(res.properties.get("RequiresCompatibilities"))
    return any(isinstance(c, str) and c.upper() in EXECUTION_ROLE_PULLS for c in compatibilities)


def _missing(role: str, image: PrivateImage, ctx: Context) -> list[str]:
    policies = ctx.relations.policies(role)
    managed = ctx.relations.managed_arns(role)
    missing = []
    if not (
        grants(policies, REGISTRY_LOGIN, _login_resource(ctx))
        or managed_grants(managed, REGISTRY_LOGIN)
    ):
        missing.append(REGISTRY_LOGIN)
    repository_policy: list[PolicySource] = []
    if image.repository is not None:
        repository_policy = resource_policy_grants(
            REPOSITORY, "RepositoryPolicyText", image.repository, role, ctx
        )
    on_repository = _on_repository(image, ctx)
    for action in REPOSITORY_ACTIONS:
        if not (
            grants(policies, action, on_repository)
            or grants(repository_policy, action)
            or managed_grants(managed, action)
        ):
            missing.append(action)
    return missing


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if not _pulled_by_execution_role(res):
        return
    given = res.properties.get("ExecutionRoleArn")
    role = ctx.relations.role_of(res.logical_id, "ExecutionRoleArn")
    if role is None and given is not None and not is_no_value(given):
        return  # another stack's role, a parameter or a condition: its policies are not seen
    for index, container in enumerate(as_list(res.properties.get("ContainerDefinitions"))):
        if not isinstance(container, dict):
            continue
        image = private_image(container.get("Image"), ctx)
        if image is None:
            continue
        label = container.get("Name", index)
        where = f"Properties.ContainerDefinitions.{index}.Image"
        if role is None:
            yield Hit(
                res.logical_id,
                where,
                f"container {label} pulls {image.text} from a private ECR repository, but the "
                "task definition has no ExecutionRoleArn: Fargate refuses to register it "
                "('Fargate requires task definition to have execution role ARN to support ECR "
                "images') and no task can pull the image. Give it an execution role allowed to "
                "pull from the repository",
                key=str(label),
            )
            continue
        missing = _missing(role, image, ctx)
        if missing:
            yield Hit(
                res.logical_id,
                where,
                f"container {label} pulls {image.text} from a private ECR repository with the "
                f"execution role {role}, which is not allowed {', '.join(missing)}"
                f"{'' if image.repository is None else ' on ' + image.repository}: every task "
                "stops with CannotPullContainerError and the deployment that starts it fails",
                key=str(label),
            )


RULE = Rule(
    id="CV129",
    title="ECS task execution role cannot pull its private ECR image",
    severity=Severity.HIGH,
    resource_types=(TASK_DEFINITION,),
    failure_modes=("FM133",),
    why="Issue 15 review: a sidecar image from a private ECR repository was given to the task "
    "by name, and nothing granted the execution role a pull on it: every task would have failed "
    "with CannotPullContainerError, and the first deploy with it.",
    fix_cloudformation="Give the task definition an ExecutionRoleArn whose role allows "
    "ecr:GetAuthorizationToken on '*' and ecr:BatchGetImage, ecr:GetDownloadUrlForLayer on "
    "the repository ARN (or attach arn:${AWS::Partition}:iam::aws:policy/service-role/"
    "AmazonECSTaskExecutionRolePolicy); a repository of another account must also admit the "
    "role in its repository policy.",
    fix_cdk="ecs.ContainerImage.from_ecr_repository(repository, tag) (grants the pull), or "
    "repository.grant_pull(task_definition.obtain_execution_role()) for an image given by name",
    fix_conveyor="Nothing to write: conveyor grants the execution role a pull on its own "
    "repository and on every sidecar image from a private ECR repository.",
    check=check,
)
