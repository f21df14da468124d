"""The runtime-contract rules (CV093-CV098) beyond their one bad and one good fixture: each
branch a user's hand-written template can take."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping

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


CONDITIONED_TAG = """
  PipelineRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: ecs:RegisterTaskDefinition, Resource: "*"}}
              - Effect: Allow
                Action: ecs:TagResource
                Resource: "*"
                Condition: {{{operator}: {{ecs:CreateAction: {values}}}}}
"""


@pytest.mark.parametrize(
    ("operator", "values", "refused"),
    [
        ("StringEquals", "CreateService", True),
        ("StringEquals", "[CreateService, RunTask]", True),
        ("StringLike", "Create*", True),
        ("StringEquals", "RegisterTaskDefinition", False),
        ("StringEqualsIfExists", "CreateService", True),
        ("StringEqualsIfExists", "[CreateService, RegisterTaskDefinition]", False),
        ("StringLike", "Register*", False),
        ("StringEquals", "!Ref Api", False),  # not readable: not judged
    ],
)
def test_cv093_tag_grant_for_other_create_actions_does_not_cover_registration(
    operator: str, values: str, refused: bool
) -> None:
    """ECS sets ecs:CreateAction to RegisterTaskDefinition on a registration's tags."""
    text = pipeline("ECS") + CONDITIONED_TAG.format(operator=operator, values=values)
    assert [r for r, _ in hits("CV093", text)] == (["Pipeline"] if refused else [])


def test_cv093_unreadable_tag_condition_is_assumed_to_admit() -> None:
    text = pipeline("ECS") + CONDITIONED_TAG.format(operator="Bool", values="x").replace(
        "Condition: {Bool: {ecs:CreateAction: x}}", "Condition: {StringEquals: CreateService}"
    )
    assert "StringEquals: CreateService" in text
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


def lifecycle(*rules: Mapping[str, object]) -> str:
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


def test_cv097_a_deployed_tag_rule_that_ages_images_protects_nothing() -> None:
    """A deployed-tag rule by age expires what production runs a day after its push."""
    aged = rule(1, tagStatus="tagged", tagPrefixList=["deployed-"], countType="sinceImagePushed")
    broad = rule(2, tagStatus="any", countType="imageCountMoreThan", countNumber=10)
    assert len(hits("CV097", lifecycle(aged, broad))) == 1
    kept = rule(1, tagStatus="tagged", tagPrefixList=["deployed-"], countType="imageCountMoreThan")
    assert hits("CV097", lifecycle(kept, broad)) == []


def test_cv097_catch_all_pattern_is_as_broad_as_any() -> None:
    broad = rule(2, tagStatus="tagged", tagPatternList=["*"], countType="imageCountMoreThan")
    catch_all = rule(1, tagStatus="tagged", tagPatternList=["*"], countType="imageCountMoreThan")
    assert len(hits("CV097", lifecycle(catch_all, broad))) == 1


def test_cv097_unreadable_policy_is_not_judged() -> None:
    assert hits("CV097", lifecycle().replace("'{", "'{not json")) == []


def test_cv097_repositories_sharing_a_policy_are_each_judged() -> None:
    """The judgement of a policy text is kept per template: each repository with that text
    gets its own finding, one with another text its own judgement."""
    broad = rule(1, tagStatus="any", countType="imageCountMoreThan", countNumber=10)
    keep_first = rule(1, tagStatus="tagged", tagPrefixList=["deployed-"], countType="x")
    same = lifecycle(broad)
    template = (
        same
        + same.split("Resources:", 1)[1].replace("Images:", "Others:")
        + lifecycle(keep_first, rule(2, tagStatus="any"))
        .split("Resources:", 1)[1]
        .replace("Images:", "Kept:")
    )
    found = hits("CV097", template)
    assert sorted(resource for resource, _ in found) == ["Images", "Others"]
    assert all("lifecycle rule 1 expires images of any tag" in message for _, message in found)
    shared = lifecycle(keep(1, "deployed-"), BROAD)
    two = shared + shared.split("Resources:", 1)[1].replace("Images:", "B:")
    environments = hits("CV097", two + deployed_to("staging", "prod"))
    assert sorted(resource for resource, _ in environments) == ["B", "Images"]
    assert all("staging, prod" in message for _, message in environments)


def deployed_to(*envs: str) -> str:
    """A pipeline whose MarkDeployed actions tag images for envs (as conveyor's do)."""
    actions = "".join(
        f"""
            - Name: MarkDeployed-{env}
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}}
              Configuration:
                ProjectName: mark
                EnvironmentVariables: '{json.dumps([{"name": "DEPLOY_ENVIRONMENT", "value": env, "type": "PLAINTEXT"}])}'"""
        for env in envs
    )
    return f"""
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::111111111111:role/p
      Stages:
        - Name: Deploy
          Actions:{actions}
"""


def keep(priority: int, prefix: str, count: int = 50) -> dict[str, object]:
    return rule(
        priority,
        tagStatus="tagged",
        tagPrefixList=[prefix],
        countType="imageCountMoreThan",
        countNumber=count,
    )


BROAD = rule(20, tagStatus="any", countType="imageCountMoreThan", countNumber=10)


def test_cv097_one_deployed_rule_shared_by_environments_fires() -> None:
    """50 staging releases while production waits would expire production's image."""
    found = hits("CV097", lifecycle(keep(1, "deployed-"), BROAD) + deployed_to("staging", "prod"))
    assert len(found) == 1
    assert "staging, prod" in found[0][1] and "deployed-" in found[0][1]


def test_cv097_a_rule_per_environment_does_not_fire() -> None:
    policy = lifecycle(keep(1, "deployed-prod-"), keep(2, "deployed-staging-"), BROAD)
    assert hits("CV097", policy + deployed_to("staging", "prod")) == []


def test_cv097_a_shared_rule_without_several_environments_is_not_judged() -> None:
    """One environment (or none the template names) has nobody to share the count with."""
    assert hits("CV097", lifecycle(keep(1, "deployed-"), BROAD) + deployed_to("prod")) == []
    assert hits("CV097", lifecycle(keep(1, "deployed-"), BROAD)) == []


def test_cv097_a_prefix_another_environment_extends_must_come_after_it() -> None:
    """deployed-prod- also matches deployed-prod-eu-<digest>: ahead of prod-eu's own rule it
    counts prod-eu's releases with prod's."""
    envs = deployed_to("prod", "prod-eu")
    wrong = lifecycle(keep(1, "deployed-prod-"), keep(2, "deployed-prod-eu-"), BROAD)
    found = hits("CV097", wrong + envs)
    assert len(found) == 1 and "prod, prod-eu" in found[0][1]
    right = lifecycle(keep(1, "deployed-prod-eu-"), keep(2, "deployed-prod-", 100), BROAD)
    assert hits("CV097", right + envs) == []


def test_cv097_a_pattern_shared_by_environments_fires() -> None:
    shared = rule(
        1, tagStatus="tagged", tagPatternList=["deployed-*"], countType="imageCountMoreThan"
    )
    assert len(hits("CV097", lifecycle(shared, BROAD) + deployed_to("a", "b"))) == 1
    apart = rule(
        1, tagStatus="tagged", tagPatternList=["deployed-a-*"], countType="imageCountMoreThan"
    )
    assert (
        hits("CV097", lifecycle(apart, keep(2, "deployed-b-"), BROAD) + deployed_to("a", "b")) == []
    )


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
        # A shell variable names the image (usually the build's ECR repository URI, set in the
        # project's environment): where it points cannot be told from the buildspec.
        (["docker pull $REPOSITORY_URI:latest || true"], False),
        (['docker pull "$IMAGE_REPO_NAME:$IMAGE_TAG"'], False),
        (["docker pull ${REPOSITORY_URI}:latest"], False),
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


# ---- What users read -------------------------------------------------------------------------

# Every finding of the bad fixtures, whole: where it points and what it says is the contract.
BAD_FIXTURE_FINDINGS = [
    (
        "CV093",
        "Pipeline",
        "Resources.Pipeline.Properties.Stages.1.Actions.0.RoleArn",
        21,
        "action Deploy/Deploy (ECS) registers a task definition revision with the service's tags, but its role DeployRole is not allowed ecs:TagResource; the first deploy fails with AccessDenied",
    ),
    (
        "CV094",
        "Topic",
        "Resources.Topic.Properties",
        12,
        "Failures publishes through cloudwatch.amazonaws.com, but the topic policy TopicPolicy does not allow it sns:Publish; an explicit topic policy replaces SNS's default, so these notices are silently dropped",
    ),
    (
        "CV094",
        "Topic",
        "Resources.Topic.Properties.KmsMasterKeyId",
        13,
        "Failures publishes through cloudwatch.amazonaws.com, but the topic's key Key does not allow it kms:GenerateDataKey and kms:Decrypt; SNS refuses the encrypted publish",
    ),
    (
        "CV095",
        "History",
        "Resources.History.DeletionPolicy",
        5,
        "retained with a fixed TableName: if the stack's first deployment fails, the resource survives the rollback and every retry fails with 'already exists'; use RetainExceptOnCreate",
    ),
    (
        "CV096",
        "Package",
        "Resources.Package.Properties.Source.BuildSpec",
        15,
        "pip packages the Lambda code for x86_64, but the functions it feeds run on another architecture (Function (arm64)); compiled dependencies fail to import. Pass --platform manylinux2014_aarch64 (or _x86_64) --only-binary=:all: or build on a matching image",
    ),
    (
        "CV097",
        "Images",
        "Resources.Images.Properties.LifecyclePolicy.LifecyclePolicyText",
        9,
        "lifecycle rule 2 expires images of any tag and no higher-priority rule keeps the deployed ones; the image an environment runs can be deleted. Tag images on deploy and keep that tag with a higher-priority rule",
    ),
    (
        "CV098",
        "Task",
        "Resources.Task.Properties.ContainerDefinitions.0.Image",
        8,
        "container web pulls traefik/whoami:v1.10 from Docker Hub anonymously; tasks fail to start when the pull limit is hit. Use ECR Public (public.ecr.aws), your own ECR, or RepositoryCredentials",
    ),
    (
        "CV099",
        "Recorded",
        "Resources.Recorded.Properties.Targets.0",
        10,
        "the rule invokes Recorder asynchronously, and neither the target (no DeadLetterConfig) nor the function (no on-failure destination or dead-letter queue) keeps the events it fails on; they are dropped after two retries",
    ),
]


def test_bad_fixture_findings_read_as_written() -> None:
    from pathlib import Path

    from conveyor.rules import check_paths

    fixtures = Path(__file__).parent / "fixtures"
    rules = sorted({rule for rule, *_ in BAD_FIXTURE_FINDINGS})
    found = [
        (f.rule, f.resource, f.path, f.line, f.message)
        for rule in rules
        for f in check_paths([fixtures / rule / "bad.yaml"]).findings
        if f.rule == rule
    ]
    assert found == BAD_FIXTURE_FINDINGS


@pytest.mark.parametrize(
    ("image", "hub"),
    [
        ("nginx", True),
        ("nginx:1.27", True),
        ("library/nginx@sha256:abc", True),
        ("docker.io/library/nginx:1", True),
        ("index.docker.io/acme/app:1", True),
        ("registry-1.docker.io/acme/app:1", True),
        ("public.ecr.aws/nginx/nginx:1", False),
        ("localhost/app:1", False),
        ("registry:5000/app:1", False),
        ("ghcr.io/acme/app:1", False),
        ("aws/codebuild/standard:7.0", False),
        ("", False),
        (None, False),
        ("${Image}", False),
        ({"Ref": "Image"}, False),
        ({"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/app:1"}, False),
        ({"Fn::Join": ["", ["acme/", "app:1"]]}, True),
    ],
)
def test_docker_hub_references(image: object, hub: bool) -> None:
    from conveyor.rules.runtime.docker_hub_pulls import is_docker_hub

    assert is_docker_hub(image) is hub


# ---- More branches, one line of template each -----------------------------------------------


def test_cv096_explicit_platform_beats_the_build_host() -> None:
    text = SERVICE.format(build_type="ARM_CONTAINER", platform="--platform linux/amd64", runtime="")
    assert hits("CV096", text) == []
    text = SERVICE.format(
        build_type="ARM_CONTAINER", platform="--platform linux/amd64", runtime=ARM_TASK
    )
    assert hits("CV096", text) == [
        (
            "Task",
            "the task runs on arm64 but the pipeline builds its images for x86_64; tasks stop "
            "with 'exec format error'. Set RuntimePlatform.CpuArchitecture to match the build's "
            "--platform",
        )
    ]


def test_cv096_pip_platform_beats_the_build_host() -> None:
    text = """
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      Environment: {Type: ARM_CONTAINER, Image: x, ComputeType: BUILD_GENERAL1_SMALL}
      Source:
        Type: CODEPIPELINE
        BuildSpec: "phases: {build: {commands: [pip install -t out --platform manylinux2014_x86_64 .]}}"
  Function:
    Type: AWS::Lambda::Function
    Properties: {Architectures: [x86_64], Runtime: python3.12, Handler: a.h, Code: {ZipFile: x}}
  Alias:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Function, FunctionVersion: "1", Name: live}
"""
    assert hits("CV096", text) == []
    assert [r for r, _ in hits("CV096", text.replace("x86_64 .", "aarch64 ."))] == ["Build"]


def test_cv096_unlinked_functions_and_unserved_tasks_are_not_judged() -> None:
    unlinked = """
Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      Environment: {Type: LINUX_CONTAINER, Image: x, ComputeType: BUILD_GENERAL1_SMALL}
      Source: {Type: CODEPIPELINE, BuildSpec: "phases: {build: {commands: [pip install -t p .]}}"}
  Function:
    Type: AWS::Lambda::Function
    Properties: {Architectures: [arm64], Runtime: python3.12, Handler: a.h, Code: {ZipFile: x}}
"""
    assert hits("CV096", unlinked) == []
    unserved = SERVICE.format(build_type="LINUX_CONTAINER", platform="", runtime=ARM_TASK)
    assert hits("CV096", unserved.replace("TaskDefinition: !Ref Task", "TaskDefinition: x")) == []
    chosen = SERVICE.format(
        build_type="LINUX_CONTAINER",
        platform="",
        runtime="      RuntimePlatform: {CpuArchitecture: !Ref Arch}",
    )
    assert hits("CV096", chosen) == []


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        (
            ["docker buildx create --use"],
            "docker buildx create pulls moby/buildkit from Docker Hub anonymously; pass "
            "--driver-opt image=public.ecr.aws/... (or an ECR copy) to avoid its rate limit",
        ),
        (
            ["docker image pull -q python:3.12", "docker pull node:20"],
            "docker pull python:3.12 is an anonymous Docker Hub pull; use ECR Public "
            "(public.ecr.aws) or a pull-through cache in your own ECR",
        ),
    ],
)
def test_cv098_buildspec_messages(commands: list[str], message: str) -> None:
    found = hits("CV098", project(commands))
    assert found == [("Build", message)]
    result = check_text(project(commands), name="t.yaml")
    (finding,) = [f for f in result.findings if f.rule == "CV098"]
    assert finding.path == "Resources.Build.Properties.Source.BuildSpec"


def test_cv098_build_image_with_registry_credential_is_fine() -> None:
    text = project(["make"], image="node:20").replace(
        'Image: "node:20"',
        'Image: "node:20", RegistryCredential: {Credential: arn, CredentialProvider: SECRETS_MANAGER}',
    )
    assert hits("CV098", text) == []


def test_cv098_buildx_create_and_pull_each_reported_once() -> None:
    commands = [
        "docker buildx create --use",
        "docker buildx create --name b",
        "docker pull a",
        "docker pull b",
    ]
    assert len(hits("CV098", project(commands))) == 2


PUBLISHERS = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Notices:
    Type: AWS::CodeStarNotifications::NotificationRule
    Properties:
      Targets: [{TargetType: SNS, TargetAddress: !Ref Topic}]
  Uploads:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        TopicConfigurations: [{Event: "s3:ObjectCreated:*", Topic: !Ref Topic}]
  Quiet:
    Type: AWS::CloudWatch::Alarm
    Properties:
      OKActions: [!Ref Topic]
"""


def test_cv094_every_kind_of_publisher_without_a_policy() -> None:
    assert hits("CV094", PUBLISHERS) == [
        (
            "Topic",
            f"{who} publishes through {service}, but no topic policy allows it sns:Publish; "
            "the notices are silently dropped",
        )
        for who, service in [
            ("Notices", "codestar-notifications.amazonaws.com"),
            ("Uploads", "s3.amazonaws.com"),
        ]
    ]


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ('{Effect: Allow, Principal: "*", Action: sns:Publish, Resource: "*"}', True),
        ('{Effect: Allow, Principal: {AWS: "*"}, Action: "sns:*", Resource: "*"}', True),
        (
            '{Effect: Allow, Principal: {AWS: "arn:aws:iam::1:root"}, Action: "*", Resource: "*"}',
            False,
        ),
        ('{Effect: Allow, NotPrincipal: {AWS: x}, Action: "*", Resource: "*"}', False),
        ('{Effect: Allow, Principal: "*", NotAction: sns:Subscribe, Resource: "*"}', True),
        ('{Effect: Allow, Principal: "*", NotAction: "sns:*", Resource: "*"}', False),
        ('{Effect: Allow, Principal: "*", Action: sns:Subscribe, Resource: "*"}', False),
    ],
)
def test_cv094_topic_policy_statements(statement: str, allowed: bool) -> None:
    text = (
        PUBLISHERS
        + f"""
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: {{Statement: [{statement}]}}
"""
    )
    services = {m.split(" publishes through ")[1].split(",")[0] for _, m in hits("CV094", text)}
    expected = (
        set()
        if allowed
        else {
            "cloudwatch.amazonaws.com",
            "codestar-notifications.amazonaws.com",
            "s3.amazonaws.com",
        }
    )
    assert services == expected


def test_cv094_one_of_two_policies_allowing_is_enough() -> None:
    text = (
        TOPIC.format(topic_properties="{}")
        + """
  Deny:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: s3.amazonaws.com}, Action: sns:Publish}]}
  Allow:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: {Statement: [{Effect: Allow, Principal: {Service: events.amazonaws.com}, Action: sns:Publish}]}
"""
    )
    assert hits("CV094", text) == []


def test_cv094_key_from_elsewhere_is_not_judged() -> None:
    text = (
        TOPIC.format(topic_properties="{KmsMasterKeyId: !ImportValue shared-key}")
        + """
  Policy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument: {Statement: [{Effect: Allow, Principal: "*", Action: sns:Publish}]}
"""
    )
    assert hits("CV094", text) == []


def test_cv094_managed_key_message_names_the_services() -> None:
    text = PUBLISHERS.replace(
        "    Type: AWS::SNS::Topic\n",
        "    Type: AWS::SNS::Topic\n    Properties: {KmsMasterKeyId: !Sub 'alias/aws/sns'}\n",
        1,
    )
    assert hits("CV094", text)[-1] == (
        "Topic",
        "the topic is encrypted with the AWS managed key alias/aws/sns, whose policy cannot "
        "admit cloudwatch.amazonaws.com, codestar-notifications.amazonaws.com, s3.amazonaws.com; "
        "their notices are dropped",
    )


EVENT_TARGET = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {{Runtime: python3.12, Handler: a.h, Code: {{ZipFile: x}}{function_extra}}}
  Live:
    Type: AWS::Lambda::Alias
    Properties: {{FunctionName: !Ref Fn, FunctionVersion: "1", Name: live}}
  V1:
    Type: AWS::Lambda::Version
    Properties: {{FunctionName: !Ref Fn}}
  Topic:
    Type: AWS::SNS::Topic
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Targets: [{{Id: t, Arn: {target}}}]
{extra}
"""


@pytest.mark.parametrize(
    ("target", "function_extra", "extra", "reported"),
    [
        ("!Ref Live", "", "", True),
        ("!Ref V1", "", "", True),
        ("!Ref Topic", "", "", False),
        ("!Ref Live", ", DeadLetterConfig: {TargetArn: q}", "", False),
        (
            "!GetAtt Fn.Arn",
            "",
            "  Cfg:\n    Type: AWS::Lambda::EventInvokeConfig\n"
            "    Properties: {FunctionName: !Ref Fn, Qualifier: $LATEST, MaximumRetryAttempts: 0}",
            True,
        ),
        (
            "!GetAtt Fn.Arn",
            "",
            "  Cfg:\n    Type: AWS::Lambda::EventInvokeConfig\n"
            "    Properties: {FunctionName: !Ref Live, Qualifier: live,"
            " DestinationConfig: {OnFailure: {Destination: q}}}",
            False,
        ),
        (
            "!GetAtt Fn.Arn",
            "",
            "  Other:\n    Type: AWS::Lambda::Function\n    Properties: {Code: {ZipFile: x}}\n"
            "  Cfg:\n    Type: AWS::Lambda::EventInvokeConfig\n"
            "    Properties: {FunctionName: !Ref Other, Qualifier: $LATEST,"
            " DestinationConfig: {OnFailure: {Destination: q}}}",
            True,
        ),
    ],
)
def test_cv099_targets(target: str, function_extra: str, extra: str, reported: bool) -> None:
    text = EVENT_TARGET.format(target=target, function_extra=function_extra, extra=extra)
    assert [r for r, _ in hits("CV099", text)] == (["Rule"] if reported else [])


def test_cv099_sam_function_destination() -> None:
    text = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      EventInvokeConfig: {DestinationConfig: {OnFailure: {Type: SQS, Destination: q}}}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Targets: [{Id: t, Arn: !GetAtt Fn.Arn}]
"""
    assert hits("CV099", text) == []
    assert len(hits("CV099", text.replace("OnFailure", "OnSuccess"))) == 1


def test_cv093_role_message_and_managed_policies() -> None:
    text = (
        pipeline("S3")
        + ROLE.format(name="PipelineRole", actions="[s3:GetObject]")
        + ROLE.format(name="Registrar", actions="[ecs:RegisterTaskDefinition]")
    )
    assert hits("CV093", text) == [
        (
            "Registrar",
            "role may ecs:RegisterTaskDefinition but not ecs:TagResource; the task definitions "
            "here carry tags, so ECS refuses the registration (tag-on-create)",
        )
    ]
    managed = text.replace(
        "      AssumeRolePolicyDocument: {}\n      Policies:\n        - PolicyName: p\n"
        "          PolicyDocument:\n            Statement:\n"
        '              - {Effect: Allow, Action: [ecs:RegisterTaskDefinition], Resource: "*"}',
        "      AssumeRolePolicyDocument: {}\n"
        "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AmazonECS_FullAccess]",
    )
    assert hits("CV093", managed) == []
    untagged = text.replace("      Tags: [{Key: App, Value: web}]\n", "")
    assert hits("CV093", untagged) == []


def test_cv097_message_names_the_rule_and_odd_policies_are_skipped() -> None:
    broad = rule(7, tagStatus="any", countType="imageCountMoreThan", countNumber=10)
    assert hits("CV097", lifecycle(broad)) == [
        (
            "Images",
            "lifecycle rule 7 expires images of any tag and no higher-priority rule keeps the "
            "deployed ones; the image an environment runs can be deleted. Tag images on deploy "
            "and keep that tag with a higher-priority rule",
        )
    ]
    odd = {"rulePriority": "first", "selection": "any"}
    assert hits("CV097", lifecycle(odd)) == []
    assert hits("CV097", lifecycle().replace('{"rules": []}', '{"rules": "all"}')) == []
    assert hits("CV097", lifecycle().replace('{"rules": []}', "[1, 2]")) == []
    no_priority = {"selection": {"tagStatus": "tagged", "tagPrefixList": ["d-"]}}
    late = rule(3, tagStatus="any", countType="imageCountMoreThan")
    assert len(hits("CV097", lifecycle(no_priority, late))) == 1
