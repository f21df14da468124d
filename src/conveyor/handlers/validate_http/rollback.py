# mypy: disable-error-code="import-untyped"
"""Rolling an environment back after a failed validation, at most once per deployment.

Each rollback acts only while the environment still runs what the pipeline deployed, and
otherwise reports that it was rolled back already. So a duplicated or retried invocation
(Lambda delivers at least once; a throttled PutJobFailureResult is retried) never walks the
environment further back (issue 17/2), even without the idempotency table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Clients = Callable[[str], Any]  # service name -> boto3 client bounded by the time left


class ParameterError(ValueError):
    pass


@dataclass(frozen=True)
class EcsService:
    cluster: str
    service: str
    # A service in another account is rolled back through a role there (the deploy role).
    role_arn: str | None = None


@dataclass(frozen=True)
class LambdaAlias:
    function: str
    alias: str
    # A function in another account is rolled back through a role there (the deploy role).
    role_arn: str | None = None


@dataclass(frozen=True)
class CodeDeployGroup:
    """An ECS blue/green service deployed by CodeDeploy: only CodeDeploy may change it."""

    application: str
    deployment_group: str
    # A group in another account is acted on through a role there (the deploy role).
    role_arn: str | None = None


Target = EcsService | LambdaAlias | CodeDeployGroup | None

# The marker on deployments this handler creates, so a duplicate never rolls back its own.
ROLLBACK_DESCRIPTION = "conveyor validation rollback of "


def parse_target(value: object) -> Target:
    if value is None:
        return None
    if isinstance(value, Mapping) and len(value) == 1:
        [(kind, body)] = value.items()
        if isinstance(body, Mapping) and all(isinstance(v, str) for v in body.values()):
            keys = set(body) - {"role_arn"}
            role = body.get("role_arn")
            if role is None or role.startswith("arn:"):
                if kind == "ecs" and keys == {"cluster", "service"}:
                    return EcsService(body["cluster"], body["service"], role)
                if kind == "lambda" and keys == {"function", "alias"}:
                    return LambdaAlias(body["function"], body["alias"], role)
                if kind == "codedeploy" and keys == {"application", "deployment_group"}:
                    return CodeDeployGroup(body["application"], body["deployment_group"], role)
    raise ParameterError(
        '"rollback" must be null, {"ecs": {"cluster": "…", "service": "…"}}, '
        '{"lambda": {"function": "…", "alias": "…"}} '
        'or {"codedeploy": {"application": "…", "deployment_group": "…"}}, each with an '
        'optional "role_arn": "arn:…" (the environment\'s account)'
    )


def roll_back(target: Target, clients: Clients) -> str:
    if target is None:
        return "no rollback configured"
    if isinstance(target, EcsService):
        return rollback_ecs(target, clients)
    if isinstance(target, LambdaAlias):
        return rollback_lambda(target, clients)
    return rollback_codedeploy(target, clients)


# ---------------------------------------------------------------------------------------------
# ECS rolling service: the deploy action registers one task definition revision per deploy.


def _revision(task_definition_arn: str) -> tuple[str, int]:
    family, _, revision = task_definition_arn.rsplit("/", 1)[-1].rpartition(":")
    return family, int(revision)


def _client(service: str, role_arn: str | None, clients: Clients) -> Any:
    """`service`'s client, in the environment's own account when `role_arn` names a role there."""
    if role_arn is None:
        return clients(service)
    import boto3

    credentials = clients("sts").assume_role(
        RoleArn=role_arn, RoleSessionName="conveyor-validate-rollback"
    )["Credentials"]
    config = clients(service).meta.config  # the same time bounds as every other call
    return boto3.client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=config,
    )


def _active_revisions(ecs: Any, family: str) -> dict[int, str]:
    found: dict[int, str] = {}
    token: str | None = None
    while True:
        page = ecs.list_task_definitions(
            familyPrefix=family, status="ACTIVE", **({"nextToken": token} if token else {})
        )
        for arn in page.get("taskDefinitionArns", ()):
            other_family, revision = _revision(arn)
            # familyPrefix is a prefix match: payments-api also matches payments-api-worker.
            if other_family == family:
                found[revision] = arn
        token = page.get("nextToken")
        if not token:
            return found


def rollback_ecs(target: EcsService, clients: Clients) -> str:
    """From the newest ACTIVE revision of the family (the one this deploy registered) to the
    highest one below it; a service not on the newest revision was rolled back already."""
    ecs = _client("ecs", target.role_arn, clients)
    services = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"]
    if not services:
        raise RuntimeError(f"ECS service {target.service} not found in cluster {target.cluster}")
    current = services[0]["taskDefinition"]
    family, revision = _revision(current)
    revisions = _active_revisions(ecs, family)
    newest = max(revisions, default=revision)
    if revision < newest:
        return (
            f"ECS service {target.service} already runs {family}:{revision}, below the deployed "
            f"{family}:{newest}; not rolled back again"
        )
    earlier = [r for r in revisions if r < revision]
    if not earlier:
        raise RuntimeError(f"no earlier ACTIVE revision of task definition family {family}")
    previous = revisions[max(earlier)]
    ecs.update_service(cluster=target.cluster, service=target.service, taskDefinition=previous)
    return f"ECS service {target.service} rolled back from {family}:{revision} to {previous}"


# ---------------------------------------------------------------------------------------------
# Lambda alias: each deploy publishes one version.


def _published_versions(lambda_: Any, function: str) -> list[int]:
    versions: list[int] = []
    marker: str | None = None
    while True:
        page = lambda_.list_versions_by_function(
            FunctionName=function, **({"Marker": marker} if marker else {})
        )
        versions += [int(v["Version"]) for v in page.get("Versions", ()) if v["Version"].isdigit()]
        marker = page.get("NextMarker")
        if not marker:
            return versions


def rollback_lambda(target: LambdaAlias, clients: Clients) -> str:
    """From the newest published version (the deployed one) to the highest below it."""
    lambda_ = _client("lambda", target.role_arn, clients)
    alias = lambda_.get_alias(FunctionName=target.function, Name=target.alias)
    current = alias["FunctionVersion"]
    if not current.isdigit():
        raise RuntimeError(f"alias {target.alias} points at {current}, which has no predecessor")
    versions = _published_versions(lambda_, target.function)
    newest = max(versions, default=int(current))
    name = f"alias {target.function}:{target.alias}"
    if int(current) < newest:
        return (
            f"{name} already serves version {current}, below the deployed {newest}; "
            "not rolled back again"
        )
    earlier = [v for v in versions if v < int(current)]
    if not earlier:
        raise RuntimeError(f"{target.function} has no published version before {current}")
    previous = str(max(earlier))
    # Clearing the routing config also ends any canary weight left on the new version.
    lambda_.update_alias(
        FunctionName=target.function,
        Name=target.alias,
        FunctionVersion=previous,
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    return f"{name} rolled back from version {current} to {previous}"


# ---------------------------------------------------------------------------------------------
# CodeDeploy blue/green (issue 14/9): the service is under the CODE_DEPLOY controller, so only
# CodeDeploy can move it. While the deployment still runs (e.g. waiting to terminate the
# original task set), StopDeployment with autoRollbackEnabled sends traffic back to it:
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html
# Once it has succeeded, a new deployment of its previousRevision ("the application revision
# that was deployed to the deployment group before the most recent successful deployment"):
# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html

_RUNNING = frozenset({"Created", "Queued", "InProgress", "Baking", "Ready"})


def rollback_codedeploy(target: CodeDeployGroup, clients: Clients) -> str:
    codedeploy = _client("codedeploy", target.role_arn, clients)
    group = codedeploy.get_deployment_group(
        applicationName=target.application, deploymentGroupName=target.deployment_group
    )["deploymentGroupInfo"]
    last = group.get("lastAttemptedDeployment") or {}
    if not last.get("deploymentId"):
        raise RuntimeError(f"deployment group {target.deployment_group} has no deployment")
    info = codedeploy.get_deployment(deploymentId=last["deploymentId"])["deploymentInfo"]
    deployment, status = info["deploymentId"], info.get("status", "")
    if info.get("creator") == "codeDeployRollback" or str(info.get("description", "")).startswith(
        ROLLBACK_DESCRIPTION
    ):
        return f"the last deployment {deployment} is a rollback already; not rolled back again"
    if status in _RUNNING:
        codedeploy.stop_deployment(deploymentId=deployment, autoRollbackEnabled=True)
        return f"CodeDeploy deployment {deployment} stopped and rolled back"
    if status != "Succeeded":
        return f"CodeDeploy deployment {deployment} ended {status}; CodeDeploy rolls it back"
    previous = info.get("previousRevision")
    if not previous:
        raise RuntimeError(f"deployment {deployment} has no previous revision to return to")
    created = codedeploy.create_deployment(
        applicationName=target.application,
        deploymentGroupName=target.deployment_group,
        revision=previous,
        description=f"{ROLLBACK_DESCRIPTION}{deployment}",
    )
    return (
        f"CodeDeploy deployment {created['deploymentId']} returns {target.deployment_group} "
        f"to the revision before {deployment}"
    )
