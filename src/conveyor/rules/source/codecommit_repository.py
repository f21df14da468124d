"""Template creates a CodeCommit repository.

AWS closed CodeCommit to new customers: ``CreateRepository`` is refused in accounts and
organizations that have no repository yet.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    yield Hit(
        res.logical_id,
        "Type",
        "creates a CodeCommit repository; refused in accounts without one "
        "(use an existing repository, an S3 source or a connection)",
    )


RULE = Rule(
    id="CV062",
    title="Creates a CodeCommit repository",
    severity=Severity.HIGH,
    resource_types=("AWS::CodeCommit::Repository",),
    failure_modes=("FM52",),
    why="S3: 'CreateRepository request is not allowed because there is no existing repository "
    "in this AWS account or AWS Organization'.",
    fix_cloudformation="Reference an existing repository by name (parameter), or use an S3 "
    "source or a CodeStar connection.",
    fix_cdk="codecommit.Repository.from_repository_name(self, 'Repo', 'existing-name')",
    fix_conveyor="source: {codecommit: {repository: existing-name}} (never created), or "
    "source.s3 / source.github.",
    check=check,
)
