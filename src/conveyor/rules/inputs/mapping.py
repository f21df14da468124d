"""Terraform AWS provider resources (and Pulumi AWS Classic, bridged from it) -> the
CloudFormation resource view the rules read. Only the properties some rule reads are mapped;
docs/check.md lists them per type.

Attribute names and shapes come from the Terraform AWS provider documentation
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/<type>); the
CloudFormation side from the CloudFormation resource reference
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conveyor.rules.inputs.records import Record, many
from conveyor.rules.inputs.view import View, derived, dig, drop_none
from conveyor.rules.plain import FrozenPlain

Props = dict[str, Any]
Mapper = Callable[[Record, View], Props]


def _name(rec: Record, view: View, attr: str) -> Any:
    value = view.val(rec, attr)
    if attr not in rec.computed or not isinstance(value, str):
        return value
    # Built from another resource's name ("/aws/lambda/${fn.function_name}"): keep the
    # reference, so relations see which function this log group belongs to.
    for key in rec.refs_at(attr):
        lid = view.lids.get(key)
        for identity in view.identities.get(key, ()):
            if lid and len(identity) > 2 and identity in value:
                before, _, after = value.partition(identity)
                parts: list[Any] = [p for p in (before, {"Ref": lid}, after) if p != ""]
                return {"Fn::Join": ["", parts]}
    return derived(value)


def _written(rec: Record, view: View, attr: str) -> Any:
    """An attribute with a provider default: absent unless the user wrote it."""
    return view.val(rec, attr) if rec.wrote(attr) else None


# ---- S3 ------------------------------------------------------------------------------------


def s3_bucket(rec: Record, view: View) -> Props:
    props: Props = {
        "BucketName": _name(rec, view, "bucket"),
        "Tags": view.tags(rec),
    }
    # Inline blocks of provider v3 (and of Pulumi's aws.s3.Bucket before v7): deprecated,
    # computed since v4, so only what the user wrote counts.
    if rec.wrote("server_side_encryption_configuration"):
        props["BucketEncryption"] = _encryption(rec, view, "server_side_encryption_configuration")
    if rec.wrote("versioning"):
        enabled = view.val(rec, "versioning", "enabled")
        if isinstance(enabled, bool):
            props["VersioningConfiguration"] = {"Status": "Enabled" if enabled else "Suspended"}
    if rec.wrote("lifecycle_rule") and dig(rec.values, ("lifecycle_rule",)):
        props["LifecycleConfiguration"] = {"Rules": _legacy_lifecycle(rec, view)}
    return drop_none(props)


def _encryption(rec: Record, view: View, block: str) -> Any:
    rules = dig(rec.values, (block, "rule"))
    if rules is None:
        return None
    out = []
    for index in range(len(many(rules))):
        default = (block, "rule", index, "apply_server_side_encryption_by_default")
        out.append(
            drop_none(
                {
                    "ServerSideEncryptionByDefault": drop_none(
                        {
                            "SSEAlgorithm": view.val(rec, *default, "sse_algorithm"),
                            "KMSMasterKeyID": view.ref(rec, *default, "kms_master_key_id"),
                        }
                    ),
                    "BucketKeyEnabled": view.val(rec, block, "rule", index, "bucket_key_enabled"),
                }
            )
        )
    return {"ServerSideEncryptionConfiguration": out}


def _legacy_lifecycle(rec: Record, view: View) -> list[Props]:
    rules = []
    for index in range(len(many(dig(rec.values, ("lifecycle_rule",))))):
        enabled = view.val(rec, "lifecycle_rule", index, "enabled")
        rules.append(
            drop_none(
                {
                    "Status": "Disabled" if enabled is False else "Enabled",
                    "ExpirationInDays": view.val(
                        rec, "lifecycle_rule", index, "expiration", "days"
                    ),
                    "NoncurrentVersionExpiration": drop_none(
                        {
                            "NoncurrentDays": view.val(
                                rec,
                                "lifecycle_rule",
                                index,
                                "noncurrent_version_expiration",
                                "days",
                            )
                        }
                    ),
                }
            )
        )
    return rules


def join_s3_encryption(owner: Props, child: Record, view: View) -> None:
    # aws_s3_bucket_server_side_encryption_configuration holds the block at its top level.
    owner["BucketEncryption"] = _encryption(_wrap(child, "c"), view, "c") or view.val(child, "rule")


def join_s3_public_access_block(owner: Props, child: Record, view: View) -> None:
    owner["PublicAccessBlockConfiguration"] = {
        "BlockPublicAcls": view.val(child, "block_public_acls"),
        "BlockPublicPolicy": view.val(child, "block_public_policy"),
        "IgnorePublicAcls": view.val(child, "ignore_public_acls"),
        "RestrictPublicBuckets": view.val(child, "restrict_public_buckets"),
    }


def join_s3_versioning(owner: Props, child: Record, view: View) -> None:
    owner["VersioningConfiguration"] = {
        "Status": view.val(child, "versioning_configuration", "status")
    }


def join_s3_lifecycle(owner: Props, child: Record, view: View) -> None:
    rules = []
    for index in range(len(many(dig(child.values, ("rule",))))):
        rule = ("rule", index)
        rules.append(
            drop_none(
                {
                    "Id": view.val(child, *rule, "id"),
                    "Status": view.val(child, *rule, "status"),
                    "ExpirationInDays": view.val(child, *rule, "expiration", "days"),
                    "NoncurrentVersionExpiration": drop_none(
                        {
                            "NoncurrentDays": view.val(
                                child, *rule, "noncurrent_version_expiration", "noncurrent_days"
                            )
                        }
                    ),
                }
            )
        )
    owner["LifecycleConfiguration"] = {"Rules": rules}


def join_s3_notification(owner: Props, child: Record, view: View) -> None:
    topics = many(dig(child.values, ("topic",)))
    owner["NotificationConfiguration"] = {
        "TopicConfigurations": [
            {"Topic": view.ref(child, "topic", i, "topic_arn")} for i in range(len(topics))
        ]
    }


def _wrap(rec: Record, block: str) -> Record:
    """The record with its values nested under ``block`` (the split resource holds at its top
    level what the v3 inline block held)."""
    refs = {f"{block}.{k}": v for k, v in rec.refs.items()}
    return Record(rec.key, rec.name, rec.type, {block: rec.values}, refs)


def s3_bucket_policy(rec: Record, view: View) -> Props:
    return drop_none({"Bucket": view.ref(rec, "bucket"), "PolicyDocument": view.doc(rec, "policy")})


# ---- ECR -----------------------------------------------------------------------------------


def ecr_repository(rec: Record, view: View) -> Props:
    encryption = dig(rec.values, ("encryption_configuration",))
    return drop_none(
        {
            "RepositoryName": _name(rec, view, "name"),
            "ImageTagMutability": view.val(rec, "image_tag_mutability"),
            "ImageScanningConfiguration": drop_none(
                {"ScanOnPush": view.val(rec, "image_scanning_configuration", "scan_on_push")}
            ),
            "EncryptionConfiguration": drop_none(
                {
                    "EncryptionType": view.val(rec, "encryption_configuration", "encryption_type"),
                    "KmsKey": view.ref(rec, "encryption_configuration", "kms_key") or None,
                }
            )
            if encryption and rec.wrote("encryption_configuration")
            else None,
            "EmptyOnDelete": view.val(rec, "force_delete"),
            "Tags": view.tags(rec),
        }
    )


def join_ecr_lifecycle(owner: Props, child: Record, view: View) -> None:
    owner["LifecyclePolicy"] = {"LifecyclePolicyText": view.val(child, "policy")}


# ---- SNS -----------------------------------------------------------------------------------


def sns_topic(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "TopicName": _name(rec, view, "name"),
            "KmsMasterKeyId": view.ref(rec, "kms_master_key_id") or None,
            "Tags": view.tags(rec),
        }
    )


def sns_topic_policy(rec: Record, view: View) -> Props:
    return drop_none({"Topics": [view.ref(rec, "arn")], "PolicyDocument": view.doc(rec, "policy")})


def sns_subscription(rec: Record, view: View) -> Props:
    return drop_none(
        {
            # Pulumi calls the Terraform provider's topic_arn "topic".
            "TopicArn": view.ref(rec, "topic" if "topic" in rec.values else "topic_arn"),
            "Protocol": view.val(rec, "protocol"),
            "Endpoint": view.ref(rec, "endpoint"),
        }
    )


def sqs_queue(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "QueueName": _name(rec, view, "name"),
            "KmsMasterKeyId": view.ref(rec, "kms_master_key_id") or None,
            "SqsManagedSseEnabled": view.val(rec, "sqs_managed_sse_enabled"),
            "VisibilityTimeout": view.val(rec, "visibility_timeout_seconds"),
            "MessageRetentionPeriod": view.val(rec, "message_retention_seconds"),
            # JSON text ({"deadLetterTargetArn": ..., "maxReceiveCount": ...}); the dead-letter
            # queue's ARN becomes a reference again, as in a policy document. Empty: none.
            "RedrivePolicy": view.doc(rec, "redrive_policy") or None,
            "Tags": view.tags(rec),
        }
    )


# ---- IAM -----------------------------------------------------------------------------------


def iam_role(rec: Record, view: View) -> Props:
    inline = []
    if rec.wrote("inline_policy"):
        for index, item in enumerate(many(dig(rec.values, ("inline_policy",)))):
            if isinstance(item, dict) and item.get("policy"):
                inline.append(
                    {
                        "PolicyName": view.val(rec, "inline_policy", index, "name"),
                        "PolicyDocument": view.doc(rec, "inline_policy", index, "policy"),
                    }
                )
    managed = view.refs(rec, "managed_policy_arns") if rec.wrote("managed_policy_arns") else []
    return drop_none(
        {
            "RoleName": _name(rec, view, "name"),
            "AssumeRolePolicyDocument": view.doc(rec, "assume_role_policy"),
            "Policies": inline,
            "ManagedPolicyArns": managed,
            "Tags": view.tags(rec),
        }
    )


def iam_role_policy(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "PolicyName": view.val(rec, "name"),
            "RoleName": view.ref(rec, "role"),
            "PolicyDocument": view.doc(rec, "policy"),
        }
    )


def iam_policy(rec: Record, view: View) -> Props:
    return drop_none(
        {"ManagedPolicyName": view.val(rec, "name"), "PolicyDocument": view.doc(rec, "policy")}
    )


def join_iam_attachment(owner: Props, child: Record, view: View) -> None:
    owner.setdefault("ManagedPolicyArns", []).append(view.ref(child, "policy_arn"))


# ---- logs, keys, alarms, events --------------------------------------------------------------


def log_group(rec: Record, view: View) -> Props:
    retention = view.val(rec, "retention_in_days")
    return drop_none(
        {
            "LogGroupName": _name(rec, view, "name"),
            # 0 is the provider's "never expire": the same as no RetentionInDays.
            "RetentionInDays": None if retention == 0 else retention,
            "KmsKeyId": view.ref(rec, "kms_key_id") or None,
            "Tags": view.tags(rec),
        }
    )


def kms_key(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "EnableKeyRotation": view.val(rec, "enable_key_rotation"),
            "KeySpec": view.val(rec, "customer_master_key_spec"),
            "KeyPolicy": view.doc(rec, "policy") if rec.wrote("policy") else None,
            "Tags": view.tags(rec),
        }
    )


def metric_alarm(rec: Record, view: View) -> Props:
    dimensions = view.val(rec, "dimensions")
    if not isinstance(dimensions, dict):
        dimensions = {}
    return drop_none(
        {
            "AlarmName": view.val(rec, "alarm_name"),
            "MetricName": view.val(rec, "metric_name"),
            "Namespace": view.val(rec, "namespace"),
            # The provider defaults to "missing"; the seed failure is not deciding it.
            "TreatMissingData": _written(rec, view, "treat_missing_data"),
            # A map of dimension name to value; a value naming a resource (a queue's name)
            # becomes a reference to it.
            "Dimensions": [
                {"Name": name, "Value": view.ref(rec, "dimensions", name)}
                for name in sorted(dimensions)
            ],
            "AlarmActions": view.refs(rec, "alarm_actions"),
            "OKActions": view.refs(rec, "ok_actions"),
            "InsufficientDataActions": view.refs(rec, "insufficient_data_actions"),
            "Tags": view.tags(rec),
        }
    )


def event_rule(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "EventPattern": view.doc(rec, "event_pattern"),
            # CV126: a rule on a clock that starts an ECS task.
            "ScheduleExpression": view.val(rec, "schedule_expression"),
            "State": view.val(rec, "state"),
            "Tags": view.tags(rec),
        }
    )


def join_event_target(owner: Props, child: Record, view: View) -> None:
    owner.setdefault("Targets", []).append(
        drop_none(
            {
                "Id": view.val(child, "target_id"),
                "Arn": view.ref(child, "arn"),
                "RoleArn": view.ref(child, "role_arn"),
                "DeadLetterConfig": drop_none(
                    {"Arn": view.ref(child, "dead_letter_config", "arn")}
                ),
                "EcsParameters": _ecs_run_task(child, view, "ecs_target"),
            }
        )
    )


def _ecs_run_task(rec: Record, view: View, block: str) -> Props | None:
    """An ECS RunTask target (aws_cloudwatch_event_target's ecs_target, aws_scheduler_schedule's
    target.ecs_parameters): CV126 asks only whether there is one."""
    path = block.split(".")
    if not dig(rec.values, tuple(path)):
        return None
    # Kept even when the revision is unknown until apply: a RunTask target is one either way.
    return {"TaskDefinitionArn": view.ref(rec, *path, "task_definition_arn")}


def scheduler_schedule(rec: Record, view: View) -> Props:
    target = ("target",)
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "ScheduleExpression": view.val(rec, "schedule_expression"),
            "Target": drop_none(
                {
                    "Arn": view.ref(rec, *target, "arn"),
                    "RoleArn": view.ref(rec, *target, "role_arn"),
                    "DeadLetterConfig": drop_none(
                        {"Arn": view.ref(rec, *target, "dead_letter_config", "arn")}
                    ),
                    "EcsParameters": _ecs_run_task(rec, view, "target.ecs_parameters"),
                }
            ),
        }
    )


# ---- CodeBuild, Lambda, CodePipeline ---------------------------------------------------------


def codebuild_project(rec: Record, view: View) -> Props:
    env = ("environment",)
    variables = [
        drop_none(
            {
                "Name": view.val(rec, *env, "environment_variable", i, "name"),
                "Value": view.val(rec, *env, "environment_variable", i, "value"),
                "Type": view.val(rec, *env, "environment_variable", i, "type"),
            }
        )
        for i in range(len(many(dig(rec.values, (*env, "environment_variable")))))
    ]
    logs = ("logs_config",)
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "ServiceRole": view.ref(rec, "service_role"),
            # CV016: the key of the build's output artifacts (aws/s3 without one).
            "EncryptionKey": view.ref(rec, "encryption_key"),
            "TimeoutInMinutes": _written(rec, view, "build_timeout"),
            "Environment": drop_none(
                {
                    "Type": view.val(rec, *env, "type"),
                    "Image": view.val(rec, *env, "image"),
                    "ComputeType": view.val(rec, *env, "compute_type"),
                    "PrivilegedMode": view.val(rec, *env, "privileged_mode"),
                    "ImagePullCredentialsType": view.val(rec, *env, "image_pull_credentials_type"),
                    # CV098: a Docker Hub build image pulled with credentials.
                    "RegistryCredential": drop_none(
                        {
                            "Credential": view.ref(rec, *env, "registry_credential", "credential"),
                            "CredentialProvider": view.val(
                                rec, *env, "registry_credential", "credential_provider"
                            ),
                        }
                    ),
                    "EnvironmentVariables": variables,
                }
            ),
            "Source": drop_none(
                {
                    "Type": view.val(rec, "source", "type"),
                    "Location": view.val(rec, "source", "location"),
                    "BuildSpec": view.val(rec, "source", "buildspec"),
                }
            ),
            "Cache": drop_none(
                {
                    "Type": view.val(rec, "cache", "type"),
                    "Modes": view.val(rec, "cache", "modes"),
                    "Location": view.val(rec, "cache", "location"),
                }
            ),
            "LogsConfig": drop_none(
                {
                    "CloudWatchLogs": drop_none(
                        {
                            "Status": view.val(rec, *logs, "cloudwatch_logs", "status"),
                            "GroupName": view.ref(rec, *logs, "cloudwatch_logs", "group_name")
                            or None,
                        }
                    ),
                    "S3Logs": drop_none({"Status": view.val(rec, *logs, "s3_logs", "status")}),
                }
            )
            if rec.wrote("logs_config")
            else None,
            "Tags": view.tags(rec),
        }
    )


def lambda_function(rec: Record, view: View) -> Props:
    variables = view.val(rec, "environment", "variables")
    return drop_none(
        {
            "FunctionName": _name(rec, view, "function_name"),
            "Runtime": view.val(rec, "runtime"),
            "Handler": view.val(rec, "handler"),
            "Role": view.ref(rec, "role"),
            "Timeout": view.val(rec, "timeout"),
            "Architectures": view.val(rec, "architectures"),
            "Environment": {"Variables": variables} if variables is not None else None,
            # CV035: a function logging to a log group it names; CV099: failed async events
            # kept in a dead-letter queue.
            "LoggingConfig": drop_none(
                {"LogGroup": view.ref(rec, "logging_config", "log_group") or None}
            ),
            "DeadLetterConfig": drop_none(
                {"TargetArn": view.ref(rec, "dead_letter_config", "target_arn") or None}
            ),
            "Tags": view.tags(rec),
        }
    )


def lambda_event_invoke_config(rec: Record, view: View) -> Props:
    on_failure = ("destination_config", "on_failure", "destination")
    return drop_none(
        {
            "FunctionName": view.ref(rec, "function_name"),
            "Qualifier": view.val(rec, "qualifier"),
            "DestinationConfig": drop_none(
                {"OnFailure": drop_none({"Destination": view.ref(rec, *on_failure) or None})}
            ),
        }
    )


def lambda_event_source_mapping(rec: Record, view: View) -> Props:
    """What reads a queue or stream (CV125: a consumed queue needs a dead-letter queue)."""
    on_failure = ("destination_config", "on_failure", "destination_arn")
    return drop_none(
        {
            "EventSourceArn": view.ref(rec, "event_source_arn"),
            "FunctionName": view.ref(rec, "function_name"),
            "DestinationConfig": drop_none(
                {"OnFailure": drop_none({"Destination": view.ref(rec, *on_failure) or None})}
            ),
        }
    )


def lambda_alias(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "FunctionName": view.ref(rec, "function_name"),
            "FunctionVersion": view.val(rec, "function_version"),
        }
    )


def codepipeline(rec: Record, view: View) -> Props:
    stores = []
    for i in range(len(many(dig(rec.values, ("artifact_store",))))):
        store = ("artifact_store", i)
        stores.append(
            drop_none(
                {
                    "Type": view.val(rec, *store, "type") or "S3",
                    "Location": view.ref(rec, *store, "location"),
                    "Region": view.val(rec, *store, "region"),
                    "EncryptionKey": drop_none(
                        {
                            "Id": view.ref(rec, *store, "encryption_key", "id"),
                            "Type": view.val(rec, *store, "encryption_key", "type"),
                        }
                    ),
                }
            )
        )
    props: Props = {
        "Name": view.val(rec, "name"),
        "RoleArn": view.ref(rec, "role_arn"),
        "PipelineType": view.val(rec, "pipeline_type"),
        "ExecutionMode": view.val(rec, "execution_mode"),
        "Stages": _stages(rec, view),
        "Tags": view.tags(rec),
    }
    if len(stores) == 1 and "Region" not in stores[0]:
        props["ArtifactStore"] = stores[0]
    elif stores:
        props["ArtifactStores"] = [
            {"Region": s.pop("Region", None), "ArtifactStore": s} for s in stores
        ]
    return drop_none(props)


def _stages(rec: Record, view: View) -> list[Props]:
    stages = []
    for s in range(len(many(dig(rec.values, ("stage",))))):
        actions = []
        for a in range(len(many(dig(rec.values, ("stage", s, "action"))))):
            at = ("stage", s, "action", a)
            actions.append(
                drop_none(
                    {
                        "Name": view.val(rec, *at, "name"),
                        "ActionTypeId": _type_id(rec, view, at),
                        "Configuration": _configuration(rec, view, at),
                        "InputArtifacts": [
                            {"Name": n}
                            for n in many(view.val(rec, *at, "input_artifacts"))
                            if isinstance(n, str)
                        ],
                        "OutputArtifacts": [
                            {"Name": n}
                            for n in many(view.val(rec, *at, "output_artifacts"))
                            if isinstance(n, str)
                        ],
                        "RunOrder": view.val(rec, *at, "run_order"),
                        "RoleArn": view.ref(rec, *at, "role_arn"),
                        "Namespace": view.val(rec, *at, "namespace"),
                    }
                )
            )
        stage: Props = {"Name": view.val(rec, "stage", s, "name"), "Actions": actions}
        stages.append({**stage, **_stage_conditions(rec, view, s)})
    return stages


def _configuration(rec: Record, view: View, at: tuple[str | int, ...]) -> Any:
    """An action's configuration, a value naming a resource the pipeline references
    (``S3Bucket = aws_s3_bucket.source.bucket``; Pulumi's ``source.bucket``) as a reference to
    it, the way a CloudFormation template writes ``!Ref SourceBucket``: the rules see which
    bucket a source reads (CV015) even when its name is not a literal (auto-named, or built
    from variables). Terraform records the references of the configuration map; Pulumi only
    those of ``stages`` as a whole."""
    config = view.val(rec, *at, "configuration")
    keys = rec.refs_at(*at, "configuration") or rec.refs.get("stages", [])
    if not keys or not isinstance(config, dict):
        return config
    names: dict[str, str] = {}
    for key in keys:
        lid = view.lids.get(key)
        if lid is not None:
            for identity in view.identities.get(key, ()):
                names.setdefault(identity, lid)
    return {
        k: {"Ref": names[v]} if isinstance(v, str) and v in names else v for k, v in config.items()
    }


def _type_id(rec: Record, view: View, at: tuple[str | int, ...]) -> Props:
    """An action's ActionTypeId or a rule's RuleTypeId: Terraform spells both the same way
    (category, owner, provider, version), the action's inline, the rule's in a block."""
    return drop_none(
        {
            "Category": view.val(rec, *at, "category"),
            "Owner": view.val(rec, *at, "owner"),
            "Provider": view.val(rec, *at, "provider"),
            "Version": view.val(rec, *at, "version"),
        }
    )


def _stage_conditions(rec: Record, view: View, s: int) -> Props:
    """A stage's V2 conditions: blocks `before_entry`, `on_success`, `on_failure` (one each)
    holding `condition` blocks of `rule`s, and `on_failure.result` (ROLLBACK, RETRY)."""
    found: Props = {}
    for block, key in (
        ("before_entry", "BeforeEntry"),
        ("on_success", "OnSuccess"),
        ("on_failure", "OnFailure"),
    ):
        if not many(dig(rec.values, ("stage", s, block))):
            continue
        at = ("stage", s, block, 0)
        conditions = [
            _condition(rec, view, (*at, "condition", c))
            for c in range(len(many(dig(rec.values, (*at, "condition")))))
        ]
        extra = {"Result": view.val(rec, *at, "result")} if block == "on_failure" else {}
        found[key] = drop_none({**extra, "Conditions": conditions or None})
    return found


def _condition(rec: Record, view: View, at: tuple[str | int, ...]) -> Props:
    rules = []
    for r in range(len(many(dig(rec.values, (*at, "rule"))))):
        rule = (*at, "rule", r)
        rules.append(
            drop_none(
                {
                    "Name": view.val(rec, *rule, "name"),
                    "RuleTypeId": _type_id(rec, view, (*rule, "rule_type_id", 0)),
                    "Configuration": view.val(rec, *rule, "configuration"),
                    "Region": view.val(rec, *rule, "region"),
                    "RoleArn": view.ref(rec, *rule, "role_arn"),
                }
            )
        )
    return drop_none({"Result": view.val(rec, *at, "result"), "Rules": rules})


# ---- ECS, CodeDeploy, CodeCommit, DynamoDB, notifications ------------------------------------


def ecs_cluster(rec: Record, view: View) -> Props:
    return drop_none({"ClusterName": view.val(rec, "name"), "Tags": view.tags(rec)})


def ecs_service(rec: Record, view: View) -> Props:
    balancers = many(dig(rec.values, ("load_balancer",)))
    breaker = ("deployment_circuit_breaker",)
    return drop_none(
        {
            "ServiceName": view.val(rec, "name"),
            "Cluster": view.ref(rec, "cluster"),
            "TaskDefinition": view.ref(rec, "task_definition"),
            "DesiredCount": view.val(rec, "desired_count"),
            "LaunchType": view.val(rec, "launch_type"),
            "HealthCheckGracePeriodSeconds": _written(
                rec, view, "health_check_grace_period_seconds"
            ),
            "DeploymentController": drop_none(
                {"Type": view.val(rec, "deployment_controller", "type")}
            ),
            "DeploymentConfiguration": drop_none(
                {
                    "MaximumPercent": view.val(rec, "deployment_maximum_percent"),
                    "MinimumHealthyPercent": view.val(rec, "deployment_minimum_healthy_percent"),
                    "DeploymentCircuitBreaker": drop_none(
                        {
                            "Enable": view.val(rec, *breaker, "enable"),
                            "Rollback": view.val(rec, *breaker, "rollback"),
                        }
                    ),
                    # ECS native blue/green (CV071).
                    "Strategy": view.val(rec, "deployment_configuration", "strategy"),
                }
            ),
            "LoadBalancers": [
                drop_none(
                    {
                        "TargetGroupArn": view.ref(rec, "load_balancer", i, "target_group_arn"),
                        "ContainerName": view.val(rec, "load_balancer", i, "container_name"),
                        "ContainerPort": view.val(rec, "load_balancer", i, "container_port"),
                        "AdvancedConfiguration": _advanced(rec, view, i),
                    }
                )
                for i in range(len(balancers))
            ],
            "Tags": view.tags(rec),
        }
    )


def _advanced(rec: Record, view: View, index: int) -> Props | None:
    at = ("load_balancer", index, "advanced_configuration")
    return drop_none(
        {
            "AlternateTargetGroupArn": view.ref(rec, *at, "alternate_target_group_arn"),
            "ProductionListenerRule": view.ref(rec, *at, "production_listener_rule"),
            "TestListenerRule": view.ref(rec, *at, "test_listener_rule"),
            "RoleArn": view.ref(rec, *at, "role_arn"),
        }
    )


def ecs_task_definition(rec: Record, view: View) -> Props:
    containers = view.doc(rec, "container_definitions")
    return drop_none(
        {
            "Family": view.val(rec, "family"),
            # The provider takes ECS's JSON (camelCase keys); CloudFormation spells them
            # PascalCase. Values (environment names, images) are kept as written.
            "ContainerDefinitions": _pascal(containers) if isinstance(containers, list) else None,
            "TaskRoleArn": view.ref(rec, "task_role_arn"),
            "ExecutionRoleArn": view.ref(rec, "execution_role_arn"),
            "RequiresCompatibilities": view.val(rec, "requires_compatibilities"),
            "RuntimePlatform": drop_none(
                {"CpuArchitecture": view.val(rec, "runtime_platform", "cpu_architecture")}
            ),
            "Tags": view.tags(rec),
        }
    )


def _pascal(value: Any, depth: int = 0) -> Any:
    if depth > 20:
        return value
    if isinstance(value, dict):
        return {
            (k[:1].upper() + k[1:] if isinstance(k, str) else k): _pascal(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_pascal(v, depth + 1) for v in value]
    return value


# ---- Elastic Load Balancing ------------------------------------------------------------------


def load_balancer(rec: Record, view: View) -> Props:
    internal = view.val(rec, "internal")
    return drop_none(
        {
            # The provider's `internal` (default false) is CloudFormation's Scheme.
            "Name": _name(rec, view, "name"),
            "Scheme": "internal" if internal is True else "internet-facing",
            "Type": view.val(rec, "load_balancer_type"),
            "Tags": view.tags(rec),
        }
    )


def _lb_actions(rec: Record, view: View, block: str) -> list[Props]:
    return [
        drop_none(
            {
                "Type": view.val(rec, block, i, "type"),
                "TargetGroupArn": view.ref(rec, block, i, "target_group_arn"),
                "RedirectConfig": drop_none(
                    {
                        "Protocol": view.val(rec, block, i, "redirect", 0, "protocol"),
                        "Port": view.val(rec, block, i, "redirect", 0, "port"),
                        "StatusCode": view.val(rec, block, i, "redirect", 0, "status_code"),
                    }
                ),
            }
        )
        for i in range(len(many(dig(rec.values, (block,)))))
    ]


def lb_listener(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "LoadBalancerArn": view.ref(rec, "load_balancer_arn"),
            "Port": view.val(rec, "port"),
            "Protocol": view.val(rec, "protocol"),
            "SslPolicy": view.val(rec, "ssl_policy"),
            "DefaultActions": _lb_actions(rec, view, "default_action"),
            "Tags": view.tags(rec),
        }
    )


def lb_listener_rule(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "ListenerArn": view.ref(rec, "listener_arn"),
            "Actions": _lb_actions(rec, view, "action"),
            "Tags": view.tags(rec),
        }
    )


def codedeploy_app(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "ApplicationName": view.val(rec, "name"),
            "ComputePlatform": view.val(rec, "compute_platform"),
            "Tags": view.tags(rec),
        }
    )


def codedeploy_group(rec: Record, view: View) -> Props:
    rollback = ("auto_rollback_configuration",)
    alarms = ("alarm_configuration",)
    services = many(dig(rec.values, ("ecs_service",)))
    return drop_none(
        {
            "ApplicationName": view.ref(rec, "app_name"),
            "DeploymentGroupName": view.val(rec, "deployment_group_name"),
            "ServiceRoleArn": view.ref(rec, "service_role_arn"),
            "DeploymentConfigName": view.val(rec, "deployment_config_name"),
            "AutoRollbackConfiguration": drop_none(
                {
                    "Enabled": view.val(rec, *rollback, "enabled"),
                    "Events": view.val(rec, *rollback, "events"),
                }
            ),
            "AlarmConfiguration": drop_none(
                {
                    "Enabled": view.val(rec, *alarms, "enabled"),
                    "Alarms": [{"Name": n} for n in many(view.val(rec, *alarms, "alarms"))],
                }
            ),
            "DeploymentStyle": drop_none(
                {
                    "DeploymentType": view.val(rec, "deployment_style", "deployment_type"),
                    "DeploymentOption": view.val(rec, "deployment_style", "deployment_option"),
                }
            ),
            "ECSServices": [
                drop_none(
                    {
                        "ClusterName": view.ref(rec, "ecs_service", i, "cluster_name"),
                        "ServiceName": view.ref(rec, "ecs_service", i, "service_name"),
                    }
                )
                for i in range(len(services))
            ],
            "LoadBalancerInfo": _load_balancer_info(rec, view),
        }
    )


def _load_balancer_info(rec: Record, view: View) -> Props | None:
    """The target group pair of an ECS blue/green group (CV071): two ``target_group`` blocks,
    the production and test listeners."""
    at = ("load_balancer_info", "target_group_pair_info")
    pairs = many(dig(rec.values, at))
    out = []
    for i in range(len(pairs)):
        groups = many(dig(rec.values, (*at, i, "target_group")))
        out.append(
            drop_none(
                {
                    "TargetGroups": [
                        {"Name": view.ref(rec, *at, i, "target_group", g, "name")}
                        for g in range(len(groups))
                    ],
                    "ProdTrafficRoute": drop_none(
                        {
                            "ListenerArns": view.refs(
                                rec, *at, i, "prod_traffic_route", "listener_arns"
                            )
                        }
                    ),
                    "TestTrafficRoute": drop_none(
                        {
                            "ListenerArns": view.refs(
                                rec, *at, i, "test_traffic_route", "listener_arns"
                            )
                        }
                    ),
                }
            )
        )
    return {"TargetGroupPairInfoList": out} if out else None


def codecommit_repository(rec: Record, view: View) -> Props:
    return drop_none({"RepositoryName": view.val(rec, "repository_name"), "Tags": view.tags(rec)})


def dynamodb_table(rec: Record, view: View) -> Props:
    sse = ("server_side_encryption",)
    return drop_none(
        {
            "TableName": _name(rec, view, "name"),
            # CV014 reads encryption and recovery.
            "SSESpecification": drop_none(
                {
                    "SSEEnabled": view.val(rec, *sse, "enabled"),
                    "KMSMasterKeyId": view.ref(rec, *sse, "kms_key_arn") or None,
                }
            ),
            "PointInTimeRecoverySpecification": drop_none(
                {"PointInTimeRecoveryEnabled": view.val(rec, "point_in_time_recovery", "enabled")}
            ),
            "Tags": view.tags(rec),
        }
    )


def ssm_parameter(rec: Record, view: View) -> Props:
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "Type": view.val(rec, "type"),
            "Value": view.val(rec, "value"),
            "Tags": view.tags(rec),
        }
    )


def notification_rule(rec: Record, view: View) -> Props:
    targets = many(dig(rec.values, ("target",)))
    return drop_none(
        {
            "Name": view.val(rec, "name"),
            "Resource": view.ref(rec, "resource"),
            "EventTypeIds": view.val(rec, "event_type_ids"),
            "Targets": [
                drop_none(
                    {
                        "TargetAddress": view.ref(rec, "target", i, "address"),
                        "TargetType": view.val(rec, "target", i, "type") or "SNS",
                    }
                )
                for i in range(len(targets))
            ],
        }
    )


# ---- the tables ------------------------------------------------------------------------------


class Mapping(FrozenPlain):
    """A Terraform type's CloudFormation type and how its properties are built (a
    ``FrozenPlain``, not a dataclass: conveyor.rules.plain says why)."""

    _FIELDS = ("cfn_type", "build", "deleted_with_stack")
    __slots__ = _FIELDS
    cfn_type: str
    build: Mapper
    # Terraform destroys what it created: buckets and repositories are deleted with the
    # configuration (DeletionPolicy Delete), emptied first only with force_destroy/force_delete.
    deleted_with_stack: bool

    def __init__(self, cfn_type: str, build: Mapper, deleted_with_stack: bool = False) -> None:
        _set = object.__setattr__
        _set(self, "cfn_type", cfn_type)
        _set(self, "build", build)
        _set(self, "deleted_with_stack", deleted_with_stack)


TYPES: dict[str, Mapping] = {
    "aws_s3_bucket": Mapping("AWS::S3::Bucket", s3_bucket, deleted_with_stack=True),
    "aws_s3_bucket_policy": Mapping("AWS::S3::BucketPolicy", s3_bucket_policy),
    "aws_ecr_repository": Mapping("AWS::ECR::Repository", ecr_repository, deleted_with_stack=True),
    "aws_sns_topic": Mapping("AWS::SNS::Topic", sns_topic),
    "aws_sqs_queue": Mapping("AWS::SQS::Queue", sqs_queue),
    "aws_sns_topic_policy": Mapping("AWS::SNS::TopicPolicy", sns_topic_policy),
    "aws_sns_topic_subscription": Mapping("AWS::SNS::Subscription", sns_subscription),
    "aws_iam_role": Mapping("AWS::IAM::Role", iam_role),
    "aws_iam_role_policy": Mapping("AWS::IAM::RolePolicy", iam_role_policy),
    "aws_iam_policy": Mapping("AWS::IAM::ManagedPolicy", iam_policy),
    "aws_cloudwatch_log_group": Mapping("AWS::Logs::LogGroup", log_group),
    "aws_kms_key": Mapping("AWS::KMS::Key", kms_key),
    "aws_cloudwatch_metric_alarm": Mapping("AWS::CloudWatch::Alarm", metric_alarm),
    "aws_cloudwatch_event_rule": Mapping("AWS::Events::Rule", event_rule),
    "aws_scheduler_schedule": Mapping("AWS::Scheduler::Schedule", scheduler_schedule),
    "aws_codebuild_project": Mapping("AWS::CodeBuild::Project", codebuild_project),
    "aws_lambda_function": Mapping("AWS::Lambda::Function", lambda_function),
    "aws_lambda_alias": Mapping("AWS::Lambda::Alias", lambda_alias),
    "aws_lambda_event_source_mapping": Mapping(
        "AWS::Lambda::EventSourceMapping", lambda_event_source_mapping
    ),
    "aws_lambda_function_event_invoke_config": Mapping(
        "AWS::Lambda::EventInvokeConfig", lambda_event_invoke_config
    ),
    "aws_codepipeline": Mapping("AWS::CodePipeline::Pipeline", codepipeline),
    "aws_ecs_cluster": Mapping("AWS::ECS::Cluster", ecs_cluster),
    "aws_ecs_service": Mapping("AWS::ECS::Service", ecs_service),
    "aws_ecs_task_definition": Mapping("AWS::ECS::TaskDefinition", ecs_task_definition),
    "aws_lb": Mapping("AWS::ElasticLoadBalancingV2::LoadBalancer", load_balancer),
    "aws_alb": Mapping("AWS::ElasticLoadBalancingV2::LoadBalancer", load_balancer),
    "aws_lb_listener": Mapping("AWS::ElasticLoadBalancingV2::Listener", lb_listener),
    "aws_alb_listener": Mapping("AWS::ElasticLoadBalancingV2::Listener", lb_listener),
    "aws_lb_listener_rule": Mapping("AWS::ElasticLoadBalancingV2::ListenerRule", lb_listener_rule),
    "aws_alb_listener_rule": Mapping("AWS::ElasticLoadBalancingV2::ListenerRule", lb_listener_rule),
    "aws_codedeploy_app": Mapping("AWS::CodeDeploy::Application", codedeploy_app),
    "aws_codedeploy_deployment_group": Mapping(
        "AWS::CodeDeploy::DeploymentGroup", codedeploy_group
    ),
    "aws_codecommit_repository": Mapping("AWS::CodeCommit::Repository", codecommit_repository),
    "aws_dynamodb_table": Mapping("AWS::DynamoDB::Table", dynamodb_table),
    "aws_ssm_parameter": Mapping("AWS::SSM::Parameter", ssm_parameter),
    "aws_codestarnotifications_notification_rule": Mapping(
        "AWS::CodeStarNotifications::NotificationRule", notification_rule
    ),
}


class Join(FrozenPlain):
    """A split resource folded back into its owner: ``attribute`` of the child names the owner
    (by reference in the plan, or by the owner's id/name/ARN value); ``merge`` fills the
    owner's CloudFormation ``property`` from it (what a finding about that property names
    instead: ``inputs/wording.py``)."""

    _FIELDS = ("owner_types", "attribute", "merge", "property")
    __slots__ = _FIELDS
    owner_types: tuple[str, ...]
    attribute: str
    merge: Callable[[Props, Record, View], None]
    property: str

    def __init__(
        self,
        owner_types: tuple[str, ...],
        attribute: str,
        merge: Callable[[Props, Record, View], None],
        property: str,
    ) -> None:
        _set = object.__setattr__
        _set(self, "owner_types", owner_types)
        _set(self, "attribute", attribute)
        _set(self, "merge", merge)
        _set(self, "property", property)


JOINS: dict[str, Join] = {
    "aws_s3_bucket_server_side_encryption_configuration": Join(
        ("aws_s3_bucket",), "bucket", join_s3_encryption, "BucketEncryption"
    ),
    "aws_s3_bucket_public_access_block": Join(
        ("aws_s3_bucket",), "bucket", join_s3_public_access_block, "PublicAccessBlockConfiguration"
    ),
    "aws_s3_bucket_versioning": Join(
        ("aws_s3_bucket",), "bucket", join_s3_versioning, "VersioningConfiguration"
    ),
    "aws_s3_bucket_lifecycle_configuration": Join(
        ("aws_s3_bucket",), "bucket", join_s3_lifecycle, "LifecycleConfiguration"
    ),
    "aws_s3_bucket_notification": Join(
        ("aws_s3_bucket",), "bucket", join_s3_notification, "NotificationConfiguration"
    ),
    "aws_ecr_lifecycle_policy": Join(
        ("aws_ecr_repository",), "repository", join_ecr_lifecycle, "LifecyclePolicy"
    ),
    "aws_iam_role_policy_attachment": Join(
        ("aws_iam_role",), "role", join_iam_attachment, "ManagedPolicyArns"
    ),
    "aws_cloudwatch_event_target": Join(
        ("aws_cloudwatch_event_rule",), "rule", join_event_target, "Targets"
    ),
}

# Attributes whose value identifies a resource, for joining and referencing by value (state
# files and Pulumi exports carry values, not configuration expressions).
IDENTITY_ATTRIBUTES = ("id", "arn", "name", "bucket", "function_name")
# Policies whose id, bucket or arn is the resource they attach to: none of those values names
# the policy itself (taken as identities, a policy on a bucket outside the input referenced
# itself: a false CV057 cycle; listed before its bucket, it took the bucket's name).
ATTACHED_POLICY_TYPES = frozenset({"aws_s3_bucket_policy", "aws_sns_topic_policy"})
