"""Precision on real templates (issue 16) for CV002-CV050: per rule, a finding judged true on a
real public template (``../shared/corpus/public``, cited by its path there; skipped when the
corpus is absent) and, where the corpus has one, a case judged false, accepted, or rightly left
alone. Fixes have a small hand-written pair too: what must still be found, what no longer is.
The judgement behind each is the rule's PRECISION entry in ``conveyor.rules.docs``."""

from __future__ import annotations

import pytest
from tests.rules.test_precision_rules import corpus, found, needs_corpus

from conveyor.rules.docs import PRECISION, precision

RULES = [
    "CV002",
    "CV004",
    "CV005",
    "CV008",
    "CV010",
    "CV012",
    "CV013",
    "CV020",
    "CV021",
    "CV022",
    "CV030",
    "CV031",
    "CV032",
    "CV033",
    "CV034",
    "CV036",
    "CV039",
    "CV040",
    "CV042",
    "CV050",
]

AWS_TEMPLATES = "aws-cloudformation__aws-cloudformation-templates/"
BLUE_GREEN = "aws-samples__ecs-blue-green-deployment/templates__deployment-pipeline.yaml"
BLUE_GREEN_CODEDEPLOY = (
    "aws-samples__ecs-blue-green-deployment-with-codedeploy/iac__pipeline__code-pipeline.yaml"
)
CFCT = (
    "aws-solutions__aws-control-tower-customizations/customizations-for-aws-control-tower.template"
)
STELLIGENT = "stelligent__cloudformation_templates/"
TROPOSPHERE = "cloudtools__troposphere/tests__examples_output__"
CFN_NAG = "stelligent__cfn_nag/spec__test_templates__"


def resources(relative: str, rule: str) -> set[str]:
    return {f.resource for f in corpus(relative, rule)}


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_page_states_its_judged_precision(rule: str) -> None:
    # The page says what was judged, not "not yet judged finding by finding".
    assert rule in PRECISION
    assert "not yet judged" not in precision(rule)


# --- CV002: bucket without BucketEncryption --------------------------------------------------


@needs_corpus
def test_cv002_real_templates() -> None:
    # True (low risk: S3 applies SSE-S3 to new objects anyway): the macro sample's bucket.
    assert resources(
        AWS_TEMPLATES + "CloudFormation__MacrosExamples__S3Objects__example.yaml", "CV002"
    ) == {"Bucket"}
    # Not reported: the replication sample's buckets declare SSE-KMS.
    replication = AWS_TEMPLATES + "Solutions__S3CrossAccountReplicationWithKMS__templates__"
    assert corpus(replication + "destination.yaml", "CV002") == []


# --- CV004: ECR repository without EncryptionConfiguration -----------------------------------


@needs_corpus
def test_cv004_real_template() -> None:
    # True but low risk (ECR encrypts with AES256 regardless): the repository has no settings.
    assert resources(BLUE_GREEN, "CV004") == {"Repository"}


# --- CV005: artifact bucket without lifecycle expiration -------------------------------------


@needs_corpus
def test_cv005_real_templates() -> None:
    # True: the pipeline's artifact bucket has no lifecycle rule at all.
    (hit,) = corpus(STELLIGENT + "labs__codepipeline__simple.yml", "CV005")
    assert hit.resource == "PipelineBucket"
    assert "expiration of current objects" in hit.message
    # True: CfCT expires noncurrent versions only, but every artifact is a new key, so current
    # objects are what accumulates; noncurrent expiration is not asked for again.
    (cfct,) = corpus(CFCT, "CV005")
    assert cfct.resource == "CustomControlTowerPipelineArtifactS3Bucket"
    assert "noncurrent" not in cfct.message


# --- CV008: bucket deleted with the stack, nothing empties it --------------------------------


@needs_corpus
def test_cv008_real_templates() -> None:
    # True: DeletionPolicy Delete on the pipeline's artifact bucket, which always holds objects.
    assert "PipelineBucket" in resources(STELLIGENT + "labs__codepipeline__simple.yml", "CV008")
    # Not reported: the blue/green sample retains its artifact bucket.
    assert "ArtifactBucket" not in resources(BLUE_GREEN, "CV008")


# --- CV010: KMS key without rotation ---------------------------------------------------------


@needs_corpus
def test_cv010_real_templates() -> None:
    # True: the EKS quick start's cluster key (Condition CreateKey) never rotates.
    eks = "aws-quickstart__quickstart-amazon-eks/templates__amazon-eks-controlplane.template.yaml"
    assert resources(eks, "CV010") == {"KMSKey"}
    # Not reported: the ECS schedule example's log key rotates.
    assert corpus(AWS_TEMPLATES + "ECS__ECS_Schedule_Example.yaml", "CV010") == []


# --- CV012: SNS topic without KmsMasterKeyId -------------------------------------------------


@needs_corpus
def test_cv012_real_templates() -> None:
    # True: the manual-approval topic carries pipeline details in clear.
    bluegreen = (
        "aws-quickstart__quickstart-codepipeline-bluegreen-deployment/"
        "templates__codepipeline-stack.template"
    )
    assert resources(bluegreen, "CV012") == {"ManualApprovalSNSTopic"}
    # True but low risk, still reported: a CloudTrail notification topic.
    assert resources("widdix__aws-cf-templates/security__cloudtrail.yaml", "CV012") == {
        "TrailTopic"
    }
    # Not reported: a key chosen by Fn::If (customer key or the AWS managed one).
    directory = AWS_TEMPLATES + "Solutions__DirectoryServiceSettings__templates__"
    assert corpus(directory + "DIRECTORY_SETTINGS.cfn.yaml", "CV012") == []


# --- CV013: log group without a customer key -------------------------------------------------


@needs_corpus
def test_cv013_real_templates() -> None:
    # True but low risk (CloudWatch Logs encrypts with a service key anyway).
    assert resources("widdix__aws-cf-templates/vpc__vpc-flow-logs.yaml", "CV013") == {"LogGroup"}
    # Not reported: the ECS schedule example's log group names its key.
    assert corpus(AWS_TEMPLATES + "ECS__ECS_Schedule_Example.yaml", "CV013") == []


# --- CV020 / CV021 / CV022: ECR repository settings ------------------------------------------

ADF_ECR = "awslabs__aws-deployment-framework/samples__sample-ecr-repository__template.yml"


@needs_corpus
def test_cv020_real_templates() -> None:
    # True: no lifecycle policy on troposphere's ECR sample.
    assert resources(TROPOSPHERE + "ECRSample.template", "CV020") == {"MyRepository"}
    # Not reported: ADF's sample expires untagged and surplus tagged images.
    assert corpus(ADF_ECR, "CV020") == []


@needs_corpus
def test_cv021_real_templates() -> None:
    # True: the repository has no scanning configuration.
    assert resources(TROPOSPHERE + "ECRSample.template", "CV021") == {"MyRepository"}
    # Not reported: ScanOnPush true.
    assert corpus(BLUE_GREEN_CODEDEPLOY, "CV021") == []


@needs_corpus
def test_cv022_real_template() -> None:
    # True: tags are mutable; ADF's sample even keeps pushing `latest`.
    assert resources(ADF_ECR, "CV022") == {"SampleAppRepository"}


# --- CV030 / CV031 / CV040: build environment ------------------------------------------------


@needs_corpus
def test_cv030_real_templates() -> None:
    # True: `docker build` in the inline buildspec, no PrivilegedMode (its image,
    # aws/codebuild/docker:1.12.1, once ran Docker without it; that image is retired and the
    # current ones need the flag).
    assert resources(BLUE_GREEN, "CV030") == {"CodeBuildProject"}
    # Not reported: the container build of the CodeDeploy variant sets PrivilegedMode.
    assert corpus(BLUE_GREEN_CODEDEPLOY, "CV030") == []


@needs_corpus
def test_cv031_real_templates() -> None:
    # True: retired per-language and old standard images.
    assert resources(BLUE_GREEN_CODEDEPLOY, "CV031") == {
        "rApplicationBuild",
        "rCFNValidatePackageCodeBuildProject",
        "rCodeDeployConfigBuildProject",
    }
    # Not reported: amazonlinux2-x86_64-standard:5.0.
    assert (
        corpus(
            "aws-cloudformation__rain/test__templates__forecast__modules__pipeline.yaml", "CV031"
        )
        == []
    )


@needs_corpus
def test_cv040_real_templates() -> None:
    # True (advice): both sample Docker builds start cold; the CodeDeploy variant's project is
    # recognised by its REPOSITORY_URI variable (its buildspec lives in the repository).
    assert resources(BLUE_GREEN, "CV040") == {"CodeBuildProject"}
    assert resources(BLUE_GREEN_CODEDEPLOY, "CV040") == {"rApplicationContainerBuild"}


# --- CV032 / CV033: build timeout and logs ---------------------------------------------------


@needs_corpus
def test_cv032_real_templates() -> None:
    # True, low risk: no timeout, so a hung build runs the 60-minute default.
    codebuild = AWS_TEMPLATES + "Solutions__CodeBuildAndCodePipeline__cloudformation-codebuild-"
    assert resources(codebuild + "template.yaml", "CV032") == {"AppBuild", "AppDeploy"}
    # Accepted, still reported: CfCT's StackSet build waits on StackSet operations across an
    # organisation's accounts (480 on purpose: suppress with that reason). Its SCP and RCP builds
    # set 60 minutes and are not reported; its main build sets none.
    cfct = {f.resource: f.message.split(" is ")[0] for f in corpus(CFCT, "CV032")}
    assert cfct["StackSetCodeBuild"] == "TimeoutInMinutes 480"
    assert cfct["CustomControlTowerCodeBuild"].startswith("no TimeoutInMinutes")
    assert not {"SCPCodeBuild", "RCPCodeBuild"} & set(cfct)


@needs_corpus
def test_cv033_real_template() -> None:
    # True: no LogsConfig and no log group in the template; CodeBuild makes its own, kept forever.
    assert resources(STELLIGENT + "labs__iot__pipeline.yaml", "CV033") == {"CodeBuild"}


def _project_logging_to(group: str, created: str) -> str:
    name = f"LogGroupName: {created}, " if created else ""
    return f"""Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {{{name}RetentionInDays: 7}}
  Build:
    Type: AWS::CodeBuild::Project
    Properties:
      LogsConfig: {{CloudWatchLogs: {{Status: ENABLED, GroupName: {group}}}}}
"""


@pytest.mark.parametrize(
    ("group", "created", "reported"),
    [
        ("/aws/codebuild/app", "/aws/codebuild/app", False),
        ("/aws/codebuild/app", "/aws/codebuild/other", True),
        # A group named by an intrinsic may be the literal one (issue 16 review: an internal
        # error, exit 2, on this valid template): not judged.
        ("/aws/codebuild/app-prod", "!Sub '/aws/codebuild/app-${Env}'", False),
        ("/aws/codebuild/app", "!Sub '/aws/codebuild/other-${Env}'", True),
        ("/aws/codebuild/app", "!Ref Name", False),
        # A log group without a name gets one CloudFormation makes up, never the literal.
        ("/aws/codebuild/app", "", True),
        # Not a name (CloudFormation refuses it): not judged, never an internal error.
        ("[a, b]", "/aws/codebuild/app", False),
    ],
)
def test_cv033_literal_group_against_the_templates_log_groups(
    group: str, created: str, reported: bool
) -> None:
    assert len(found(_project_logging_to(group, created), "CV033")) == (1 if reported else 0)


# --- CV034: log group without retention ------------------------------------------------------


@needs_corpus
def test_cv034_real_templates() -> None:
    # True: a log group that never expires.
    logs = "aws-cloudformation__iac-model-evaluation/cloudformation__logs.yaml"
    assert resources(logs, "CV034") == {"LogGroup"}
    # Not reported: retention from a parameter.
    hook = (
        "aws-cloudformation__aws-cloudformation-samples/hooks__java-hooks__ec2-instance-types__"
        "examples__hook-deployment-stack.yaml"
    )
    assert corpus(hook, "CV034") == []


# --- CV036: account or region hard-coded -----------------------------------------------------


@needs_corpus
def test_cv036_real_templates() -> None:
    # True: the Cognito pool is this stack's, but its region is written out.
    (hit,) = corpus(AWS_TEMPLATES + "Solutions__WebApp__webapp.yaml", "CV036")
    assert (hit.resource, hit.message.split(" hard-coded")[0]) == (
        "JwtResourceHandler",
        "region us-east-1",
    )
    # False before issue 16, fixed: AWS's AmazonIpSpaceChanged topic exists only in us-east-1 of
    # AWS's account; its literal ARN is the only way to name it.
    permission = (
        CFN_NAG + "json__lambda_permission__lambda_with_wildcard_principal_and_non_invoke_"
        "function_permission.json"
    )
    assert corpus(permission, "CV036") == []


PERMISSION = """Resources:
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: f
      Principal: sns.amazonaws.com
      SourceArn: {arn}
"""


def test_cv036_only_the_published_arn_is_spared() -> None:
    published = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"
    assert found(PERMISSION.format(arn=published), "CV036") == []
    (hit,) = found(PERMISSION.format(arn="arn:aws:sns:us-east-1:806199016981:Other"), "CV036")
    assert hit.message.startswith("account 806199016981 and region us-east-1 hard-coded")


# --- CV039: buildspec assumes package.json ----------------------------------------------------

BUILDSPEC = """Resources:
  Project:
    Type: AWS::CodeBuild::Project
    Properties:
      Source:
        Type: CODEPIPELINE
        BuildSpec: |
          version: 0.2
          phases:
            build:
              commands:
                - {command}
"""


@pytest.mark.parametrize(
    "command",
    [
        "npm install aws-cdk@2.136.0 -g -y --quiet --no-progress",
        "npm i -g aws-cdk",
        "npm install --save-dev left-pad",
        "yarn global add aws-cdk",
    ],
)
def test_cv039_installing_named_packages_needs_no_package_json(command: str) -> None:
    assert found(BUILDSPEC.format(command=command), "CV039") == []


@pytest.mark.parametrize(
    "command",
    [
        "npm ci",
        "npm install",
        "npm install --production",
        "npm install --prefix app",
        "npm install -g aws-cdk && npm test",
        "yarn install --frozen-lockfile",
    ],
)
def test_cv039_commands_that_read_package_json_are_still_found(command: str) -> None:
    (hit,) = found(BUILDSPEC.format(command=command), "CV039")
    assert "package.json" in hit.message


@needs_corpus
def test_cv039_real_template() -> None:
    # False before issue 16, fixed: ADF's pipeline-management build installs the CDK CLI
    # globally (`npm install aws-cdk@2.136.0 -g`), which reads no package.json.
    adf = (
        "awslabs__aws-deployment-framework/src__lambda_codebase__initial_commit__bootstrap_"
        "repository__adf-bootstrap__deployment__pipeline_management.yml"
    )
    assert corpus(adf, "CV039") == []


# --- CV042: webhook secret in plain text -----------------------------------------------------


@needs_corpus
def test_cv042_real_templates() -> None:
    webhook = CFN_NAG + "yaml__codepipeline_webhook__codepipeline_webhook_authentication_"
    # True: the secret is a literal.
    literal = "configuration_secret_token_as_a_literal_in_plaintext.yaml"
    assert resources(webhook + literal, "CV042") == {"CodePipelineWebhook"}
    # Not reported: a Secrets Manager dynamic reference.
    assert corpus(webhook + "configuration_secret_token_from_secrets_manager.yaml", "CV042") == []


# --- CV050: wildcard actions in identity policies --------------------------------------------


@needs_corpus
def test_cv050_real_templates() -> None:
    # True: a Lambda role allowed everything.
    config_rules = (
        "aws-cloudformation__cfn-lint/test__fixtures__templates__quickstart__config-rules.json"
    )
    (hit,) = corpus(config_rules, "CV050")
    assert (hit.resource, hit.message.split(";")[0]) == (
        "rConfigRulesLambdaPolicy",
        "policy allows wildcard actions *",
    )
    # True but low risk, still reported: `logs:*` on log ARNs for a Lambda's own logs.
    lambda_pipeline = STELLIGENT + "labs__lambda__lambda-codepipeline.json"
    assert {f.message.split(";")[0] for f in corpus(lambda_pipeline, "CV050")} == {
        "policy allows wildcard actions logs:*"
    }
