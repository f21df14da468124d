"""Identity policy that allows every action (``*``), every action of a service (``s3:*``), or
uses ``NotAction`` with Allow. Resource-based policies (bucket, key, topic policies) are not
judged here.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.iam.identity_policies import IDENTITY_TYPES, documents
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.policies import statements, string_list
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    for source in documents(res):
        for index, stmt in statements(source.document):
            if stmt.get("Effect") != "Allow":
                continue
            path = f"{source.path}.Statement.{index}"
            if "NotAction" in stmt:
                yield Hit(res.logical_id, path, "Allow with NotAction grants everything else")
                continue
            wide = [a for a in string_list(stmt.get("Action")) if a == "*" or a.endswith(":*")]
            if wide:
                yield Hit(
                    res.logical_id,
                    path,
                    f"policy allows wildcard actions {', '.join(sorted(set(wide)))}; "
                    "list the actions the role needs",
                )


RULE = Rule(
    id="CV050",
    title="Wildcard actions in an identity policy",
    severity=Severity.HIGH,
    resource_types=IDENTITY_TYPES,
    failure_modes=("FM40",),
    why="S2, S3 and S5: roles were over-permissioned with wildcards, violating least privilege.",
    fix_cloudformation="Replace '*' and 'service:*' with the specific actions the role calls.",
    fix_cdk="Use grants (bucket.grant_read_write(role), repository.grant_pull_push(role)) instead "
    "of PolicyStatement(actions=['*']).",
    fix_conveyor="Nothing to write: conveyor grants through CDK grants only.",
    check=check,
)
