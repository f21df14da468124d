"""Findings on a Terraform plan or a Pulumi preview/export in that tool's words.

The rules judge the CloudFormation view of the input (``build.py``) and speak CloudFormation:
``bucket has no BucketEncryption``, ``Add an AWS::S3::BucketPolicy``, path
``aws_s3_bucket.b.Properties.BucketEncryption``. A Terraform user writes
``aws_s3_bucket_server_side_encryption_configuration``, a Pulumi user
``aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration`` and
``serverSideEncryptionConfiguration``. This module rewrites a finding's message, fix and path
after the rules ran, from the inverse of the mapping:

- types: ``mapping.TYPES`` read backwards (``AWS::S3::Bucket`` is ``aws_s3_bucket``); a
  CloudFormation property a split resource fills names that resource (``Join.property``:
  ``BucketEncryption`` is ``aws_s3_bucket_server_side_encryption_configuration``);
- properties: ``TERMS`` below, the provider attribute each mapped property is read from
  (``mapping.py`` builds one from the other; a test checks every property the mapping writes
  has its term);
- Pulumi AWS Classic spells the same attribute in camelCase and its types as tokens
  (``aws:s3/bucketPolicy:BucketPolicy``, the resource's own token as the input gives it);
  aws-native keeps CloudFormation's names in camelCase (``aws-native:s3:Bucket``,
  ``bucketEncryption``);
- a fix that has no CloudFormation-free reading (a ``DeletionPolicy``, ``!Sub`` of a stack
  name, template ``Outputs``) is written for these tools in ``FIXES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from conveyor.rules.inputs.mapping import JOINS, TYPES
from conveyor.rules.inputs.records import OPAQUE, snake
from conveyor.rules.model import FileResult, Finding
from conveyor.rules.patterns import lazy
from conveyor.rules.plain import FrozenPlain

TERRAFORM = "terraform"
PULUMI = "pulumi"
NATIVE = "native"

# CloudFormation property name -> the Terraform AWS provider attribute the mapping reads it
# from (dotted: a nested block). Names that mean one thing whatever the type.
TERMS: dict[str, str] = {
    # S3 (the split resources are in TYPE_TERMS, from mapping.JOINS)
    "BucketName": "bucket",
    "ServerSideEncryptionConfiguration": "rule.apply_server_side_encryption_by_default",
    "SSEAlgorithm": "sse_algorithm",
    "KMSMasterKeyID": "kms_master_key_id",
    "BucketKeyEnabled": "bucket_key_enabled",
    "BlockPublicAcls": "block_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "IgnorePublicAcls": "ignore_public_acls",
    "RestrictPublicBuckets": "restrict_public_buckets",
    "ExpirationInDays": "expiration.days",
    "NoncurrentVersionExpiration": "noncurrent_version_expiration",
    "NoncurrentDays": "noncurrent_days",
    "NewerNoncurrentVersions": "newer_noncurrent_versions",
    "TopicConfigurations": "topic",
    # ECR
    "ImageTagMutability": "image_tag_mutability",
    "ImageScanningConfiguration": "image_scanning_configuration",
    "ScanOnPush": "scan_on_push",
    "EncryptionConfiguration": "encryption_configuration",
    "EncryptionType": "encryption_type",
    "KmsKey": "kms_key",
    "EmptyOnDelete": "force_delete",
    "LifecyclePolicyText": "policy",
    # SNS, logs, KMS, DynamoDB, SSM
    "KmsMasterKeyId": "kms_master_key_id",
    "TopicArn": "topic_arn",
    "Endpoint": "endpoint",
    "RetentionInDays": "retention_in_days",
    "KmsKeyId": "kms_key_id",
    "EnableKeyRotation": "enable_key_rotation",
    "KeySpec": "customer_master_key_spec",
    "KeyPolicy": "policy",
    "SSESpecification": "server_side_encryption",
    "SSEEnabled": "enabled",
    "KMSMasterKeyId": "kms_key_arn",
    "PointInTimeRecoverySpecification": "point_in_time_recovery",
    "PointInTimeRecoveryEnabled": "enabled",
    # IAM
    "AssumeRolePolicyDocument": "assume_role_policy",
    "PolicyDocument": "policy",
    "Policies": "inline_policy",
    "ManagedPolicyArns": "managed_policy_arns",
    # CloudWatch, EventBridge
    "TreatMissingData": "treat_missing_data",
    "MetricName": "metric_name",
    "Namespace": "namespace",
    "AlarmActions": "alarm_actions",
    "OKActions": "ok_actions",
    "InsufficientDataActions": "insufficient_data_actions",
    "EventPattern": "event_pattern",
    "DeadLetterConfig": "dead_letter_config",
    # CodeBuild
    "ServiceRole": "service_role",
    "EncryptionKey": "encryption_key",
    "TimeoutInMinutes": "build_timeout",
    "PrivilegedMode": "privileged_mode",
    "ComputeType": "compute_type",
    "ImagePullCredentialsType": "image_pull_credentials_type",
    "RegistryCredential": "registry_credential",
    "EnvironmentVariables": "environment_variable",
    "BuildSpec": "buildspec",
    "LogsConfig": "logs_config",
    "CloudWatchLogs": "cloudwatch_logs",
    "S3Logs": "s3_logs",
    "GroupName": "group_name",
    # Lambda
    "LoggingConfig": "logging_config",
    "TargetArn": "target_arn",
    "DestinationConfig": "destination_config",
    "FunctionVersion": "function_version",
    # CodePipeline
    "ArtifactStore": "artifact_store",
    "ArtifactStores": "artifact_store",
    "RoleArn": "role_arn",
    "PipelineType": "pipeline_type",
    "ExecutionMode": "execution_mode",
    "Stages": "stage",
    "Actions": "action",
    "ActionTypeId": "action",
    "RuleTypeId": "rule_type_id",
    "InputArtifacts": "input_artifacts",
    "OutputArtifacts": "output_artifacts",
    "RunOrder": "run_order",
    "BeforeEntry": "before_entry",
    "OnSuccess": "on_success",
    "OnFailure": "on_failure",
    # ECS, CodeDeploy, Elastic Load Balancing
    "TaskDefinition": "task_definition",
    "DesiredCount": "desired_count",
    "LaunchType": "launch_type",
    "HealthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "DeploymentController": "deployment_controller",
    "DeploymentCircuitBreaker": "deployment_circuit_breaker",
    "MinimumHealthyPercent": "deployment_minimum_healthy_percent",
    "MaximumPercent": "deployment_maximum_percent",
    "LoadBalancers": "load_balancer",
    "TargetGroupArn": "target_group_arn",
    "AlternateTargetGroupArn": "alternate_target_group_arn",
    "ContainerDefinitions": "container_definitions",
    "TaskRoleArn": "task_role_arn",
    "ExecutionRoleArn": "execution_role_arn",
    "RequiresCompatibilities": "requires_compatibilities",
    "RuntimePlatform": "runtime_platform",
    "CpuArchitecture": "cpu_architecture",
    "ServiceRoleArn": "service_role_arn",
    "DeploymentConfigName": "deployment_config_name",
    "AutoRollbackConfiguration": "auto_rollback_configuration",
    "AlarmConfiguration": "alarm_configuration",
    "DeploymentStyle": "deployment_style",
    "ECSServices": "ecs_service",
    "LoadBalancerInfo": "load_balancer_info",
    "TargetGroupPairInfoList": "target_group_pair_info",
    "TargetGroups": "target_group",
    "ProdTrafficRoute": "prod_traffic_route",
    "TestTrafficRoute": "test_traffic_route",
    "ListenerArns": "listener_arns",
    "BlueGreenDeploymentConfiguration": "blue_green_deployment_config",
    "LoadBalancerArn": "load_balancer_arn",
    "SslPolicy": "ssl_policy",
    "DefaultActions": "default_action",
    "RedirectConfig": "redirect",
    "ListenerArn": "listener_arn",
    "Scheme": "internal",
    "ComputePlatform": "compute_platform",
    "EventTypeIds": "event_type_ids",
    "TargetAddress": "address",
    # ECS container definitions (JSON the provider takes as ECS spells it)
    "LogConfiguration": "logConfiguration",
    "LogDriver": "logDriver",
    # CloudFormation resource attributes
    "DependsOn": "depends_on",
    "Tags": "tags",
}
# Names that are also ordinary words or tag keys ("Environment", "Type", "Status"): renamed only
# inside a dotted property path or as the key of a "Key: value" pair.
NESTED_TERMS: dict[str, str] = {
    "Environment": "environment",
    "Variables": "variables",
    "Image": "image",
    "Type": "type",
    "Status": "status",
    "Source": "source",
    "Location": "location",
    "Cache": "cache",
    "Modes": "modes",
    "Runtime": "runtime",
    "Handler": "handler",
    "Timeout": "timeout",
    "Architectures": "architectures",
    "Result": "result",
    "Conditions": "condition",
    "Rules": "rule",
    "Configuration": "configuration",
    "Enabled": "enabled",
    "Events": "events",
    "Alarms": "alarms",
    "Enable": "enable",
    "Rollback": "rollback",
    "Strategy": "strategy",
    "Name": "name",
    "Id": "id",
    "Arn": "arn",
    "Port": "port",
    "Protocol": "protocol",
    "StatusCode": "status_code",
    "Family": "family",
    "Region": "region",
    "LogGroup": "log_group",
    "Destination": "destination",
    "Targets": "target",
    "Category": "category",
    "Owner": "owner",
    "Provider": "provider",
    "Version": "version",
    "Options": "options",
    "Value": "value",
}
# Per CloudFormation type: the split resources a property comes from (mapping.JOINS), and
# properties whose attribute differs by type.
TYPE_TERMS: dict[str, dict[str, str]] = {
    # Names that are also keys of a pipeline action's configuration (ClusterName,
    # FunctionName, ...), kept as written there: renamed only on their own type.
    "AWS::S3::Bucket": {"DeletionPolicy": "force_destroy"},
    "AWS::ECR::Repository": {"DeletionPolicy": "force_delete", "RepositoryName": "name"},
    "AWS::SNS::Topic": {"TopicName": "name"},
    "AWS::Logs::LogGroup": {"LogGroupName": "name"},
    "AWS::DynamoDB::Table": {"TableName": "name"},
    "AWS::IAM::Role": {"RoleName": "name"},
    "AWS::IAM::ManagedPolicy": {"ManagedPolicyName": "name"},
    "AWS::ECS::Cluster": {"ClusterName": "name"},
    "AWS::CodeDeploy::Application": {"ApplicationName": "name"},
    "AWS::CodeDeploy::DeploymentGroup": {
        "ApplicationName": "app_name",
        "DeploymentGroupName": "deployment_group_name",
    },
    "AWS::CloudWatch::Alarm": {"AlarmName": "alarm_name"},
    "AWS::Lambda::EventInvokeConfig": {"FunctionName": "function_name"},
    "AWS::Lambda::Alias": {"FunctionName": "function_name"},
    "AWS::CodePipeline::Pipeline": {"Name": "name", "EncryptionKey": "encryption_key"},
    "AWS::Events::Rule": {"Targets": "aws_cloudwatch_event_target"},
    "AWS::SNS::TopicPolicy": {"Topics": "arn"},
    "AWS::S3::BucketPolicy": {"Bucket": "bucket"},
    "AWS::IAM::RolePolicy": {"RoleName": "role", "PolicyName": "name"},
    "AWS::Lambda::Function": {
        "Role": "role",
        "Environment": "environment",
        "FunctionName": "function_name",
    },
    "AWS::ECS::Service": {"Cluster": "cluster", "ServiceName": "name"},
    "AWS::CodeCommit::Repository": {"RepositoryName": "repository_name"},
}
for _child, _join in JOINS.items():
    for _owner in _join.owner_types:
        TYPE_TERMS.setdefault(TYPES[_owner].cfn_type, {})[_join.property] = _child

# A property a split resource fills names that resource in any text (a pipeline's finding may
# name its source bucket's VersioningConfiguration).
SPLIT_TERMS: dict[str, str] = {
    join.property: child
    for child, join in JOINS.items()
    if join.property not in TERMS and join.property not in NESTED_TERMS
}

# CloudFormation types that no Terraform type maps to here but fixes name.
_OTHER_TYPES = {
    "AWS::IAM::Policy": "aws_iam_role_policy",
    "AWS::SecretsManager::Secret": "aws_secretsmanager_secret",
    "AWS::SQS::Queue": "aws_sqs_queue",
    "AWS::Events::Rule": "aws_cloudwatch_event_rule",
}
# The first Terraform type of each CloudFormation type (aws_lb before its alias aws_alb).
_TERRAFORM_TYPES: dict[str, str] = {}
for _tf, _mapping in TYPES.items():
    _TERRAFORM_TYPES.setdefault(_mapping.cfn_type, _tf)
for _cfn, _tf in _OTHER_TYPES.items():
    _TERRAFORM_TYPES.setdefault(_cfn, _tf)
# Pulumi AWS Classic tokens whose name is not the Terraform type's (pulumi._TERRAFORM_TYPES,
# read backwards, and the load balancer: Pulumi's aws.lb.LoadBalancer is Terraform's aws_lb).
_PULUMI_TOKENS = {
    "aws_codepipeline": "aws:codepipeline/pipeline:Pipeline",
    "aws_codedeploy_app": "aws:codedeploy/application:Application",
    "aws_codestarnotifications_notification_rule": (
        "aws:codestarnotifications/notificationRule:NotificationRule"
    ),
    "aws_lb": "aws:lb/loadBalancer:LoadBalancer",
    "aws_alb": "aws:alb/loadBalancer:LoadBalancer",
}

# Terraform data sources and Pulumi functions for CloudFormation's pseudo parameters.
_PSEUDO = {
    TERRAFORM: {
        "AWS::Region": "data.aws_region.current.name",
        "AWS::AccountId": "data.aws_caller_identity.current.account_id",
        "AWS::Partition": "data.aws_partition.current.partition",
        "AWS::StackName": "var.environment",
        "AWS::URLSuffix": "data.aws_partition.current.dns_suffix",
    },
    PULUMI: {
        "AWS::Region": "aws.getRegion()",
        "AWS::AccountId": "aws.getCallerIdentity().accountId",
        "AWS::Partition": "aws.getPartition().partition",
        "AWS::StackName": "pulumi.getStack()",
        "AWS::URLSuffix": "aws.getPartition().dnsSuffix",
    },
}

# Fixes with no CloudFormation-free reading, for Terraform and Pulumi: ``[[name]]`` is a
# Terraform attribute or type, written in the tool's spelling (Pulumi: camelCase, type tokens).
FIXES: dict[str, str] = {
    "CV000": (
        'Tag the resource "conveyor:suppress" = "CV009: why this is acceptable here" (a reason of '
        "at least 10 characters; several entries separated by ';')."
    ),
    "CV008": (
        "Set [[force_destroy]] = true on the bucket ([[force_delete]] = true on a repository) so "
        "destroy empties it first, or keep it (lifecycle prevent_destroy in Terraform, "
        "retainOnDelete in Pulumi)."
    ),
    "CV009": (
        "Drop the name and let the provider generate one ([[bucket_prefix]] / [[name_prefix]], "
        "or Pulumi's auto-naming), or build it from the environment (a variable, the workspace "
        "or stack name)."
    ),
    "CV036": (
        "Build ARNs from data.aws_caller_identity, data.aws_region and data.aws_partition "
        "(Pulumi: aws.getCallerIdentity(), aws.getRegion(), aws.getPartition()) or from the "
        "resource's own arn attribute, and pass AWS_ACCOUNT_ID / AWS_DEFAULT_REGION to builds as "
        "environment variables."
    ),
    "CV042": (
        "Use a CodeStar connection (no token at all), or read the token at deploy time from "
        "Secrets Manager (a data source / secret output) instead of writing it into the "
        "configuration."
    ),
    "CV047": (
        "Create an [[aws_secretsmanager_secret]] (its value set outside the configuration) and "
        "pass its ARN; read the value at run time."
    ),
    "CV057": (
        "Break the cycle: reference by a constructed ARN (an interpolated string with a known "
        "name) or move the shared permission into a separate [[aws_iam_role_policy]]."
    ),
    "CV062": (
        "Read an existing repository (a data source, or a name passed in as a variable), or use "
        "an S3 source or a CodeStar connection."
    ),
    "CV070": (
        "Create the cluster and service in the same configuration (or import them) and "
        "reference them: ClusterName = [[aws_ecs_cluster]] name, ServiceName = "
        "[[aws_ecs_service]] name."
    ),
    "CV075": (
        "Set [[deployment_circuit_breaker]] {enable = true, rollback = true}, "
        "[[deployment_minimum_healthy_percent]] = 100, [[deployment_maximum_percent]] = 200 and "
        "[[health_check_grace_period_seconds]] = 60 on the service."
    ),
    "CV079": (
        "Name the group in the CodeDeploy action's configuration: DeploymentGroupName = the "
        "[[aws_codedeploy_deployment_group]]'s [[deployment_group_name]] (and ApplicationName = "
        "the [[aws_codedeploy_app]]'s name)."
    ),
    "CV090": (
        "Give every taggable resource [[tags]] (App, Environment, ...), or the provider "
        "default_tags (Pulumi: the aws provider's defaultTags)."
    ),
    "CV091": (
        'Name everything from variables, "${var.app}-<type>-${var.environment}" (Pulumi: '
        "`${app}-<type>-${pulumi.getStack()}`), or let the provider generate names."
    ),
    "CV092": (
        "Add outputs for the pipeline name and the repository URL (Terraform output blocks; "
        "Pulumi stack exports)."
    ),
    "CV101": (
        "Configuration AlarmName = the [[aws_cloudwatch_metric_alarm]]'s [[alarm_name]] (a "
        "reference), or the exact name of an alarm of the configuration."
    ),
}


class Style(FrozenPlain):
    """How one tool spells attributes and types."""

    _FIELDS = ("kind",)
    kind: str  # TERRAFORM, PULUMI (AWS Classic) or NATIVE (Pulumi aws-native)

    def __init__(self, kind: str) -> None:
        object.__setattr__(self, "kind", kind)

    def attribute(self, name: str) -> str:
        if self.kind == TERRAFORM:
            return name
        return ".".join(_camel(part) for part in name.split("."))

    def type(self, terraform_type: str) -> str:
        """A Terraform type as the tool names it: Pulumi by the SDK class users write
        (``aws.s3.BucketPolicy``; the type token's module and name)."""
        if self.kind == TERRAFORM:
            return terraform_type
        token = _pulumi_token(terraform_type)
        if token.count(":") != 2:
            return token
        package, middle, name = token.split(":")
        return f"{package}.{middle.split('/')[0]}.{name}"

    def cfn_type(self, cfn: str) -> str:
        if self.kind == NATIVE:
            _, service, name = cfn.split("::")
            return f"aws-native:{service.lower()}:{name}"
        terraform_type = _TERRAFORM_TYPES.get(cfn)
        if terraform_type is None:
            _, service, name = cfn.split("::")
            terraform_type = f"aws_{service.lower()}_{snake(name)}"
        return self.type(terraform_type)

    def term(
        self,
        name: str,
        cfn_type: str,
        *,
        nested: bool,
        inner: bool = False,
        attribute: bool = False,
    ) -> str | None:
        """The tool's name for a CloudFormation property of ``cfn_type``, or None."""
        found = terraform_term(name, cfn_type, nested=nested, inner=inner, attribute=attribute)
        if found is None:
            return None
        if self.kind == NATIVE:
            return _camel(name)
        if not found:
            return found
        if found.startswith("aws_"):
            return self.type(found)
        return self.attribute(found)


def terraform_term(
    name: str, cfn_type: str, *, nested: bool, inner: bool = False, attribute: bool = False
) -> str | None:
    """The Terraform attribute (or split type) of a CloudFormation property, or None for a
    word that is no property here (``CodeBuild``, an IAM policy key). ``nested``: in a dotted
    path or before ":"; ``inner``: not the path's first name (any property name there is
    one); ``attribute``: an attribute of the resource itself where there is one
    (``managed_policy_arns``, not the split ``aws_iam_role_policy_attachment``)."""
    if name in _POLICY_KEYS:
        return None
    by_type = TYPE_TERMS.get(cfn_type, {}).get(name)
    if attribute and by_type is not None and by_type.startswith("aws_") and name in TERMS:
        by_type = None
    found = by_type or TERMS.get(name) or SPLIT_TERMS.get(name)
    if found is None and nested:
        found = NESTED_TERMS.get(name)
    if found is None and inner:
        found = snake(name)
    return found


# Keys of an IAM policy document: the same in a Terraform or Pulumi policy (JSON text).
_POLICY_KEYS = frozenset(
    {"Statement", "Sid", "Effect", "Principal", "Service", "AWS", "Federated"}
    | {"Action", "NotAction", "Resource", "NotResource", "Condition"}
)
# Values whose keys are the user's or a service's own (action configuration, environment
# variables, policy documents, tags): kept as written after the attribute that holds them.
_OPAQUE = frozenset(OPAQUE | {"environment_variable", "inline_policy"})


def _camel(name: str) -> str:
    if "_" not in name:
        return name[:1].lower() + name[1:]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _pulumi_token(terraform_type: str) -> str:
    """``aws_s3_bucket_policy`` -> ``aws:s3/bucketPolicy:BucketPolicy`` (Pulumi AWS Classic
    modules are the Terraform type's first word, https://www.pulumi.com/registry/packages/aws/)."""
    known = _PULUMI_TOKENS.get(terraform_type)
    if known is not None:
        return known
    parts = terraform_type.split("_")
    if len(parts) < 3 or parts[0] != "aws":
        return terraform_type
    name = "".join(p[:1].upper() + p[1:] for p in parts[2:])
    return f"aws:{parts[1]}/{name[:1].lower() + name[1:]}:{name}"


# A CloudFormation type, an intrinsic function in either form, a pseudo parameter in a ${}
# substitution, and a property path (``BucketEncryption.ServerSideEncryptionConfiguration``,
# ``Stages.0.Actions``, ``ContainerDefinitions[].Secrets``) with the ":" of a "Key: value".
_TEXT = lazy(
    r"(?P<pseudo>\$\{AWS::\w+\}|!Ref AWS::\w+)"
    r"|(?P<type>AWS::\w+::\w+)"
    r"|!GetAtt (?P<getatt>\w+)\.(?P<attr>\w+)"
    r"|!Ref (?P<ref>\w+)"
    r"|(?P<sub>!Sub |Fn::Sub\b|Fn::Join\b|Fn::GetAtt\b|Fn::\w+)"
    r"|(?P<template>\b(?:the|this|a) (?:CloudFormation )?template\b)"
    r"|(?<![\w.:/$-])(?P<path>[A-Z][A-Za-z0-9]*(?:(?:\.(?:[A-Z][A-Za-z0-9]*|\d+))|\[\])*)"
    r"(?P<colon>: (?!:))?"
)
_PROPERTIES = lazy(r"\bProperties\.")


def reword_text(text: str, cfn_type: str, style: Style) -> str:
    """The text with CloudFormation's names replaced by the tool's."""
    if not text:
        return text
    text = _PROPERTIES.sub("", text)
    pseudo = _PSEUDO[TERRAFORM if style.kind == TERRAFORM else PULUMI]

    def one(match: re.Match[str]) -> str:
        group = match.lastgroup
        if match.group("pseudo"):
            name = match.group("pseudo").removeprefix("!Ref ").strip("${}")
            value = pseudo.get(name, name)
            return f"${{{value}}}" if match.group("pseudo").startswith("$") else value
        if match.group("type"):
            return style.cfn_type(match.group("type"))
        if match.group("getatt"):
            return f"{match.group('getatt')}.{style.attribute(snake(match.group('attr')))}"
        if match.group("ref"):
            return f"a reference to {match.group('ref')}"
        if match.group("sub"):
            intrinsic = match.group("sub")
            return "" if intrinsic == "!Sub " else _INTRINSIC.get(intrinsic, "an expression")
        if match.group("template"):
            return "the configuration" if style.kind == TERRAFORM else "the program"
        if group in ("path", "colon"):
            return _path_words(match, cfn_type, style)
        return match.group(0)

    text = _TEXT.sub(one, text)
    if style.kind == TERRAFORM:
        for cloudformation, terraform in _TERRAFORM_PHRASES:
            if cloudformation in text:
                text = text.replace(cloudformation, terraform)
    return text


# A Pulumi program has a stack with outputs; a Terraform configuration has neither.
_TERRAFORM_PHRASES = (
    ("no stack output", "no root module output"),
    ("deleted with the stack", "destroyed with the configuration"),
)


_INTRINSIC = {
    "Fn::Sub": "an interpolated string",
    "Fn::Join": "a joined string",
    "Fn::GetAtt": "an attribute reference",
}


def _path_words(match: re.Match[str], cfn_type: str, style: Style) -> str:
    path, colon = match.group("path"), match.group("colon")
    parts = re.split(r"(\.|\[\])", path)
    names = [p for p in parts if p and p not in (".", "[]")]
    nested = len(names) > 1 or colon is not None
    first = style.term(names[0], cfn_type, nested=nested)
    if first is None:
        return match.group(0)
    out = [first]
    opaque = terraform_term(names[0], cfn_type, nested=nested) in _OPAQUE
    for part in parts[1:]:
        if part in (".", "[]") or not part:
            out.append(part)
        elif part.isdigit():
            if out and out[-1] == ".":
                out.pop()
            out.append(f"[{part}]")
        elif opaque:
            out.append(part)
        else:
            out.append(style.term(part, cfn_type, nested=True, inner=True) or part)
            opaque = terraform_term(part, cfn_type, nested=True, inner=True) in _OPAQUE
    joined = "".join(out)
    if colon:
        if terraform_term(names[0], cfn_type, nested=nested, inner=False, attribute=False) in (
            *JOINS,
            "",
        ):
            joined += " "  # a resource, not an attribute: "aws_s3_bucket_versioning {...}"
        else:
            joined += " = " if style.kind == TERRAFORM else ": "
    return joined


def reword_path(path: str, resource: str, cfn_type: str, style: Style) -> str:
    """``aws_s3_bucket.b.Properties.BucketEncryption`` ->
    ``aws_s3_bucket.b.aws_s3_bucket_server_side_encryption_configuration``-like: the resource,
    then the tool's attribute path (list positions in brackets)."""
    if not resource or not path.startswith(resource):
        return reword_text(path, cfn_type, style)
    rest = path[len(resource) :].lstrip(".")
    parts = [p for p in rest.split(".") if p]
    if parts and parts[0] == "Properties":
        parts = parts[1:]
    out = resource
    opaque = False
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
            continue
        if opaque:
            out += "." + part
            continue
        if part == "Metadata":
            out += "." + style.attribute("tags")
            break
        if part in _FLATTENED:
            continue
        name = style.term(part, cfn_type, nested=True, inner=True, attribute=True)
        out += "." + (name or style.attribute(snake(part)))
        opaque = terraform_term(part, cfn_type, nested=True, inner=True) in _OPAQUE
    return out


# Blocks CloudFormation nests and the provider flattens into their parent (an action's
# category/owner/provider/version, a service's deployment_* attributes): left out of a path.
_FLATTENED = frozenset({"ActionTypeId", "DeploymentConfiguration"})


def reword(
    result: FileResult, types: dict[str, str], kind: str, sources: dict[str, str]
) -> FileResult:
    """``result`` with every finding's message, fix and path in the tool's words. ``types``:
    logical id -> CloudFormation type; ``sources``: logical id -> the input's own type (a
    Pulumi token says whether the resource is aws-native)."""
    default = Style(TERRAFORM if kind == TERRAFORM else PULUMI)
    native = Style(NATIVE)

    def style_of(lid: str) -> Style:
        return native if sources.get(lid, "").startswith("aws-native:") else default

    def fix(finding: Finding, style: Style, cfn: str) -> str:
        override = FIXES.get(finding.rule)
        if override is not None and style.kind != NATIVE:
            return _render(override, style)
        return reword_text(finding.fix, cfn, style)

    cache: dict[tuple[str, str, str], str] = {}

    def cached(key: tuple[str, str, str], make: Callable[[], str]) -> str:
        found = cache.get(key)
        if found is None:
            found = cache[key] = make()
        return found

    def one(finding: Finding) -> Finding:
        lid = finding.resource
        cfn = types.get(lid, "")
        style = style_of(lid)
        # Made anew, not with dataclasses.replace: replace reads every field through getattr
        # (about 30 thousand instructions per finding when Finding was a dataclass; a third
        # of reading the 114 findings of the benchmark plan with findings into Terraform's
        # words, benchmarks/count_check_instructions.py --findings).
        return Finding(
            finding.rule,
            finding.severity,
            finding.file,
            finding.resource,
            reword_path(finding.path, lid, cfn, style),
            finding.line,
            cached(
                ("m", finding.message, cfn + style.kind),
                lambda: reword_text(finding.message, cfn, style),
            ),
            cached(("f", finding.rule, cfn + style.kind), lambda: fix(finding, style, cfn)),
            finding.failure_modes,
            finding.reason,
            finding.key,
        )

    result.findings = [one(f) for f in result.findings]
    result.suppressed = [one(f) for f in result.suppressed]
    return result


_MARKED = lazy(r"\[\[([a-z0-9_]+)\]\]")


def _render(text: str, style: Style) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return style.type(name) if name.startswith("aws_") else style.attribute(name)

    return _MARKED.sub(one, text)
