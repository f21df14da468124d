"""Seed points the checker let through (issue 16): hard-coded regions inside Fn::Sub
ARNs and environment values (CV036), the ECR pull actions a build needs (CV052), and ``Rain::``
tags or transforms (a warning for that resource, the rest checked). Each has a case that must be
found and one that must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conveyor.rules import check_paths, check_text
from conveyor.rules.model import Finding


def found(text: str, rule: str) -> list[Finding]:
    result = check_text(text, name="t.yaml")
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


# --- CV036: regions inside Fn::Sub ARNs and environment values -------------------


def _topic_policy(resource: str) -> str:
    return f"""Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}
      Policies:
        - PolicyName: publish
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sns:Publish
                Resource: {resource}
"""


@pytest.mark.parametrize(
    "resource",
    [
        "!Sub 'arn:aws:sns:eu-west-1:${AWS::AccountId}:t'",
        "!Sub 'arn:${AWS::Partition}:sns:eu-west-1:${AWS::AccountId}:t'",
    ],
)
def test_cv036_a_region_beside_a_placeholder_account_is_hard_coded(resource: str) -> None:
    (finding,) = found(_topic_policy(resource), "CV036")
    assert finding.resource == "Role"
    assert "region eu-west-1 hard-coded" in finding.message
    assert finding.path.startswith(
        "Resources.Role.Properties.Policies.0.PolicyDocument.Statement.0.Resource"
    )


@pytest.mark.parametrize(
    "resource",
    [
        "'arn:aws:s3:::x'",
        "!Sub 'arn:aws:s3:::x/*'",
        "!Sub 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:t'",
        "!Join [':', [arn, !Ref 'AWS::Partition', sns, !Ref 'AWS::Region',"
        " !Ref 'AWS::AccountId', t]]",
        "!Join ['', ['arn:aws:s3:::', !Ref Bucket, '/*']]",
    ],
)
def test_cv036_arns_without_a_literal_region_or_account_are_clean(resource: str) -> None:
    assert found(_topic_policy(resource), "CV036") == []


def _distribution(certificate: str, web_acl: str, edge_function: str) -> str:
    return f"""Resources:
  Dist:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        ViewerCertificate:
          AcmCertificateArn: {certificate}
          SslSupportMethod: sni-only
          MinimumProtocolVersion: TLSv1.2_2021
        WebACLId: {web_acl}
        DefaultCacheBehavior:
          TargetOriginId: o
          ViewerProtocolPolicy: redirect-to-https
          LambdaFunctionAssociations:
            - {{EventType: viewer-request, LambdaFunctionARN: {edge_function}}}
        Origins:
          - Id: o
            DomainName: example.com
            CustomOriginConfig: {{OriginProtocolPolicy: https-only}}
"""


def test_cv036_cloudfronts_us_east_1_certificate_web_acl_and_edge_function_are_required() -> None:
    """CloudFront takes ACM certificates, WAF web ACLs and Lambda@Edge functions from us-east-1
    only, whatever the stack's region: the literal region is the only correct one there, and
    ${AWS::Region} would break every other region.
    https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
    https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-at-the-edge.html"""
    template = _distribution(
        "!Sub 'arn:aws:acm:us-east-1:${AWS::AccountId}:certificate/abc'",
        "!Sub 'arn:${AWS::Partition}:wafv2:us-east-1:${AWS::AccountId}:global/webacl/w/1'",
        "!Sub 'arn:aws:lambda:us-east-1:${AWS::AccountId}:function:edge:3'",
    )
    assert found(template, "CV036") == []


@pytest.mark.parametrize(
    ("certificate", "web_acl", "edge_function", "what"),
    [
        # A literal account is still one account's template.
        (
            "arn:aws:acm:us-east-1:111111111111:certificate/abc",
            "!Ref Acl",
            "!Ref EdgeVersion",
            "account 111111111111 hard-coded",
        ),
        # Another region than us-east-1 is no CloudFront requirement (and does not work).
        (
            "!Sub 'arn:aws:acm:eu-west-1:${AWS::AccountId}:certificate/abc'",
            "!Ref Acl",
            "!Ref EdgeVersion",
            "region eu-west-1 hard-coded",
        ),
    ],
)
def test_cv036_cloudfront_arns_beyond_the_us_east_1_requirement_are_hard_coded(
    certificate: str, web_acl: str, edge_function: str, what: str
) -> None:
    (finding,) = found(_distribution(certificate, web_acl, edge_function), "CV036")
    assert what in finding.message


def test_cv036_us_east_1_elsewhere_than_cloudfront_is_hard_coded() -> None:
    (finding,) = found(
        _topic_policy("!Sub 'arn:aws:acm:us-east-1:${AWS::AccountId}:certificate/abc'"), "CV036"
    )
    assert "region us-east-1 hard-coded" in finding.message


def _function_code(bucket: str) -> str:
    return f"""Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::${{AWS::AccountId}}:role/r
      Code: {{S3Bucket: {bucket}, S3Key: a1b2.zip}}
"""


def test_cv036_a_cdk_asset_bucket_of_one_account_is_hard_coded() -> None:
    """Issue 10: a stack bound to another account got the account's CDK bootstrap bucket
    spelt out in its functions' Code, so its template deployed nowhere else (FM25)."""
    (finding,) = found(_function_code("cdk-hnb659fds-assets-222222222222-eu-west-1"), "CV036")
    assert (finding.resource, finding.path) == ("Fn", "Resources.Fn.Properties.Code.S3Bucket")
    assert "account 222222222222 hard-coded" in finding.message


def test_cv036_a_cdk_asset_bucket_by_placeholders_is_clean() -> None:
    bucket = "!Sub 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}'"
    assert found(_function_code(bucket), "CV036") == []


LAMBDA = """Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code: {{ZipFile: 'def handler(e, c): pass'}}
      Environment:
        Variables:
          TARGET_REGION: {value}
"""

ECS = """Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Image: nginx
          Environment:
            - {{Name: AWS_DEFAULT_REGION, Value: {value}}}
"""

BUILD = """Resources:
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: !GetAtt Role.Arn
      Artifacts: {{Type: NO_ARTIFACTS}}
      Source: {{Type: NO_SOURCE, BuildSpec: 'version: 0.2'}}
      Environment:
        Type: LINUX_CONTAINER
        ComputeType: BUILD_GENERAL1_SMALL
        Image: aws/codebuild/standard:7.0
        EnvironmentVariables:
          - {{Name: REGION, Value: {value}}}
"""


def _pipeline_action(value: str) -> str:
    variables = json.dumps([{"name": "REGION", "value": value, "type": "PLAINTEXT"}])
    return f"""Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt Role.Arn
      Stages:
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {{Category: Build, Owner: AWS, Provider: CodeBuild, Version: '1'}}
              Configuration:
                ProjectName: p
                EnvironmentVariables: '{variables}'
"""


@pytest.mark.parametrize(
    ("template", "resource", "path"),
    [
        (LAMBDA, "Fn", "Properties.Environment.Variables.TARGET_REGION"),
        (ECS, "Task", "Properties.ContainerDefinitions.0.Environment.0.Value"),
        (BUILD, "Build", "Properties.Environment.EnvironmentVariables.0.Value"),
    ],
)
def test_cv036_a_region_as_an_environment_value_is_hard_coded(
    template: str, resource: str, path: str
) -> None:
    (finding,) = found(template.format(value="eu-west-1"), "CV036")
    assert (finding.resource, finding.path) == (resource, f"Resources.{resource}.{path}")
    assert finding.message.startswith("region eu-west-1 hard-coded")


@pytest.mark.parametrize("template", [LAMBDA, ECS, BUILD])
@pytest.mark.parametrize("value", ["!Ref 'AWS::Region'", "eu-west-1x", "'region eu-west-1 soon'"])
def test_cv036_an_environment_value_that_is_not_a_region_literal_is_clean(
    template: str, value: str
) -> None:
    assert found(template.format(value=value), "CV036") == []


def test_cv036_a_region_in_a_codepipeline_actions_environment_json_is_hard_coded() -> None:
    (finding,) = found(_pipeline_action("us-east-2"), "CV036")
    assert finding.path == (
        "Resources.Pipeline.Properties.Stages.0.Actions.0.Configuration.EnvironmentVariables"
    )
    assert finding.message.startswith("region us-east-2 hard-coded")


@pytest.mark.parametrize("value", ["#{variables.REGION}", "eu-west-1-like"])
def test_cv036_a_codepipeline_environment_json_without_a_region_value_is_clean(value: str) -> None:
    assert found(_pipeline_action(value), "CV036") == []


def test_cv036_a_region_outside_any_environment_is_not_an_environment_value() -> None:
    text = """Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: eu-west-1
"""
    assert found(text, "CV036") == []


# --- CV052: the ECR pull actions a build needs ----------------------------------------------

PUSH_ONLY = "ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage"  # noqa: E501
PULL_TOO = PUSH_ONLY + ", ecr:GetDownloadUrlForLayer, ecr:BatchGetImage"


def _build(commands: list[str], actions: str, image_var: str = "") -> str:
    lines = "\\n".join(f"      - {c}" for c in commands)
    spec = "version: 0.2\\nphases:\\n  build:\\n    commands:\\n" + lines + "\\n"
    env = (
        "\n        EnvironmentVariables:\n"
        f"          - {{Name: {image_var}, Value: !GetAtt Repo.RepositoryUri}}"
        if image_var
        else ""
    )
    return f"""Resources:
  Repo:
    Type: AWS::ECR::Repository
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: codebuild.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: ecr
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: [{actions}], Resource: '*'}}
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      ServiceRole: !GetAtt Role.Arn
      Artifacts: {{Type: NO_ARTIFACTS}}
      Source: {{Type: NO_SOURCE, BuildSpec: "{spec}"}}
      Environment:
        Type: LINUX_CONTAINER
        ComputeType: BUILD_GENERAL1_SMALL
        Image: aws/codebuild/standard:7.0
        PrivilegedMode: true{env}
"""


LOGIN = "aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY"
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app"


@pytest.mark.parametrize(
    ("commands", "image_var"),
    [
        ([LOGIN, "docker pull $REPO_URI:latest || true", "docker push $REPO_URI:1"], ""),
        (
            [
                LOGIN,
                "docker build --cache-from $REPO_URI:latest -t $REPO_URI:1 .",
                "docker push $REPO_URI:1",
            ],
            "",
        ),
        (
            [
                LOGIN,
                "docker buildx build --cache-from type=registry,ref=${REPO_URI}:cache"
                " -t $REPO_URI:1 --push .",
            ],
            "",
        ),
        ([LOGIN, "docker pull --quiet $IMAGE:base", "docker push $OTHER:1"], "IMAGE"),
        ([LOGIN, f"docker pull {HOST}:base", "docker push $OTHER:1"], ""),
    ],
)
def test_cv052_a_build_pulling_from_ecr_needs_the_pull_actions(
    commands: list[str], image_var: str
) -> None:
    (finding,) = found(_build(commands, PUSH_ONLY, image_var), "CV052")
    assert finding.path == "Resources.Build.Properties.ServiceRole"
    assert finding.message == (
        "project pushes and pulls images but its role Role is not allowed "
        "ecr:GetDownloadUrlForLayer, ecr:BatchGetImage; docker push and pull fails with "
        "AccessDenied"
    )


def test_cv052_a_build_that_only_pulls_from_ecr_needs_the_pull_actions() -> None:
    (finding,) = found(
        _build([LOGIN, "docker pull $IMAGE:base"], "ecr:GetAuthorizationToken", "IMAGE"), "CV052"
    )
    assert finding.message == (
        "project pulls images but its role Role is not allowed ecr:BatchCheckLayerAvailability, "
        "ecr:GetDownloadUrlForLayer, ecr:BatchGetImage; docker pull fails with AccessDenied"
    )


@pytest.mark.parametrize(
    "commands",
    [
        [LOGIN, "docker pull $REPO_URI:latest || true", "docker push $REPO_URI:1"],
        [
            LOGIN,
            "docker build --cache-from $REPO_URI:latest -t $REPO_URI:1 .",
            "docker push $REPO_URI:1",
        ],
    ],
)
def test_cv052_a_role_allowed_push_and_pull_is_clean(commands: list[str]) -> None:
    assert found(_build(commands, PULL_TOO), "CV052") == []


@pytest.mark.parametrize(
    "pull",
    [
        "docker pull public.ecr.aws/docker/library/node:20",
        "docker pull node:20",
        "docker pull $BASE_IMAGE",
        "docker buildx build --cache-from type=local,src=/tmp/cache -t $REPO_URI:1 --push .",
    ],
)
def test_cv052_pulls_from_elsewhere_need_only_the_push_actions(pull: str) -> None:
    assert found(_build([LOGIN, pull, "docker push $REPO_URI:1"], PUSH_ONLY), "CV052") == []


def test_cv052_a_build_pushing_without_the_push_actions_is_still_reported() -> None:
    (finding,) = found(
        _build([LOGIN, "docker push $REPO_URI:1"], "ecr:GetAuthorizationToken"), "CV052"
    )
    assert finding.message.startswith("project pushes images but its role Role is not allowed")
    assert finding.message.endswith("docker push fails with AccessDenied")


# --- Rain directives: a finding for the resource, the rest checked ----------------------------

RAIN = """Resources:
  Site:
    Type: !Rain::Module "./modules/site.yaml"
    Properties:
      AppName: x
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Rain::Constant QueueName
      Tags: [{Key: App, Value: x}]
  Open:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: App, Value: x}]
"""


def test_rain_directives_are_findings_and_the_rest_is_checked() -> None:
    result = check_text(RAIN, name="t.yaml")
    assert result.errors == []
    rain = [(f.resource, f.path, f.line, f.message) for f in result.findings if f.rule == "CV089"]
    assert rain == [
        (
            "Site",
            "Resources.Site.Type",
            3,
            "Rain::Module is expanded by rain pkg; the resources it stands for were not "
            "checked: run rain pkg and check its output",
        ),
        (
            "Queue",
            "Resources.Queue.Properties.QueueName",
            9,
            "Rain::Constant is filled in by rain pkg; this value was not checked: run rain pkg "
            "and check its output",
        ),
    ]
    # The ordinary bucket beside them is still judged.
    assert {f.rule for f in result.findings if f.resource == "Open"} >= {"CV001", "CV006"}


def test_rain_directives_in_json_long_form_are_findings_too() -> None:
    template = {
        "Resources": {
            "Network": {"Type": {"Rain::Module": "vpc.yml"}, "Properties": {"Cidr": "10.0.0.0/16"}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"ZipFile": {"Rain::Embed": "handler.py"}}},
            },
        }
    }
    result = check_text(json.dumps(template, indent=1), name="t.json")
    assert result.errors == []
    rain = sorted((f.resource, f.path) for f in result.findings if f.rule == "CV089")
    assert rain == [
        ("Fn", "Resources.Fn.Properties.Code.ZipFile"),
        ("Network", "Resources.Network.Type"),
    ]


def test_a_template_without_rain_directives_has_no_rain_finding() -> None:
    text = RAIN.replace('!Rain::Module "./modules/site.yaml"', "AWS::SQS::Queue").replace(
        "!Rain::Constant QueueName", "queue-name"
    )
    assert found(text, "CV089") == []


def test_a_type_that_is_some_other_mapping_is_still_an_error() -> None:
    text = "Resources:\n  R:\n    Type: !Sub 'AWS::SQS::Queue'\n"
    result = check_text(text, name="t.yaml")
    assert [e.message for e in result.errors] == [
        "t.yaml: Resources.R: a resource must be a mapping with a Type string; fix or remove it"
    ]


# --- edges of the same rules (mutation survivors) ----------------------------------------------

_ANYWHERE = "hard-coded; use ${AWS::AccountId} / ${AWS::Region} so the template deploys anywhere"


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("arn:aws:sns:eu-west-1:111122223333:t", "account 111122223333 and region eu-west-1"),
        ("arn:aws:iam::111122223333:role/r", "account 111122223333"),
        (
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app",
            "account 111122223333 and region eu-west-1",
        ),
        ("https://sqs.eu-west-1.amazonaws.com/q", "region eu-west-1"),
        ("aws s3 ls --region eu-west-1", "region eu-west-1"),
    ],
)
def test_cv036_names_what_is_hard_coded(value: str, what: str) -> None:
    (finding,) = found(LAMBDA.format(value=f"'{value}'"), "CV036")
    assert finding.message == f"{what} {_ANYWHERE}"


def test_cv036_principals_are_passed_over_and_the_first_literal_elsewhere_is_reported() -> None:
    text = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: 'arn:aws:iam::111122223333:root'}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: sns:Publish, Resource: 'arn:aws:s3:::x'}
              - {Effect: Allow, Action: sns:Publish, Resource: !Sub 'arn:aws:sns:eu-west-2:${AWS::AccountId}:a'}
              - {Effect: Allow, Action: sns:Publish, Resource: !Sub 'arn:aws:sns:eu-west-3:${AWS::AccountId}:b'}
"""  # noqa: E501
    (finding,) = found(text, "CV036")
    assert (
        finding.path
        == "Resources.Role.Properties.Policies.0.PolicyDocument.Statement.1.Resource.Fn::Sub"
    )
    assert finding.message == f"region eu-west-2 {_ANYWHERE}"


def test_cv036_passes_over_not_principal_as_it_does_principal() -> None:
    # Public corpus: Skyscanner__cfripper tests__test_templates__others__sqs_policy_with_not_
    # principal.json (and stelligent__cfn_nag's copy) deny all but account 111111111111.
    text = """Resources:
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Statement:
          - Effect: Deny
            NotPrincipal: {AWS: 'arn:aws:iam::111111111111:root'}
            Action: sqs:SendMessage
            Resource: '*'
"""
    assert found(text, "CV036") == []
    assert found(text.replace("NotPrincipal:", "Condition:"), "CV036")  # the same ARN elsewhere


@pytest.mark.parametrize("variables", ['{"value": "eu-west-1"}', '["eu-west-1"]', "not json"])
def test_cv036_a_codepipeline_environment_that_is_no_list_of_variables_is_clean(
    variables: str,
) -> None:
    text = _pipeline_action("x").replace(
        json.dumps([{"name": "REGION", "value": "x", "type": "PLAINTEXT"}]), variables
    )
    assert variables in text
    assert found(text, "CV036") == []


@pytest.mark.parametrize(
    ("value", "reported"),
    [(f"'{HOST}'", True), ("node", False), ("!Ref Other", False)],
)
def test_cv052_a_build_variable_naming_an_ecr_image_makes_its_pull_an_ecr_pull(
    value: str, reported: bool
) -> None:
    text = _build([LOGIN, "docker pull $IMAGE:base"], "ecr:GetAuthorizationToken").replace(
        "PrivilegedMode: true",
        "PrivilegedMode: true\n        EnvironmentVariables:\n"
        f"          - not-a-variable\n          - {{Name: IMAGE, Value: {value}}}",
    )
    assert bool(found(text, "CV052")) is reported


def test_rain_directive_inside_a_list_is_placed_on_its_item() -> None:
    text = """Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      Tags:
        - {Key: App, Value: x}
        - {Key: Owner, Value: !Rain::Constant Owner}
"""
    (finding,) = found(text, "CV089")
    assert (finding.path, finding.line) == ("Resources.Queue.Properties.Tags.1.Value", 7)


# --- CV036: regions inside Fn::Join ARNs (CDK's form in a stack bound to a region) --------


@pytest.mark.parametrize(
    "resource",
    [
        "!Join ['', ['arn:aws:logs:eu-west-1:', !Ref 'AWS::AccountId', ':log-group:/x:*']]",
        "!Join [':', [arn, aws, sns, eu-west-1, !Ref 'AWS::AccountId', t]]",
        "!Join ['', ['arn:', !Ref 'AWS::Partition', ':sns:eu-west-1:', !Ref 'AWS::AccountId',"
        " ':t']]",
    ],
)
def test_cv036_a_region_inside_a_join_is_hard_coded(resource: str) -> None:
    (finding,) = found(_topic_policy(resource), "CV036")
    assert "region eu-west-1 hard-coded" in finding.message
    assert finding.path == (
        "Resources.Role.Properties.Policies.0.PolicyDocument.Statement.0.Resource"
    )


@pytest.mark.parametrize(
    "resource",
    [
        "!Join ['', ['arn:aws:logs:', !Ref 'AWS::Region', ':', !Ref 'AWS::AccountId',"
        " ':log-group:/x:*']]",
        "!Join ['-', [eu, west, '1']]",
        "!Join ['', ['arn:aws:s3:::eu-west-1-bucket/', !Ref Key]]",
    ],
)
def test_cv036_a_join_without_a_literal_region_in_an_arn_is_clean(resource: str) -> None:
    assert found(_topic_policy(resource), "CV036") == []


# --- CV052: a private ECR build image (issue 16 review) --------------------------------------
# https://docs.aws.amazon.com/codebuild/latest/userguide/sample-ecr.html

CODEBUILD_PULLS = """
      RepositoryPolicyText:
        Statement:
          - Effect: Allow
            Principal: {Service: codebuild.amazonaws.com}
            Action: [ecr:GetDownloadUrlForLayer, ecr:BatchGetImage, ecr:BatchCheckLayerAvailability]
"""


def _build_image(image: str, credentials: str = "", actions: str = "logs:PutLogEvents") -> str:
    text = _build(["make"], actions).replace("Image: aws/codebuild/standard:7.0", f"Image: {image}")
    if credentials:
        text += f"        ImagePullCredentialsType: {credentials}\n"
    return text


REPO_IMAGE = "!Sub '${Repo.RepositoryUri}:build'"


def test_cv052_a_build_image_pulled_with_the_role_needs_the_pull_actions() -> None:
    (hit,) = found(_build_image(f"{HOST}:build", "SERVICE_ROLE"), "CV052")
    assert hit.path == "Resources.Build.Properties.Environment"
    assert hit.message == (
        f"build image {HOST}:build is pulled with the service role (ImagePullCredentialsType "
        "SERVICE_ROLE), but Role is not allowed ecr:GetAuthorizationToken, "
        "ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer, ecr:BatchGetImage; the "
        "build fails before it starts"
    )
    allowed = _build_image(f"{HOST}:build", "SERVICE_ROLE", "'ecr:*'")
    assert found(allowed, "CV052") == []


@pytest.mark.parametrize("credentials", ["", "CODEBUILD"])
def test_cv052_a_build_image_pulled_by_codebuild_needs_the_repository_to_admit_it(
    credentials: str,
) -> None:
    (hit,) = found(_build_image(REPO_IMAGE, credentials), "CV052")
    how = "by default" if not credentials else "CODEBUILD"
    assert hit.message.startswith(
        "build image ${Repo.RepositoryUri}:build is pulled with CodeBuild's own credentials "
        f"(ImagePullCredentialsType {how}), but the policy of repository Repo does not admit "
        "codebuild.amazonaws.com"
    )
    admitted = _build_image(REPO_IMAGE, credentials).replace(
        "    Type: AWS::ECR::Repository\n",
        "    Type: AWS::ECR::Repository\n    Properties:" + CODEBUILD_PULLS,
    )
    assert found(admitted, "CV052") == []


def test_cv052_build_images_not_judged() -> None:
    """A curated image, another stack's repository under CodeBuild's credentials (its policy
    is not visible), and credentials chosen at deploy time are not reported."""
    assert found(_build_image("aws/codebuild/standard:7.0"), "CV052") == []
    assert found(_build_image(f"{HOST}:build"), "CV052") == []
    chosen = _build_image(f"{HOST}:build", "!If [Own, SERVICE_ROLE, CODEBUILD]")
    assert found(chosen, "CV052") == []


CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@pytest.mark.skipif(not (CORPUS / "public").is_dir(), reason="shared corpus not present")
def test_cv052_real_build_image_from_another_stacks_repository_is_not_judged() -> None:
    # stelligent labs/iot/pipeline.yaml builds in ${AWS::AccountId}.dkr.ecr...:latest with
    # CodeBuild's default credentials; the repository is created outside the template, so its
    # policy is not visible: no finding.
    path = CORPUS / "public" / "stelligent__cloudformation_templates" / "labs__iot__pipeline.yaml"
    result = check_paths([path])
    assert result.errors == []
    assert [f for f in result.findings if f.rule == "CV052"] == []
