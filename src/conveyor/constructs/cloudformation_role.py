"""The CloudFormation service role that deploys one environment's stack.

CloudFormation makes every call of a stack operation with the service role's credentials, and
whoever passes the role needs iam:PassRole on it (the pipeline's deploy action).
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
The role may do exactly what the resource schemas say CloudFormation calls for the resource
types in that stack (cfn_permissions.py, generated from the schemas), nothing for types the
stack does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Aws, CfnParameter, CfnResource, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from conveyor.constructs import acknowledgements
from conveyor.constructs.cfn_permissions import PERMISSIONS
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
    lets a user name another published version of the same thing (another layer version)."""
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
            found.add(f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}::parameter{name.rsplit('/', 1)[0]}/*")
        else:
            found.add(f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter{name}")
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


def cloudformation_role(
    scope: Construct,
    id: str,
    *,
    naming: Naming,
    env_name: str,
    stack: Stack,
    code_buckets: list[str],
    code_keys: list[str],
) -> iam.Role:
    """A role only CloudFormation may assume, allowed the calls `stack`'s resources need.

    IAM calls are limited to the app's roles (conveyor names them `{app}-…`, CloudFormation
    names the others after the stack, `{app}-{env}-…`) and AWS's service-linked roles; reads of
    packages to the buckets holding them (`code_buckets`, `code_keys`: the caller of
    lambda:CreateFunction/UpdateFunctionCode must be able to read the S3 object).
    """
    role = iam.Role(
        scope,
        id,
        role_name=naming.name("cloudformation", env_name),
        assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com"),
        description=f"conveyor {naming.app}: CloudFormation deploys the {env_name} stack",
    )
    actions = required_actions(resource_types(stack))
    iam_actions = [a for a in actions if a.startswith("iam:")]
    other = [a for a in actions if not a.startswith("iam:")]
    account_roles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role"
    if iam_actions:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=iam_actions,
                resources=[
                    f"{account_roles}/{naming.app}-*",
                    f"{account_roles}/aws-service-role/*",
                ],
            )
        )
    if other:
        role.add_to_policy(iam.PolicyStatement(actions=other, resources=["*"]))
    if any(t.startswith("Custom::") for t in resource_types(stack)):
        # A custom resource is a call to its provider function, which CloudFormation makes
        # with the stack's role; CloudFormation names the provider after the stack.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources-lambda.html
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[
                    f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"function:{stack.stack_name}-*"
                ],
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
    policy.add_metadata(
        "conveyor",
        {
            "suppress": [
                {
                    "rule": "CV051",
                    "reason": "CloudFormation service role: it creates the stack's resources "
                    "under ids and names CloudFormation and the services generate (VPC, "
                    "subnets, security groups, keys, target groups), whose ARNs do not exist "
                    "before the calls the resource schemas list; only CloudFormation may "
                    "assume the role, and IAM calls stay limited to the app's roles",
                }
            ]
        },
    )
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
        f"IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{naming.app}-*]",
        "the app's roles: conveyor names its roles {app}-..., CloudFormation names the others "
        "after the stack, {app}-{env}-...",
    )
    acknowledgements.acknowledge(
        role,
        "IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/*]",
        "service-linked roles ECS and Elastic Load Balancing create on first use "
        "(iam:CreateServiceLinkedRole in their resource schemas)",
    )
    return role
