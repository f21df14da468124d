"""A URL with a credential in it, written in plain text into a function's, build's or task's
environment or into a pipeline action's UserParameters.

CV044 and CV043 judge a variable by its name and skip names ending in URL (they usually point
at a secret); this rule reads the value: a literal URL with ``user:password@`` before the host,
or a query parameter whose name has a credential word (token, access_token, authToken, api_key,
API-KEY, password, pass, secret, key, sig/signature, X-Amz-Signature, X-Amz-Credential,
X-Amz-Security-Token); a word inside another (author, bypass_cache, keyboard), a field's key
(sort_key) and a paging token (continuation-token, nextToken) are not one. The same matcher
(conveyor.secret_urls) makes conveyor's spec refuse such a validate.http.url. A user name
without a password (``git@``, ``ssh://deploy@``) names an account, not a secret: not reported.
A credential that is a reference (``${Token}``, ``{{resolve:secretsmanager:...}}``) is not
reported either. CodeBuild variables of type SECRETS_MANAGER or PARAMETER_STORE hold a
reference, not the value, and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.pipelines import actions
from conveyor.rules.template import Resource
from conveyor.secret_urls import url_secret

# A URL inside a longer value (JSON text in UserParameters, a connection string list): stops at
# whitespace and the quotes and brackets that delimit it in JSON or prose.
_URL = lazy(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")


def credential_in(value: Any) -> str | None:
    """What credential a literal URL in value carries, or None when there is none or it is a
    reference resolved at deploy or run time."""
    text = render(value)
    if not text:
        return None
    for match in _URL.finditer(text):
        try:
            found = url_secret(match.group(0), user_alone=False)
        except ValueError:  # malformed authority (an unclosed '['): not a URL we can read
            continue
        if found and found.value and "${" not in found.value and "{{resolve:" not in found.value:
            return found.where
    return None


def _function(res: Resource) -> Iterator[Hit]:
    variables = get(res.properties, "Environment", "Variables")
    if isinstance(variables, dict):
        for name, value in variables.items():
            if where := credential_in(value):
                yield Hit(
                    res.logical_id,
                    f"Properties.Environment.Variables.{name}",
                    f"function environment variable {name} holds a URL with a credential ({where})",
                )


def _build(res: Resource) -> Iterator[Hit]:
    variables = as_list(get(res.properties, "Environment", "EnvironmentVariables"))
    for index, var in enumerate(variables):
        if not isinstance(var, dict) or var.get("Type", "PLAINTEXT") != "PLAINTEXT":
            continue
        if where := credential_in(var.get("Value")):
            yield Hit(
                res.logical_id,
                f"Properties.Environment.EnvironmentVariables.{index}",
                f"build environment variable {var.get('Name')} holds a URL with a credential "
                f"({where}) as PLAINTEXT",
            )


def _task(res: Resource) -> Iterator[Hit]:
    for c_index, container in enumerate(as_list(res.properties.get("ContainerDefinitions"))):
        for index, var in enumerate(as_list(get(container, "Environment"))):
            if where := credential_in(get(var, "Value")):
                yield Hit(
                    res.logical_id,
                    f"Properties.ContainerDefinitions.{c_index}.Environment.{index}",
                    f"container environment variable {get(var, 'Name')} holds a URL with a "
                    f"credential ({where})",
                )


def _pipeline(res: Resource) -> Iterator[Hit]:
    for action in actions(res):
        if where := credential_in(action.configuration.get("UserParameters")):
            yield Hit(
                res.logical_id,
                f"{action.path}.Configuration.UserParameters",
                f"action {action.name}'s UserParameters hold a URL with a credential ({where})",
            )


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodeBuild::Project":
        yield from _build(res)
    elif res.type == "AWS::ECS::TaskDefinition":
        yield from _task(res)
    elif res.type == "AWS::CodePipeline::Pipeline":
        yield from _pipeline(res)
    else:
        yield from _function(res)


RULE = Rule(
    id="CV123",
    title="URL with a credential in an environment or UserParameters",
    # As CV043/CV044/CV047: a literal secret in configuration is readable by anyone who can
    # read the template, the function or project configuration, or the pipeline definition
    # (GetFunctionConfiguration, BatchGetProjects, GetPipeline), and is in the template's history.
    severity=Severity.HIGH,
    resource_types=(
        "AWS::Lambda::Function",
        "AWS::Serverless::Function",
        "AWS::CodeBuild::Project",
        "AWS::ECS::TaskDefinition",
        "AWS::CodePipeline::Pipeline",
    ),
    failure_modes=("FM30",),
    why="S2 and S5: secrets were written into configuration instead of Secrets Manager or "
    "Parameter Store; a URL's user:password@ or ?token= is such a secret, and a variable named "
    "*_URL escapes the name-based rules.",
    fix_cloudformation="Keep the secret in Secrets Manager or an SSM SecureString parameter and "
    "pass a reference: the secret's ARN for the function to read at run time, a CodeBuild "
    "variable of type SECRETS_MANAGER or PARAMETER_STORE, ContainerDefinitions[].Secrets for "
    "ECS. A health check URL should need no secret: point it at an unauthenticated path.",
    fix_cdk="secret.grant_read(function) and pass secret.secret_arn; "
    "codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER; ecs.Secret.from_secrets_manager",
    fix_conveyor="Nothing to write: conveyor refuses credentials in validate.http.url at the key "
    "(exit 2) and never puts secret values in environments or UserParameters.",
    check=check,
)
