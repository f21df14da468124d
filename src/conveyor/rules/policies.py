"""Reading IAM policy documents: statements, actions, and whether a grant covers an action."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Any

from conveyor.rules.intrinsics import intrinsic_name, render
from conveyor.rules.plain import FrozenPlain


class PolicySource(FrozenPlain):
    """A policy document and where it lives (``owner`` resource, ``path`` inside it)."""

    _FIELDS = ("owner", "path", "document")
    __slots__ = _FIELDS
    owner: str
    path: str
    document: Any

    def __init__(self, owner: str, path: str, document: Any) -> None:
        _set = object.__setattr__
        _set(self, "owner", owner)
        _set(self, "path", path)
        _set(self, "document", document)


def statements(document: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, statement) pairs; Fn::If around a statement contributes both branches."""
    if not isinstance(document, dict):
        return []
    raw = document.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    out: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(items):
        if type(item) is dict and len(item) != 1:
            # A statement as written (the common case): no intrinsic has more than one key,
            # so neither _branches nor the test below has anything to look at.
            out.append((index, item))
            continue
        for candidate in _branches(item):
            if isinstance(candidate, dict) and intrinsic_name(candidate) is None:
                out.append((index, candidate))
    return out


def _branches(value: Any) -> Iterable[Any]:
    if isinstance(value, list):  # `Statement: !If [Cond, [...], [...]]` chooses whole lists
        for item in value:
            yield from _branches(item)
        return
    if intrinsic_name(value) == "Fn::If":
        arg = value["Fn::If"]
        if isinstance(arg, list) and len(arg) == 3:
            yield from _branches(arg[1])
            yield from _branches(arg[2])
        return
    yield value


def string_list(value: Any) -> list[str]:
    """Plain strings of an Action/Resource element (intrinsics rendered with placeholders)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            text = render(item)
            if text is not None:
                out.append(text)
    return out


def action_matches(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def statement_allows(stmt: dict[str, Any], action: str) -> bool:
    if stmt.get("Effect") != "Allow":
        return False
    if "NotAction" in stmt:
        return not any(action_matches(p, action) for p in string_list(stmt["NotAction"]))
    return any(action_matches(p, action) for p in string_list(stmt.get("Action")))


ResourcePredicate = Callable[[Any], bool]


def grants(
    sources: Iterable[PolicySource], action: str, resource_ok: ResourcePredicate | None = None
) -> bool:
    """Whether any Allow statement covers ``action`` on a resource accepted by ``resource_ok``."""
    for source in sources:
        for _, stmt in statements(source.document):
            if not statement_allows(stmt, action):
                continue
            if resource_ok is None or "NotResource" in stmt:
                return True
            resources = stmt.get("Resource")
            items = resources if isinstance(resources, list) else [resources]
            if any(resource_ok(item) for item in items):
                return True
    return False


# What common AWS managed policies grant, roughly: enough to decide "the role can push to ECR"
# without false alarms. Unknown customer-managed policies are assumed to grant (we cannot see
# them); unknown AWS-managed ones are assumed not to.
AWS_MANAGED_GRANTS: dict[str, tuple[str, ...]] = {
    "AdministratorAccess": ("*",),
    "PowerUserAccess": ("*",),
    "AmazonEC2ContainerRegistryFullAccess": ("ecr:*",),
    "AmazonEC2ContainerRegistryPowerUser": ("ecr:*",),
    "EC2InstanceProfileForImageBuilderECRContainerBuilds": ("ecr:*",),
    "AmazonEC2ContainerRegistryReadOnly": (
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "ecr:Describe*",
        "ecr:List*",
    ),
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    "AmazonECSTaskExecutionRolePolicy": (
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
    "AmazonS3FullAccess": ("s3:*",),
    "AmazonS3ReadOnlyAccess": ("s3:Get*", "s3:List*"),
    "AmazonDynamoDBFullAccess": ("dynamodb:*",),
    "AWSCodePipeline_FullAccess": ("codepipeline:*",),
    "AWSCodeBuildAdminAccess": ("codebuild:*",),
    "AmazonECS_FullAccess": ("ecs:*",),
    "AWSKeyManagementServicePowerUser": ("kms:Describe*", "kms:List*", "kms:Create*"),
}


def managed_policy_name(arn: Any) -> tuple[str, bool] | None:
    """(name, is_aws_managed) of a managed policy ARN written literally, via Sub or via Join."""
    text = render(arn)
    if text is None:
        return None
    marker = ":iam::aws:policy/"
    if marker in text:
        return text.split(marker, 1)[1], True
    if ":policy/" in text:
        return text.rsplit("/", 1)[-1], False
    return None


def managed_grants(arns: Iterable[Any], action: str) -> bool:
    for arn in arns:
        named = managed_policy_name(arn)
        if named is None:
            # A Ref to a parameter or an import: we cannot see it, so assume it grants.
            if intrinsic_name(arn) in ("Ref", "Fn::ImportValue"):
                return True
            continue
        name, aws_managed = named
        if not aws_managed:
            return True
        base = name.rsplit("/", 1)[-1]
        if any(action_matches(p, action) for p in AWS_MANAGED_GRANTS.get(base, ())):
            return True
    return False


# --- resource policies: may a service principal call these actions ---


def _principal_covers(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in string_list(principal.get("AWS")):
        return True
    return service in string_list(principal.get("Service"))


def service_allowed(document: Any, service: str, actions: tuple[str, ...]) -> bool | None:
    """Whether a resource policy lets ``service`` perform every action; None if unreadable."""
    if not isinstance(document, dict) or intrinsic_name(document) is not None:
        return None
    for action in actions:
        allowed = False
        for _, stmt in statements(document):
            if "NotPrincipal" in stmt or not _principal_covers(stmt.get("Principal"), service):
                continue
            listed = string_list(stmt.get("Action"))
            matches = any(action_matches(p, action) for p in listed)
            if "NotAction" in stmt:
                matches = not any(action_matches(p, action) for p in string_list(stmt["NotAction"]))
            if not matches:
                continue
            if stmt.get("Effect") == "Deny" and "Condition" not in stmt:
                return False
            if stmt.get("Effect") == "Allow":
                allowed = True
        if not allowed:
            return False
    return True
