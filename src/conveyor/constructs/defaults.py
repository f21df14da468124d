"""Secure defaults, in one place. Each names the failure mode it prevents.

Constructs call these builders instead of instantiating S3/KMS/Logs/SNS resources themselves, so
a fix to a default reaches every pipeline at once. Callers pass the security inputs (key,
production flag, retention) explicitly: there is no insecure fallback to forget.
"""

from __future__ import annotations

import jsii
from aws_cdk import Aws, Duration, IStableListProducer, Lazy, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from conveyor.spec.models import LOG_RETENTION_DAYS

# prevents FM21: a current CodeBuild image (Ubuntu 22.04, Docker 24+, buildx).
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0

# prevents FM115: HTTPS listeners negotiate TLS 1.2 or 1.3 only, with hybrid post-quantum key
# exchange where clients offer it: the policy the ELB console now defaults to and AWS recommends
# (backward compatible with TLS 1.2-only and 1.3-only clients). CloudFormation's own default,
# ELBSecurityPolicy-2016-08, still accepts TLS 1.0 and 1.1 (CV106).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS_POLICY = elbv2.SslPolicy.TLS13_12_RES_PQ

# Handlers need no dependency outside the runtime (boto3 included); prevents FM65. The same as
# conveyor.lambda_runtimes.HANDLERS, whose deprecation date `conveyor validate` warns about.
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_12

COMPUTE_TYPES = {
    "small": codebuild.ComputeType.SMALL,
    "medium": codebuild.ComputeType.MEDIUM,
    "large": codebuild.ComputeType.LARGE,
    "xlarge": codebuild.ComputeType.X_LARGE,
    "2xlarge": codebuild.ComputeType.X2_LARGE,
}

# CloudWatch's retention periods in days, in the order of CDK's enum (INFINITE, last, is never
# used: prevents FM24).
RETENTION = dict(zip(LOG_RETENTION_DAYS, list(logs.RetentionDays)[:-1], strict=True))

# Tag keys conveyor writes on every taggable resource (FM80).
TAG_APP = "App"
TAG_ENVIRONMENT = "Environment"
TAG_OWNER = "Owner"
TAG_MANAGED_BY = "ManagedBy"
MANAGED_BY = "conveyor"

_KEY_USE = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def removal_policy(*, production: bool) -> RemovalPolicy:
    # prevents FM05: every stateful resource says what happens on stack deletion. Production
    # data is kept; everything else is destroyed (and emptied) so stacks delete cleanly.
    # Kept on update and delete but not on a failed create (DeletionPolicy
    # RetainExceptOnCreate): a named resource left behind by a rolled-back first deploy would
    # make the retry fail with "already exists".
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
    if production:
        return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
    return RemovalPolicy.DESTROY


def encryption_key(
    scope: Construct, id: str, *, alias: str, description: str, production: bool
) -> kms.Key:
    return kms.Key(
        scope,
        id,
        alias=f"alias/{alias}",
        description=description,
        enable_key_rotation=True,  # prevents FM07
        removal_policy=removal_policy(production=production),
        pending_window=Duration.days(30 if production else 7),
    )


def allow_logs_to_use_key(key: kms.Key, *, log_group_prefix: str) -> None:
    # CloudWatch Logs encrypts with the key as its own service principal; CDK's LogGroup does
    # not add this grant, and without it the log group fails to create (CDK-NOTES).
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"AllowCloudWatchLogs{_sid(log_group_prefix)}",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=_KEY_USE,
            resources=["*"],  # in a key policy, "*" means this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}"
                        f":log-group:{log_group_prefix}*"
                    )
                }
            },
        )
    )


def allow_service_to_publish_encrypted(key: kms.Key, service: str) -> None:
    """The key side of a service publishing to a topic encrypted with `key`.

    An AWS service that publishes to an SSE topic (CloudWatch alarms, EventBridge) encrypts as
    its own service principal: without kms:GenerateDataKey*/Decrypt in the key policy its
    messages are dropped silently. Called by `NoticeTopic.allow_service` only, so the key
    policy names exactly the services some topic lets publish. Idempotent per key and service.
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    """
    marker = f"Allows{_sid(service)}ToPublish"
    if key.node.try_find_child(marker) is not None:
        return
    # An empty construct under the key records the grant (the key policy cannot be queried).
    Construct(key, marker)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{_sid(service)}ToPublish",
            principals=[iam.ServicePrincipal(service)],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],  # in a key policy, "*" means this key
            # EventBridge's key requests for SNS delivery carry no aws:SourceAccount, so a
            # condition on it would drop every event; the topic policy scopes the rule instead.
            conditions=(
                None
                if service == "events.amazonaws.com"
                else {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
    )


def log_group(
    scope: Construct,
    id: str,
    *,
    name: str,
    key: kms.Key,
    retention_days: int,
    production: bool,
) -> logs.LogGroup:
    # prevents FM23 (created before whoever writes to it), FM24 (retention), FM08 (encrypted).
    return logs.LogGroup(
        scope,
        id,
        log_group_name=name,
        encryption_key=key,
        retention=RETENTION[retention_days],
        removal_policy=removal_policy(production=production),
    )


def table(
    scope: Construct,
    id: str,
    *,
    name: str,
    key: kms.Key,
    production: bool,
    partition_key: str,
    sort_key: str | None = None,
    global_secondary_indexes: list[dynamodb.GlobalSecondaryIndexPropsV2] | None = None,
    time_to_live_attribute: str | None = None,
) -> dynamodb.TableV2:
    """An on-demand table on the given customer key with point-in-time recovery, protected from
    deletion and retained in production (prevents FM05, FM08)."""
    return dynamodb.TableV2(
        scope,
        id,
        table_name=name,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=(
            dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING)
            if sort_key
            else None
        ),
        global_secondary_indexes=global_secondary_indexes,
        time_to_live_attribute=time_to_live_attribute,
        billing=dynamodb.Billing.on_demand(),
        encryption=dynamodb.TableEncryptionV2.customer_managed_key(key),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=production,
        removal_policy=removal_policy(production=production),
    )


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey | None,
    production: bool,
    expire_days: int,
    access_logs: s3.IBucket | None,
    access_logs_prefix: str = "",
    event_bridge: bool = False,
    bucket_name: str | None = None,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
) -> s3.Bucket:
    """A private, encrypted, versioned bucket with expiry (`lifecycle_rules` replace the
    default expiry of current and noncurrent versions after `expire_days`).

    `key=None` means SSE-S3: only for the log bucket, because S3 server access logs and ALB
    access logs cannot be delivered to a bucket encrypted with a customer key.
    """
    return s3.Bucket(
        scope,
        id,
        # Left to CloudFormation unless another account must know it (FM06: the name then
        # carries the account and region, which no other copy of the stack shares).
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.KMS if key is not None else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,  # prevents FM02
        bucket_key_enabled=key is not None,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,  # prevents FM01
        enforce_ssl=True,  # prevents FM04
        minimum_tls_version=1.2,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        lifecycle_rules=lifecycle_rules
        or [
            # prevents FM03: current and noncurrent versions both expire.
            s3.LifecycleRule(
                id="expire",
                expiration=Duration.days(expire_days),
                noncurrent_version_expiration=Duration.days(expire_days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ],
        removal_policy=removal_policy(production=production),  # prevents FM05
        auto_delete_objects=not production,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix or None,
        event_bridge_enabled=event_bridge,
    )


@jsii.implements(IStableListProducer)
class _Listing:
    """A list whose items are known only once every construct has registered its own."""

    def __init__(self, items: list[str]) -> None:
        self._items = items

    def produce(self) -> list[str]:
        return list(self._items)


class NoticeTopic(sns.Topic):
    """An encrypted, TLS-only topic that allows exactly the AWS services targeting it.

    An explicit topic policy replaces SNS's default one, so the TLS-only Deny alone shuts out
    every service principal: CloudWatch alarms and EventBridge rules need an Allow of their own
    (FM08 encryption, FM71 someone must actually be told). Each service is limited to this
    account and to the resources that target the topic (aws:SourceAccount, aws:SourceArn).
    https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
    """

    def __init__(self, scope: Construct, id: str, *, name: str, key: kms.Key) -> None:
        super().__init__(
            scope,
            id,
            topic_name=name,
            display_name=name,
            master_key=key,  # prevents FM08
            enforce_ssl=True,
        )
        self._encryption_key = key
        self._sources: dict[str, list[str]] = {}

    def allow_service(self, service: str, source_arn: str) -> None:
        """Let `service` publish on behalf of the resource `source_arn` (an alarm, a rule)."""
        if service not in self._sources:
            sources: list[str] = []
            self._sources[service] = sources
            self.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"Allow{_sid(service)}ToPublish",
                    principals=[iam.ServicePrincipal(service)],
                    actions=["sns:Publish"],
                    resources=[self.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                        # Filled as publishers register; resolved when the stack synthesizes.
                        "ArnLike": {"aws:SourceArn": Lazy.list(_Listing(sources))},
                    },
                )
            )
            allow_service_to_publish_encrypted(self._encryption_key, service)
        self._sources[service].append(source_arn)

    def allow_chat_subscriptions(self) -> None:
        """Let principals of this account subscribe chat applications' endpoint, and only it:
        a channel configuration subscribes it when created (protocol https).
        https://docs.aws.amazon.com/chatbot/latest/adminguide/related-services.html"""
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowChatApplicationsToSubscribe",
                principals=[iam.AccountRootPrincipal()],
                actions=["sns:Subscribe"],
                resources=[self.topic_arn],
                conditions={
                    "StringEquals": {
                        "sns:Protocol": "https",
                        "sns:Endpoint": CHAT_APPLICATIONS_ENDPOINT,
                    }
                },
            )
        )


# Where SNS delivers to Amazon Q Developer in chat applications (formerly AWS Chatbot).
CHAT_APPLICATIONS_ENDPOINT = "https://global.sns-api.chatbot.amazonaws.com"


def encrypted_topic(scope: Construct, id: str, *, name: str, key: kms.Key) -> NoticeTopic:
    return NoticeTopic(scope, id, name=name, key=key)


def _sid(text: str) -> str:
    return "".join(
        part.capitalize() for part in text.replace("/", "-").replace(".", "-").split("-")
    )


def alarm(
    scope: Construct,
    id: str,
    *,
    name: str,
    description: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    topic: NoticeTopic | None,
    evaluation_periods: int = 1,
    comparison: cloudwatch.ComparisonOperator = (
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    ),
) -> cloudwatch.Alarm:
    """An alarm that says what it watches and tells the topic (FM73)."""
    created = cloudwatch.Alarm(
        scope,
        id,
        alarm_name=name,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=comparison,
        # prevents FM72: no data (no traffic, no executions) is not an incident.
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if topic is not None:
        created.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        topic.allow_service("cloudwatch.amazonaws.com", created.alarm_arn)
    return created
