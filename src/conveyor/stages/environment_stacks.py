"""Each environment's stack, beside the pipeline's (in the same app or Stage), and what the
pipeline knows of it (stages/environment.EnvironmentParts): its region's support stack and
another account's roles, an existing service it deploys to, and the files CodeDeploy reads
from the build output. The pipeline reads the environment's resources by the names conveyor
gives them, never by reference: the pipeline deploys the stack later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Aws, CfnParameter, Stack
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from conveyor.constructs.ecs_service import EcsTarget
from conveyor.constructs.environment_stack import EnvironmentStack, hook_function_name
from conveyor.constructs.foreign_account import ForeignAccount
from conveyor.constructs.naming import camel
from conveyor.constructs.stacks import app_scope
from conveyor.spec.models import Environment
from conveyor.stages.codedeploy_files import codedeploy_app_spec, codedeploy_task_definition
from conveyor.stages.environment import EnvironmentParts

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def environment_parts(pipeline: Pipeline, env: Environment) -> EnvironmentParts:
    """The environment's own stack (beside the pipeline's, in the same app or Stage), and
    what the pipeline needs to know about it, by name."""
    foreign = (
        ForeignAccount(
            pipeline, env, spec=pipeline.spec, naming=pipeline.naming, tags=pipeline.base_tags
        )
        if env in pipeline.spec.foreign_environments
        else None
    )
    stack = EnvironmentStack(
        app_scope(pipeline),
        spec=pipeline.spec,
        env=env,
        naming=pipeline.naming,
        tags=pipeline.base_tags,
        emails=pipeline.primary_emails,
    )
    part = EnvironmentParts(env=env, stack=stack, naming=pipeline.naming)
    support = pipeline.regions.get(env.region or "")
    if support is not None:
        part.region = support.region
        part.image_repository_uri = support.repository_uri()
        part.cloudformation_role = support.cloudformation_role(stack, env)
        # Its stack forwards the service's ECS events here (EnvironmentStack
        # ._forward_service_events), where they name the service's ARN in its region.
        part.foreign_service_arn = (
            f"arn:{Aws.PARTITION}:ecs:{support.region}:{Aws.ACCOUNT_ID}:"
            f"service/{part.cluster_name}/{part.service_name}"
        )
    if foreign is not None:
        foreign.attach(pipeline.store, pipeline.repository, pipeline.packages)
        part.stack_roles = foreign.stack_roles(stack)
    ecs_deploy = env.deploy.ecs
    if foreign is not None and part.codedeploy_ecs:
        # CodeDeploy runs in the environment's account: the action acts there, through a
        # role of its bootstrap stack.
        part.codedeploy_role = foreign.codedeploy_action_role(
            cluster=part.cluster_name, service=part.service_name, group=part.group_name
        )
    if foreign is not None and part.uses_codedeploy:
        foreign.forward_deployment_events(application=part.group_name)
    if ecs_deploy is not None and ecs_deploy.create is None:
        part.existing = _existing_service(pipeline, env)
        if foreign is not None:
            part.existing, part.foreign_role = foreign.existing_service(
                part.existing,
                cluster=ecs_deploy.cluster or "",
                service=ecs_deploy.service or "",
            )
    if (
        foreign is not None
        and ecs_deploy is not None
        and not part.codedeploy_ecs
        and not part.is_job
    ):
        # ECS rolls the service back there and says so on that account's bus: forwarded to
        # the pipeline's, where the ECS rollback notice matches the service's ARN there.
        foreign.forward_service_events(
            cluster=ecs_deploy.cluster or part.cluster_name,
            service=ecs_deploy.service or part.service_name,
        )
        part.foreign_service_arn = foreign.seen_service_arn(
            cluster=part.cluster_name, service=part.service_name
        )
    if part.codedeploy_ecs:
        assert ecs_deploy is not None
        # No hook where none can run (CreateService.hook_in_vpc): the appspec names none.
        hook = (
            hook_function_name(pipeline.naming, env.name)
            if env.validation and ecs_deploy.create is not None and ecs_deploy.create.hook_in_vpc
            else None
        )
        part.deploy_files = {
            f"taskdef-{env.name}.json": codedeploy_task_definition(
                pipeline,
                naming=pipeline.naming,
                env_name=env.name,
                deploy=ecs_deploy,
                platform=pipeline.spec.build.docker.platform if pipeline.spec.build.docker else "",
                # Another account's roles and secrets, by that account's parameter.
                account=foreign.account if foreign is not None else None,
            ),
            f"appspec-{env.name}.yaml": codedeploy_app_spec(
                pipeline,
                container=ecs_deploy.container,
                port=ecs_deploy.create.port if ecs_deploy.create else 80,
                hook=hook,
            ),
        }
    return part


def _existing_service(pipeline: Pipeline, env: Environment) -> EcsTarget:
    """The ECS service conveyor does not create, in the pipeline's stack by its names."""
    ecs_deploy = env.deploy.ecs
    assert ecs_deploy is not None
    assert ecs_deploy.cluster is not None and ecs_deploy.service is not None
    label = camel(env.name)
    # Parameters, defaulting to the spec's names: the service lives outside conveyor's
    # stacks, and the template says so instead of naming it as a literal (FM60).
    cluster = CfnParameter(
        pipeline,
        f"ClusterName{label}",
        type="String",
        default=ecs_deploy.cluster,
        description=f"Existing ECS cluster of {env.name}",
    )
    service = CfnParameter(
        pipeline,
        f"ServiceName{label}",
        type="String",
        default=ecs_deploy.service,
        description=f"Existing ECS service of {env.name}",
    )
    return existing_service(
        pipeline,
        f"Service{label}",
        cluster=cluster.value_as_string,
        service=service.value_as_string,
    )


def existing_service(scope: Construct, id: str, *, cluster: str, service: str) -> EcsTarget:
    """A service created elsewhere, referenced by name through its ARN (account and region come
    from the stack, never literals: FM25)."""
    stack = Stack.of(scope)
    arn = stack.format_arn(
        service="ecs",
        resource="service",
        resource_name=f"{cluster}/{service}",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
    imported = ecs.BaseService.from_service_arn_with_cluster(scope, id, arn)
    return EcsTarget(
        service=imported, cluster_name=cluster, service_name=service, task_roles=None, url=None
    )
