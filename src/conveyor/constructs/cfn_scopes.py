"""Which resources a CloudFormation service role's changing calls may act on: its stack's own.

The resource schemas (cfn_permissions.py) say which calls a stack operation makes; they do not
say on what. Granted on "*", the calls that delete, reconfigure or open up an existing resource
(s3:DeleteBucket, s3:PutBucketPolicy, logs:DeleteLogGroup, sns:SetTopicAttributes,
lambda:UpdateFunctionCode, lambda:AddPermission, ecs:UpdateService, ec2:DeleteVpc,
ec2:AuthorizeSecurityGroupIngress, elasticloadbalancing:ModifyListener, ...) let staging's stack,
or whoever can change its template, reach production's resources and other apps' (issue 10).

So each service's calls that act on a resource of the stack's kinds go to that stack's own:
- by ARN, where conveyor fixes the name (constructs/naming.py: `{app}-{kind}-{env}`): log
  groups, topics, functions, clusters, services, task definition families, load balancers and
  their listeners and rules. The names are exact; no pattern reaches another stack's names.
- by the App and Environment tags conveyor puts on every resource, where the service or
  CloudFormation generates the id (EC2, target groups, an unnamed function or log group).
  `StringEqualsIfExists`: a resource tagged for another app or environment is refused, while
  one not yet tagged passes, because CloudFormation authorizes a new security group's inline
  rules before it tags the group (it calls CreateSecurityGroup, AuthorizeSecurityGroupIngress/
  Egress, then CreateTags: https://github.com/aws/aws-cdk/issues/13204,
  https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/714).
- S3 has no resource-tag condition for buckets: by the name CloudFormation generates,
  `{stack}-{logical id}-{random}`, lowercased
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html).

What stays on "*" (in cloudformation_role.py): creates of resources whose ids do not exist yet,
reads, and the calls the Service Authorization Reference lists without a resource type (they
can only be granted on "*"): ecs:DeregisterTaskDefinition, ecs:PutAccountSetting[Default],
logs:PutResourcePolicy/DeleteResourcePolicy/PutIndexPolicy/DeleteIndexPolicy, sns:Unsubscribe,
sns:Get/SetSubscriptionAttributes.

Resource types and condition keys per action, from the Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html

Scaling and alarms (issue 15 review: staging's deploy could delete production's scaling policy
or its alarms):
- Application Auto Scaling names a scalable target by an id it generates
  (`scalable-target/1234abcd...`), and authorizes every call that acts on one, its register
  and its policies and scheduled actions included, on that ARN, with aws:ResourceTag (ABAC):
  https://docs.aws.amazon.com/autoscaling/application/userguide/resource-tagging-support.html
  conveyor's targets carry the App and Environment tags (AWS::ApplicationAutoScaling::
  ScalableTarget takes Tags, as RegisterScalableTarget does). What stays open: registering a
  new target for a resource that has none (its condition keys name the namespace and the
  dimension, not the resource id), and the Describe* calls, which have no resource type.
- CloudWatch authorizes PutMetricAlarm, DeleteAlarms and the alarm tag calls on the alarm's
  ARN, `alarm:{name}`: the stack's alarms by the names conveyor gives them, and the alarms a
  target tracking policy has Application Auto Scaling create and delete for an ECS service,
  `TargetTracking-service/{cluster}/{service}-AlarmHigh-{uuid}` (`-AlarmLow-`), by the
  cluster's and service's names
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html,
  its example's response). DescribeAlarms stays on "*" (a read; composite alarms are only
  described to a "*" grant).
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Aws, CfnResource, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from conveyor.constructs import acknowledgements, defaults

# Calls of these services that act on one resource of the kinds a conveyor stack holds (the
# resource type column of each action in the reference above is not empty).
SCOPED_SERVICES = (
    "s3",
    "logs",
    "sns",
    "lambda",
    "ecs",
    "ec2",
    "elasticloadbalancing",
    "scheduler",
    "sqs",
    "events",
    "application-autoscaling",
    "cloudwatch",
    "ecr",
)

# Per service, the calls that are NOT scoped: creates of a resource with a generated id (its
# ARN is unknown until the call returns), reads, and calls without a resource type.
UNSCOPED: Mapping[str, frozenset[str]] = {
    "s3": frozenset(
        {
            # Reading the function code: granted on the code buckets by cloudformation_role.
            "s3:GetObject",
            "s3:GetObjectVersion",
        }
    ),
    "logs": frozenset(
        {
            # No resource type in the reference: "*" only.
            "logs:PutResourcePolicy",
            "logs:DeleteResourcePolicy",
            "logs:PutIndexPolicy",
            "logs:DeleteIndexPolicy",
            "logs:DescribeIndexPolicies",
            "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies",
            # Vended-log deliveries (CloudWatch Logs' delivery API), not log groups.
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery",
        }
    ),
    "sns": frozenset(
        {
            # A subscription's ARN, no resource type in the reference: "*" only.
            "sns:Unsubscribe",
            "sns:GetSubscriptionAttributes",
            "sns:SetSubscriptionAttributes",
        }
    ),
    "lambda": frozenset(
        {
            # Layers and code-signing configurations the stack uses but does not own.
            "lambda:GetLayerVersion",
            "lambda:GetCodeSigningConfig",
            "lambda:PassCapacityProvider",
        }
    ),
    "ecs": frozenset(
        {
            # No resource type in the reference: "*" only. Deregistering leaves running tasks
            # running (API_DeregisterTaskDefinition.html).
            "ecs:DeregisterTaskDefinition",
            "ecs:DescribeTaskDefinition",
            "ecs:PutAccountSetting",
            "ecs:PutAccountSettingDefault",
        }
    ),
    "ec2": frozenset(
        {
            # Creates of a resource whose id EC2 generates; they add to a VPC, change nothing
            # existing.
            "ec2:AcceptAddressTransfer",
            "ec2:AllocateAddress",
            "ec2:CreateFlowLogs",
            "ec2:CreateInternetGateway",
            "ec2:CreateNatGateway",
            "ec2:CreateRouteTable",
            "ec2:CreateSecurityGroup",
            "ec2:CreateSubnet",
            "ec2:CreateVpc",
            "ec2:CreateVpcEncryptionControl",
        }
    ),
    "elasticloadbalancing": frozenset(),
    # Every schedule call names a schedule (schedule/{group}/{name}), its create too.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html
    "scheduler": frozenset(),
    # Every SQS call but ListQueues names its queue, CreateQueue too (the queue's ARN is its
    # name): a worker's queue, a job's dead-letter queue (issue 15).
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
    "sqs": frozenset(),
    # Every repository call of the schema names its repository, CreateRepository too (the
    # repository's ARN is its name); reads of the registry are Describe/List calls.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    "ecr": frozenset(),
    "events": frozenset(
        {
            # An event bus's policy (AWS::Events::EventBusPolicy) opens a bus the stack does
            # not own (the account's default bus): not one of the stack's rules.
            "events:PutPermission",
            "events:RemovePermission",
        }
    ),
    # Every call but the Describe* names its scalable target.
    "application-autoscaling": frozenset(),
    # No resource type in the reference: metrics, not alarms.
    "cloudwatch": frozenset({"cloudwatch:GetMetricData", "cloudwatch:PutMetricData"}),
}


def scoped(action: str) -> bool:
    """Whether `action` is granted only on the stack's own resources."""
    service, _, name = action.partition(":")
    if service not in SCOPED_SERVICES or action in UNSCOPED[service]:
        return False
    return not name.startswith(("Describe", "List"))


# EC2 resources the scoped calls act on (the security group rule: an Authorize call may name
# one when it tags the rule it creates; the network interface: DisassociateAddress).
EC2_TYPES = (
    "elastic-ip",
    "internet-gateway",
    "natgateway",
    "network-interface",
    "route-table",
    "security-group",
    "security-group-rule",
    "subnet",
    "vpc",
    "vpc-flow-log",
    "vpn-gateway",
)


@dataclass
class Owned:
    """One service's resources of a stack: ARNs of the named ones, ARN patterns (to be
    conditioned on the stack's tags) for the ones the service or CloudFormation names."""

    named: set[str] = field(default_factory=set)
    tagged: set[str] = field(default_factory=set)


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and not Token.is_unresolved(value) else None


def _typed(stack: Stack, kind: str) -> list[CfnResource]:
    """`stack`'s L1 resources of CloudFormation type `kind`, L1 class or not."""
    return [
        child
        for child in stack.node.find_all()
        if isinstance(child, CfnResource) and child.cfn_resource_type == kind
    ]


def bucket_name_pattern(stack_name: str, logical_id: str) -> str:
    """The name CloudFormation gives an unnamed bucket: `{stack}-{logical id}-{random}`,
    lowercased; when that would pass the 63 characters of a bucket name CloudFormation
    shortens the parts (https://github.com/getmoto/moto/issues/3168), so only the stack's
    name is certain."""
    prefix = f"{stack_name}-{logical_id}-".lower()
    # 13: the longest random part seen (`...-serverlessdeploymentbuck-1234567890123`).
    if len(prefix) + 13 <= 63:
        return f"{prefix}*"
    return f"{stack_name.lower()}-*"


def owned(stack: Stack) -> dict[str, Owned]:
    """Per service, where `stack`'s own resources are."""
    partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID
    found = {service: Owned() for service in SCOPED_SERVICES}

    def arn(service: str, rest: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{rest}"

    for bucket in _typed(stack, "AWS::S3::Bucket"):
        # A name made of the account and region (an artifact store's) is that bucket's too:
        # the ARN resolves where the stack deploys, as the name does.
        name = bucket.bucket_name if isinstance(bucket, s3.CfnBucket) else None
        # (CDK's generate-if-needed name is a token that resolves to nothing: no name.)
        if not isinstance(name, str) or not stack.resolve(name):
            logical_id = stack.resolve(stack.get_logical_id(bucket))
            name = bucket_name_pattern(stack.stack_name, logical_id)
        found["s3"].named |= {f"arn:{partition}:s3:::{name}", f"arn:{partition}:s3:::{name}/*"}

    for group in _typed(stack, "AWS::Logs::LogGroup"):
        name = _literal(group.log_group_name) if isinstance(group, logs.CfnLogGroup) else None
        if name is None:
            found["logs"].tagged.add(arn("logs", "log-group:*"))
        else:
            # Calls on a log group are authorized on its ARN with and without the ":*" that
            # DescribeLogGroups reports.
            found["logs"].named |= {
                arn("logs", f"log-group:{name}"),
                arn("logs", f"log-group:{name}:*"),
            }

    for topic in _typed(stack, "AWS::SNS::Topic"):
        name = _literal(topic.topic_name) if isinstance(topic, sns.CfnTopic) else None
        if name is None:
            found["sns"].tagged.add(arn("sns", "*"))
        else:
            found["sns"].named.add(arn("sns", name))

    for function in _typed(stack, "AWS::Lambda::Function"):
        name = (
            _literal(function.function_name) if isinstance(function, lambda_.CfnFunction) else None
        )
        if name is None:
            found["lambda"].tagged |= {arn("lambda", "function:*")}
        else:
            # The function, and its versions and aliases (`function:{name}:{qualifier}`).
            found["lambda"].named |= {
                arn("lambda", f"function:{name}"),
                arn("lambda", f"function:{name}:*"),
            }

    clusters: dict[str, str] = {}
    # (cluster, service) of each ECS service whose names are known; None for one that is not.
    ecs_services: list[tuple[str, str] | None] = []
    for cluster in _typed(stack, "AWS::ECS::Cluster"):
        name = _literal(cluster.cluster_name) if isinstance(cluster, ecs.CfnCluster) else None
        if name is None:
            found["ecs"].tagged.add(arn("ecs", "cluster/*"))
        else:
            clusters[stack.resolve(stack.get_logical_id(cluster))] = name
            found["ecs"].named.add(arn("ecs", f"cluster/{name}"))
    for service in _typed(stack, "AWS::ECS::Service"):
        name = _literal(service.service_name) if isinstance(service, ecs.CfnService) else None
        cluster_ref = (
            stack.resolve(service.cluster) if isinstance(service, ecs.CfnService) else None
        )
        cluster_name = (
            clusters.get(cluster_ref.get("Ref", ""))
            if isinstance(cluster_ref, dict)
            else _literal(cluster_ref)
        )
        if name is None or cluster_name is None:
            ecs_services.append(None)
            found["ecs"].tagged |= {arn("ecs", "service/*"), arn("ecs", "service-deployment/*")}
        else:
            ecs_services.append((cluster_name, name))
            found["ecs"].named |= {
                arn("ecs", f"service/{cluster_name}/{name}"),
                arn("ecs", f"service-deployment/{cluster_name}/{name}/*"),
            }
    for task in _typed(stack, "AWS::ECS::TaskDefinition"):
        family = _literal(task.family) if isinstance(task, ecs.CfnTaskDefinition) else None
        if family is None:
            found["ecs"].tagged.add(arn("ecs", "task-definition/*"))
        else:
            found["ecs"].named.add(arn("ecs", f"task-definition/{family}:*"))

    for balancer in _typed(stack, "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        name = _literal(balancer.name) if isinstance(balancer, elbv2.CfnLoadBalancer) else None
        kind = {"network": "net", "gateway": "gwy"}.get(
            str(getattr(balancer, "type", None) or "application"), "app"
        )
        if name is None:
            found["elasticloadbalancing"].tagged |= {
                arn("elasticloadbalancing", f"{part}/{kind}/*")
                for part in ("loadbalancer", "listener", "listener-rule")
            }
        else:
            # `listener/app/{balancer}/{id}/{listener id}`, its rules one level down: the
            # balancer's name is a whole path segment.
            found["elasticloadbalancing"].named |= {
                arn("elasticloadbalancing", f"{part}/{kind}/{name}/*")
                for part in ("loadbalancer", "listener", "listener-rule")
            }
    if _typed(stack, "AWS::ElasticLoadBalancingV2::TargetGroup"):
        # Target group names are generated (CloudFormation's, at most 32 characters).
        found["elasticloadbalancing"].tagged.add(arn("elasticloadbalancing", "targetgroup/*"))

    for schedule in _typed(stack, "AWS::Scheduler::Schedule"):
        name = _literal(schedule.name) if isinstance(schedule, scheduler.CfnSchedule) else None
        in_group = (
            _literal(schedule.group_name) if isinstance(schedule, scheduler.CfnSchedule) else None
        )
        # A schedule has no tags to condition on: an unnamed one is any schedule of the group.
        found["scheduler"].named.add(
            arn("scheduler", f"schedule/{in_group or 'default'}/{name or '*'}")
        )

    for queue in _typed(stack, "AWS::SQS::Queue"):
        name = _literal(queue.queue_name) if isinstance(queue, sqs.CfnQueue) else None
        # An unnamed queue is named by CloudFormation; SQS conditions on its tags (ABAC).
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-abac.html
        if name is None:
            found["sqs"].tagged.add(arn("sqs", "*"))
        else:
            found["sqs"].named.add(arn("sqs", name))

    for rule in _typed(stack, "AWS::Events::Rule"):
        name = bus = None
        if isinstance(rule, events.CfnRule):
            name = _literal(rule.name)
            # A bus named by a token is unknown: its rules are matched by their tags.
            bus = "default" if rule.event_bus_name is None else _literal(rule.event_bus_name)
        if name is None or bus is None:
            found["events"].tagged.add(arn("events", "rule/*"))
        else:
            # A rule of the default bus is `rule/{name}`, of another bus `rule/{bus}/{name}`.
            in_bus = "" if bus == "default" else f"{bus}/"
            found["events"].named.add(arn("events", f"rule/{in_bus}{name}"))

    for repository in _typed(stack, "AWS::ECR::Repository"):
        name = (
            _literal(repository.repository_name)
            if isinstance(repository, ecr.CfnRepository)
            else None
        )
        if name is None:
            # ECR conditions on a repository's tags (aws:ResourceTag):
            # https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-supported-iam-actions-tagging.html
            found["ecr"].tagged.add(arn("ecr", "repository/*"))
        else:
            found["ecr"].named.add(arn("ecr", f"repository/{name}"))

    _scaling_and_alarms(stack, found, arn, ecs_services)

    if any(
        isinstance(child, CfnResource) and child.cfn_resource_type.startswith("AWS::EC2::")
        for child in stack.node.find_all()
    ):
        found["ec2"].tagged |= {arn("ec2", f"{kind}/*") for kind in EC2_TYPES}
    return found


def _scaling_and_alarms(
    stack: Stack,
    found: dict[str, Owned],
    arn: Callable[[str, str], str],
    ecs_services: list[tuple[str, str] | None],
) -> None:
    """The stack's scalable targets (by tags: their ids are generated), its alarms (by name),
    and the alarms target tracking creates for its ECS services (by the services' names)."""
    # Whether or not the stack holds a target: a type that registers one itself
    # (AWS::DynamoDB::GlobalTable's replica scaling) acts on a target tagged like the stack.
    found["application-autoscaling"].tagged.add(arn("application-autoscaling", "scalable-target/*"))
    for alarm in _typed(stack, "AWS::CloudWatch::Alarm"):
        given = alarm.alarm_name if isinstance(alarm, cloudwatch.CfnAlarm) else None
        name = _literal(given)
        if name is not None:
            found["cloudwatch"].named.add(arn("cloudwatch", f"alarm:{name}"))
            continue
        # A name conveyor builds from a literal and a token (a Lambda release's alarms:
        # `{app}-errors-{env}-v{version}`), or, unnamed, CloudFormation's
        # `{stack}-{logical id}-{random}`: by that prefix, and by the alarm's tags (a prefix
        # may begin another environment's name), which CloudWatch conditions on.
        prefix = _joined_prefix(stack.resolve(given)) if given is not None else None
        found["cloudwatch"].tagged.add(
            arn("cloudwatch", f"alarm:{prefix or stack.stack_name + '-'}*")
        )
    if _typed(stack, "AWS::ApplicationAutoScaling::ScalingPolicy"):
        for service in ecs_services:
            if service is None:
                # A target tracking alarm carries no tags: any of this kind not tagged for
                # another app or environment.
                found["cloudwatch"].tagged.add(arn("cloudwatch", "alarm:TargetTracking-*"))
            else:
                cluster_name, name = service
                found["cloudwatch"].named.add(
                    arn("cloudwatch", f"alarm:TargetTracking-service/{cluster_name}/{name}-*")
                )


def _joined_prefix(value: Any) -> str | None:
    """The literal start of an `Fn::Join` with no separator, if it has one."""
    if not isinstance(value, dict) or list(value) != ["Fn::Join"]:
        return None
    separator, parts = value["Fn::Join"]
    if separator != "" or not parts or not isinstance(parts[0], str):
        return None
    return str(parts[0]) or None


def tag_conditions(tags: Mapping[str, str]) -> dict[str, Any]:
    """Refuse a resource tagged for another app or environment; one not tagged yet passes."""
    return {
        "StringEqualsIfExists": {
            f"aws:ResourceTag/{name}": tags[name]
            for name in (defaults.TAG_APP, defaults.TAG_ENVIRONMENT)
        }
    }


def _shown(arn: str) -> str:
    """`arn` as cdk-nag names it in a finding."""
    for token, name in (
        (Aws.PARTITION, "AWS::Partition"),
        (Aws.REGION, "AWS::Region"),
        (Aws.ACCOUNT_ID, "AWS::AccountId"),
    ):
        arn = arn.replace(token, f"<{name}>")
    return arn


NAMED_REASON = (
    "this stack's own {service} resources, by the names conveyor gives them: their "
    "sub-resources (versions, aliases, listeners, rules, log streams, objects, deployments) "
    "or the part CloudFormation generates (a bucket's random suffix, a load balancer's id)"
)
TAGGED_REASON = (
    "{service} resources whose ids the service or CloudFormation generates: allowed only "
    "while not tagged for another app or environment (aws:ResourceTag, IfExists: "
    "CloudFormation authorizes a new security group's rules before it tags the group)"
)


def grant_owned_calls(
    role: iam.Role, actions: Iterable[str], stack: Stack, tags: Mapping[str, str]
) -> None:
    """Let `role` make the scoped calls among `actions` on `stack`'s own resources only."""
    by_service: dict[str, list[str]] = {}
    for action in sorted(set(actions)):
        if scoped(action):
            by_service.setdefault(action.split(":", 1)[0], []).append(action)
    where = owned(stack)
    for service, granted in by_service.items():
        own = where[service]
        if own.named:
            role.add_to_policy(iam.PolicyStatement(actions=granted, resources=sorted(own.named)))
        if own.tagged:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=granted, resources=sorted(own.tagged), conditions=tag_conditions(tags)
                )
            )
        for arns, reason in ((own.named, NAMED_REASON), (own.tagged, TAGGED_REASON)):
            for arn in sorted(a for a in arns if "*" in a):
                acknowledgements.acknowledge(
                    role, f"IAM5[Resource::{_shown(arn)}]", reason.format(service=service)
                )
    validated = sorted(set(by_service.get("cloudwatch", ())) & VALIDATED_ALARM_CALLS)
    if validated and _typed(stack, "AWS::ApplicationAutoScaling::ScalableTarget"):
        grant_scaling_validation(role, validated)


# Application Auto Scaling checks, before it registers a target, that its caller may manage
# CloudWatch alarms: it calls PutMetricAlarm and DeleteAlarms with no alarm name on the
# caller's behalf and fails the register on AccessDenied
# (https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_permission_validation.html,
# the CloudWatch actions the ECS example there needs:
# https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html).
# Those calls name no alarm, so no alarm ARN can admit them. A service calling with its
# caller's permissions makes a forward access session request, which sets aws:ViaAWSService;
# CloudFormation calling with this service role does not
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-viaawsservice).
# The alarms target tracking then creates and deletes are the service-linked role's
# (AWSApplicationAutoscalingECSServicePolicy), and the stack's own are its names'.
VALIDATED_ALARM_CALLS = frozenset({"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms"})
VALIDATION_REASON = (
    "Application Auto Scaling's permission check before RegisterScalableTarget: it calls "
    "PutMetricAlarm and DeleteAlarms with no alarm name on the caller's behalf (a forward "
    "access session, aws:ViaAWSService); CloudFormation's own calls with this role are not "
    "admitted by this statement"
)


def grant_scaling_validation(role: iam.Role, actions: Iterable[str]) -> None:
    """Let Application Auto Scaling's permission check, made on `role`'s behalf, pass."""
    role.add_to_policy(
        iam.PolicyStatement(
            actions=sorted(actions),
            resources=["*"],
            conditions={"Bool": {"aws:ViaAWSService": "true"}},
        )
    )
    acknowledgements.acknowledge(role, "IAM5[Resource::*]", VALIDATION_REASON)
