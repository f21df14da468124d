"""What starting and following one CodeDeploy deployment takes, for the roles that do it."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam


def grant_deployment(
    role: iam.IRole,
    group: codedeploy.IEcsDeploymentGroup | codedeploy.ILambdaDeploymentGroup,
) -> None:
    """Register a revision with the group's application, start and follow a deployment of
    this one group, and read its deployment configuration."""
    stack = Stack.of(role)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "codedeploy:GetApplication",
                "codedeploy:GetApplicationRevision",
                "codedeploy:RegisterApplicationRevision",
            ],
            resources=[
                stack.format_arn(
                    service="codedeploy",
                    resource="application",
                    resource_name=group.application.application_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
            resources=[group.deployment_group_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["codedeploy:GetDeploymentConfig"],
            resources=[group.deployment_config.deployment_config_arn],
        )
    )
