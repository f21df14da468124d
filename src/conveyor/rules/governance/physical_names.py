"""Hard-coded physical name where a second copy of the template collides ("already exists").

A name is hard-coded when it is a plain literal (or a Sub/Join of literals only) with no
``${AWS::StackName}``, ``${AWS::AccountId}``, parameter or resource reference in it. AWS: "Resource
names must be unique across all your active stacks. If you reuse templates to create multiple
stacks, you must change or remove custom names from your template."
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html

Two namespaces, two tests:

- Names shared by every AWS account (S3 buckets): any literal name collides with some other copy,
  in any account, so every one is reported.
- Names unique per account (IAM) or per account and region (everything else in
  ``ACCOUNT_NAMES``, one name property per type): a literal collides only with a second copy of
  the same template in the same account and region. Reported when the template says it *is*
  deployed more than once: it takes an environment parameter (``Environment``, ``Stage``,
  ``EnvName``, ``Suffix``...) and the name does not use it. The seed's failure was this: an ECR
  repository and buckets named without the environment suffix its sibling names carried.
  A template without such a parameter (conveyor names its resources
  ``{app}-{type}-{env}[-suffix]`` literally; a stack meant to exist once per account) cannot be
  told apart from a deliberate convention, so it is left alone.
- A name that varies only by ``${AWS::AccountId}``, ``${AWS::Region}`` (and ``AWS::Partition``,
  ``AWS::URLSuffix``) is the same for two environments deployed to one account and region: in a
  template that takes an environment parameter it is reported like a literal, buckets
  included (``logs-${AWS::AccountId}-${AWS::Region}`` is unique per account, not per copy).

Types whose names are unique only inside a parent the template usually creates too (ECS services
in a cluster, CodeDeploy groups in an application, alarms are not) or that version instead of
colliding (task definition families, layer versions) are not listed.
"""

from __future__ import annotations

from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import SUB_VARIABLE, intrinsic_name, is_literal, ref_target, render
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.template import Resource

# Resource types whose names share one namespace across all AWS accounts.
GLOBAL_NAMES: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
}

# Resource types whose name (the property) must be unique in an account (IAM: in all its
# regions) or an account's region; each service's CloudFormation page names the property.
ACCOUNT_NAMES: dict[str, str] = {
    "AWS::ApiGatewayV2::DomainName": "DomainName",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::Batch::ComputeEnvironment": "ComputeEnvironmentName",
    "AWS::Batch::JobQueue": "JobQueueName",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration": "ConfigurationName",
    "AWS::Chatbot::SlackChannelConfiguration": "ConfigurationName",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodeBuild::ReportGroup": "Name",
    "AWS::CodeCommit::Repository": "RepositoryName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentConfig": "DeploymentConfigName",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::Config::ConfigRule": "ConfigRuleName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::EC2::KeyPair": "KeyName",
    "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::EKS::Cluster": "Name",
    "AWS::ElastiCache::CacheCluster": "ClusterName",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::ElasticLoadBalancing::LoadBalancer": "LoadBalancerName",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Elasticsearch::Domain": "DomainName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::OpenSearchService::Domain": "DomainName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::StepFunctions::Activity": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::WAFv2::IPSet": "Name",
    "AWS::WAFv2::WebACL": "Name",
}

# Parameters that say "this template is deployed once per environment (or branch, or copy)".
ENVIRONMENT_PARAMETER = lazy(
    r"(?i)^(deployment|target|app|application)?"
    r"(env|environment|stage|tier|suffix|environmentsuffix|envsuffix)(name|type|suffix)?$"
)


# Pseudo parameters every copy of a template in one account and region shares.
SAME_IN_AN_ACCOUNT_REGION = frozenset(
    {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix"}
)


def account_region_only(value: Any) -> bool:
    """A Sub/Join whose only variables are the account, region, partition or URL suffix (and
    at least one of them): the same name for every copy in one account and region."""
    name = intrinsic_name(value)
    if name == "Fn::Sub":
        arg = value[name]
        if isinstance(arg, list):
            if len(arg) != 1:
                return False
            arg = arg[0]
        if not isinstance(arg, str):
            return False
        variables = {m.group(1).strip() for m in SUB_VARIABLE.finditer(arg)}
        return bool(variables) and variables <= SAME_IN_AN_ACCOUNT_REGION
    if name == "Fn::Join":
        arg = value[name]
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list)):
            return False
        parts = arg[1]
        pseudo = [p for p in parts if ref_target(p) in SAME_IN_AN_ACCOUNT_REGION]
        rest = [p for p in parts if ref_target(p) not in SAME_IN_AN_ACCOUNT_REGION]
        return bool(pseudo) and all(is_literal(p) or account_region_only(p) for p in rest)
    return False


def environment_parameters(ctx: Context) -> list[str]:
    return sorted(p for p in ctx.template.parameters if ENVIRONMENT_PARAMETER.match(p))


def check(res: Resource, ctx: Context) -> list[Hit]:
    # A list, not a generator: most names are neither literal nor account-and-region only, and
    # a generator's creation and end cost more than those two tests.
    prop = GLOBAL_NAMES.get(res.type) or ACCOUNT_NAMES[res.type]
    value = res.properties.get(prop)
    if value is None:
        return []
    if account_region_only(value):
        params = environment_parameters(ctx)
        if not params:
            return []
        text = render(value)
        return [
            Hit(
                res.logical_id,
                f"Properties.{prop}",
                f"{prop} {text!r} varies only by account and region, and this template takes "
                f"{params[0]}: two environments in one account and region get the same name and "
                f"the second deploy fails with 'already exists'; write "
                f"!Sub '{text}-${{{params[0]}}}' or drop the name",
            )
        ]
    if not is_literal(value):
        return []
    if res.type in GLOBAL_NAMES:
        return [
            Hit(
                res.logical_id,
                f"Properties.{prop}",
                f"{prop} {render(value)!r} is hard-coded; a second deploy fails with "
                "'already exists'",
            )
        ]
    params = environment_parameters(ctx)
    if not params:
        return []
    return [
        Hit(
            res.logical_id,
            f"Properties.{prop}",
            f"{prop} {render(value)!r} is the same in every copy of this template, which takes "
            f"{params[0]}: the second environment's deploy fails with 'already exists'; "
            f"write !Sub '{render(value)}-${{{params[0]}}}' or drop the name",
        )
    ]


RULE = Rule(
    id="CV009",
    title="Hard-coded physical name",
    severity=Severity.MEDIUM,
    resource_types=(*GLOBAL_NAMES, *ACCOUNT_NAMES),
    failure_modes=("FM06",),
    why="S3, S4 and S5: 'Resource of type AWS::ECR::Repository with identifier ... already "
    "exists' and 'AWS::S3::Bucket ... already exists' on the second deploy.",
    fix_cloudformation="Drop the name and let CloudFormation generate one, or build it with "
    "!Sub '${AWS::StackName}-...' / the environment parameter.",
    fix_cdk="Leave the name property unset (PhysicalName.GENERATE_IF_NEEDED for cross-env use) "
    "or include Stack.of(self).stack_name in it.",
    fix_conveyor="Nothing to write: conveyor names resources {app}-{type}-{env}[-suffix]; set "
    "suffix: in conveyor.yaml for parallel copies.",
    check=check,
)
