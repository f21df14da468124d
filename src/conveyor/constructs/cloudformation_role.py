"""The CloudFormation service role that deploys one environment's stack.

CloudFormation makes every call of a stack operation with the service role's credentials, and
whoever passes the role needs iam:PassRole on it (the pipeline's deploy action).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
The role may do exactly what the resource schemas say CloudFormation calls for the resource
types in that stack (cfn_permissions.py, generated from the schemas), nothing for types the
stack does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsii
from aws_cdk import AspectPriority, Aspects, Aws, CfnParameter, CfnResource, IAspect, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IConstruct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.cfn_permissions import PERMISSIONS
from conveyor.constructs.cfn_scopes import grant_owned_calls, scoped, tag_conditions
from conveyor.constructs.naming import Naming

# The CDK bootstrap bucket of an account and region (default qualifier), where `conveyor deploy`
# and the UpdatePipeline stage publish the handler code of the environment stacks' hooks.
# https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
CDK_ASSET_BUCKET = "cdk-hnb659fds-assets-{account}-{region}"
CDK_ASSET_FINDING = (
    "IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
    "<AWS::Region>/*]"
)
CDK_ASSET_REASON = (
    "the validation hook's code, published by `conveyor deploy` and the UpdatePipeline stage "
    "into the account's CDK bootstrap bucket; Lambda reads it with CloudFormation's credentials"
)


def resource_types(stack: Stack) -> list[str]:
    """The CloudFormation resource types `stack` holds, sorted."""
    return sorted(
        {
            child.cfn_resource_type
            for child in stack.node.find_all()
            if isinstance(child, CfnResource) and not child.cfn_resource_type.startswith("AWS::CDK")
        }
    )


def required_actions(types: Iterable[str]) -> list[str]:
    """Every action the schemas of `types` list; a type missing from the table is an error
    (regenerate it with scripts/cfn_permissions.py after adding the type there)."""
    missing = sorted(t for t in types if t not in PERMISSIONS and not t.startswith("Custom::"))
    if missing:
        raise ValueError(
            f"no CloudFormation permissions known for {', '.join(missing)}: add the type to "
            "scripts/cfn_permissions.py and run it"
        )
    return sorted({action for t in types for action in PERMISSIONS.get(t, ())})


# A template parameter of an SSM type names a Parameter Store parameter; CloudFormation reads its
# value (ssm:GetParameters) whenever it creates or updates the stack or creates a change set, so
# "AccessDenied. User doesn't have permission to call ssm:GetParameters" fails the deploy.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/systems-manager-parameter-types.html
# Which credentials it reads with: the caller's (the CDK bootstrap's deploy role, the caller of
# CreateChangeSet, holds ssm:GetParameters "to evaluate any SSM parameters" while its
# CloudFormation execution role is separate,
# https://github.com/aws/aws-cdk-cli/blob/main/packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml),
# and cross-account pipelines have needed it on the stack's service role too
# (aws-samples/aws-cross-account-cicd-pipeline#33). Both get it, on the named parameters only.
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
# AWS's public parameters have no account in their ARN.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html
PUBLIC_PARAMETERS = "/aws/service/"


def ssm_parameter_arns(stack: Stack) -> list[str]:
    """The Parameter Store parameters `stack`'s SSM-typed template parameters name, as ARNs.

    A public parameter (AWS's, `/aws/service/...`) is granted with its siblings: the template
    lets a user name another published version of the same thing (another layer version).
    They are in the stack's region, which is not the reader's when the stack deploys in another
    region than the pipeline's (CloudFormation resolves them where the stack is)."""
    region = stack.region  # AWS::Region for a stack bound to no region
    found: set[str] = set()
    for child in stack.node.find_all():
        if not isinstance(child, CfnParameter) or not child.type.startswith(SSM_PARAMETER_TYPE):
            continue
        name = child.default
        if not isinstance(name, str) or not name.startswith("/"):
            raise ValueError(
                f"SSM-typed parameter {child.node.id} of {stack.stack_name} needs a default "
                "naming its Parameter Store parameter, so its readers can be granted it"
            )
        if name.startswith(PUBLIC_PARAMETERS):
            found.add(f"arn:{Aws.PARTITION}:ssm:{region}::parameter{name.rsplit('/', 1)[0]}/*")
        else:
            found.add(f"arn:{Aws.PARTITION}:ssm:{region}:{Aws.ACCOUNT_ID}:parameter{name}")
    return sorted(found)


def grant_ssm_parameters(role: iam.IRole, stack: Stack) -> None:
    """Let `role` read the parameters `stack`'s SSM-typed template parameters name."""
    arns = ssm_parameter_arns(stack)
    if not arns:
        return
    role.add_to_principal_policy(iam.PolicyStatement(actions=["ssm:GetParameters"], resources=arns))
    for arn in arns:
        if arn.endswith("/*"):
            shown = arn.replace(Aws.PARTITION, "<AWS::Partition>").replace(
                Aws.REGION, "<AWS::Region>"
            )
            acknowledgements.acknowledge(
                role,
                f"IAM5[Resource::{shown}]",
                "AWS's public parameters of one published artifact (its versions), which the "
                "stack's SSM-typed template parameter may name",
            )


# KMS calls that destroy a key, lock others out of it or take back what was granted: allowed
# only on keys carrying this environment's App and Environment tags, which conveyor puts on
# every resource of the stack (its keys included). KMS authorizes each on the key and supports
# aws:ResourceTag for them (ABAC):
# https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html
# CloudFormation makes none of them right after creating a key: its create handler calls
# CreateKey with the tags, then EnableKeyRotation (and DisableKey only for Enabled: false)
# (aws-cloudformation-resource-providers-kms, key/CreateHandler.java). The calls a key's
# creation and its first users make seconds later (EnableKeyRotation, EnableKey, CreateGrant,
# Encrypt/Decrypt/GenerateDataKey through Lambda, Logs, SNS) stay unconditioned: KMS says a
# new tag can take up to five minutes to count for authorization.
TAGGED_KEY_ACTIONS = frozenset(
    {
        "kms:CancelKeyDeletion",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:PutKeyPolicy",
        "kms:ReplicateKey",
        "kms:RetireGrant",
        "kms:RevokeGrant",
        "kms:ScheduleKeyDeletion",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
        "kms:UpdatePrimaryRegion",
    }
)
# An alias call is authorized twice, on the alias and on the key it points to: the alias by
# name (this stack's aliases); the key unconditioned, as the alias is created seconds after it.
# https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html
ALIAS_ACTIONS = frozenset({"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"})
# Tagging a key while CreateKey creates it needs kms:TagResource in an IAM policy not limited to
# particular keys (the key does not exist yet): on "*", but never on a key already tagged for
# another app or environment, which would let this role claim that key and then delete it.
# https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html
TAG_ON_CREATE_ACTIONS = frozenset({"kms:TagResource"})
# IAM calls that change what a role may do or who may assume it, or pass it to a service: only
# on this stack's roles. Service-linked roles get only their creation (IAM refuses policy
# changes to them anyway).
# https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
SERVICE_LINKED_ACTIONS = frozenset({"iam:CreateServiceLinkedRole"})

# The service-linked roles a resource type's service creates on first use, with the caller's
# iam:CreateServiceLinkedRole (why the type's schema lists that action): (the service
# principal the role trusts, the role's name). The creation is allowed on exactly these roles'
# ARNs and only for these services (iam:AWSServiceName):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions
SERVICE_LINKED_ROLES: Mapping[str, tuple[tuple[str, str], ...]] = {
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
    "AWS::ECS::Cluster": (("ecs.amazonaws.com", "AWSServiceRoleForECS"),),
    # DynamoDB creates its replication role with an account's first global table, and a
    # replica's provisioned capacity scales through Application Auto Scaling's table role.
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables-security.html
    "AWS::DynamoDB::GlobalTable": (
        ("replication.dynamodb.amazonaws.com", "AWSServiceRoleForDynamoDBReplication"),
        (
            "dynamodb.application-autoscaling.amazonaws.com",
            "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
        ),
    ),
    # https://docs.aws.amazon.com/chatbot/latest/adminguide/slr-permissions.html
    "AWS::Chatbot::SlackChannelConfiguration": (
        ("management.chatbot.amazonaws.com", "AWSServiceRoleForAWSChatbot"),
    ),
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration": (
        ("management.chatbot.amazonaws.com", "AWSServiceRoleForAWSChatbot"),
    ),
    # Elastic Load Balancing creates its role with an account's first load balancer or target
    # group, with the caller's iam:CreateServiceLinkedRole, though the ELBv2 schemas do not
    # list that action (listed here, the type needs it all the same): without it the first
    # create in a fresh account fails.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing"),
    ),
    # conveyor's flow logs deliver to CloudWatch Logs through a role of their own
    # (DeliverLogsPermissionArn); no service-linked role serves that destination.
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
    "AWS::EC2::FlowLog": (),
}
# Application Auto Scaling creates one role per kind of scalable resource, when a target of
# that kind is first registered, named after the target's ServiceNamespace.
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
SCALING_SERVICE_LINKED_ROLES: Mapping[str, tuple[str, str]] = {
    "ecs": (
        "ecs.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
    ),
    "dynamodb": (
        "dynamodb.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
    ),
    "lambda": (
        "lambda.application-autoscaling.amazonaws.com",
        "AWSServiceRoleForApplicationAutoScaling_Lambda",
    ),
}


def service_linked_roles(stack: Stack) -> list[tuple[str, str]]:
    """(service principal, role name) of each service-linked role `stack`'s resources can
    have their service create; a type whose schema creates one not in the tables is an error."""
    found: set[tuple[str, str]] = set()
    for child in stack.node.find_all():
        if not isinstance(child, CfnResource):
            continue
        kind = child.cfn_resource_type
        if kind in SERVICE_LINKED_ROLES:
            found.update(SERVICE_LINKED_ROLES[kind])
            continue
        if "iam:CreateServiceLinkedRole" not in PERMISSIONS.get(kind, ()):
            continue
        if kind == "AWS::ApplicationAutoScaling::ScalableTarget":
            namespace = getattr(child, "service_namespace", None)
            if not isinstance(namespace, str) or namespace not in SCALING_SERVICE_LINKED_ROLES:
                raise ValueError(
                    f"no service-linked role known for scalable targets of {namespace!r}: add it "
                    "to SCALING_SERVICE_LINKED_ROLES in constructs/cloudformation_role.py"
                )
            found.add(SCALING_SERVICE_LINKED_ROLES[namespace])
        else:
            raise ValueError(
                f"no service-linked role known for {kind}, whose schema creates one: add it to "
                "SERVICE_LINKED_ROLES in constructs/cloudformation_role.py"
            )
    return sorted(found)


def grant_service_linked_roles(role: iam.IRole, stack: Stack) -> None:
    """Let `role` create the service-linked roles `stack`'s resources need, and no other."""
    linked = service_linked_roles(stack)
    if not linked:
        return
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=sorted(SERVICE_LINKED_ACTIONS),
            resources=[
                f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/{service}/{name}"
                for service, name in linked
            ],
            conditions={"StringEquals": {"iam:AWSServiceName": [s for s, _ in linked]}},
        )
    )


def stack_role_names(stack: Stack) -> list[str]:
    """The names of `stack`'s IAM roles as IAM patterns: those it names itself, and the ones
    CloudFormation names `{stack name}-{logical id}-{suffix}`.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html#cfn-iam-role-rolename
    """
    found = {f"{stack.stack_name}-*"}
    for child in stack.node.find_all():
        name = child.role_name if isinstance(child, iam.CfnRole) else None
        if isinstance(name, str) and not Token.is_unresolved(name):
            found.add(name)
    return sorted(found)


def stack_alias_names(stack: Stack) -> list[str]:
    """The KMS aliases `stack` creates (`alias/...`)."""
    return sorted(
        child.alias_name
        for child in stack.node.find_all()
        if isinstance(child, kms.CfnAlias)
        and isinstance(child.alias_name, str)
        and not Token.is_unresolved(child.alias_name)
    )


KEY_SCOPED_ACTIONS = TAGGED_KEY_ACTIONS | ALIAS_ACTIONS | TAG_ON_CREATE_ACTIONS


def grant_key_calls(
    role: iam.Role, actions: Iterable[str], *, tags: Mapping[str, str], aliases: Iterable[str]
) -> None:
    """Let `role` make the KMS calls among `actions` that destroy or lock a key only on keys
    tagged with `tags`' App and Environment, alias calls only on `aliases`, and tag a key it
    creates; other KMS calls (CreateKey, reads, use) are not granted here."""
    wanted = set(actions)
    keyed = sorted(wanted & TAGGED_KEY_ACTIONS)
    kms_arn = f"arn:{Aws.PARTITION}:kms:{Aws.REGION}:{Aws.ACCOUNT_ID}"
    if keyed:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=keyed,
                resources=[f"{kms_arn}:key/*"],
                conditions=_tag_conditions(tags, "StringEquals"),
            )
        )
    aliased = sorted(wanted & ALIAS_ACTIONS)
    names = sorted(aliases)
    if aliased:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=aliased,
                resources=[f"{kms_arn}:key/*", *(f"{kms_arn}:{name}" for name in names)],
            )
        )
    if keyed or aliased:
        acknowledgements.acknowledge(
            role,
            "IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]",
            "keys the stack creates get ids KMS generates: what destroys or locks one is "
            "allowed only on keys tagged with this app and environment (aws:ResourceTag); an "
            "alias's key side is unconditioned, the alias being created seconds after its key",
        )
    tagging = sorted(wanted & TAG_ON_CREATE_ACTIONS)
    if tagging:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=tagging,
                resources=["*"],
                conditions=_tag_conditions(tags, "StringEqualsIfExists"),
            )
        )
        reason = (
            "tagging a key while CreateKey creates it needs kms:TagResource in a policy not "
            "limited to particular keys; a key tagged for another app or environment is "
            "refused by the statement's condition"
        )
        acknowledgements.acknowledge(role, "IAM5[Resource::*]", reason)
        # conveyor check reports the "*" (CV051); a role with a broader reason of its own
        # (cloudformation_role) replaces this one.
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, iam.CfnPolicy)
        policy.add_metadata("conveyor", {"suppress": [{"rule": "CV051", "reason": reason}]})


def _tag_conditions(tags: Mapping[str, str], operator: str) -> dict[str, Any]:
    return {
        operator: {
            f"aws:ResourceTag/{name}": tags[name]
            for name in (defaults.TAG_APP, defaults.TAG_ENVIRONMENT)
        }
    }


_WILDCARD_SUPPRESSION = {
    "suppress": [
        {
            "rule": "CV051",
            "reason": "CloudFormation service role: it creates the stack's resources under ids "
            "and names CloudFormation and the services generate (VPC, subnets, security "
            "groups, keys, target groups), whose ARNs do not exist before the calls the "
            "resource schemas list, and reads them; what changes or destroys an existing "
            "resource's access (IAM on roles, KMS on keys) is limited to this stack's own; "
            "only CloudFormation may assume the role",
        }
    ]
}


@jsii.implements(IAspect)
class _SuppressOverflow:
    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.CfnManagedPolicy) and "OverflowPolicy" in node.node.path:
            node.add_metadata("conveyor", _WILDCARD_SUPPRESSION)


def cloudformation_role(
    scope: Construct,
    id: str,
    *,
    naming: Naming,
    env_name: str,
    stack: Stack,
    tags: Mapping[str, str],
    code_buckets: list[str],
    code_keys: list[str],
    role_name: str | None = None,
    description: str | None = None,
    extra_types: Iterable[str] = (),
) -> iam.Role:
    """A role only CloudFormation may assume, allowed the calls `stack`'s resources need.

    What changes or destroys an existing resource's access is limited to the stack's own: IAM
    calls to its roles (the names it gives them, and `{stack}-*` for those CloudFormation
    names), KMS key management and use to keys tagged with `tags`' App and Environment (as
    the stack tags every resource), alias calls to its aliases, and the calls of S3, Logs,
    SNS, Lambda, ECS, EC2, Elastic Load Balancing, SQS, EventBridge, Application Auto Scaling
    and CloudWatch alarms that act on an existing resource to the stack's own, by name or by
    tags (cfn_scopes.py). The rest act on `*`: creates whose
    resource does not exist yet, reads, and calls without a resource type. Reads of packages
    go to the buckets holding them (`code_buckets`, `code_keys`: the caller of
    lambda:CreateFunction/UpdateFunctionCode must be able to read the S3 object).
    """
    role = iam.Role(
        scope,
        id,
        role_name=role_name or naming.name("cloudformation", env_name),
        assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"),
        description=description
        or f"conveyor {naming.app}: CloudFormation deploys the {env_name} stack",
    )
    types = sorted(set(resource_types(stack)) | set(extra_types))
    actions = required_actions(types)
    iam_actions = [a for a in actions if a.startswith("iam:") and a not in SERVICE_LINKED_ACTIONS]
    keyed = [a for a in actions if a in TAGGED_KEY_ACTIONS or a in ALIAS_ACTIONS]
    tagging = [a for a in actions if a in TAG_ON_CREATE_ACTIONS]
    own = [a for a in actions if scoped(a)]
    other = [
        a
        for a in actions
        if not a.startswith("iam:")
        and a not in keyed
        and a not in TAG_ON_CREATE_ACTIONS
        and a not in own
    ]
    account_roles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role"
    role_names = stack_role_names(stack)
    named = [f"{account_roles}/{name}" for name in role_names if "*" not in name]
    if iam_actions and named:
        role.add_to_policy(iam.PolicyStatement(actions=iam_actions, resources=named))
    patterns = [f"{account_roles}/{name}" for name in role_names if "*" in name]
    if "AWS::IAM::ManagedPolicy" in types:
        # CloudFormation names an unnamed managed policy `{stack name}-{logical id}-{random}`,
        # like a role: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
        patterns.append(f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:policy/{stack.stack_name}-*")
    if iam_actions and patterns:
        # `{stack}-*` also matches the roles of a stack whose name extends this one's
        # (`payments-prod-eu-...` for `payments-prod`, an environment `prod-eu` or an app
        # `payments-prod`): IAM roles carry conveyor's App and Environment tags from
        # CreateRole on, and a role tagged for another app or environment is refused.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
        role.add_to_policy(
            iam.PolicyStatement(
                actions=iam_actions, resources=patterns, conditions=tag_conditions(tags)
            )
        )
    grant_service_linked_roles(role, stack)
    grant_key_calls(role, keyed + tagging, tags=tags, aliases=stack_alias_names(stack))
    grant_owned_calls(role, own, stack, tags)
    if other:
        role.add_to_policy(iam.PolicyStatement(actions=other, resources=["*"]))
    if any(t.startswith("Custom::") for t in resource_types(stack)):
        # A custom resource is a call to its provider function, which CloudFormation makes
        # with the stack's role; CloudFormation names the provider after the stack.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources-lambda.html
        # The name's prefix also matches the functions of a stack whose name extends this
        # one's: those tagged for another app or environment are refused.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[
                    f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"function:{stack.stack_name}-*"
                ],
                conditions=tag_conditions(tags),
            )
        )
        acknowledgements.acknowledge(
            role,
            f"IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:"
            f"function:{stack.stack_name}-*]",
            "custom-resource providers of this stack, named by CloudFormation after the stack",
        )
    grant_ssm_parameters(role, stack)
    if code_buckets:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[
                    f"arn:{Aws.PARTITION}:s3:::{b}/{k}" for b in code_buckets for k in code_keys
                ],
            )
        )
    policy = role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, iam.CfnPolicy)
    # conveyor check reports actions on "*" (CV051, FM40); here that is the AWS fact below.
    policy.add_metadata("conveyor", _WILDCARD_SUPPRESSION)
    # CDK moves statements past the inline policy's size into OverflowPolicy<n> managed
    # policies at synthesis (an aspect); they carry the same statements, and the same reason.
    Aspects.of(role).add(_SuppressOverflow(), priority=AspectPriority.READONLY)
    acknowledgements.acknowledge(
        role,
        "IAM5[Resource::*]",
        "CloudFormation creates this stack's resources under names and ids it generates "
        "(subnets, security groups, keys, target groups): their ARNs do not exist before the "
        "calls the schemas list; only CloudFormation can assume the role, and it acts only on "
        "the template the pipeline hands it",
    )
    acknowledgements.acknowledge(
        role,
        f"IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{stack.stack_name}-*]",
        "this stack's roles that CloudFormation names after the stack ({stack}-{logical id}-"
        "{suffix}); the roles it names itself are listed by name",
    )
    if "AWS::IAM::ManagedPolicy" in types:
        acknowledgements.acknowledge(
            role,
            f"IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/"
            f"{stack.stack_name}-*]",
            "this stack's managed policies, which CloudFormation names after the stack "
            "({stack}-{logical id}-{random})",
        )
    return role
