"""Secret-like parameter that echoes, or that has a default.

A parameter named like a secret (password, token, secret, api key) must have ``NoEcho: true``
(or it shows in the console and in ``describe-stacks``), and must not have a ``Default``: with
one, a deploy that forgot to pass the secret silently uses the default and fails much later with
an unrelated error.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import truthy
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.secrets import secret_like


def check_template(ctx: Context) -> Iterator[Hit]:
    for name, param in ctx.params.items():
        if not secret_like(name):
            continue
        problems = []
        if truthy(param.get("NoEcho")) is not True:
            problems.append("is not NoEcho")
        if param.get("Default") not in (None,):
            problems.append("has a default, so a missing secret goes unnoticed")
        if problems:
            yield Hit(
                name,
                f"Parameters.{name}",
                f"secret parameter {name} {' and '.join(problems)}",
            )


RULE = Rule(
    id="CV045",
    title="Secret parameter echoes or has a default",
    severity=Severity.MEDIUM,
    resource_types=(),
    failure_modes=("FM30", "FM53"),
    why="S4: the GitHub token was made optional with a dummy default; the deployment then "
    "failed far from the cause. S2: tokens ended up readable in configuration.",
    fix_cloudformation="Set NoEcho: true and remove Default; better, read the secret with a "
    "'{{resolve:secretsmanager:...}}' dynamic reference where it is used.",
    fix_cdk="SecretValue.secrets_manager('name') instead of CfnParameter for secrets.",
    fix_conveyor="Nothing to write: conveyor takes no secrets as parameters.",
    check_template=check_template,
)
