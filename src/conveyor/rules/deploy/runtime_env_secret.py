"""Lambda function or ECS container with a secret literal in its environment.

A variable with a secret-like name and a literal value (not a dynamic reference) is reported.
ECS containers should use ``Secrets`` (valueFrom Secrets Manager/Parameter Store) instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, is_literal
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.secrets import from_store, secret_like
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::ECS::TaskDefinition":
        for c_index, container in enumerate(as_list(res.properties.get("ContainerDefinitions"))):
            for index, var in enumerate(as_list(get(container, "Environment"))):
                name, value = get(var, "Name"), get(var, "Value")
                if isinstance(name, str) and secret_like(name) and _literal(value):
                    yield Hit(
                        res.logical_id,
                        f"Properties.ContainerDefinitions.{c_index}.Environment.{index}",
                        f"container environment variable {name} holds a secret literal; "
                        "use Secrets",
                    )
        return
    variables = get(res.properties, "Environment", "Variables")
    if isinstance(variables, dict):
        for name, value in variables.items():
            if secret_like(str(name)) and _literal(value):
                yield Hit(
                    res.logical_id,
                    f"Properties.Environment.Variables.{name}",
                    f"function environment variable {name} holds a secret literal",
                )


def _literal(value: object) -> bool:
    return value not in (None, "") and is_literal(value) and not from_store(value)


RULE = Rule(
    id="CV044",
    title="Secret literal in a function or container environment",
    severity=Severity.HIGH,
    resource_types=(
        "AWS::Lambda::Function",
        "AWS::Serverless::Function",
        "AWS::ECS::TaskDefinition",
    ),
    failure_modes=("FM30",),
    why="S2 and S5: secrets were written into configuration instead of Secrets Manager or "
    "Parameter Store.",
    fix_cloudformation="Keep the secret in Secrets Manager; pass its ARN (SECRET_ARN) and read "
    "it at run time, or for ECS use ContainerDefinitions[].Secrets.",
    fix_cdk="ecs.Secret.from_secrets_manager(secret) / secret.grant_read(function)",
    fix_conveyor="Nothing to write: conveyor never puts secret values in environments.",
    check=check,
)
