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
