"""Role used by a service that its trust policy does not let assume it.

A build project, pipeline, deployment group, function, task definition or state machine names
a role of this template whose ``AssumeRolePolicyDocument`` allows ``sts:AssumeRole`` to other
services only (a CodeDeploy role trusting Lambda, a build role trusting CodePipeline): the
service is refused the role, and the stack fails or the first run does. Service principals
written with ``${AWS::URLSuffix}`` or a Region (``states.eu-west-1.amazonaws.com``) count.
Trust documents built by an intrinsic, or with a ``*`` principal, are not judged.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import statements, string_list
from conveyor.rules.template import Resource

# The role property of each consumer and the service that assumes it (the first label of the
# service principal).
TRUSTED_BY: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "AWS::CodeBuild::Project": (("ServiceRole", frozenset({"codebuild"})),),
    "AWS::CodePipeline::Pipeline": (("RoleArn", frozenset({"codepipeline"})),),
    "AWS::CodeDeploy::DeploymentGroup": (("ServiceRoleArn", frozenset({"codedeploy"})),),
    "AWS::Lambda::Function": (("Role", frozenset({"lambda", "edgelambda"})),),
    "AWS::ECS::TaskDefinition": (
        ("TaskRoleArn", frozenset({"ecs-tasks"})),
        ("ExecutionRoleArn", frozenset({"ecs-tasks"})),
    ),
    "AWS::StepFunctions::StateMachine": (("RoleArn", frozenset({"states"})),),
}


def _trusted_services(role: Resource) -> set[str] | None:
    """First labels of the service principals allowed to assume the role; None when the trust
    policy cannot be read or admits anyone."""
    document = role.properties.get("AssumeRolePolicyDocument")
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
        return None
    services: set[str] = set()
    for _, stmt in statements(document):
        if stmt.get("Effect") != "Allow":
            continue
        actions = string_list(stmt.get("Action"))
        # An action from a parameter may be sts:AssumeRole: count it.
        if not any(a in ("sts:AssumeRole", "sts:*", "*") or "${" in a for a in actions):
            continue
        principal = stmt.get("Principal")
        if (
            principal == "*"
            or get(principal, "AWS") == "*"
            or "*" in as_list(get(principal, "AWS"))
        ):
            return None
        for service in string_list(get(principal, "Service")):
            services.add(service.split(".", 1)[0].lower())
    return services


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for prop, expected in TRUSTED_BY[res.type]:
        role_id = ctx.relations.target(res.properties.get(prop), "AWS::IAM::Role")
        role = ctx.resource(role_id)
        if role is None:
            continue
        trusted = _trusted_services(role)
        if trusted is None or trusted & expected:
            continue
        wanted = " or ".join(f"{s}.amazonaws.com" for s in sorted(expected))
        others = ", ".join(f"{s}.amazonaws.com" for s in sorted(trusted)) or "no service"
        yield Hit(
            res.logical_id,
            f"Properties.{prop}",
            f"role {role.logical_id} trusts {others}, not {wanted}: the service cannot assume it",
        )


RULE = Rule(
    id="CV058",
    title="Role does not trust the service that uses it",
    severity=Severity.HIGH,
    resource_types=tuple(TRUSTED_BY),
    failure_modes=("FM41",),
    why="S1 and S4: roles copied between services kept the wrong trust policy (a CodeDeploy "
    "role trusting Lambda, a build role trusting CodePipeline); the service could not assume "
    "them and the deployment failed.",
    fix_cloudformation="Add the service principal of the resource that uses the role to its "
    "AssumeRolePolicyDocument (Principal: {Service: codebuild.amazonaws.com}, Action: "
    "sts:AssumeRole), or give each service its own role.",
    fix_cdk="iam.Role(..., assumed_by=iam.ServicePrincipal('codebuild.amazonaws.com')), or let "
    "the construct create its role.",
    fix_conveyor="Nothing to write: conveyor gives every service its own role.",
    check=check,
)
