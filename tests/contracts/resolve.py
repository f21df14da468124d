"""Resolve a synthesized template's intrinsics to the concrete strings AWS would see.

Each stack gets a fake account and region; `Ref`/`Fn::GetAtt`/`Fn::Sub`/`Fn::Join` turn into the
names and ARNs the resources would have there (the return values CloudFormation documents per
resource type: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# moto's default account, so the same strings work in the handler tests.
ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"

# Where a resource type keeps its physical name.
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
    "AWS::CodeDeploy::DeploymentConfig": "DeploymentConfigName",
    "AWS::ECS::TaskDefinition": "Family",
    "AWS::SSM::Parameter": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
}

# ARN shapes, from each service's "Resource types" table in the Service Authorization Reference.
_ARN = {
    "AWS::S3::Bucket": "arn:{p}:s3:::{n}",
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{n}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{n}",
    "AWS::KMS::Key": "arn:{p}:kms:{r}:{a}:key/{n}",
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
    "AWS::DynamoDB::GlobalTable": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
    "AWS::ECR::Repository": "arn:{p}:ecr:{r}:{a}:repository/{n}",
    "AWS::CodeBuild::Project": "arn:{p}:codebuild:{r}:{a}:project/{n}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{n}:*",
    "AWS::ECS::Cluster": "arn:{p}:ecs:{r}:{a}:cluster/{n}",
    "AWS::Events::Rule": "arn:{p}:events:{r}:{a}:rule/{n}",
    "AWS::CloudWatch::Alarm": "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}",
    "AWS::CodePipeline::Pipeline": "arn:{p}:codepipeline:{r}:{a}:{n}",
    "AWS::ECS::TaskDefinition": "arn:{p}:ecs:{r}:{a}:task-definition/{n}:1",
    "AWS::SSM::Parameter": "arn:{p}:ssm:{r}:{a}:parameter/{n}",
}
# Types whose Ref returns the ARN rather than the name.
_REF_IS_ARN = {"AWS::SNS::Topic", "AWS::ECS::TaskDefinition"}


@dataclass
class Resolver:
    """Resolves one template's values in its account/region."""

    template: dict[str, Any]
    account: str = ACCOUNT
    region: str = REGION
    # CloudFormation names an unnamed resource after its stack and logical id: two stacks may
    # hold the same logical id (every environment stack has its Web/ValidationHook/Role).
    stack: str = ""
    resources: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = self.template.get("Resources", {})

    def name(self, lid: str) -> str:
        resource = self.resources[lid]
        prop = _NAME_PROPERTY.get(resource["Type"])
        value = resource.get("Properties", {}).get(prop) if prop else None
        if value is None:
            return f"{self.stack}-{lid}".lower() if self.stack else lid.lower()
        return self.text(value)

    def arn(self, lid: str) -> str:
        resource = self.resources[lid]
        kind = resource["Type"]
        if kind == "AWS::ECS::Service":
            cluster = self.text(resource["Properties"].get("Cluster", "default"))
            cluster = cluster.rsplit("/", 1)[-1]
            service = f"service/{cluster}/{self.name(lid)}"
            return f"arn:{PARTITION}:ecs:{self.region}:{self.account}:{service}"
        shape: str = _ARN.get(kind, "arn:{p}:" + kind.split("::")[1].lower() + ":{r}:{a}:{n}")
        return shape.format(p=PARTITION, r=self.region, a=self.account, n=self.name(lid))

    def ref(self, target: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "stack",
        }
        if target in pseudo:
            return pseudo[target]
        parameter = self.template.get("Parameters", {}).get(target)
        if parameter is not None:
            return str(parameter.get("Default", f"param-{target}"))
        if self.resources[target]["Type"] in _REF_IS_ARN:
            return self.arn(target)
        return self.name(target)

    def get_att(self, lid: str, attribute: str) -> str:
        if attribute == "Arn" or attribute.endswith(".Arn"):
            return self.arn(lid)
        if attribute in ("Name", "ServiceName", "TopicName"):
            return self.name(lid)
        return f"{lid.lower()}-{attribute.lower()}"

    def text(self, value: Any) -> str:
        resolved = self.value(value)
        if not isinstance(resolved, str):
            raise TypeError(f"not a string: {value!r}")
        return resolved

    def value(self, value: Any) -> Any:
        """The value with every intrinsic replaced by what it resolves to."""
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                lid, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(lid, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(self.text(part) for part in self.value(parts))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(index)]
            if key == "Fn::Split":
                separator, source = arg
                return self.text(source).split(separator)
            if key == "Fn::If":
                return self.value(arg[1])
        return {key: self.value(item) for key, item in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return self.text(variables[name])
            if "." in name:
                lid, attribute = name.split(".", 1)
                return self.get_att(lid, attribute)
            return self.ref(name)

        return re.sub(r"\$\{(?!!)([^}]+)\}", replace, text)
