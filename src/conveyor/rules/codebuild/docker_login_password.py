"""Buildspec logs in to a registry with a password written in the buildspec.

``docker login -p <literal>`` / ``--password <literal>`` or ``echo <literal> | docker login
--password-stdin``: a literal rather than ``$VARIABLE`` fed from Parameter Store or Secrets
Manager. Inline buildspecs only.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.buildspec import inline_buildspec
from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

LITERAL_PASSWORD = lazy(
    r"docker\s+login\b[^\n]*?(?:\s-p\s*|--password[ =])(?![\"']?\$)[\"']?[^\s\"'$]+"
    r"|echo\s+[\"']?(?!\$)[^\s|\"'$]+[\"']?\s*\|\s*docker\s+login\b[^\n]*--password-stdin"
)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    spec = inline_buildspec(res)
    if spec is not None and LITERAL_PASSWORD.search(spec):
        yield Hit(
            res.logical_id,
            "Properties.Source.BuildSpec",
            "docker login uses a password written in the buildspec",
        )


RULE = Rule(
    id="CV046",
    title="Registry password written in the buildspec",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeBuild::Project",),
    failure_modes=("FM30",),
    why="S5: Docker Hub credentials were not taken from Parameter Store.",
    fix_cloudformation="Declare env.parameter-store (or env.secrets-manager) in the buildspec "
    'and run \'echo "$DOCKERHUB_PASSWORD" | docker login -u "$DOCKERHUB_USER" '
    "--password-stdin'.",
    fix_cdk="Same buildspec, with BuildEnvironmentVariableType.PARAMETER_STORE variables.",
    fix_conveyor="build: {docker: {login: {...}}}: conveyor reads the password from Parameter "
    "Store.",
    check=check,
)
