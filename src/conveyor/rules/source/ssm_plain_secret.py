"""Secret kept in a plain ``String`` SSM parameter.

An ``AWS::SSM::Parameter`` of ``Type: String`` (or ``StringList``) is stored and shown
unencrypted; CloudFormation cannot create ``SecureString`` parameters, so a secret belongs in
Secrets Manager (or a SecureString created outside the stack and read with
``{{resolve:ssm-secure:...}}``). Reported when the parameter's value has the shape of a token
(GitHub, GitLab, Slack, AWS access key, private key) or comes from a ``NoEcho`` template
parameter, or when the last segment of its name is named like a secret (``.../github-token``,
``DB_PASSWORD``; pointers such as ``...-secret-arn`` are not).
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-parameter.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import ref_target, render, truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.source.secret_parameter import secret_name
from conveyor.rules.template import Resource

TOKEN_SHAPES = lazy(
    r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abpr]-[\w-]{10,}"
    r"|(AKIA|ASIA)[A-Z0-9]{16}|sk_live_\w{16,})\b|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


def _why(res: Resource, ctx: Context) -> str | None:
    value = res.properties.get("Value")
    text = render(value) or ""
    if TOKEN_SHAPES.search(text):
        return "its value has the shape of a token or key"
    param = ctx.params.get(ref_target(value) or "")
    if isinstance(param, dict) and truthy(param.get("NoEcho")) is True:
        return f"its value is the NoEcho parameter {ref_target(value)}"
    name = render(res.properties.get("Name")) or ""
    last = re.split(r"[/:]", name)[-1]
    if last and "${" not in last and secret_name(last):
        return f"its name {name!r} is a secret's"
    return None


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.properties.get("Type", "String") not in ("String", "StringList"):
        return
    why = _why(res, ctx)
    if why:
        yield Hit(
            res.logical_id,
            "Properties.Value",
            f"String SSM parameter holds a secret ({why}): it is stored and shown unencrypted",
        )


RULE = Rule(
    id="CV047",
    title="Secret in a plain String SSM parameter",
    severity=Severity.HIGH,
    resource_types=("AWS::SSM::Parameter",),
    failure_modes=("FM30",),
    why="S2 and S5: tokens and Docker Hub credentials were kept where anyone with read access "
    "to configuration could see them, instead of in Secrets Manager or a SecureString.",
    fix_cloudformation="Create an AWS::SecretsManager::Secret (GenerateSecretString, or set its "
    "value outside the template) and read it with '{{resolve:secretsmanager:...}}'.",
    fix_cdk="secretsmanager.Secret(...) and SecretValue.secrets_manager(...), not "
    "ssm.StringParameter for secrets.",
    fix_conveyor="Nothing to write: conveyor reads secrets from Secrets Manager only.",
    check=check,
)
