"""CV116, CV117 beyond their fixtures (issue 11), and CV041 on a pull-request pipeline whose
image scan reads the archive its build wrote."""

from __future__ import annotations

from conveyor.rules.runner import check_text

CONNECTION = (
    "arn:aws:codestar-connections:eu-west-1:123456789012:connection/"
    "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)


def template(*, trigger: str, build_commands: str, scan_input: str, managed: str = "") -> str:
    return f"""\
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/pipeline
      ArtifactStore: {{Type: S3, Location: artifacts}}
      PipelineType: V2
      Triggers:
        - ProviderType: CodeStarSourceConnection
          GitConfiguration:
            SourceActionName: Source
            {trigger}:
              - Branches: {{Includes: [main]}}
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId:
                {{Category: Source, Owner: AWS, Provider: CodeStarSourceConnection, Version: "1"}}
              Configuration:
                ConnectionArn: {CONNECTION}
                FullRepositoryId: acme/app
                BranchName: main
              OutputArtifacts: [{{Name: Src}}]
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              Configuration: {{ProjectName: {{Ref: Build}}}}
              InputArtifacts: [{{Name: Src}}]
              OutputArtifacts: [{{Name: Image}}]
              RunOrder: 1
            - Name: Scan-gitleaks
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              Configuration: {{ProjectName: {{Ref: Build}}}}
              InputArtifacts: [{{Name: Src}}]
              RunOrder: 1
            - Name: Scan-trivy
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              Configuration: {{ProjectName: {{Ref: Build}}}}
              InputArtifacts: [{{Name: {scan_input}}}]
              RunOrder: 2
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: {{"Fn::GetAtt": [BuildRole, Arn]}}
      Artifacts: {{Type: CODEPIPELINE}}
      Environment:
        Type: LINUX_CONTAINER
        ComputeType: BUILD_GENERAL1_SMALL
        Image: "aws/codebuild/standard:7.0"
        PrivilegedMode: true
      Source:
        Type: CODEPIPELINE
        BuildSpec: |
          version: 0.2
          phases:
            build:
              commands: [{build_commands}]
  BuildRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: codebuild.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns: [{managed}]
"""


def rules(text: str) -> list[str]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return sorted(f.rule for f in result.findings if f.rule in ("CV041", "CV116", "CV117"))


ARCHIVE = "docker buildx build --output type=docker,dest=image.tar ."
PUSH = "docker buildx build --tag $REPOSITORY_URI:tag --push ."
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"


def test_a_pull_request_build_that_only_writes_an_archive_is_not_reported() -> None:
    assert rules(template(trigger="PullRequest", build_commands=ARCHIVE, scan_input="Image")) == []


def test_a_pull_request_build_that_pushes_is_cv116() -> None:
    found = check_text(
        template(trigger="PullRequest", build_commands=PUSH, scan_input="Image"), name="t.yaml"
    ).findings
    (hit,) = [f for f in found if f.rule == "CV116"]
    assert "pushes an image" in hit.message and "Build" in hit.message


def test_the_same_build_on_push_triggers_is_not_cv116() -> None:
    assert rules(template(trigger="Push", build_commands=PUSH, scan_input="Image")) == []


def test_a_managed_registry_policy_on_a_pull_request_build_role_is_cv117() -> None:
    text = template(
        trigger="PullRequest", build_commands=ARCHIVE, scan_input="Image", managed=POWER_USER
    )
    found = check_text(text, name="t.yaml").findings
    (hit,) = [f for f in found if f.rule == "CV117"]
    assert "ecr:PutImage" in hit.message
    # On a pipeline that pull requests do not start, the same role is CV117's concern no more.
    assert "CV117" not in rules(text.replace("PullRequest:", "Push:"))


def test_cv041_still_reports_a_scan_that_waits_without_reading_what_came_before() -> None:
    """A scan at run order 2 that reads only the source could run beside the first wave."""
    text = template(trigger="PullRequest", build_commands=ARCHIVE, scan_input="Src")
    assert rules(text) == ["CV041"]
