"""CV085 (no scan before a deploy) judges releases, not the pipeline updating its own stack:
conveyor's UpdatePipeline stage deploys the pipeline stack right after Source, before any scan."""

from __future__ import annotations

import textwrap

from conveyor.rules import check_text

TEMPLATE = """
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {{Category: Source, Owner: AWS, Provider: S3, Version: "1"}}
              Configuration: {{S3Bucket: b, S3ObjectKey: k}}
              OutputArtifacts: [{{Name: Source}}]
        - Name: UpdatePipeline
          Actions:
            - Name: UpdatePipeline
              ActionTypeId: {{Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: {stack}
                TemplatePath: Synth::app-pipeline.template.json
              InputArtifacts: [{{Name: Source}}]
        - Name: Build
          Actions:
            - Name: Scan-trivy
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              Configuration: {{ProjectName: scan}}
              InputArtifacts: [{{Name: Source}}]
"""


def scan_findings(stack: str) -> list[str]:
    result = check_text(textwrap.dedent(TEMPLATE.format(stack=stack)), name="t.yaml")
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV085"]


def test_updating_the_pipelines_own_stack_before_the_scans_is_no_release() -> None:
    assert scan_findings("!Ref AWS::StackName") == []


def test_deploying_another_stack_before_the_scans_is_still_reported() -> None:
    assert scan_findings("payments-prod") == [
        "no security scan runs before deploy action 'UpdatePipeline'; critical findings would ship"
    ]


REGION_ACTION = """            - Name: UpdateRegionUsEast1
              ActionTypeId: {{Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: app-region-us-east-1
                TemplatePath: Synth::app-region-us-east-1.template.json
              InputArtifacts: [{{Name: Source}}]
              Region: us-east-1
              RunOrder: RUN_ORDER
"""


def region_findings(run_order: int) -> list[str]:
    """The UpdatePipeline stage also updating another region's support stack, before (run order
    1) or after (3) the pipeline's own stack (run order 2)."""
    template = TEMPLATE.replace(
        "        - Name: UpdatePipeline\n          Actions:\n",
        "        - Name: UpdatePipeline\n          Actions:\n"
        + REGION_ACTION.replace("RUN_ORDER", str(run_order)),
    ).replace(
        "              InputArtifacts: [{{Name: Source}}]\n        - Name: Build",
        "              InputArtifacts: [{{Name: Source}}]\n              RunOrder: 2\n"
        "        - Name: Build",
    )
    text = textwrap.dedent(template.format(stack="!Ref AWS::StackName"))
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f.message for f in result.findings if f.rule == "CV085"]


def test_another_region_s_support_stack_updated_before_the_pipeline_s_own_is_no_release() -> None:
    """conveyor's UpdatePipeline: Synth, each other region's support stack, the pipeline's."""
    assert region_findings(1) == []


def test_a_stack_the_self_update_stage_deploys_after_it_is_reported() -> None:
    assert region_findings(3) == [
        "no security scan runs before deploy action 'UpdateRegionUsEast1'; critical findings "
        "would ship"
    ]


BUILT_RELEASE = """
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: b, S3ObjectKey: k}
              OutputArtifacts: [{Name: Source}]
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: build}
              InputArtifacts: [{Name: Source}]
              OutputArtifacts: [{Name: Built}]
        - Name: Deploy
          Actions:
            - Name: Deploy-prod
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: app-prod
                TemplatePath: Built::app-prod.template.json
              InputArtifacts: [{Name: Built}]
              RunOrder: 1
            - Name: UpdateSelf
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration:
                ActionMode: CREATE_UPDATE
                StackName: !Ref AWS::StackName
                TemplatePath: Built::app-pipeline.template.json
              InputArtifacts: [{Name: Built}]
              RunOrder: 2
"""


def test_a_release_of_an_earlier_stage_s_build_before_the_pipeline_s_own_update_is_reported() -> (
    None
):
    """Only what the self-update stage made itself (its synth) or the source goes with the
    pipeline's definition: a stack deployed from an earlier stage's build output, in a stage that
    then updates the pipeline's own stack, is a release."""
    result = check_text(textwrap.dedent(BUILT_RELEASE), name="t.yaml")
    assert result.errors == []
    assert [f.message for f in result.findings if f.rule == "CV085"] == [
        "no security scan runs before deploy action 'Deploy-prod'; critical findings would ship"
    ]
