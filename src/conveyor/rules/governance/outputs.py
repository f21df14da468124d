"""Key pipeline resources without a stack output.

The pipeline, image repository, notification topic and deployment table are what other stacks,
scripts and people look up; each needs an ``Outputs`` entry that references it. Judged only in
templates that define a pipeline (the resources of a library stack may be exported elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity

KEY_TYPES = {
    "AWS::CodePipeline::Pipeline": "pipeline name",
    "AWS::ECR::Repository": "repository URI",
    "AWS::SNS::Topic": "topic ARN",
    "AWS::DynamoDB::Table": "table name",
}


def check_template(ctx: Context) -> Iterator[Hit]:
    if not ctx.relations.of_type("AWS::CodePipeline::Pipeline"):
        return
    for lid, res in ctx.template.resources.items():
        what = KEY_TYPES.get(res.type)
        if what and lid not in ctx.relations.output_refs:
            yield Hit(lid, "", f"no stack output exposes the {what} of {lid}")


RULE = Rule(
    id="CV092",
    title="Missing stack outputs",
    severity=Severity.INFO,
    resource_types=(),
    failure_modes=("FM82",),
    why="S2: critical identifiers (pipeline name, ECR URI) were not exported; other stacks and "
    "applications could not integrate with the pipeline.",
    fix_cloudformation="Add Outputs: PipelineName: {Value: !Ref Pipeline}, RepositoryUri: "
    "{Value: !GetAtt Repository.RepositoryUri}, ...",
    fix_cdk="CfnOutput(self, 'PipelineName', value=pipeline.pipeline_name)",
    fix_conveyor="Nothing to write: conveyor outputs pipeline, repository, topic and table.",
    check_template=check_template,
)
