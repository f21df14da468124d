"""Hard-coded physical name in a namespace shared by every AWS account: S3 bucket names.

A name is hard-coded when it is a plain literal (or a Sub/Join of literals only) with no
``${AWS::StackName}``, ``${AWS::AccountId}``, parameter or resource reference in it: the second
deploy of the same template (another environment, another branch, another account, a re-create
after a failed delete) then fails with "already exists". CDK output usually has no bucket names.

Limits: names unique per account and region (ECR repositories, tables, log groups, pipelines)
collide only with a second copy of the same stack in the same account, or with what a deleted
stack retained. A template cannot say whether such a name is a deliberate convention (conveyor
names them ``{app}-{type}-{env}[-suffix]``, and ``suffix:`` separates parallel copies) or an
accident, so this rule reports global names only.
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import is_literal, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource

# Resource types whose names share one namespace across all AWS accounts.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
}


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    prop = NAME_PROPERTIES[res.type]
    value = res.properties.get(prop)
    if value is None or not is_literal(value):
        return
    yield Hit(
        res.logical_id,
        f"Properties.{prop}",
        f"{prop} {render(value)!r} is hard-coded; a second deploy fails with 'already exists'",
    )


RULE = Rule(
    id="CV009",
    title="Hard-coded physical name",
    severity=Severity.MEDIUM,
    resource_types=tuple(NAME_PROPERTIES),
    failure_modes=("FM06",),
    why="S3, S4 and S5: 'Resource of type AWS::ECR::Repository with identifier ... already "
    "exists' and 'AWS::S3::Bucket ... already exists' on the second deploy.",
    fix_cloudformation="Drop the name and let CloudFormation generate one, or build it with "
    "!Sub '${AWS::StackName}-...' / an environment parameter.",
    fix_cdk="Leave the name property unset (PhysicalName.GENERATE_IF_NEEDED for cross-env use) "
    "or include Stack.of(self).stack_name in it.",
    fix_conveyor="Nothing to write: conveyor names resources {app}-{type}-{env}[-suffix]; set "
    "suffix: in conveyor.yaml for parallel copies.",
    check=check,
)
