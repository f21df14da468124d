"""Precision on real templates (issue 16): each fix has a case that must still be found and a case
that must no longer be, small hand-written ones where they suffice and otherwise the real public
template the false finding was seen on (``../shared/corpus/public``; skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import app
from conveyor.rules import check_paths, check_text
from conveyor.rules.catalog import BY_ID
from conveyor.rules.model import Finding, Severity

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "public"
FIXTURES = Path(__file__).parent / "fixtures"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def found(text: str, rule: str, **options: object) -> list[Finding]:
    result = check_text(text, name="t.yaml", **options)  # type: ignore[arg-type]
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


def corpus(relative: str, rule: str) -> list[Finding]:
    result = check_paths([CORPUS / relative])
    assert result.errors == []
    return [f for f in result.findings if f.rule == rule]


# --- CV090: one finding per template -------------------------------------------------------

UNTAGGED = """Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
  Tagged:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [{Key: App, Value: x}]
  Bucket:
    Type: AWS::S3::Bucket
"""


def test_cv090_lists_every_untagged_resource_in_one_finding_at_the_first() -> None:
    hits = found(UNTAGGED, "CV090")
    assert [(f.resource, f.line, f.message) for f in hits] == [
        ("Queue", 2, "3 taggable resources have no tags: Queue, Topic, Bucket")
    ]


def test_cv090_one_untagged_resource_keeps_its_own_message() -> None:
    hits = found("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n", "CV090")
    assert [f.message for f in hits] == ["AWS::SQS::Queue has no tags"]


def test_cv090_required_tags_name_what_each_resource_misses() -> None:
    hits = found(UNTAGGED, "CV090", require_tags=["App", "Owner"])
    assert [f.message for f in hits] == [
        "4 taggable resources miss required tags: Queue (App, Owner), Topic (App, Owner), "
        "Tagged (Owner), Bucket (App, Owner)"
    ]


def test_cv090_long_lists_are_cut_with_a_count() -> None:
    text = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(15))
    (hit,) = found(text, "CV090")
    assert hit.message == (
        "15 taggable resources have no tags: "
        + ", ".join(f"Q{i}" for i in range(12))
        + " and 3 more"
    )


def test_cv090_a_suppressed_resource_is_reported_as_suppressed_not_listed() -> None:
    text = UNTAGGED.replace(
        "  Topic:\n",
        "  Topic:\n    Metadata:\n      conveyor:\n        suppress:\n"
        "          - {rule: CV090, reason: tagged by the partner account}\n",
    )
    result = check_text(text, name="t.yaml")
    assert [f.message for f in result.findings if f.rule == "CV090"] == [
        "2 taggable resources have no tags: Queue, Bucket"
    ]
    assert [(f.resource, f.reason) for f in result.suppressed if f.rule == "CV090"] == [
        ("Topic", "tagged by the partner account")
    ]


@needs_corpus
def test_cv090_real_vpc_template_gets_one_finding() -> None:
    # aws-cloudformation-templates ECS/EC2LaunchType/clusters/public-vpc.yaml: 14 untagged
    # resources were 14 findings.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/"
        "ECS__EC2LaunchType__clusters__public-vpc.yaml",
        "CV090",
    )
    assert [(f.resource, f.message.split(":")[0]) for f in hits] == [
        ("VPC", "14 taggable resources have no tags")
    ]


# --- advice reports at info, which never fails CI -----------------------------------------

ADVICE = ("CV040", "CV041", "CV084", "CV085", "CV091", "CV092")


def test_advice_rules_report_at_info() -> None:
    assert {BY_ID[rule].severity for rule in ADVICE} == {Severity.INFO}


@pytest.mark.parametrize("rule", ADVICE)
def test_info_findings_alone_exit_0_even_with_fail_on_low(rule: str) -> None:
    bad = FIXTURES / rule / "bad.yaml"
    others = {f.rule for f in check_paths([bad]).findings} - set(ADVICE)
    args = [
        "check",
        str(bad),
        "--fail-on",
        "low",
        "--ignore",
        ",".join(sorted(others) or ["CV000"]),
    ]
    result = CliRunner().invoke(app, args)
    assert f"{rule} info" in result.output
    assert result.exit_code == 0, result.output
    sarif = json.loads(CliRunner().invoke(app, [*args, "--format", "sarif"]).output)
    run = sarif["runs"][0]
    assert {r["level"] for r in run["results"]} == {"note"}
    described = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == rule)
    assert "security-severity" not in described["properties"]


def test_a_low_finding_still_fails_with_fail_on_low() -> None:
    bad = FIXTURES / "CV082" / "bad.yaml"
    assert CliRunner().invoke(app, ["check", str(bad), "--fail-on", "low"]).exit_code == 1
    assert CliRunner().invoke(app, ["check", str(bad), "--ignore", "CV090"]).exit_code == 0


# --- CV006: a TLS-deny policy naming its bucket with Sub/Join --------------------------------

TLS_POLICY = """Parameters:
  AppName: {{Type: String}}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ${{AppName}}-${{AWS::Region}}-${{AWS::AccountId}}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: {bucket}
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: '*'
            Action: 's3:*'
            Resource: '*'
            Condition: {{Bool: {{aws:SecureTransport: false}}}}
"""


@pytest.mark.parametrize(
    "bucket",
    [
        "!Sub ${AppName}-${AWS::Region}-${AWS::AccountId}",
        "!Join ['-', [!Ref AppName, !Ref 'AWS::Region', !Ref 'AWS::AccountId']]",
        "!Ref Bucket",
    ],
)
def test_cv006_policy_naming_the_bucket_the_same_way_counts(bucket: str) -> None:
    assert found(TLS_POLICY.format(bucket=bucket), "CV006") == []


def test_cv006_policy_of_another_name_does_not_count() -> None:
    other = TLS_POLICY.format(bucket="!Sub ${AppName}-logs-${AWS::Region}-${AWS::AccountId}")
    assert [f.resource for f in found(other, "CV006")] == ["Bucket"]


IF_POLICY = """Conditions:
  HasUsers: !Equals [a, b]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement: !If
          - HasUsers
          - - {Effect: Allow, Principal: {AWS: arn:aws:iam::111122223333:root}, Action: 's3:*'}
            - {EFFECT}
          - - {EFFECT}
"""
DENY = (
    "{Effect: Deny, Principal: '*', Action: 's3:*', "
    "Condition: {Bool: {aws:SecureTransport: false}}}"
)


def test_cv006_statements_chosen_by_fn_if_are_read() -> None:
    assert found(IF_POLICY.replace("{EFFECT}", DENY), "CV006") == []
    allow = DENY.replace("Deny", "Allow")
    assert [f.resource for f in found(IF_POLICY.replace("{EFFECT}", allow), "CV006")] == ["Bucket"]


@needs_corpus
def test_cv006_real_compliant_bucket_sample_is_clean() -> None:
    # aws-cloudformation-templates S3/compliant-bucket.yaml names each bucket in its policy with
    # !Sub ${AppName}-...-${AWS::Region}-${AWS::AccountId} (3 false findings before).
    assert (
        corpus(
            "aws-cloudformation__aws-cloudformation-templates/S3__compliant-bucket.yaml", "CV006"
        )
        == []
    )
    # widdix operations/terraform-state.yaml: the deny sits in both branches of `Statement: !If`.
    assert corpus("widdix__aws-cf-templates/operations__terraform-state.yaml", "CV006") == []


@needs_corpus
def test_cv006_real_bucket_without_a_tls_policy_is_still_found() -> None:
    # aws-deployment-framework src/template.yml: only BootstrapTemplatesBucket has a TLS deny.
    hits = corpus("awslabs__aws-deployment-framework/src__template.yml", "CV006")
    assert {"BootstrapArtifactStorageBucket", "ADFAccountBucket"} <= {f.resource for f in hits}


# --- CV063: optional parameters and sentinels -----------------------------------------------

PARAM = """Parameters:
  Setting:
    Type: String
    Default: '{default}'
    Description: {description}
{extra}Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{DisplayName: !Ref Setting}}
"""


def _param(default: str = "", description: str = "Github repository name", extra: str = "") -> str:
    return PARAM.format(default=default, description=description, extra=extra)


@pytest.mark.parametrize(
    "description",
    [
        "(Optional) KMS key ARN for the logs. If empty, CloudWatch Logs manages the key.",
        "Name used for the DNS entry. Leave blank for naked (or apex and bare) domain.",
        "Subnet id. Required if you are provisioning an external load balancer.",
        "Name of the database (ignored when DBSnapshotIdentifier is set).",
        "Example -> jane@example.com. (Only required when installing ADF for the first time.)",
    ],
)
def test_cv063_a_parameter_documented_as_optional_is_not_a_placeholder(description: str) -> None:
    assert found(_param(description=description), "CV063") == []


def test_cv063_a_sentinel_listed_in_allowed_values_is_a_choice() -> None:
    listed = _param(default="NONE", extra="    AllowedValues: [NONE, Prometheus]\n")
    assert found(listed, "CV063") == []
    assert found(_param(default="None"), "CV063") == []


def test_cv063_an_undocumented_blank_default_is_still_found() -> None:
    assert [f.resource for f in found(_param(), "CV063")] == ["Setting"]
    assert [f.resource for f in found(_param(default="changeme"), "CV063")] == ["Setting"]


@needs_corpus
def test_cv063_real_templates() -> None:
    # widdix state/rds-postgres.yaml: DBName "(ignored when DBSnapshotIdentifier is set ...)".
    assert corpus("widdix__aws-cf-templates/state__rds-postgres.yaml", "CV063") == []
    # quickstart-amazon-eks templates/amazon-eks-entrypoint-existing-vpc.template.yaml:
    # EKSClusterName "(Optional) Name for the EKS cluster. If left blank, one is auto-generated."
    eks = corpus(
        "aws-quickstart__quickstart-amazon-eks/templates__amazon-eks-entrypoint-existing-vpc"
        ".template.yaml",
        "CV063",
    )
    assert "EKSClusterName" not in {f.resource for f in eks}
    # stelligent labs/iot/pipeline.yaml: GitHubToken '' with no word that it may be left out.
    iot = corpus("stelligent__cloudformation_templates/labs__iot__pipeline.yaml", "CV063")
    assert "GitHubToken" in {f.resource for f in iot}


# --- CV045: switches, settings and pointers are not secrets --------------------------------

SECRET_PARAM = """Parameters:
  {name}:
    Type: {type}
{extra}Resources:
  Topic:
    Type: AWS::SNS::Topic
"""


def _secret(name: str, type_: str = "String", extra: str = "") -> list[Finding]:
    return found(SECRET_PARAM.format(name=name, type=type_, extra=extra), "CV045")


@pytest.mark.parametrize(
    ("name", "type_", "extra"),
    [
        ("IamPasswordPolicyParamRequireSymbols", "String", "    Default: 'true'\n"),
        ("IamPasswordPolicyParamMinimumPasswordLength", "Number", "    Default: 14\n"),
        ("IamUserUnusedCredentialsCheckParamMaxCredentialUsageAge", "String", ""),
        ("EnableSecretsPlugin", "String", "    AllowedValues: [Enabled, Disabled]\n"),
        ("createSecret", "String", "    Default: 'false'\n"),
        ("bigIqPasswordS3Arn", "String", ""),
        ("SecretsManagerDomainCredentialsSecretsKMSKey", "String", ""),
        ("ParentSecretStack", "String", "    Default: ''\n"),
        ("SecretsManagerSecretARNforMySql", "String", ""),
        ("EKSEncryptSecrets", "String", "    AllowedValues: [Enabled, Disabled]\n"),
    ],
)
def test_cv045_switches_settings_and_pointers_are_not_secrets(
    name: str, type_: str, extra: str
) -> None:
    assert _secret(name, type_, extra) == []


@pytest.mark.parametrize("name", ["GitHubToken", "DBMasterUserPassword", "RafaySysApiKey"])
def test_cv045_a_real_secret_name_without_noecho_is_found(name: str) -> None:
    (hit,) = _secret(name, extra="    Default: ''\n")
    assert hit.message == (
        f"secret parameter {name} is not NoEcho and has a default, so a missing secret goes "
        "unnoticed"
    )


# Issue 16 review: a secret word that only qualifies another noun (a switch, a model, an
# endpoint, a provider) is no secret; the corpus holds none of these names.
QUALIFIED = ["secret-manager-enabled", "tokenizer-model", "oauth/token-endpoint"]
QUALIFIED += ["credentials-provider", "SecretManagerEnabled", "TokenizerModel"]
QUALIFIED += ["OAuthTokenEndpoint", "CredentialsProvider", "PasswordlessLogin"]


# CloudFormation parameter names are alphanumeric: the camel-case ones.
@pytest.mark.parametrize("name", [n for n in QUALIFIED if n.isalnum()])
def test_cv045_a_secret_word_qualifying_another_noun_is_no_secret(name: str) -> None:
    assert _secret(name, extra="    Default: x\n") == []


@pytest.mark.parametrize(
    "name",
    [
        *["DbPassword", "db_pass", "githubtoken", "ApiKey", "AWSSecretAccessKey"],
        *["DbPasswordValue", "Password1", "PinpointAPNSChannelTokenKey"],
        *["DockerHubCredentials", "SlackWebhookSecret"],
    ],
)
def test_cv045_the_secret_word_last_is_a_secret(name: str) -> None:
    (hit,) = _secret(name, extra="    Default: hunter2\n")
    assert hit.resource == name
    assert hit.message.endswith(
        "is not NoEcho and has a default, so a missing secret goes unnoticed"
    )


@needs_corpus
def test_cv045_real_templates() -> None:
    # aws-config-rules conformance pack Operational-Best-Practices-for-NIST-CSF.yaml: 7
    # IamPasswordPolicyParam* and MaxCredentialUsageAge settings were reported as secrets.
    hits = corpus(
        "awslabs__aws-config-rules/aws-config-conformance-packs__"
        "Operational-Best-Practices-for-NIST-CSF.yaml",
        "CV045",
    )
    assert hits == []
    # stelligent labs/iot/pipeline.yaml: GitHubToken without NoEcho is still reported.
    iot = corpus("stelligent__cloudformation_templates/labs__iot__pipeline.yaml", "CV045")
    assert "GitHubToken" in {f.resource for f in iot}


# --- CV007 / CV035: Lambda log groups and Lambda@Edge ---------------------------------------

FUNCTION_LOGS = """Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      LoggingConfig: {LogGroup: !Ref Logs}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 30}
  Named:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: !Sub '/aws/lambda/${Fn}', RetentionInDays: 30}
  Audit:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: audit, RetentionInDays: 30}
"""


def test_cv007_a_functions_own_log_group_may_be_deleted_with_it() -> None:
    assert [f.resource for f in found(FUNCTION_LOGS, "CV007")] == ["Audit"]


@needs_corpus
def test_cv007_real_function_log_group() -> None:
    # aws-cloudformation-templates CloudFormation/CustomResources/getfromjson/src/getfromjson.yml:
    # LogGroupName /aws/lambda/GetFromJson, no DeletionPolicy (Delete with the function).
    assert (
        corpus(
            "aws-cloudformation__aws-cloudformation-templates/"
            "CloudFormation__CustomResources__getfromjson__src__getfromjson.yml",
            "CV007",
        )
        == []
    )


EDGE = """Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: !GetAtt Role.Arn, Runtime: python3.12, Handler: index.handler}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: [SERVICES]}, Action: sts:AssumeRole}]
"""
DISTRIBUTION = """  Version:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Fn}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        DefaultCacheBehavior:
          LambdaFunctionAssociations: [{EventType: viewer-request, LambdaFunctionARN: !Ref Version}]
"""


def test_cv035_lambda_at_edge_is_not_asked_for_a_log_group() -> None:
    trusted = EDGE.replace("SERVICES", "lambda.amazonaws.com, edgelambda.amazonaws.com")
    assert found(trusted, "CV035") == []
    associated = EDGE.replace("SERVICES", "lambda.amazonaws.com") + DISTRIBUTION
    assert found(associated, "CV035") == []


def test_cv035_a_regional_function_is_still_asked_for_one() -> None:
    plain = EDGE.replace("SERVICES", "lambda.amazonaws.com")
    assert [f.resource for f in found(plain, "CV035")] == ["Fn"]
    other = plain + DISTRIBUTION.replace("!Ref Fn", "other-function")
    assert [f.resource for f in found(other, "CV035")] == ["Fn"]


# --- CV051: an execution role pulling parameterised images ----------------------------------

EXECUTION = """Parameters:
  Image: {Type: String}
Resources:
  Repo:
    Type: AWS::ECR::Repository
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: pull
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, logs:PutLogEvents]
                Resource: '*'
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      ContainerDefinitions: [{Name: app, Image: IMAGE}]
"""


def test_cv051_execution_role_pulling_a_parameterised_image_may_use_star() -> None:
    assert found(EXECUTION.replace("IMAGE", "!Ref Image"), "CV051") == []


def test_cv051_execution_role_pulling_from_a_repository_here_must_name_it() -> None:
    own = EXECUTION.replace("IMAGE", "!Sub '${Repo.RepositoryUri}:latest'")
    assert [f.resource for f in found(own, "CV051")] == ["ExecutionRole"]


def test_cv051_other_roles_still_may_not_pull_on_star() -> None:
    build = EXECUTION.replace("IMAGE", "!Ref Image").replace(
        "ecs-tasks.amazonaws.com", "codebuild.amazonaws.com"
    )
    assert [f.resource for f in found(build, "CV051")] == ["ExecutionRole"]


@needs_corpus
def test_cv051_real_cluster_template_execution_role() -> None:
    # aws-cloudformation-templates ECS/FargateLaunchType/clusters/private-vpc.yaml: the shared
    # ECSTaskExecutionRole for services in other stacks pulls and logs on '*' (like AWS's managed
    # AmazonECSTaskExecutionRolePolicy); its EC2 NAT/VPC roles are not concerned.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/"
        "ECS__FargateLaunchType__clusters__private-vpc.yaml",
        "CV051",
    )
    assert "ECSTaskExecutionRole" not in {f.resource for f in hits}


# --- CV082: continuous metrics have no gaps to treat ---------------------------------------

ALARM = """Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: {namespace}
      MetricName: {metric}
      Statistic: Average
      Period: 300
      EvaluationPeriods: 1
      Threshold: 80
      ComparisonOperator: GreaterThanThreshold
"""


@pytest.mark.parametrize(
    ("namespace", "metric"),
    [
        ("AWS/EC2", "CPUUtilization"),
        ("AWS/RDS", "FreeStorageSpace"),
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
        ("AWS/DynamoDB", "ThrottledRequests"),
    ],
)
def test_cv082_continuous_metrics_need_no_treat_missing_data(namespace: str, metric: str) -> None:
    assert found(ALARM.format(namespace=namespace, metric=metric), "CV082") == []


@pytest.mark.parametrize(
    ("namespace", "metric"),
    [("AWS/Lambda", "Errors"), ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")],
)
def test_cv082_sparse_metrics_still_need_it(namespace: str, metric: str) -> None:
    hits = found(ALARM.format(namespace=namespace, metric=metric), "CV082")
    assert [f.resource for f in hits] == ["Alarm"]


@needs_corpus
def test_cv082_real_database_alarms() -> None:
    # widdix state/rds-postgres.yaml: CPUUtilization, FreeStorageSpace ... alarms on AWS/RDS.
    assert corpus("widdix__aws-cf-templates/state__rds-postgres.yaml", "CV082") == []


# --- CV001: medium, since S3 blocks public access on new buckets by default -----------------


def test_cv001_a_bucket_without_the_block_is_medium_and_says_why() -> None:
    (hit,) = found("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", "CV001")
    assert hit.severity is Severity.MEDIUM
    assert "S3 blocks public access on new buckets by default" in hit.message
    opened = (
        "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n"
        "      PublicAccessBlockConfiguration: {BlockPublicAcls: false}\n"
    )
    assert [f.path for f in found(opened, "CV001")] == [
        "Resources.B.Properties.PublicAccessBlockConfiguration"
    ]


# --- CV056: no circular DependsOn; build projects count -------------------------------------

ORDERING = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      Roles: [!Ref Role]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: RESOURCE}]
  Fn:
    Type: AWS::Lambda::Function
    Properties: {Role: !GetAtt Role.Arn, Runtime: python3.12, Handler: index.handler}
"""


def test_cv056_a_policy_that_names_the_function_is_not_asked_for() -> None:
    """The DependsOn would be circular: the policy refers to the function's log group."""
    circular = ORDERING.replace("RESOURCE", "!Sub 'arn:aws:logs:*:*:log-group:/aws/lambda/${Fn}:*'")
    assert found(circular, "CV056") == []


def test_cv056_an_independent_policy_is_still_asked_for() -> None:
    hits = found(ORDERING.replace("RESOURCE", "'*'"), "CV056")
    assert [(f.resource, f.message) for f in hits] == [
        ("Fn", "Function may run before Policy is attached to its role Role; add DependsOn")
    ]


@needs_corpus
def test_cv056_real_function_whose_policy_names_its_log_group() -> None:
    # widdix operations/alb-access-logs-anonymizer.yaml: Policy grants logs on
    # !Sub '...:log-group:/aws/lambda/${Function}...': a DependsOn Policy would be circular.
    assert (
        corpus("widdix__aws-cf-templates/operations__alb-access-logs-anonymizer.yaml", "CV056")
        == []
    )


# A build project runs when the pipeline's first execution reaches it (the pipeline starts when
# created): the project, or every pipeline that runs it, waits for the role's policy.
BUILD_ORDERING = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: p
      Roles: [!Ref Role]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: RESOURCE}]
  Project:
    Type: AWS::CodeBuild::Project
    PROJECT_DEPENDS
    Properties: {ServiceRole: !GetAtt Role.Arn}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    PIPELINE_DEPENDS
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/pipeline
      Stages:
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: !Ref Project}
"""
PROJECT_LOGS = "!Sub 'arn:aws:logs:*:*:log-group:/aws/codebuild/${Project}:*'"


def _build_ordering(
    resource: str = "'*'", project: str = "", pipeline: str = "", run: bool = True
) -> list[Finding]:
    text = (
        BUILD_ORDERING.replace("RESOURCE", resource)
        .replace("PROJECT_DEPENDS", f"DependsOn: [{project}]" if project else "")
        .replace("PIPELINE_DEPENDS", f"DependsOn: [{pipeline}]" if pipeline else "")
    )
    if not run:
        text = text.replace("ProjectName: !Ref Project", "ProjectName: another")
    return found(text, "CV056")


def test_cv056_a_build_project_the_pipeline_runs_before_its_policy_is_found() -> None:
    (hit,) = _build_ordering()
    assert (hit.resource, hit.message) == (
        "Project",
        "Project runs in the first execution of Pipeline (it starts when created), possibly "
        "before Policy is attached to its role Role; add DependsOn",
    )


def test_cv056_a_policy_naming_the_project_asks_the_pipeline_to_wait_never_a_cycle() -> None:
    """The project's own DependsOn would be circular (CDK's default policy names the project's
    log group): the pipeline that runs it waits instead."""
    (hit,) = _build_ordering(PROJECT_LOGS)
    assert hit.message.endswith(
        "Policy refers to the project, so add it to the DependsOn of Pipeline"
    )
    assert "add DependsOn\n" not in hit.message


def test_cv056_a_build_project_that_waits_or_whose_pipeline_waits_is_not_found() -> None:
    assert _build_ordering(project="Policy") == []
    assert _build_ordering(PROJECT_LOGS, pipeline="Policy") == []
    assert _build_ordering(pipeline="Policy") == []  # nothing runs it before the policy


def test_cv056_a_project_no_pipeline_here_runs_is_not_found() -> None:
    """Whoever starts it later finds the policy attached."""
    assert _build_ordering(run=False) == []


def test_cv056_no_fix_without_a_cycle_no_finding() -> None:
    """A policy that names the pipeline and the project: neither can wait for it."""
    both = PROJECT_LOGS[:-1] + "${Pipeline}'"
    assert _build_ordering(both) == []


@needs_corpus
def test_cv056_real_build_projects() -> None:
    # True: ADF's deployment/global.yml runs CodeBuildProject from CodePipeline; neither waits
    # for PipelineGenerationProvisionerCodeBuildRolePolicy.
    hits = corpus(
        "awslabs__aws-deployment-framework/src__lambda_codebase__initial_commit__"
        "bootstrap_repository__adf-bootstrap__deployment__global.yml",
        "CV056",
    )
    (hit,) = [f for f in hits if f.resource == "CodeBuildProject"]
    assert "PipelineGenerationProvisionerCodeBuildRolePolicy" in hit.message
    # True, and the fix named is the pipeline's: rain's forecast pipeline module's ProjectPolicy
    # names the project's log group.
    rain = corpus(
        "aws-cloudformation__rain/test__templates__forecast__modules__pipeline.yaml", "CV056"
    )
    (project,) = [f for f in rain if f.resource == "Project"]
    assert project.message.endswith("so add it to the DependsOn of Pipeline")


# --- CV083: failure routing and FailedBuilds alarms are equivalent designs ------------------

PIPELINE = """Resources:
  Project:
    Type: AWS::CodeBuild::Project
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Build
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: {ProjectName: !Ref Project}
"""
FAILURE_RULE = """  Failures:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.codepipeline]
        detail-type: [CodePipeline Pipeline Execution State Change]
        detail: {state: [FAILED], pipeline: [!Ref Pipeline]}
      Targets: [{Id: topic, Arn: !Ref Topic}]
  Topic:
    Type: AWS::SNS::Topic
"""
FAILED_BUILDS = """  BuildsFail:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/CodeBuild
      MetricName: FailedBuilds
      Dimensions: [{Name: ProjectName, Value: PROJECT}]
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
"""


def test_cv083_eventbridge_failure_routing_is_an_equivalent_design() -> None:
    assert found(PIPELINE + FAILURE_RULE, "CV083") == []


def test_cv083_a_failed_builds_alarm_on_the_pipelines_project_is_equivalent() -> None:
    assert found(PIPELINE + FAILED_BUILDS.replace("PROJECT", "!Ref Project"), "CV083") == []


def test_cv083_without_any_of_them_the_pipeline_is_reported() -> None:
    assert [f.resource for f in found(PIPELINE, "CV083")] == ["Pipeline"]
    other = PIPELINE + FAILED_BUILDS.replace("PROJECT", "another-project")
    assert [f.resource for f in found(other, "CV083")] == ["Pipeline"]


# --- CV074: a deployment that rolls back on alarms validates itself -------------------------

DEPLOY = """Resources:
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: app
      ServiceRoleArn: arn:aws:iam::111122223333:role/deploy
      AlarmConfiguration: {Enabled: true, Alarms: [{Name: !Ref Errors}]}
      AutoRollbackConfiguration: {Enabled: true, Events: [EVENTS]}
  Errors:
    Type: AWS::CloudWatch::Alarm
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Deploy
          Actions:
            - Name: Deploy
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CodeDeploy, Version: "1"}
              Configuration: {ApplicationName: app, DeploymentGroupName: !Ref Group}
"""


def test_cv074_a_deployment_group_rolling_back_on_alarms_is_validation() -> None:
    text = DEPLOY.replace("EVENTS", "DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM")
    assert found(text, "CV074") == []


def test_cv074_a_deployment_group_without_alarm_rollback_is_no_validation() -> None:
    text = DEPLOY.replace("EVENTS", "DEPLOYMENT_FAILURE")
    assert [f.resource for f in found(text, "CV074")] == ["Pipeline"]
    unrelated = DEPLOY.replace("EVENTS", "DEPLOYMENT_STOP_ON_ALARM").replace(
        "DeploymentGroupName: !Ref Group", "DeploymentGroupName: other"
    )
    assert [f.resource for f in found(unrelated, "CV074")] == ["Pipeline"]


# Issue 16 review: an OnSuccess alarm bake validates; a Build in the next stage validates only
# when it targets the deployed environment.
STAGED = """Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/pipeline
      Stages:
        - Name: Deploy-staging
BAKE          Actions:
            - Name: Deploy
              Namespace: StagingDeploy
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CloudFormation, Version: "1"}
              Configuration: {ActionMode: CREATE_UPDATE, StackName: app-staging}
              OutputArtifacts: [{Name: StagingOutputs}]
        - Name: Next
          Actions:
            - Name: Build
              ActionTypeId: {Category: Build, Owner: AWS, Provider: CodeBuild, Version: "1"}
              Configuration: NEXT
INPUTS"""
BAKE = (
    "          OnSuccess:\n"
    "            Conditions:\n"
    "              - Result: ROLLBACK\n"
    "                Rules:\n"
    "                  - Name: Bake\n"
    "                    RuleTypeId: {Category: Rule, Owner: AWS, Provider: CloudWatchAlarm, "
    "Version: '1'}\n"
    "                    Configuration: {AlarmName: app-staging-errors, WaitTime: '10'}\n"
)


def _staged(
    next_config: str = "{ProjectName: package-prod}", *, bake: str = "", inputs: str = ""
) -> list[Finding]:
    text = STAGED.replace("BAKE", bake).replace("NEXT", next_config).replace("INPUTS", inputs)
    return found(text, "CV074")


def test_cv074_an_onsuccess_alarm_bake_validates_the_stage() -> None:
    assert _staged(bake=BAKE) == []
    other = BAKE.replace("Provider: CloudWatchAlarm", "Provider: DeploymentWindow")
    assert [f.path for f in _staged(bake=other)] == [
        "Resources.Pipeline.Properties.Stages.0.Actions.0"
    ]


def test_cv074_a_next_stage_build_of_something_else_is_no_validation() -> None:
    """The next stage's build packages the next environment: nothing checks staging."""
    (hit,) = _staged()
    assert hit.message == (
        "deploy action 'Deploy' is not followed by any validation (smoke test or validation Lambda)"
    )


@pytest.mark.parametrize(
    ("next_config", "inputs"),
    [
        # Reads the deploy's variables.
        (
            '{ProjectName: smoke, EnvironmentVariables: \'[{"name": "URL", "value": '
            '"#{StagingDeploy.Url}"}]\'}',
            "",
        ),
        # Names the deployed stack.
        (
            '{ProjectName: smoke, EnvironmentVariables: \'[{"name": "STACK", "value": '
            '"app-staging"}]\'}',
            "",
        ),
        # Reads the deploy's output artifact.
        ("{ProjectName: smoke}", "              InputArtifacts: [{Name: StagingOutputs}]\n"),
    ],
)
def test_cv074_a_next_stage_build_that_targets_the_environment_validates(
    next_config: str, inputs: str
) -> None:
    assert _staged(next_config, inputs=inputs) == []


def test_cv074_a_change_set_alone_and_the_self_update_need_no_validation() -> None:
    change_set = (
        STAGED.replace("BAKE", "")
        .replace("NEXT", "{ProjectName: p}")
        .replace("INPUTS", "")
        .replace(
            "ActionMode: CREATE_UPDATE, StackName: app-staging",
            "ActionMode: CHANGE_SET_REPLACE, StackName: app-staging, ChangeSetName: c",
        )
    )
    assert found(change_set, "CV074") == []
    own = (
        STAGED.replace("BAKE", "")
        .replace("NEXT", "{ProjectName: p}")
        .replace("INPUTS", "")
        .replace("StackName: app-staging", "StackName: !Ref AWS::StackName")
    )
    assert found(own, "CV074") == []


@needs_corpus
def test_cv074_real_templates() -> None:
    # aws-samples ecs-blue-green-deployment-with-codedeploy iac/pipeline/code-pipeline.yaml: the
    # infrastructure deploy is followed by a build that reads its variables
    # (#{DeployInfraVariables.oTaskDefinitionArn}): it targets the environment and counts; the
    # CodeDeploy deploy at the end has nothing after it and is reported.
    hits = corpus(
        "aws-samples__ecs-blue-green-deployment-with-codedeploy/iac__pipeline__code-pipeline.yaml",
        "CV074",
    )
    assert ["StartApplicationDeploy" in f.message for f in hits] == [True]
    # Stelligent labs/codebuild/codebuild.yml: DeployApp is the last action: true.
    (hit,) = corpus("stelligent__cloudformation_templates/labs__codebuild__codebuild.yml", "CV074")
    assert "'DeployApp'" in hit.message


# --- CV077: variables a Greengrass function definition sets --------------------------------

GREENGRASS = """Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111122223333:role/fn
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return os.environ['CORE_NAME']
  FnVersion:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Fn}
  Definition:
    Type: AWS::Greengrass::FunctionDefinition
    Properties:
      Name: d
      InitialVersion:
        Functions:
          - Id: sample
            FunctionArn: !Ref FnVersion
            FunctionConfiguration:
              Environment: {Variables: {VARIABLE: core-1}}
"""


def test_cv077_a_variable_set_by_the_greengrass_definition_is_defined() -> None:
    assert found(GREENGRASS.replace("VARIABLE", "CORE_NAME"), "CV077") == []


def test_cv077_a_variable_nobody_sets_is_still_found() -> None:
    hits = found(GREENGRASS.replace("VARIABLE", "OTHER"), "CV077")
    assert [f.message for f in hits] == [
        "code reads environment variable(s) CORE_NAME that the function does not define"
    ]


@needs_corpus
def test_cv077_real_greengrass_sample() -> None:
    # awslabs/aws-cloudformation-templates aws/services/IoT/amzn2-greengrass-cfn.yml: CORE_NAME
    # is set in the FunctionDefinition's FunctionConfiguration, not on the Lambda function.
    assert (
        corpus(
            "awslabs__aws-cloudformation-templates/aws__services__IoT__amzn2-greengrass-cfn.yml",
            "CV077",
        )
        == []
    )


# --- CV054: SAM connectors grant the table ------------------------------------------------

CONNECTOR_BASE = """Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Runtime: python3.12
      Handler: index.handler
      Environment: {Variables: {TABLE_NAME: !Ref Table}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
  Table:
    Type: AWS::DynamoDB::Table
"""
STANDALONE = """  Connector:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Fn}
      Destination: {Id: Table}
      Permissions: [Read, Write]
"""


def test_cv054_a_standalone_sam_connector_grants_the_table() -> None:
    assert found(CONNECTOR_BASE + STANDALONE, "CV054") == []


def test_cv054_an_embedded_sam_connector_grants_the_table() -> None:
    embedded = CONNECTOR_BASE.replace(
        "    Type: AWS::Lambda::Function\n",
        "    Type: AWS::Lambda::Function\n    Connectors:\n      ToTable:\n"
        "        Properties: {Destination: {Id: Table}, Permissions: [Write]}\n",
    )
    assert found(embedded, "CV054") == []


def test_cv054_without_a_grant_or_connector_the_function_is_reported() -> None:
    assert [f.message for f in found(CONNECTOR_BASE, "CV054")] == [
        "function is given table Table but its role Role may not read or write it"
    ]
    elsewhere = CONNECTOR_BASE + STANDALONE.replace("Id: Fn", "Id: Other")
    assert [f.resource for f in found(elsewhere, "CV054")] == ["Fn"]


@needs_corpus
def test_cv054_real_sam_embedded_connector() -> None:
    # aws/serverless-application-model tests/translator/input/
    # embedded_connectors_table_to_function.yaml: MyTable's Connectors name MyLambdaFunction.
    assert (
        corpus(
            "aws__serverless-application-model/"
            "tests__translator__input__embedded_connectors_table_to_function.yaml",
            "CV054",
        )
        == []
    )


# --- CV055: the path hint names the policy the deployment group's platform needs ------------

CODEDEPLOY_ROLE = """Resources:
  App:
    Type: AWS::CodeDeploy::Application
    Properties: {ComputePlatform: PLATFORM}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
      ManagedPolicyArns: ['arn:aws:iam::aws:policy/AWSCodeDeployRole']
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties: {ApplicationName: !Ref App, ServiceRoleArn: !GetAtt Role.Arn}
"""


@pytest.mark.parametrize(
    ("platform", "policy"),
    [
        ("Lambda", "service-role/AWSCodeDeployRoleForLambda"),
        ("ECS", "AWSCodeDeployRoleForECS"),
        ("Server", "service-role/AWSCodeDeployRole"),
    ],
)
def test_cv055_the_path_hint_fits_the_compute_platform(platform: str, policy: str) -> None:
    hits = found(CODEDEPLOY_ROLE.replace("PLATFORM", platform), "CV055")
    assert [f.message for f in hits] == [
        f"managed policy AWSCodeDeployRole does not exist at that path; it is {policy}"
    ]


# --- CV003: an ArtifactStore without EncryptionKey uses aws/s3 whatever the bucket has -------

STORE = """Resources:
  Key:
    Type: AWS::KMS::Key
  Artifacts:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: !Ref Key}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      ArtifactStore: STORE
"""


def test_cv003_a_store_without_encryption_key_is_reported_on_the_pipeline() -> None:
    hits = found(STORE.replace("STORE", "{Type: S3, Location: !Ref Artifacts}"), "CV003")
    assert [(f.resource, f.path, f.message) for f in hits] == [
        (
            "Pipeline",
            "Resources.Pipeline.Properties.ArtifactStore",
            "ArtifactStore has no EncryptionKey: CodePipeline encrypts artifacts with the AWS "
            "managed aws/s3 key, not bucket Artifacts's customer key",
        )
    ]


def test_cv003_a_store_with_the_key_is_clean() -> None:
    store = "{Type: S3, Location: !Ref Artifacts, EncryptionKey: {Id: !Ref Key, Type: KMS}}"
    assert found(STORE.replace("STORE", store), "CV003") == []


# --- CV058 (new): a role the using service may not assume -----------------------------------

TRUST = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: SERVICE}, Action: ACTION}
  Project:
    Type: AWS::CodeBuild::Project
    Properties: {ServiceRole: !GetAtt Role.Arn}
"""


def _trust(service: str, action: str = "sts:AssumeRole") -> list[Finding]:
    return found(TRUST.replace("SERVICE", service).replace("ACTION", action), "CV058")


def test_cv058_a_build_role_trusting_codepipeline_is_reported() -> None:
    assert [(f.resource, f.path, f.message) for f in _trust("codepipeline.amazonaws.com")] == [
        (
            "Project",
            "Resources.Project.Properties.ServiceRole",
            "role Role trusts codepipeline.amazonaws.com, not codebuild.amazonaws.com: the "
            "service cannot assume it",
        )
    ]


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("codebuild.amazonaws.com", "sts:AssumeRole"),
        ("[codepipeline.amazonaws.com, codebuild.amazonaws.com]", "'sts:*'"),
        ("!Sub 'codebuild.${AWS::URLSuffix}'", "sts:AssumeRole"),
        ("codebuild.amazonaws.com", "!Ref AssumeAction"),  # a parameter may be sts:AssumeRole
    ],
)
def test_cv058_a_role_trusting_the_service_is_clean(service: str, action: str) -> None:
    assert _trust(service, action) == []


def test_cv058_a_statement_that_does_not_allow_assume_role_grants_nothing() -> None:
    assert [f.resource for f in _trust("codebuild.amazonaws.com", "sts:TagSession")] == ["Project"]


# --- CV059 (new): a pipeline role not allowed what its actions call --------------------------

RUNS = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
      Policies:
        - PolicyName: run
          PolicyDocument:
            Statement: [{Effect: Allow, Action: ACTIONS, Resource: '*'}]
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt Role.Arn
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId:
                {Category: Source, Owner: AWS, Provider: CodeStarSourceConnection, Version: "1"}
              Configuration: {ConnectionArn: arn, FullRepositoryId: a/b, BranchName: main}
"""


@pytest.mark.parametrize(
    "actions",
    [
        "[codestar-connections:UseConnection]",
        "[codeconnections:UseConnection]",
        "['codestar-connections:*']",
    ],
)
def test_cv059_a_connection_source_with_use_connection_is_clean(actions: str) -> None:
    assert found(RUNS.replace("ACTIONS", actions), "CV059") == []


def test_cv059_a_connection_source_without_it_is_reported() -> None:
    hits = found(RUNS.replace("ACTIONS", "[s3:GetObject]"), "CV059")
    assert [(f.path, f.message) for f in hits] == [
        (
            "Resources.Pipeline.Properties.Stages.0.Actions.0",
            "role Role of CodeStarSourceConnection action 'Source' is not allowed "
            "codestar-connections:UseConnection; the action fails when the pipeline runs it",
        )
    ]


def test_cv059_a_role_it_cannot_read_is_not_judged() -> None:
    managed = RUNS.replace("ACTIONS", "[s3:GetObject]").replace(
        "      Policies:", "      ManagedPolicyArns: [!Ref Boundary]\n      Policies:"
    )
    assert found(managed, "CV059") == []
    built = RUNS.replace(
        "          PolicyDocument:\n            Statement: [{Effect: Allow, Action: ACTIONS, "
        "Resource: '*'}]",
        "          PolicyDocument: !If [Big, {Statement: []}, {Statement: []}]",
    )
    assert found(built, "CV059") == []


# --- CV078 (new): containers without logs; CV014 (new): unprotected tables ------------------


def test_cv078_containers_without_a_log_configuration_are_named() -> None:
    text = (
        "Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n"
        "      ContainerDefinitions:\n"
        "        - {Name: app, Image: app:1, LogConfiguration: {LogDriver: awslogs}}\n"
        "        - !If [Proxy, {Name: proxy, Image: proxy:1}, !Ref AWS::NoValue]\n"
        "Conditions:\n  Proxy: !Equals [a, b]\n"
    )
    assert [(f.path, f.message) for f in found(text, "CV078")] == [
        (
            "Resources.Task.Properties.ContainerDefinitions.1",
            "container 'proxy' has no LogConfiguration; its output is lost and a failed task "
            "leaves no logs",
        )
    ]


@needs_corpus
def test_cv078_real_templates() -> None:
    # widdix fargate/service-cluster-alb.yaml: every container (some inside Fn::If) logs.
    assert corpus("widdix__aws-cf-templates/fargate__service-cluster-alb.yaml", "CV078") == []
    # aws-cloudformation-templates ECS/EC2LaunchType/services/private-service.yaml: no logs.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/"
        "ECS__EC2LaunchType__services__private-service.yaml",
        "CV078",
    )
    assert [f.resource for f in hits] == ["TaskDefinition"]


def test_cv014_a_table_without_kms_or_recovery_is_reported() -> None:
    text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n"
    assert [f.message for f in found(text, "CV014")] == [
        "table has no KMS encryption (SSESpecification.SSEEnabled) and no point-in-time recovery"
    ]
    recovered = text + (
        "    Properties:\n"
        "      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}\n"
    )
    assert [f.message for f in found(recovered, "CV014")] == [
        "table has no KMS encryption (SSESpecification.SSEEnabled)"
    ]


@needs_corpus
def test_cv014_real_table_decided_by_parameters_is_not_judged() -> None:
    # widdix state/dynamodb.yaml: SSEEnabled !If [HasKmsKey, true, false], recovery from a
    # parameter defaulting to true.
    assert corpus("widdix__aws-cf-templates/state__dynamodb.yaml", "CV014") == []


# --- CV047 (new): a secret in a plain String SSM parameter ----------------------------------

SSM = """Parameters:
  Token: {Type: String, NoEcho: NOECHO}
Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties: {Name: NAME, Type: String, Value: VALUE}
"""


def _ssm(name: str = "/app/image-tag", value: str = "latest", noecho: str = "false") -> list[str]:
    text = SSM.replace("NAME", name).replace("VALUE", value).replace("NOECHO", noecho)
    return [f.message for f in found(text, "CV047")]


def test_cv047_token_shaped_values_noecho_values_and_secret_names_are_reported() -> None:
    token = "ghp_" + "a1B2c3D4e5" * 3
    assert _ssm(value=token) == [
        "String SSM parameter holds a secret (its value has the shape of a token or key): it "
        "is stored and shown unencrypted"
    ]
    assert _ssm(value="!Ref Token", noecho="true") == [
        "String SSM parameter holds a secret (its value is the NoEcho parameter Token): it is "
        "stored and shown unencrypted"
    ]
    assert _ssm(name="/app/DB_PASSWORD") == [
        "String SSM parameter holds a secret (its name '/app/DB_PASSWORD' is a secret's): it "
        "is stored and shown unencrypted"
    ]


@pytest.mark.parametrize(
    "name", ["/app/image-tag", "/app/github-token-secret-arn", "/eks/EKSEncryptSecrets"]
)
def test_cv047_settings_and_pointers_are_not_secrets(name: str) -> None:
    assert _ssm(name=name, value="!Ref Token") == []


@pytest.mark.parametrize("name", QUALIFIED)
def test_cv047_a_secret_word_qualifying_another_noun_is_no_secret(name: str) -> None:
    assert _ssm(name=f"/app/{name}", value="'true'") == []


def test_cv047_a_password_by_name_and_a_token_by_shape_are_still_reported() -> None:
    assert _ssm(name="DbPassword", value="hunter2") == [
        "String SSM parameter holds a secret (its name 'DbPassword' is a secret's): it is "
        "stored and shown unencrypted"
    ]
    # The value's shape wins over a harmless-looking name.
    assert len(_ssm(name="/app/tokenizer-model", value="glpat-" + "x1Y2z3" * 4)) == 1


@needs_corpus
def test_cv047_real_switch_parameter() -> None:
    # quickstart-amazon-eks templates/amazon-eks-advanced-configuration.template.yaml stores the
    # EKSEncryptSecrets switch (Enabled/Disabled) in SSM: not a secret.
    assert (
        corpus(
            "aws-quickstart__quickstart-amazon-eks/"
            "templates__amazon-eks-advanced-configuration.template.yaml",
            "CV047",
        )
        == []
    )


# --- CV015 (new): an S3 source bucket must be versioned ------------------------------------

S3_SOURCE = """Conditions:
  Versioned: !Equals [a, b]
Resources:
  Sources:
    Type: AWS::S3::Bucket
    Properties: {VersioningConfiguration: {Status: STATUS}}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: "1"}
              Configuration: {S3Bucket: !Ref Sources, S3ObjectKey: src.zip}
"""


def test_cv015_a_suspended_source_bucket_is_reported() -> None:
    hits = found(S3_SOURCE.replace("STATUS", "Suspended"), "CV015")
    assert [f.message for f in hits] == [
        "S3 source action 'Source' reads bucket Sources, which is not versioned; the source "
        "action fails"
    ]


@pytest.mark.parametrize("status", ["Enabled", "!If [Versioned, Enabled, Suspended]"])
def test_cv015_a_versioned_source_bucket_is_clean(status: str) -> None:
    assert found(S3_SOURCE.replace("STATUS", status), "CV015") == []


# --- the rule docs state each rule's precision evidence ------------------------------------


def test_every_rule_page_states_its_precision_evidence() -> None:
    from conveyor.rules.catalog import RULE_IDS
    from conveyor.rules.docs import PRECISION, pages

    assert set(PRECISION) <= RULE_IDS  # no evidence for a rule that does not exist
    for rule_id in RULE_IDS:
        page = pages()[f"{rule_id}.md"]
        assert "## Precision on real templates" in page
    assert PRECISION["CV090"] in pages()["CV090.md"]


# --- CV079 (new): a deployment group no pipeline action deploys to --------------------------

GROUPS = """Resources:
  Group:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties: {ApplicationName: app, DeploymentGroupName: app-staging}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      Stages:
        - Name: Deploy
          Actions:
            - Name: Deploy
              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CodeDeploy, Version: "1"}
              Configuration: {ApplicationName: app, DeploymentGroupName: NAME}
"""


def test_cv079_a_group_the_pipeline_does_not_name_is_reported() -> None:
    hits = found(GROUPS.replace("NAME", "app-production"), "CV079")
    assert [(f.resource, f.line) for f in hits] == [("Group", 4)]


@pytest.mark.parametrize("name", ["app-staging", "!Ref Group", "!Sub '${AWS::StackName}-g'"])
def test_cv079_a_named_group_or_an_unresolvable_name_is_clean(name: str) -> None:
    assert found(GROUPS.replace("NAME", name), "CV079") == []


def test_cv079_groups_without_a_pipeline_here_are_not_judged() -> None:
    alone = GROUPS.split("  Pipeline:")[0]
    assert found(alone, "CV079") == []


def test_cv079_a_group_a_lambda_alias_shifts_traffic_with_is_used() -> None:
    alias = GROUPS.replace("NAME", "app-production") + (
        "  Alias:\n    Type: AWS::Lambda::Alias\n    UpdatePolicy:\n"
        "      CodeDeployLambdaAliasUpdate:\n"
        "        {ApplicationName: app, DeploymentGroupName: !Ref Group}\n"
        "    Properties: {FunctionName: f, FunctionVersion: '1', Name: live}\n"
    )
    assert found(alias, "CV079") == []


# CV063: what still keeps a placeholder from being reported (mutation survivors).


@pytest.mark.parametrize(
    "extra",
    [
        "    AllowedValues: ['', Prometheus]\n",  # the empty default is one of the choices
        "    AllowedPattern: '[a-z]+'\n",  # the pattern refuses the placeholder
        "    AllowedPattern: '[a-z'\n",  # a pattern CloudFormation cannot use refuses too
        "    MinLength: 1\n",
        "    MinLength: one\n",
        "    AllowedValues: [Prometheus]\n",  # not a listed value: refused at deploy time
    ],
)
def test_cv063_a_placeholder_the_parameter_refuses_or_lists_is_not_reported(extra: str) -> None:
    assert found(_param(extra=extra), "CV063") == []


@pytest.mark.parametrize(
    "extra",
    [
        "    AllowedPattern: '.*'\n",
        "    MinLength: 0\n",
        "    AllowedValues: Prometheus\n",  # not a list: nothing is listed
    ],
)
def test_cv063_constraints_that_accept_the_placeholder_do_not_help(extra: str) -> None:
    assert [f.resource for f in found(_param(extra=extra), "CV063")] == ["Setting"]


def test_cv063_unused_conditioned_and_non_string_parameters_are_not_reported() -> None:
    unused = _param().replace("Properties: {DisplayName: !Ref Setting}", "Properties: {}")
    assert found(unused, "CV063") == []
    conditioned = _param() + "Conditions:\n  HasSetting: !Not [!Equals [!Ref Setting, '']]\n"
    assert found(conditioned, "CV063") == []
    number = _param().replace(
        "    Type: String\n    Default: ''", "    Type: Number\n    Default: ''"
    )
    assert found(number, "CV063") == []
    assert found(_param(default="prod-db"), "CV063") == []


def test_cv063_message_and_place() -> None:
    (hit,) = found(_param(), "CV063")
    assert (hit.path, hit.line, hit.message) == (
        "Parameters.Setting.Default",
        4,
        "parameter Setting defaults to the placeholder ''; a deploy without it fails later "
        "instead of stopping here",
    )


# CV045 and CV090: messages and edges (mutation survivors).


def test_cv045_each_problem_is_named_alone() -> None:
    echo = _secret("GitHubToken", extra="    NoEcho: true\n    Default: x\n")
    assert [f.message for f in echo] == [
        "secret parameter GitHubToken has a default, so a missing secret goes unnoticed"
    ]
    shown = _secret("GitHubToken")
    assert [(f.path, f.message) for f in shown] == [
        ("Parameters.GitHubToken", "secret parameter GitHubToken is not NoEcho")
    ]
    assert _secret("GitHubToken", extra="    NoEcho: 'true'\n") == []


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("ApiKey", "    AllowedValues: [yes, no]\n"),
        ("ApiKey", "    Default: 'no'\n    AllowedValues: [abc, 'no']\n"),
        ("ApiKey", "    Default: 'False'\n"),
        ("Api_Key_Name", ""),
        ("DbPasswordLength", ""),
    ],
)
def test_cv045_more_switches_and_settings(name: str, extra: str) -> None:
    hits = _secret(name, extra=extra)
    if name == "ApiKey" and "'no'" in extra:
        # "no" as a default is a value, not a switch: the secret still has a default.
        assert [f.resource for f in hits] == ["ApiKey"]
    else:
        assert hits == []


def test_cv045_a_list_of_mixed_allowed_values_is_no_switch() -> None:
    assert [f.resource for f in _secret("ApiKey", extra="    AllowedValues: [true, k1]\n")] == [
        "ApiKey"
    ]


def test_cv090_path_points_at_tags_or_properties() -> None:
    text = (
        "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: []\n"
        "  B:\n    Type: AWS::SQS::Queue\n"
    )
    (hit,) = found(text, "CV090")
    assert (hit.resource, hit.path) == ("A", "Resources.A.Properties.Tags")
    (alone,) = found("Resources:\n  B:\n    Type: AWS::SQS::Queue\n", "CV090")
    assert alone.path == "Resources.B.Properties"


def test_cv090_unreadable_tags_and_short_reasons() -> None:
    text = (
        "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: {Tags: !Ref T}\n"
        "  B:\n    Type: AWS::SQS::Queue\n    Metadata:\n      conveyor:\n        suppress:\n"
        "          - {rule: CV090, reason: short}\n"
        "  C:\n    Type: AWS::SQS::Queue\n    Metadata:\n      conveyor:\n        suppress:\n"
        "          - {rule: CV091, reason: a reason for another rule}\n"
    )
    (hit,) = found(text, "CV090")
    assert hit.message == "2 taggable resources have no tags: B, C"


def test_cv090_exactly_twelve_are_listed_without_a_count() -> None:
    text = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n" for i in range(12))
    (hit,) = found(text, "CV090")
    assert hit.message.endswith("Q10, Q11")


# Parameter types, order and messages (mutation survivors).


def test_parameters_without_a_type_are_strings_and_later_parameters_are_still_read() -> None:
    text = (
        "Parameters:\n  First: {Type: Number, Default: 1}\n  Skipped: {Type: String}\n"
        "  ApiToken: {Default: abc}\n  Setting: {Default: ''}\n"
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        "    Properties: {DisplayName: !Sub '${Setting}${First}'}\n"
    )
    assert [f.resource for f in found(text, "CV045")] == ["ApiToken"]
    assert [f.resource for f in found(text, "CV063")] == ["Setting"]
    numbered = text.replace("ApiToken: {Default: abc}", "ApiToken: {Type: Number, Default: 1}")
    assert found(numbered, "CV045") == []


def test_cv090_non_taggable_types_are_not_listed() -> None:
    text = (
        "Resources:\n  P:\n    Type: AWS::IAM::Policy\n  Q:\n    Type: AWS::SQS::Queue\n"
        "  W:\n    Type: AWS::SQS::QueuePolicy\n  R:\n    Type: AWS::SNS::Topic\n"
    )
    assert [f.message for f in found(text, "CV090")] == ["2 taggable resources have no tags: Q, R"]


def test_cv090_suppressed_and_single_resources_keep_their_required_tag_message() -> None:
    text = (
        "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Metadata:\n      conveyor:\n"
        "        suppress:\n          - {rule: CV090, reason: tagged by the partner account}\n"
        "  B:\n    Type: AWS::SQS::Queue\n    Properties: {Tags: [{Key: App, Value: x}]}\n"
    )
    result = check_text(text, name="t.yaml", require_tags=["App", "Owner"])
    assert [(f.resource, f.message) for f in result.suppressed] == [
        ("A", "missing required tag(s): App, Owner")
    ]
    assert [(f.resource, f.message) for f in result.findings if f.rule == "CV090"] == [
        ("B", "missing required tag(s): Owner")
    ]
    plain = check_text(text, name="t.yaml")
    assert [(f.resource, f.message) for f in plain.suppressed] == [
        ("A", "AWS::SQS::Queue has no tags")
    ]


# CV058 and CV059 edges (mutation survivors).


@pytest.mark.parametrize(
    "principal",
    ["'*'", "{AWS: '*'}", "{AWS: ['*']}"],
)
def test_cv058_a_trust_policy_open_to_anyone_is_not_judged(principal: str) -> None:
    text = TRUST.replace("{Service: SERVICE}", principal).replace("ACTION", "sts:AssumeRole")
    assert found(text, "CV058") == []


def test_cv058_every_statement_and_regional_principals_are_read() -> None:
    text = (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument:\n        Statement:\n"
        "          - {Effect: Deny, Principal: {Service: codebuild.amazonaws.com}, Action: '*'}\n"
        "          - {Effect: Allow, Principal: {AWS: arn:aws:iam::111122223333:root}, "
        "Action: '*'}\n"
        "          - {Effect: Allow, Principal: {Service: states.eu-west-1.amazonaws.com}, "
        "Action: '*'}\n"
        "  Machine:\n    Type: AWS::StepFunctions::StateMachine\n"
        "    Properties: {RoleArn: !GetAtt Role.Arn}\n"
        "  Project:\n    Type: AWS::CodeBuild::Project\n    Properties: {ServiceRole: !Ref Role}\n"
    )
    assert [(f.resource, f.message) for f in found(text, "CV058")] == [
        (
            "Project",
            "role Role trusts states.amazonaws.com, not codebuild.amazonaws.com: the service "
            "cannot assume it",
        )
    ]
    unreadable = text.replace("        Statement:\n", "        Statement: !Ref Doc\n        X:\n")
    assert found(unreadable, "CV058") == []


def test_cv059_the_actions_own_role_is_the_one_judged_and_every_action_is_read() -> None:
    text = (
        "Resources:\n  PipelineRole:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: []}\n"
        "      Policies: [{PolicyName: p, PolicyDocument: {Statement: [{Effect: Allow, "
        "Action: '*', Resource: '*'}]}}]\n"
        "  ActionRole:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Statement: []}\n"
        "      Policies: [{PolicyName: p, PolicyDocument: {Statement: []}}]\n"
        "  Pipeline:\n    Type: AWS::CodePipeline::Pipeline\n    Properties:\n"
        "      RoleArn: !GetAtt PipelineRole.Arn\n      Stages:\n        - Name: Deploy\n"
        "          Actions:\n"
        "            - Name: Approve\n"
        "              ActionTypeId: {Category: Approval, Owner: AWS, Provider: Manual, "
        "Version: '1'}\n"
        "            - Name: Deploy\n              RoleArn: !GetAtt ActionRole.Arn\n"
        "              ActionTypeId: {Category: Deploy, Owner: AWS, Provider: CodeDeploy, "
        "Version: '1'}\n"
    )
    assert [f.message for f in found(text, "CV059")] == [
        "role ActionRole of CodeDeploy action 'Deploy' is not allowed "
        "codedeploy:CreateDeployment, codedeploy:GetDeployment; the action fails when the "
        "pipeline runs it"
    ]
    managed = text.replace(
        "      Policies: [{PolicyName: p, PolicyDocument: {Statement: []}}]\n  Pipeline",
        "      ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess']\n  Pipeline",
    )
    assert found(managed, "CV059") == []
    elsewhere = text.replace("RoleArn: !GetAtt ActionRole.Arn", "RoleArn: arn:aws:iam::1:role/x")
    assert found(elsewhere, "CV059") == []


def test_cv063_only_the_parameter_a_condition_tests_is_optional() -> None:
    template = """Parameters:
  Tested: {Type: String, Default: ''}
  Untested: {Type: String, Default: ''}
Conditions:
  HasTested: !Not [!Equals [!Ref Tested, '']]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {DisplayName: !Ref Tested, TopicName: !Ref Untested}
"""
    assert [f.resource for f in found(template, "CV063")] == ["Untested"]
    swapped = template.replace("[!Ref Tested,", "[!Ref Untested,")
    assert [f.resource for f in found(swapped, "CV063")] == ["Tested"]


# --- CV009: every named type, not only buckets ------------------------------------------------


def _named(kind: str, name: str, *, parameter: str | None) -> str:
    from conveyor.rules.governance.physical_names import ACCOUNT_NAMES, GLOBAL_NAMES

    prop = {**GLOBAL_NAMES, **ACCOUNT_NAMES}[kind]
    head = f"Parameters:\n  {parameter}: {{Type: String}}\n" if parameter else ""
    return f"{head}Resources:\n  Named:\n    Type: {kind}\n    Properties:\n      {prop}: {name}\n"


def _account_types() -> list[str]:
    from conveyor.rules.governance.physical_names import ACCOUNT_NAMES

    return sorted(ACCOUNT_NAMES)


@pytest.mark.parametrize("kind", _account_types())
def test_cv009_a_fixed_name_in_a_template_deployed_per_environment_is_found(kind: str) -> None:
    """The seed's failure: an ECR repository named alike in every copy ("already exists")."""
    (hit,) = found(_named(kind, "payments-thing", parameter="Environment"), "CV009")
    assert hit.resource == "Named"
    assert (
        "'payments-thing' is the same in every copy of this template, which takes Environment"
        in (hit.message)
    )
    assert "!Sub 'payments-thing-${Environment}'" in hit.message


@pytest.mark.parametrize("kind", _account_types())
def test_cv009_a_name_that_carries_the_environment_is_not_found(kind: str) -> None:
    text = _named(kind, '!Sub "payments-thing-${Stage}"', parameter="Stage")
    assert found(text, "CV009") == []


@pytest.mark.parametrize("kind", _account_types())
def test_cv009_a_per_account_name_in_a_template_made_once_per_account_is_not_found(
    kind: str,
) -> None:
    """Nothing in the template says it is copied: a naming convention (conveyor's own
    {app}-{type}-{env}) is not a mistake the template shows."""
    assert found(_named(kind, "payments-thing-prod", parameter=None), "CV009") == []
    assert found(_named(kind, "payments-thing", parameter="InstanceType"), "CV009") == []


def test_cv009_a_bucket_name_is_shared_by_every_account_so_any_literal_is_found() -> None:
    assert [h.resource for h in found(_named("AWS::S3::Bucket", "logs", parameter=None), "CV009")]
    assert (
        found(_named("AWS::S3::Bucket", '!Sub "logs-${AWS::AccountId}"', parameter=None), "CV009")
        == []
    )


ACCOUNT_REGION_NAMES = [
    '!Sub "payments-thing-${AWS::AccountId}-${AWS::Region}"',
    '!Sub "payments-thing-${AWS::Region}"',
    '!Join ["-", [payments, !Ref "AWS::AccountId", !Ref "AWS::Region"]]',
    '!Join ["", [!Sub "pay-${AWS::Partition}-", !Ref "AWS::AccountId"]]',
]


@pytest.mark.parametrize("name", ACCOUNT_REGION_NAMES)
@pytest.mark.parametrize("kind", ["AWS::S3::Bucket", "AWS::ECR::Repository", "AWS::IAM::Role"])
def test_cv009_a_name_varying_only_by_account_and_region_clashes_between_environments(
    kind: str, name: str
) -> None:
    """Issue 16 review: two environments in one account and region still clash."""
    (hit,) = found(_named(kind, name, parameter="Environment"), "CV009")
    assert hit.path == f"Resources.Named.Properties.{_name_property(kind)}"
    assert "varies only by account and region, and this template takes Environment" in (hit.message)
    assert "-${Environment}'" in hit.message


@pytest.mark.parametrize("kind", ["AWS::S3::Bucket", "AWS::ECR::Repository"])
def test_cv009_an_account_region_name_with_the_environment_or_made_once_is_not_found(
    kind: str,
) -> None:
    with_env = '!Sub "payments-${Environment}-${AWS::AccountId}-${AWS::Region}"'
    assert found(_named(kind, with_env, parameter="Environment"), "CV009") == []
    joined = '!Join ["-", [payments, !Ref Environment, !Ref "AWS::Region"]]'
    assert found(_named(kind, joined, parameter="Environment"), "CV009") == []
    stack = '!Sub "${AWS::StackName}-${AWS::Region}"'
    assert found(_named(kind, stack, parameter="Environment"), "CV009") == []
    # Once per account and region (no environment parameter): a deliberate convention.
    assert found(_named(kind, ACCOUNT_REGION_NAMES[0], parameter=None), "CV009") == []


def _name_property(kind: str) -> str:
    from conveyor.rules.governance.physical_names import ACCOUNT_NAMES, GLOBAL_NAMES

    return {**GLOBAL_NAMES, **ACCOUNT_NAMES}[kind]


@pytest.mark.parametrize(
    "parameter",
    [
        "Env",
        "Environment",
        "EnvironmentName",
        "Stage",
        "StageName",
        "EnvironmentSuffix",
        "DeploymentStage",
        "envType",
    ],
)
def test_cv009_environment_parameters_by_their_usual_names(parameter: str) -> None:
    text = _named("AWS::ECR::Repository", "payment-processor-repo", parameter=parameter)
    assert len(found(text, "CV009")) == 1


@needs_corpus
def test_cv009_on_real_templates() -> None:
    # True: the sample takes EnvName, and every environment's copy names its role lambda-role.
    (hit,) = corpus(
        "aws-cloudformation__aws-cloudformation-templates/Lambda__LambdaSample.yaml", "CV009"
    )
    assert (hit.resource, hit.line) == ("LambdaRole", 22)
    # Not found: the role and parameter names are built from the Env parameter.
    assert (
        corpus(
            "aws-cloudformation__aws-cloudformation-templates/NeptuneDB__Neptune.yaml",
            "CV009",
        )
        == []
    )


# --- CV090: CDK's custom-resource providers are taggable ----------------------------------------

PROVIDER = (
    "Resources:\n"
    "  CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092:\n"
    "    Type: AWS::IAM::Role\n"
    "    Properties: {TAGS}\n"
    "  CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F:\n"
    "    Type: AWS::Lambda::Function\n"
    "    Properties: {TAGS}\n"
    "  BucketAutoDeleteObjectsCustomResource:\n"
    "    Type: Custom::S3AutoDeleteObjects\n"
    "    Properties: {ServiceToken: !GetAtt "
    "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F.Arn}\n"
)
TAGGED = "{Tags: [{Key: App, Value: web}, {Key: Owner, Value: team}]}"


def test_cv090_cdk_core_provider_role_and_function_are_checked_and_told_how_to_tag() -> None:
    """CDK core's provider (what `auto_delete_objects=True` adds) is a raw CfnResource that
    Tags.of() skips (aws/aws-cdk#13851), but both types take Tags: an aspect reaches them."""
    (hit,) = found(PROVIDER.replace("{TAGS}", "{}"), "CV090", require_tags=["App", "Owner"])
    assert hit.message.startswith("2 taggable resources miss required tags: ")
    assert hit.message.endswith(
        "; CDK's custom-resource provider role and function are not reached by Tags.of(): tag "
        "them with an aspect that sets their Tags property (add_property_override)"
    )


def test_cv090_a_provider_tagged_by_an_aspect_passes_and_the_custom_resource_takes_no_tags() -> (
    None
):
    """What conveyor's TagUnmanagedResources aspect writes; Custom:: resources have no Tags."""
    assert found(PROVIDER.replace("{TAGS}", TAGGED), "CV090", require_tags=["App", "Owner"]) == []


def test_cv090_an_ordinary_untagged_role_gets_no_provider_hint() -> None:
    (hit,) = found("Resources:\n  Role:\n    Type: AWS::IAM::Role\n", "CV090")
    assert hit.message == "AWS::IAM::Role has no tags"


def test_cv090_provider_framework_functions_are_ordinary_functions() -> None:
    """custom_resources.Provider's onEvent function is an L2 lambda.Function: Tags.of() reaches
    it, so an untagged one is plainly untagged."""
    text = (
        "Resources:\n  ProviderframeworkonEvent83C1D0A7:\n    Type: AWS::Lambda::Function\n"
        "    Properties: {Handler: framework.onEvent, Runtime: nodejs22.x}\n"
    )
    (hit,) = found(text, "CV090")
    assert hit.message == "AWS::Lambda::Function has no tags"


# --- CV016: CodeBuild output without a customer key ----------------------------------------------


def test_cv016_a_project_without_a_key_or_with_aws_s3_is_found_with_the_reason() -> None:
    text = (FIXTURES / "CV016" / "bad.yaml").read_text()
    hits = {f.resource: f.message for f in found(text, "CV016")}
    assert hits == {
        "Build": "build project has no EncryptionKey: its output artifacts are encrypted with "
        "the AWS managed aws/s3 key, whose policy no other account can be granted",
        "Managed": "EncryptionKey 'alias/aws/s3' is the AWS managed aws/s3 key: use a customer "
        "KMS key",
    }
    assert BY_ID["CV016"].severity is Severity.LOW  # advice on key control, not a breakage


@needs_corpus
def test_cv016_on_real_templates() -> None:
    # True: AWS's CodeBuild and CodePipeline sample names no EncryptionKey on either project.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/"
        "Solutions__CodeBuildAndCodePipeline__cloudformation-codebuild-template.yaml",
        "CV016",
    )
    assert [(h.resource, h.line) for h in hits] == [("AppBuild", 89), ("AppDeploy", 109)]


# --- CV059: every action type's calls (issue 16 review) ------------------------------------
# https://docs.aws.amazon.com/codepipeline/latest/userguide/security-iam.html#how-to-custom-role

ACTION_ROLE = """Resources:
  Bucket:
    Type: AWS::S3::Bucket
  PipelineRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Statement: []}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement: [{Effect: Allow, Action: [ALLOWED], Resource: '*'}]
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt PipelineRole.Arn
      Stages:
        - Name: S
          Actions:
            - Name: A
              ActionTypeId: {Category: CATEGORY, Owner: AWS, Provider: PROVIDER, Version: "1"}
              Configuration: CONFIGURATION
"""
CFN_ALL = (
    "cloudformation:CreateStack, cloudformation:UpdateStack, cloudformation:DescribeStacks, "
    "cloudformation:CreateChangeSet, cloudformation:DescribeChangeSet, "
    "cloudformation:DeleteChangeSet, cloudformation:ExecuteChangeSet, "
    "cloudformation:DeleteStack, iam:PassRole"
)
ACTION_CASES = [
    (
        "Deploy",
        "CloudFormation",
        "{ActionMode: CREATE_UPDATE, StackName: s, RoleArn: 'arn:aws:iam::1:role/cfn'}",
        "cloudformation:CreateStack, cloudformation:UpdateStack, "
        "cloudformation:DescribeStacks, iam:PassRole",
    ),
    (
        "Deploy",
        "CloudFormation",
        "{ActionMode: CHANGE_SET_EXECUTE, StackName: s, ChangeSetName: c}",
        "cloudformation:ExecuteChangeSet, cloudformation:DescribeChangeSet, "
        "cloudformation:DescribeStacks",
    ),
    (
        "Source",
        "S3",
        "{S3Bucket: !Ref Bucket, S3ObjectKey: src.zip}",
        "s3:GetObject, s3:GetObjectVersion, s3:GetBucketVersioning",
    ),
    ("Deploy", "S3", "{BucketName: !Ref Bucket, Extract: 'true', CannedACL: private}", ""),
    ("Source", "ECR", "{RepositoryName: app}", "ecr:DescribeImages"),
    (
        "Invoke",
        "StepFunctions",
        "{StateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:m'}",
        "states:StartExecution, states:DescribeExecution",
    ),
    ("Approval", "Manual", "{NotificationArn: 'arn:aws:sns:eu-west-1:1:t'}", "sns:Publish"),
]


def _action_role(category: str, provider: str, configuration: str, allowed: str) -> str:
    return (
        ACTION_ROLE.replace("ALLOWED", allowed)
        .replace("CATEGORY", category)
        .replace("PROVIDER", provider)
        .replace("CONFIGURATION", configuration)
    )


@pytest.mark.parametrize(("category", "provider", "configuration", "needed"), ACTION_CASES)
def test_cv059_each_action_type_needs_its_documented_calls(
    category: str, provider: str, configuration: str, needed: str
) -> None:
    needed = needed or "s3:PutObject, s3:PutObjectAcl"
    (hit,) = found(_action_role(category, provider, configuration, "logs:PutLogEvents"), "CV059")
    assert hit.path == "Resources.Pipeline.Properties.Stages.0.Actions.0"
    assert hit.message == (
        f"role PipelineRole of {provider} action 'A' is not allowed {needed}; the action fails "
        "when the pipeline runs it"
    )


@pytest.mark.parametrize(("category", "provider", "configuration", "needed"), ACTION_CASES)
def test_cv059_each_action_type_allowed_its_calls_is_not_found(
    category: str, provider: str, configuration: str, needed: str
) -> None:
    allowed = needed or "s3:PutObject, s3:PutObjectAcl"
    assert found(_action_role(category, provider, configuration, allowed), "CV059") == []
    if provider == "CloudFormation":
        assert found(_action_role(category, provider, configuration, CFN_ALL), "CV059") == []


def test_cv059_s3_actions_judged_only_on_the_templates_buckets_whose_policy_may_grant() -> None:
    outside = _action_role("Source", "S3", "{S3Bucket: other-bucket, S3ObjectKey: k}", "sns:Get*")
    assert found(outside, "CV059") == []
    granted = _action_role(
        "Source", "S3", "{S3Bucket: !Ref Bucket, S3ObjectKey: k}", "sns:Get*"
    ) + (
        "  BucketPolicy:\n"
        "    Type: AWS::S3::BucketPolicy\n"
        "    Properties:\n"
        "      Bucket: !Ref Bucket\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {AWS: !GetAtt PipelineRole.Arn}\n"
        "            Action: [s3:GetObject, s3:GetObjectVersion, s3:GetBucketVersioning]\n"
        "            Resource: '*'\n"
    )
    assert found(granted, "CV059") == []


def test_cv059_a_manual_approval_without_notification_needs_nothing() -> None:
    text = _action_role("Approval", "Manual", "{CustomData: look}", "logs:PutLogEvents")
    assert found(text, "CV059") == []


@needs_corpus
@pytest.mark.parametrize(
    "relative",
    [
        # A CloudFormation CREATE_UPDATE deploy whose pipeline role grants cloudformation:*
        # and iam:PassRole.
        "aws-samples__ecs-blue-green-deployment/templates__deployment-pipeline.yaml",
        # A Manual approval with a NotificationArn, its role allowed sns:Publish.
        "aws-quickstart__quickstart-codepipeline-bluegreen-deployment/"
        "templates__codepipeline-stack.template",
    ],
)
def test_cv059_real_pipeline_roles_that_grant_their_actions(relative: str) -> None:
    assert corpus(relative, "CV059") == []


# --- Corpus cases for CV001, CV003, CV035 and CV083 (issue 16 review) -----------------------
# One true finding and one template the rule rightly leaves alone, each from the public corpus.


@needs_corpus
def test_cv001_real_bucket_without_the_block_and_one_with_it() -> None:
    # F5's bigip-standalone module creates S3Bucket with no PublicAccessBlockConfiguration.
    (hit,) = corpus(
        "F5Networks__f5-aws-cloudformation-v2/examples__modules__bigip-standalone__"
        "bigip-standalone.yaml",
        "CV001",
    )
    assert hit.resource == "S3Bucket"
    # AWS's hook-deployment bucket blocks all four kinds of public access.
    assert (
        corpus(
            "aws-cloudformation__aws-cloudformation-samples/hooks__java-hooks__ec2-instance-types__"
            "examples__hook-deployment-bucket.yaml",
            "CV001",
        )
        == []
    )


@needs_corpus
def test_cv003_real_artifact_buckets_with_and_without_a_customer_key() -> None:
    # AWS's ECS blue/green sample keeps pipeline artifacts in a bucket without a customer key.
    (hit,) = corpus(
        "aws-samples__ecs-blue-green-deployment/templates__deployment-pipeline.yaml", "CV003"
    )
    assert hit.resource == "ArtifactBucket"
    # ADF's deployment account pipeline: KMS-encrypted artifact bucket and ArtifactStore key.
    assert (
        corpus(
            "awslabs__aws-deployment-framework/src__lambda_codebase__initial_commit__"
            "bootstrap_repository__adf-bootstrap__deployment__global.yml",
            "CV003",
        )
        == []
    )


@needs_corpus
def test_cv035_real_functions_with_and_without_their_log_group() -> None:
    # AWS's hook contract-test prerequisites: four functions, no log group for any.
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-samples/hooks__python-hooks__"
        "lambda-function-invoker__contract-tests-prerequisites__lambda-functions.template",
        "CV035",
    )
    assert {f.resource for f in hits} >= {"LambdaFunction1", "LambdaFunction2"}
    # widdix's anonymizer creates LogGroup /aws/lambda/${Function} with its retention.
    assert (
        corpus("widdix__aws-cf-templates/operations__alb-access-logs-anonymizer.yaml", "CV035")
        == []
    )


@needs_corpus
def test_cv083_real_pipelines_with_and_without_failure_watching() -> None:
    # rain's forecast pipeline module: no alarm, no failure routing.
    (hit,) = corpus(
        "aws-cloudformation__rain/test__templates__forecast__modules__pipeline.yaml", "CV083"
    )
    assert hit.resource == "Pipeline"
    # ADF's deployment pipeline routes FAILED executions through EventBridge (an equivalent
    # design): not reported.
    assert (
        corpus(
            "awslabs__aws-deployment-framework/src__lambda_codebase__initial_commit__"
            "bootstrap_repository__adf-bootstrap__deployment__global.yml",
            "CV083",
        )
        == []
    )
