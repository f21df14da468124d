"""Which CloudFormation resource types take tags, and how (a list of Key/Value or a map).

A data table, not an exhaustive one: types missing here are simply not judged by the tagging
rule (no false alarms on types that cannot carry tags).
"""

from __future__ import annotations

from typing import Any

from conveyor.rules.intrinsics import intrinsic_name
from conveyor.rules.template import Resource

LIST_TAGGED = frozenset(
    {
        "AWS::ApiGateway::RestApi",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::CloudFront::Distribution",
        "AWS::CloudWatch::Alarm",
        "AWS::CodeBuild::Project",
        "AWS::CodeBuild::ReportGroup",
        "AWS::CodeCommit::Repository",
        "AWS::CodeDeploy::Application",
        "AWS::CodePipeline::CustomActionType",
        "AWS::CodePipeline::Pipeline",
        "AWS::CodeStarConnections::Connection",
        "AWS::DynamoDB::Table",
        "AWS::EC2::EIP",
        "AWS::EC2::Instance",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::NetworkAcl",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Subnet",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCEndpoint",
        "AWS::ECR::Repository",
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::EFS::AccessPoint",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::Events::EventBus",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::Kinesis::Stream",
        "AWS::KMS::Key",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::StepFunctions::StateMachine",
    }
)

MAP_TAGGED = frozenset(
    {
        "AWS::CodeStarNotifications::NotificationRule",
        "AWS::Serverless::Api",
        "AWS::Serverless::Function",
        "AWS::Serverless::HttpApi",
        "AWS::Serverless::SimpleTable",
        "AWS::Serverless::StateMachine",
        "AWS::SSM::Parameter",
    }
)

TAGGABLE = LIST_TAGGED | MAP_TAGGED

# CDK core's custom-resource providers (for example the S3 auto-delete-objects provider) are
# emitted as raw CfnResources that Tags.of() never reaches (aws/aws-cdk#13851); an aspect that
# sets their Tags property does. Their logical ids carry this marker.
CDK_PROVIDER_MARKERS = ("CustomResourceProvider",)


def is_cdk_provider(res: Resource) -> bool:
    return res.logical_id.startswith("Custom") and any(
        m in res.logical_id for m in CDK_PROVIDER_MARKERS
    )


def tags_of(res: Resource) -> dict[str, Any] | None:
    """Tag key → value; None when tags come from an intrinsic we cannot read."""
    raw = res.properties.get("Tags")
    if raw is None and res.type == "AWS::EFS::FileSystem":
        raw = res.properties.get("FileSystemTags")
    if raw is None:
        return {}
    if intrinsic_name(raw) is not None:
        return None
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, list):
        out: dict[str, Any] = {}
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("Key"), str):
                out[item["Key"]] = item.get("Value")
            elif intrinsic_name(item) is not None:
                return None
        return out
    return None


ENVIRONMENT_TAG_KEYS = ("Environment", "environment", "Env", "env", "Stage", "stage")


def environment_of(res: Resource) -> str | None:
    tags = tags_of(res)
    if not tags:
        return None
    for key in ENVIRONMENT_TAG_KEYS:
        value = tags.get(key)
        if isinstance(value, str) and value:
            return value.lower()
    return None
