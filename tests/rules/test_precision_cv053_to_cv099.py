"""Precision on real templates (issue 16), rules CV053 to CV099: for each rule a finding judged
true on a real public template (``../shared/corpus/public``, skipped when absent) that must still
be found, and where a false finding was seen, the real template it was seen on, which must no
longer be reported. Fixes that a small template shows get a hand-written case too."""

from __future__ import annotations

import pytest
from tests.rules.test_precision_rules import CORPUS, corpus, found, needs_corpus

from conveyor.rules import check_text

ADF_GLOBAL = (
    "awslabs__aws-deployment-framework/src__lambda_codebase__initial_commit__"
    "bootstrap_repository__adf-bootstrap__deployment__global.yml"
)
LAMBDA_PIPELINE = (
    "stelligent__cloudformation_templates/labs__codepipeline__codepipeline-lambda.json"
)


def _resources(relative: str, rule: str) -> list[str]:
    return [f.resource for f in corpus(relative, rule)]


# --- CV053: a bucket policy admitting the organization admits the pipeline role -------------------

ARTIFACTS = """Resources:
  Bucket:
    Type: AWS::S3::Bucket
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{AWS: '*'}}
            Action: s3:GetObject
            Resource: !Sub ${{Bucket.Arn}}/*
            Condition: {{StringEquals: {{{condition}: o-abc123}}}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {{Effect: Allow, Principal: {{Service: codepipeline.amazonaws.com}},
             Action: sts:AssumeRole}}
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {{Effect: Allow, Action: s3:PutObject, Resource: !Sub '${{Bucket.Arn}}/*'}}
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: !GetAtt Role.Arn
      ArtifactStore: {{Type: S3, Location: !Ref Bucket}}
      Stages: []
"""


def test_cv053_a_bucket_policy_admitting_the_organization_grants_the_role() -> None:
    assert found(ARTIFACTS.format(condition="aws:PrincipalOrgID"), "CV053") == []


def test_cv053_a_star_principal_narrowed_to_other_principals_grants_nothing() -> None:
    (hit,) = found(ARTIFACTS.format(condition="aws:PrincipalArn"), "CV053")
    assert "not allowed s3:GetObject" in hit.message


@needs_corpus
def test_cv053_real_adf_artifact_bucket_admitting_its_organization() -> None:
    # ADF's bootstrap global.yml: the pipeline role may s3:PutObject but not s3:GetObject; the
    # bucket policy allows s3:GetObject to every principal of the organization (judged false).
    assert _resources(ADF_GLOBAL, "CV053") == []
    # The same template with that statement narrowed to another role is reported again.
    text = (CORPUS / ADF_GLOBAL).read_text(encoding="utf-8")
    statement = (
        '- "s3:GetObject"\n            Effect: Allow\n            Condition:\n'
        "              StringEquals:\n                aws:PrincipalOrgID: !Ref OrganizationId"
    )
    assert text.count(statement) == 1
    narrowed = text.replace(
        statement,
        statement.replace("StringEquals", "ArnLike").replace(
            "aws:PrincipalOrgID: !Ref OrganizationId",
            "aws:PrincipalArn: 'arn:aws:iam::*:role/adf-codecommit-role'",
        ),
    )
    result = check_text(narrowed, name="global.yml")
    assert [
        (f.resource, f.message.split(" on ")[0]) for f in result.findings if f.rule == "CV053"
    ] == [
        (
            "CodePipeline",
            "pipeline role PipelineManagementCodePipelineRole is not allowed s3:GetObject",
        )
    ]


# --- CV055: AWSCodeCommitFullAccess is a current managed policy -----------------------------------

MANAGED = """Resources:
  Group:
    Type: AWS::IAM::Group
    Properties:
      ManagedPolicyArns:
        - !Sub arn:${{AWS::Partition}}:iam::aws:policy/{policy}
"""


def test_cv055_codecommit_full_access_exists() -> None:
    assert found(MANAGED.format(policy="AWSCodeCommitFullAccess"), "CV055") == []


def test_cv055_a_deprecated_policy_is_still_found() -> None:
    (hit,) = found(MANAGED.format(policy="AWSCodePipelineFullAccess"), "CV055")
    assert "AWSCodePipeline_FullAccess" in hit.message + hit.fix


@needs_corpus
def test_cv055_real_adf_developer_group() -> None:
    # ADF samples/sample-iam: a developers group with AWSCodeCommitFullAccess (judged false).
    assert (
        _resources("awslabs__aws-deployment-framework/samples__sample-iam__template.yml", "CV055")
        == []
    )


# --- CV057: a SAM function's DeploymentPreference alarms are the deployment group's ---------------

SAM_ALARM = """Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: {function_type}
    Properties:
      Runtime: python3.13
      Handler: app.handler
      {alarm_property}
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{{Name: Resource, Value: !Sub '${{Fn}}:live'}}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
"""


def test_cv057_sam_deployment_preference_alarm_on_the_function_is_no_cycle() -> None:
    text = SAM_ALARM.format(
        function_type="AWS::Serverless::Function",
        alarm_property="AutoPublishAlias: live\n      DeploymentPreference: "
        "{Type: Canary10Percent5Minutes, Alarms: [!Ref ErrorsAlarm]}",
    )
    assert found(text, "CV057") == []


def test_cv057_a_function_property_naming_the_alarm_is_still_a_cycle() -> None:
    text = SAM_ALARM.format(
        function_type="AWS::Serverless::Function",
        alarm_property="Environment: {Variables: {ALARM: !Ref ErrorsAlarm}}",
    )
    assert [f.resource for f in found(text, "CV057")] == ["ErrorsAlarm"]


@needs_corpus
def test_cv057_real_sam_template_with_deployment_alarms() -> None:
    # cfn-lint's issues/sam_w_conditions.yaml: DeploymentPreference.Alarms names an alarm on the
    # function's alias, the pattern SAM documents (2 findings, judged false).
    assert (
        _resources(
            "aws-cloudformation__cfn-lint/test__fixtures__templates__issues__sam_w_conditions.yaml",
            "CV057",
        )
        == []
    )


# --- CV060 / CV062: deprecated GitHub v1 source, created CodeCommit repositories ------------------


@needs_corpus
def test_cv060_real_github_oauth_source() -> None:
    # stelligent labs/codepipeline/simple.yml: a ThirdParty GitHub version 1 source (true).
    assert _resources(
        "stelligent__cloudformation_templates/labs__codepipeline__simple.yml", "CV060"
    ) == ["Pipeline"]


@needs_corpus
def test_cv062_real_codecommit_repository() -> None:
    # AWS's CodeBuildAndCodePipeline solution creates its repository (true).
    hits = _resources(
        "aws-cloudformation__aws-cloudformation-templates/"
        "Solutions__CodeBuildAndCodePipeline__cloudformation-codebuild-template.yaml",
        "CV062",
    )
    assert hits == ["CodeCommitRepo"]


# --- CV070: pipeline variables are explicit links -------------------------------------------------

ECS_DEPLOY = """Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::111122223333:role/p
      ArtifactStore: {{Type: S3, Location: bucket}}
      Stages:
        - Name: Deploy
          Actions:
            - Name: BlueGreen
              ActionTypeId:
                {{Category: Deploy, Owner: AWS, Provider: CodeDeployToECS, Version: '1'}}
              Configuration:
                ApplicationName: '{application}'
                DeploymentGroupName: '#{{Infra.GroupName}}'
"""


def test_cv070_pipeline_variables_are_resolved_at_run_time() -> None:
    assert found(ECS_DEPLOY.format(application="#{Infra.AppName}"), "CV070") == []


def test_cv070_a_literal_name_defined_nowhere_is_still_found() -> None:
    (hit,) = found(ECS_DEPLOY.format(application="my-app"), "CV070")
    assert "ApplicationName 'my-app'" in hit.message


def test_cv070_a_target_named_by_an_intrinsic_may_be_the_one_named() -> None:
    # A group whose name is a Ref made the rule build a set of dicts: an internal error.
    group = (
        "  App:\n    Type: AWS::CodeDeploy::Application\n"
        "    Properties: {{ApplicationName: {name}}}\n"
    )
    text = ECS_DEPLOY.format(application="my-app")
    assert found(text + group.format(name="'!Ref'").replace("'!Ref'", "{Ref: Name}"), "CV070") == []
    assert found(text + group.format(name="other-app"), "CV070") != []
    assert found(text + group.format(name="my-app"), "CV070") == []


@needs_corpus
def test_cv070_real_pipeline_naming_targets_by_variables() -> None:
    # ecs-blue-green-deployment-with-codedeploy's pipeline names the CodeDeploy application and
    # group by #{DeployInfraVariables...}, outputs of the action deploying them (2, judged false).
    assert (
        _resources(
            "aws-samples__ecs-blue-green-deployment-with-codedeploy/iac__pipeline__code-pipeline.yaml",
            "CV070",
        )
        == []
    )


# --- CV071: the deployment group of a sibling nested stack is not visible -------------------------


@needs_corpus
def test_cv071_real_service_whose_group_is_in_a_sibling_stack_is_reported() -> None:
    # The same sample's ecs-service.yaml: CODE_DEPLOY service; the group is in the sibling nested
    # stack codedeploy-deployment-group.yaml (accepted: one template cannot show it; suppress).
    assert _resources(
        "aws-samples__ecs-blue-green-deployment-with-codedeploy/iac__app__templates__ecs-service.yaml",
        "CV071",
    ) == ["rEcsFargateService"]


# --- CV073 / CV075: rollback and stability --------------------------------------------------------


@needs_corpus
def test_cv073_real_deployment_groups() -> None:
    # stelligent codedeploy-deployment.json: neither rollback (true); ADF's EC2 sample rolls back
    # on failure but has no alarms (true, low risk).
    messages = [
        f.message.split(" (")[0]
        for f in corpus(
            "stelligent__cloudformation_templates/labs__codedeploy__codedeploy-deployment.json",
            "CV073",
        )
    ]
    assert messages == [
        "deployment group does not roll back automatically when a deployment fails",
        "deployment group does not roll back on alarms",
    ]
    adf = corpus(
        "awslabs__aws-deployment-framework/samples__sample-ec2-with-codedeploy__template.yml",
        "CV073",
    )
    assert [f.message.split(" (")[0] for f in adf] == [
        "deployment group does not roll back on alarms"
    ]


@needs_corpus
def test_cv075_real_fargate_service() -> None:
    # AWS's Fargate public-service.yaml: no circuit breaker (true), no grace period (true, low
    # risk for a fast-starting container).
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/ECS__FargateLaunchType__services__public-service.yaml",
        "CV075",
    )
    assert sorted(f.message.split(":")[0].split(";")[0] for f in hits) == [
        "no deployment circuit breaker with rollback",
        "service behind a load balancer has no HealthCheckGracePeriodSeconds",
    ]


# --- CV076: deprecated runtimes and SDK v2 on Node.js 18+ -----------------------------------------


@needs_corpus
def test_cv076_real_sdk_v2_on_nodejs20_and_a_deprecated_runtime() -> None:
    # AWS's Config/Config.yaml: inline require('aws-sdk') on nodejs20.x (true: fails at run time).
    # nodejs20.x itself is deprecated since 2026-04-30: both findings (by path: Code, Runtime).
    sdk, runtime = corpus(
        "aws-cloudformation__aws-cloudformation-templates/Config__Config.yaml", "CV076"
    )
    assert runtime.resource == sdk.resource == "VolumeAutoEnableIOComplianceCheck"
    assert runtime.message.startswith("runtime nodejs20.x is deprecated")
    assert "AWS SDK v2" in sdk.message
    (old,) = corpus("aws-cloudformation__rain/test__templates__fmtziplines.yaml", "CV076")
    assert old.message.startswith("runtime python3.7 is deprecated")


# --- CV080 / CV081 / CV094: notifications ---------------------------------------------------------


@needs_corpus
def test_cv080_real_pipeline_whose_only_rule_is_its_trigger() -> None:
    # AWS's CodeBuildAndCodePipeline pipeline: its EventBridge rule starts the pipeline on commits,
    # nothing routes failures (true).
    assert _resources(
        "aws-cloudformation__aws-cloudformation-templates/"
        "Solutions__CodeBuildAndCodePipeline__cloudformation-codepipeline-template.yaml",
        "CV080",
    ) == ["Pipeline"]
    # ADF's bootstrap pipeline routes FAILED executions to a topic: not reported.
    assert _resources(ADF_GLOBAL, "CV080") == []


@needs_corpus
def test_cv081_real_alarm_topic_without_subscribers() -> None:
    # cloudformation-languageserver's comprehensive.yaml: alarms notify a topic nobody is
    # subscribed to (true); ADF's pipeline topic subscribes its endpoint inline (not reported).
    assert _resources(
        "aws-cloudformation__cloudformation-languageserver/tst__resources__templates__comprehensive.yaml",
        "CV081",
    ) == ["SNSTopic"]
    assert _resources(ADF_GLOBAL, "CV081") == []


@needs_corpus
def test_cv094_real_topics_events_cannot_publish_to() -> None:
    # ADF's pipeline topic is encrypted with alias/aws/sns, which EventBridge cannot use (true);
    # stelligent's notification lab has no topic policy admitting events.amazonaws.com (true).
    (adf,) = corpus(ADF_GLOBAL, "CV094")
    assert (adf.resource, "alias/aws/sns" in adf.message) == ("PipelineSNSTopic", True)
    (lab,) = corpus(
        "stelligent__cloudformation_templates/labs__codepipeline__codepipeline-notifications.yml",
        "CV094",
    )
    assert lab.resource == "MySNSTopic"


# --- CV084 / CV085 / CV086: history, scans, approvals ---------------------------------------------


@needs_corpus
def test_cv084_real_pipeline_without_deployment_history() -> None:
    # Advice (info): stelligent's CodeBuild lab deploys with CodeDeploy and records nothing.
    assert _resources(
        "stelligent__cloudformation_templates/labs__codebuild__codebuild.yml", "CV084"
    ) == ["CodePipelineStack"]


@needs_corpus
def test_cv085_real_action_named_by_an_intrinsic_reads_as_a_reference() -> None:
    # The deploy action's Name is a nested stack's output: the message showed a Python dict.
    (hit,) = corpus(LAMBDA_PIPELINE, "CV085")
    assert "deploy action '${CodeDeploySimpleStack.Outputs.MyDeploymentGroup}'" in hit.message


@needs_corpus
def test_cv086_real_production_stage_without_approval() -> None:
    # Beta deploy, a Lambda test, then the Production stage's deploy with no approval (true).
    (hit,) = corpus(LAMBDA_PIPELINE, "CV086")
    assert "'Deploy-Second-Deployment'" in hit.message


# --- CV089: rain directives -----------------------------------------------------------------------


@needs_corpus
def test_cv089_real_rain_constants_are_named_and_the_rest_checked() -> None:
    relative = "aws-cloudformation__rain/test__templates__constants.yaml"
    assert _resources(relative, "CV089") == ["Bucket", "Bucket2"]
    assert {f.rule for f in corpus(relative, "CV090")} == {"CV090"}


# --- CV091: SSM parameter paths are keys, not names -----------------------------------------------

NAMES = """Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties: {{Name: '{param}', Type: String, Value: x}}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: app-queue-prod}}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {{TopicName: app-topic-prod}}
"""


def test_cv091_an_ssm_parameter_path_is_not_judged_as_a_name() -> None:
    assert found(NAMES.format(param="/app/kms_arn"), "CV091") == []


def test_cv091_a_snake_case_name_among_kebab_case_is_still_found() -> None:
    assert [f.resource for f in found(NAMES.format(param="app_kms_arn"), "CV091")] == ["Param"]


@needs_corpus
def test_cv091_real_templates() -> None:
    # ADF's /adf/... parameter keys (5, judged false) are no longer reported; troposphere's
    # snake_case rule name among kebab-case names still is (true, advice).
    assert _resources("awslabs__aws-deployment-framework/src__template.yml", "CV091") == []
    assert _resources(
        "cloudtools__troposphere/tests__examples_output__BatchEventSnsLambda.template", "CV091"
    ) == ["LambdaCronFailNotify"]


# --- CV092: outputs -------------------------------------------------------------------------------


@needs_corpus
def test_cv092_real_pipeline_repository_without_output() -> None:
    # Advice (info): ecs-blue-green-deployment's pipeline template keeps its ECR URI to itself.
    assert _resources(
        "aws-samples__ecs-blue-green-deployment/templates__deployment-pipeline.yaml", "CV092"
    ) == ["Repository"]


# --- CV095: names new on every create are not fixed -----------------------------------------------

RETAINED = """Parameters:
  Env: {{Type: String}}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    Properties:
      LogGroupName: {name}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      Role: arn:aws:iam::111122223333:role/r
      Code: {{ZipFile: x}}
"""


@pytest.mark.parametrize(
    "name",
    [
        "!Join ['-', [logs, !Select [2, !Split ['/', !Ref 'AWS::StackId']]]]",
        "!Sub '/aws/lambda/${Fn}'",
    ],
)
def test_cv095_a_name_new_on_every_create_is_not_fixed(name: str) -> None:
    assert found(RETAINED.format(name=name), "CV095") == []


@pytest.mark.parametrize(
    "name", ["!Sub '${AWS::StackName}-logs'", "!Sub 'logs-${Env}'", "app-logs"]
)
def test_cv095_a_name_the_same_on_the_retry_is_still_found(name: str) -> None:
    assert [f.resource for f in found(RETAINED.format(name=name), "CV095")] == ["Logs"]


@needs_corpus
def test_cv095_real_templates() -> None:
    # AWS Solutions Constructs name retained log groups after the stack id (judged false).
    assert (
        _resources(
            "awslabs__aws-solutions-constructs/source__use_cases__aws-restaurant-management-demo__"
            "test__integ.basic-deployment.js.snapshot__ManagerStack.template.json",
            "CV095",
        )
        == []
    )
    # AWS's AD Connector solution: the seamless-join secret is named after the directory its
    # custom resource creates (judged false); the log group named by a parameter and the secret
    # named by the domain stay (true).
    assert _resources(
        "aws-cloudformation__aws-cloudformation-templates/Solutions__ADConnector__templates__ADCONNECTOR.cfn.yaml",
        "CV095",
    ) == ["ADConnectorLambdaLogsLogGroup", "ADConnectorServiceAccountSecret"]


# --- CV098: anonymous Docker Hub pulls ------------------------------------------------------------


@needs_corpus
def test_cv098_real_docker_hub_images() -> None:
    # AWS's ECS_Schedule_Example.yaml pulls httpd:2.4 and busybox anonymously (true).
    hits = corpus(
        "aws-cloudformation__aws-cloudformation-templates/ECS__ECS_Schedule_Example.yaml", "CV098"
    )
    assert [f.message.split(" from ")[0] for f in hits] == [
        "container simple-app pulls httpd:2.4",
        "container busybox pulls busybox",
    ]


# --- CV099: scheduled rules carry nothing to keep -------------------------------------------------

EVENT_RULE = """Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      Role: arn:aws:iam::111122223333:role/r
      Code: {{ZipFile: x}}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      {trigger}
      Targets: [{{Id: fn, Arn: !GetAtt Fn.Arn}}]
"""


def test_cv099_a_scheduled_rule_is_not_asked_to_keep_its_events() -> None:
    assert found(EVENT_RULE.format(trigger="ScheduleExpression: rate(1 hour)"), "CV099") == []


def test_cv099_an_event_pattern_rule_is_still_asked() -> None:
    text = EVENT_RULE.format(trigger="EventPattern: {source: [aws.codepipeline]}")
    assert [f.resource for f in found(text, "CV099")] == ["Rule"]


@needs_corpus
def test_cv099_real_waf_automations() -> None:
    # AWS WAF Security Automations: four scheduled parsers (judged low-risk, no longer reported)
    # and one rule on CloudTrail API calls, whose lost events lose IP retention records (true).
    assert _resources(
        "aws-solutions__aws-waf-security-automations/deployment__aws-waf-security-automations.template",
        "CV099",
    ) == ["SetIPRetentionEventsRule"]
    assert (
        _resources(
            "aws-cloudformation__cfn-lint/test__fixtures__templates__public__lambda-poller.yaml",
            "CV099",
        )
        == []
    )


# --- CV076: runtimes deprecated by date -----------------------------------------------------------


def test_cv076_a_dated_runtime_is_deprecated_from_its_date_on() -> None:
    from datetime import date

    from conveyor.rules.deploy.lambda_runtime import is_deprecated

    assert not is_deprecated("python3.10", on=date(2026, 10, 30))
    assert is_deprecated("python3.10", on=date(2026, 10, 31))
    assert is_deprecated("nodejs18.x", on=date(2020, 1, 1))  # long past: no date kept
    assert not is_deprecated("nodejs24.x", on=date(2028, 4, 29))
    assert is_deprecated("nodejs24.x", on=date(2028, 4, 30))
    assert not is_deprecated("python3.99", on=date(2099, 1, 1))  # unknown: not guessed


def _function(runtime: str) -> str:
    return (
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        f"      Runtime: {runtime}\n      Handler: index.handler\n"
    )


def test_cv076_judges_by_the_runs_date_not_the_machines() -> None:
    """The date is the run's (check_text/check_paths `today`): the same template is fine the
    day before nodejs22.x's deprecation and reported on the day, whatever the clock says."""
    from datetime import date

    assert found(_function("nodejs22.x"), "CV076", today=date(2027, 4, 29)) == []
    (hit,) = found(_function("nodejs22.x"), "CV076", today=date(2027, 4, 30))
    assert hit.message == (
        "runtime nodejs22.x is deprecated; move to a supported runtime (nodejs24.x, python3.14)"
    )


def test_cv076_takes_the_date_from_conveyor_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_TODAY", "2027-04-30")
    assert [h.rule for h in found(_function("nodejs22.x"), "CV076")] == ["CV076"]
    monkeypatch.setenv("CONVEYOR_TODAY", "2027-04-29")
    assert found(_function("nodejs22.x"), "CV076") == []


def test_cv076_past_deprecations_are_reported_with_a_current_successor() -> None:
    for runtime in ("nodejs20.x", "python3.10", "provided.al2", "dotnet8"):
        text = (
            "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            f"      Runtime: {runtime}\n      Handler: index.handler\n"
        )
        (hit,) = found(text, "CV076")
        assert hit.message == (
            f"runtime {runtime} is deprecated; move to a supported runtime (nodejs24.x, python3.14)"
        )


def test_cv076_dates_agree_with_cfn_lints_lambda_lifecycle_table() -> None:
    """Our dates are the "Deprecation date" column as cfn-lint (a dev dependency, kept current
    from the same AWS page) records it; a date moved by AWS shows up here."""
    import json
    from importlib.resources import files

    from conveyor.rules.deploy.lambda_runtime import DEPRECATED, DEPRECATION_DATES

    table = json.loads(
        files("cfnlint").joinpath("data/AdditionalSpecs/LmbdRuntimeLifecycle.json").read_text()
    )
    for runtime, when in DEPRECATION_DATES.items():
        assert table[runtime]["deprecated"] == when.isoformat(), runtime
    # The undated ones were deprecated before 2026-04-30 (dotnet5.0, container-only, is not listed).
    assert all(table[r]["deprecated"] < "2026-04-30" for r in DEPRECATED if r in table)
