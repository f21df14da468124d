"""The runtime-contract rules (CV093-CV098) beyond their one bad and one good fixture: each
branch a user's hand-written template can take."""

from __future__ import annotations

import json
import textwrap

import pytest

from conveyor.rules import check_text


def hits(rule: str, template: str) -> list[tuple[str, str]]:
    result = check_text(textwrap.dedent(template), name="t.yaml")
    assert result.errors == []
    return [(f.resource, f.message) for f in result.findings if f.rule == rule]


ROLE = """
  {name}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: {actions}, Resource: "*"}}
"""


def pipeline(provider: str, role_arn: str = "") -> str:
    own = f"\n              RoleArn: {role_arn}" if role_arn else ""
    return f"""
Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt PipelineRole.Arn
      Stages:
        - Name: Deploy
          Actions:
            - Name: Deploy
              ActionTypeId: {{Category: Deploy, Owner: AWS, Provider: {provider}, Version: "1"}}
              Configuration: {{}}{own}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions: [{{Name: app, Image: public.ecr.aws/nginx/nginx:1}}]
      Tags: [{{Key: App, Value: web}}]
"""


# ---- CV093 ---------------------------------------------------------------------------------


def test_cv093_pipeline_role_without_own_action_role_is_judged() -> None:
    text = pipeline("ECS") + ROLE.format(
        name="PipelineRole", actions="[ecs:RegisterTaskDefinition, ecs:UpdateService]"
    )
    found = hits("CV093", text)
    assert [r for r, _ in found] == ["Pipeline"]
    assert "PipelineRole" in found[0][1] and "ecs:TagResource" in found[0][1]


def test_cv093_wildcard_grant_counts_as_tagging() -> None:
    text = pipeline("ECS") + ROLE.format(name="PipelineRole", actions='"ecs:*"')
    assert hits("CV093", text) == []


def test_cv093_role_imported_by_arn_is_not_judged() -> None:
    text = pipeline("ECS", role_arn="arn:aws:iam::123456789012:role/deploy") + ROLE.format(
        name="PipelineRole", actions="[s3:GetObject]"
    )
    assert hits("CV093", text) == []


def test_cv093_any_role_that_registers_tagged_task_definitions() -> None:
    text = (
        pipeline("S3")
        + ROLE.format(name="PipelineRole", actions="[s3:GetObject]")
        + ROLE.format(name="Registrar", actions="[ecs:RegisterTaskDefinition]")
    )
    assert [r for r, _ in hits("CV093", text)] == ["Registrar"]


def test_cv093_codedeploy_to_ecs_roles_are_left_to_taskdef_json() -> None:
    # The CodeDeployToECS action registers taskdef.json, whose tags the template does not show.
    text = (
        pipeline("CodeDeployToECS", role_arn="!GetAtt Deployer.Arn")
        + ROLE.format(name="PipelineRole", actions="[s3:GetObject]")
        + ROLE.format(name="Deployer", actions="[ecs:RegisterTaskDefinition]")
    )
    assert hits("CV093", text) == []


# ---- CV094 ---------------------------------------------------------------------------------

TOPIC = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {topic_properties}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{source: [aws.codepipeline]}}
      Targets: [{{Id: t, Arn: !Ref Topic}}]
"""


def test_cv094_eventbridge_needs_a_topic_policy_even_without_one() -> None:
    found = hits("CV094", TOPIC.format(topic_properties="{}"))
    assert [r for r, _ in found] == ["Topic"]
    assert "events.amazonaws.com" in found[0][1]


def test_cv094_aws_managed_key_cannot_admit_services() -> None:
    text = (
        TOPIC.format(topic_properties="{KmsMasterKeyId: alias/aws/sns}")
        + """
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sns:Publish
            Resource: "*"
"""
    )
    found = hits("CV094", text)
    assert len(found) == 1 and "alias/aws/sns" in found[0][1]


def test_cv094_customer_key_without_the_publisher() -> None:
    text = (
        TOPIC.format(topic_properties="{KmsMasterKeyId: !GetAtt Key.Arn}")
        + """
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: "*", Action: "sns:*", Resource: "*"}
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: kms:Decrypt
            Resource: "*"
"""
    )
    found = hits("CV094", text)
    assert len(found) == 1 and "Key" in found[0][1] and "kms:GenerateDataKey" in found[0][1]


def test_cv094_unconditional_deny_beats_allow() -> None:
    text = (
        TOPIC.format(topic_properties="{}")
        + """
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sns:Publish
            Resource: "*"
          - {Effect: Deny, Principal: {AWS: "*"}, Action: sns:Publish, Resource: "*"}
"""
    )
    assert len(hits("CV094", text)) == 1


def test_cv094_policy_built_by_an_intrinsic_is_not_judged() -> None:
    text = (
        TOPIC.format(topic_properties="{}")
        + """
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: !If [Never, {}, {}]
"""
    )
    assert hits("CV094", text) == []


# ---- CV095 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Retain", "RetainExceptOnCreate", "Delete"])
def test_cv095_only_plain_retain_is_reported(policy: str) -> None:
    text = f"""
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: {policy}
    Properties: {{LogGroupName: /web/build, RetentionInDays: 30}}
"""
    assert len(hits("CV095", text)) == (1 if policy == "Retain" else 0)


# ---- CV096 ---------------------------------------------------------------------------------

SERVICE = """
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: arn:aws:iam::123456789012:role/build
      Environment:
        Type: {build_type}
        ComputeType: BUILD_GENERAL1_SMALL
        Image: aws/codebuild/standard:7.0
      Source:
        Type: CODEPIPELINE
        BuildSpec: |
          phases:
            build:
              commands:
                - docker buildx build {platform} --push -t $REPO:$TAG .
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions: [{{Name: app, Image: public.ecr.aws/nginx/nginx:1}}]
{runtime}
  Service:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: !Ref Task
"""
ARM_TASK = "      RuntimePlatform: {CpuArchitecture: ARM64}"


@pytest.mark.parametrize(
    ("build_type", "platform", "runtime", "reported"),
    [
        ("LINUX_CONTAINER", "--platform linux/arm64", "", True),
        ("LINUX_CONTAINER", "--platform linux/arm64", ARM_TASK, False),
        ("LINUX_CONTAINER", "", ARM_TASK, True),
        ("ARM_CONTAINER", "", ARM_TASK, False),
        ("ARM_CONTAINER", "", "", True),
        ("LINUX_CONTAINER", "--platform=linux/amd64", "", False),
    ],
)
def test_cv096_task_platform_follows_the_image(
    build_type: str, platform: str, runtime: str, reported: bool
) -> None:
    text = SERVICE.format(build_type=build_type, platform=platform, runtime=runtime)
    found = hits("CV096", text)
    assert [r for r, _ in found] == (["Task"] if reported else [])


def test_cv096_function_fed_through_an_alias_on_an_arm_build_host() -> None:
    text = """
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      Environment:
        Type: ARM_CONTAINER
        ComputeType: BUILD_GENERAL1_SMALL
        Image: aws/codebuild/amazonlinux-aarch64-standard:3.0
      Source:
        Type: CODEPIPELINE
        BuildSpec: "phases: {build: {commands: [pip install . --target=package]}}"
  Function:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: app.handler, Code: {ZipFile: x}}
  Alias:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Function, FunctionVersion: "1", Name: live}
"""
    found = hits("CV096", text)
    assert [r for r, _ in found] == ["Build"]
    assert "arm64" in found[0][1] and "Function (x86_64)" in found[0][1]


# ---- CV097 ---------------------------------------------------------------------------------


def lifecycle(*rules: dict[str, object]) -> str:
    policy = json.dumps({"rules": list(rules)})
    return f"""
Resources:
  Images:
    Type: AWS::ECR::Repository
    Properties:
      LifecyclePolicy:
        LifecyclePolicyText: '{policy}'
"""


def rule(priority: int, **selection: object) -> dict[str, object]:
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def test_cv097_protection_must_come_first() -> None:
    keep = rule(5, tagStatus="tagged", tagPrefixList=["deployed-"], countType="imageCountMoreThan")
    broad = rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=10)
    assert len(hits("CV097", lifecycle(broad, keep))) == 1


def test_cv097_catch_all_pattern_is_as_broad_as_any() -> None:
    broad = rule(2, tagStatus="tagged", tagPatternList=["*"], countType="imageCountMoreThan")
    catch_all = rule(1, tagStatus="tagged", tagPatternList=["*"], countType="imageCountMoreThan")
    assert len(hits("CV097", lifecycle(catch_all, broad))) == 1


def test_cv097_unreadable_policy_is_not_judged() -> None:
    assert hits("CV097", lifecycle().replace("'{", "'{not json")) == []


# ---- CV098 ---------------------------------------------------------------------------------


def project(buildspec_commands: list[str], image: str = "aws/codebuild/standard:7.0") -> str:
    spec = json.dumps({"phases": {"build": {"commands": buildspec_commands}}})
    return f"""
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      Environment: {{Type: LINUX_CONTAINER, ComputeType: BUILD_GENERAL1_SMALL, Image: "{image}"}}
      Source: {{Type: CODEPIPELINE, BuildSpec: '{spec}'}}
"""


@pytest.mark.parametrize(
    ("commands", "reported"),
    [
        (["docker buildx create --use"], True),
        (["docker buildx create --use --driver docker"], False),
        (["docker pull python:3.12"], True),
        (["docker pull --platform linux/arm64 public.ecr.aws/docker/library/python:3.12"], False),
        (["docker pull docker.io/library/python:3.12"], True),
        (["docker pull ghcr.io/acme/tool:1"], False),
        (["echo $HUB | docker login -u acme --password-stdin", "docker pull python:3.12"], False),
        (
            [
                "aws ecr get-login-password | docker login -u AWS --password-stdin $R",
                "docker pull x",
            ],
            True,
        ),
    ],
)
def test_cv098_buildspec_pulls(commands: list[str], reported: bool) -> None:
    assert len(hits("CV098", project(commands))) == (1 if reported else 0)


def test_cv098_build_image_from_docker_hub() -> None:
    found = hits("CV098", project(["make"], image="node:20"))
    assert len(found) == 1 and "node:20" in found[0][1]
