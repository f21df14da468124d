"""What the CodeDeploy blue/green action of an ECS environment reads from the build output:
taskdef.json and appspec.yaml, written at synth into the build's artifact (BuildProject's
deploy_files) from the spec the environment's stack is made from.

Once CodeDeploy controls a service, CloudFormation cannot change its task definition
(CDK-NOTES; ecs_service.FargateWebService._freeze_task_definition): every release registers
taskdef.json with the new image (CODEDEPLOY_IMAGE_PLACEHOLDER, which the action replaces)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Stack
from constructs import Construct

from conveyor.constructs import ecs_task
from conveyor.constructs.ecs_task import (
    container_secrets,
    execution_role_name,
    role_arn,
    secret_arns_in,
    task_role_name,
)
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import EcsDeploy, Sidecar
from conveyor.spec.refs import SECRET_REF

CODEDEPLOY_IMAGE_PLACEHOLDER = "<IMAGE1_NAME>"


def codedeploy_task_definition(
    scope: Construct,
    *,
    naming: Naming,
    env_name: str,
    deploy: EcsDeploy,
    platform: str,
    account: str | None = None,
) -> str:
    """taskdef.json for CodeDeploy, derived from the spec the environment stack is made from.

    Once CodeDeploy controls a service, CloudFormation cannot change its task definition
    (CDK-NOTES): every release (and every change of cpu, memory or settings) registers this
    document with the new image. It names the environment's resources by their conveyor names,
    never by reference, so the pipeline stack does not depend on the environment's.
    `account`: the environment's account when it is not the pipeline's (a template parameter),
    where its roles and secrets live.
    """
    settings = deploy.create
    assert settings is not None
    stack = Stack.of(scope)
    environment = {k: v for k, v in settings.env.items() if not SECRET_REF.match(v)}
    secret_arns = (
        {
            k: v.arn
            for k, v in container_secrets(
                Construct(scope, f"Secrets{camel(env_name)}"), settings.env
            ).items()
        }
        if account is None
        else secret_arns_in(account, settings.env)
    )
    container = deploy.container
    log_options = {
        "awslogs-group": naming.path("service", env_name),
        "awslogs-region": stack.region,
    }
    sidecars = [
        _sidecar_definition(
            sidecar,
            log_options,
            {
                k: v.arn
                for k, v in container_secrets(
                    Construct(scope, f"Sidecar{index}Secrets{camel(env_name)}"), sidecar.secrets
                ).items()
            }
            if account is None
            else secret_arns_in(account, sidecar.secrets),
        )
        for index, sidecar in enumerate(settings.sidecars)
    ]
    document = {
        "family": naming.name("task", env_name),
        "cpu": str(settings.cpu),
        "memory": str(settings.memory),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        # Every revision CodeDeploy registers runs on the platform the image is built for.
        "runtimePlatform": {
            "cpuArchitecture": "ARM64" if platform == "linux/arm64" else "X86_64",
            "operatingSystemFamily": "LINUX",
        },
        "executionRoleArn": role_arn(
            execution_role_name(naming, env_name), account or Aws.ACCOUNT_ID
        ),
        "taskRoleArn": role_arn(task_role_name(naming, env_name), account or Aws.ACCOUNT_ID),
        "containerDefinitions": [
            {
                "name": container,
                "image": CODEDEPLOY_IMAGE_PLACEHOLDER,
                "essential": True,
                "portMappings": [{"containerPort": settings.port, "protocol": "tcp"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {**log_options, "awslogs-stream-prefix": container},
                },
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secret_arns.items())],
                # Every release registers this document: a health check missing here would
                # vanish with the first blue/green release.
                **ecs_task.health_check_definition(settings.health_command),
            },
            *sidecars,
        ],
    }
    return stack.to_json_string(document)


def _sidecar_definition(
    sidecar: Sidecar, log_options: dict[str, str], secret_arns: dict[str, str]
) -> dict[str, Any]:
    """A sidecar in CodeDeploy's taskdef.json, as ecs_task.add_sidecar makes it for
    CloudFormation: every release registers this document, so a sidecar missing here would
    vanish with the first blue/green release."""
    definition: dict[str, Any] = {
        "name": sidecar.name,
        "image": sidecar.image,
        "essential": sidecar.essential,
        "portMappings": (
            [{"containerPort": sidecar.port, "protocol": "tcp"}] if sidecar.port is not None else []
        ),
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {**log_options, "awslogs-stream-prefix": sidecar.name},
        },
        "environment": [{"name": k, "value": v} for k, v in sorted(sidecar.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secret_arns.items())],
    }
    if sidecar.cpu is not None:
        definition["cpu"] = sidecar.cpu
    if sidecar.memory is not None:
        definition["memory"] = sidecar.memory
    if sidecar.command is not None:
        definition["command"] = sidecar.command
    return definition


def codedeploy_app_spec(scope: Construct, *, container: str, port: int, hook: str | None) -> str:
    """appspec.yaml (JSON is YAML) for CodeDeploy; `hook` is the validation function's name."""
    document: dict[str, Any] = {
        # A string: CodeDeploy's AppSpec version is "0.0", and JSON's 0.0 is the number 0.
        # https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-version.html
        "version": "0.0",
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": "<TASK_DEFINITION>",
                        "LoadBalancerInfo": {"ContainerName": container, "ContainerPort": port},
                    },
                }
            }
        ],
    }
    if hook is not None:
        # The same check before and after production traffic: a bad version is rolled back
        # by CodeDeploy before users see it, or right after. AppSpec hooks name functions.
        # https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
        document["Hooks"] = [{"AfterAllowTestTraffic": hook}, {"AfterAllowTraffic": hook}]
    return Stack.of(scope).to_json_string(document)
