"""Source token written into the template in plain text.

Looks at ``OAuthToken`` in pipeline action configurations, ``Token`` of
``AWS::CodeBuild::SourceCredential`` and ``SecretToken`` of ``AWS::CodePipeline::Webhook``. A
literal is a finding; a dynamic reference (``{{resolve:secretsmanager:...}}``) or a parameter is
not (CV045 judges the parameter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import get, is_literal
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.pipelines import actions
from conveyor.rules.secrets import from_store
from conveyor.rules.template import Resource


def _literal_secret(value: Any) -> bool:
    return value not in (None, "") and is_literal(value) and not from_store(value)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    if res.type == "AWS::CodePipeline::Pipeline":
        for action in actions(res):
            if _literal_secret(action.configuration.get("OAuthToken")):
                yield Hit(
                    res.logical_id,
                    f"{action.path}.Configuration.OAuthToken",
                    f"action {action.name!r} has its OAuth token in plain text",
                )
    elif res.type == "AWS::CodeBuild::SourceCredential":
        if _literal_secret(res.properties.get("Token")):
            yield Hit(res.logical_id, "Properties.Token", "source credential token in plain text")
    elif _literal_secret(get(res.properties, "AuthenticationConfiguration", "SecretToken")):
        yield Hit(
            res.logical_id,
            "Properties.AuthenticationConfiguration.SecretToken",
            "webhook secret in plain text",
        )


RULE = Rule(
    id="CV042",
    title="Source token in plain text",
    severity=Severity.CRITICAL,
    resource_types=(
        "AWS::CodePipeline::Pipeline",
        "AWS::CodeBuild::SourceCredential",
        "AWS::CodePipeline::Webhook",
    ),
    failure_modes=("FM30",),
    why="S2: the GitHub token was hard-coded in the pipeline configuration "
    "(OAuthToken: 'ghp_...') and so exposed in the repository and state files.",
    fix_cloudformation="Use a CodeStar connection (no token at all), or "
    "'{{resolve:secretsmanager:github-token}}'.",
    fix_cdk="CodeStarConnectionsSourceAction(connection_arn=...) or "
    "SecretValue.secrets_manager('github-token')",
    fix_conveyor="source: {github: {connection: <CodeStar connection ARN>}}.",
    check=check,
)
