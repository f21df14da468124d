"""CodeBuild environment variable that carries a secret as PLAINTEXT.

A variable whose name says password/secret/token/api key (and not ``*_NAME``/``*_ARN``/...,
which point at a secret) must be of type ``SECRETS_MANAGER`` or ``PARAMETER_STORE``. Even a
``{{resolve:...}}`` value lands in the project configuration in plain text.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import as_list, get
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.secrets import secret_like
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for index, var in enumerate(
        as_list(get(res.properties, "Environment", "EnvironmentVariables"))
    ):
        if not isinstance(var, dict) or not isinstance(var.get("Name"), str):
            continue
        if var.get("Type", "PLAINTEXT") != "PLAINTEXT" or var.get("Value") in (None, ""):
            continue
        if secret_like(var["Name"]):
            yield Hit(
                res.logical_id,
                f"Properties.Environment.EnvironmentVariables.{index}",
                f"environment variable {var['Name']} holds a secret as PLAINTEXT",
            )


RULE = Rule(
    id="CV043",
    title="Secret in a plain-text build environment variable",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM30",),
    why="S5: Docker Hub credentials were not taken from Parameter Store; S2: secrets were put "
    "in plain configuration.",
    fix_cloudformation="Set Type: PARAMETER_STORE (Value: the parameter name) or "
    "SECRETS_MANAGER (Value: secret-id:json-key).",
    fix_cdk="environment_variables={'DOCKERHUB_PASSWORD': codebuild.BuildEnvironmentVariable("
    "type=codebuild.BuildEnvironmentVariableType.PARAMETER_STORE, value='/dockerhub/password')}",
    fix_conveyor="build: {docker: {login: {registry: docker.io, username_parameter: ..., "
    "password_parameter: ...}}}: credentials always come from Parameter Store.",
    check=check,
)
