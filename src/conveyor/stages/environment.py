"""One environment's stage: deploy its stack with the release's image or package, then (for
CodeDeploy blue/green or an existing service) the service deploy, then the validation.

Non-production: one CloudFormation create-or-update. Production (an approval): a change set,
the approval whose notice says where to read it, then its execution; the approver sees exactly
what will change (FM76, FM110).
https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_cdk import Aws, CfnCapabilities, CfnParameter, Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from conveyor.constructs import acknowledgements, buildspec, check_buildspecs
from conveyor.constructs.cloudformation_role import (
    CDK_ASSET_BUCKET,
    CDK_ASSET_FINDING,
    CDK_ASSET_REASON,
    cloudformation_role,
    grant_ssm_parameters,
)
from conveyor.constructs.codebuild_job import CodeBuildJob
from conveyor.constructs.ecs_service import (
    IMAGE_PARAMETER,
    RELEASE_PARAMETER,
    EcsTarget,
    LocalArtifacts,
    deploy_role,
    deployment_config_name,
    execution_role_name,
    role_arn,
    task_role_name,
)
from conveyor.constructs.environment_stack import (
    LOAD_BALANCER_URL_OUTPUT,
    URL_OUTPUT,
    EnvironmentStack,
)
from conveyor.constructs.lambda_target import (
    CODE_BUCKET_PARAMETER,
    CODE_KEY_PARAMETER,
    CODE_VERSION_PARAMETER,
)
from conveyor.constructs.naming import Naming, camel
from conveyor.spec.models import Environment, EnvironmentJob

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def stage_name(env: str) -> str:
    return f"Deploy-{env}"


def variables_namespace(env: str) -> str:
    """The namespace of the stack deploy's output variables: the stack's outputs."""
    return f"Stack{camel(env)}"


def deployed_package_namespace(env: str) -> str:
    """The namespace of a Lambda environment's MarkDeployed job: the version of the package
    copy its stack deploys (buildspec.DEPLOYED_VERSION)."""
    return f"Package{camel(env)}"


@dataclass
class EnvironmentParts:
    """What the pipeline knows of one environment: its stack, and its resources by the names
    conveyor gives them (never by reference: the stack is deployed later, by the pipeline)."""

    env: Environment
    stack: EnvironmentStack
    naming: Naming
    deploy_files: dict[str, str] = field(default_factory=dict)
    existing: EcsTarget | None = None  # an ECS service conveyor does not create
    # An environment in another account: the role there that deploys and rolls back an
    # existing service, and the (deploy, CloudFormation execution) roles of its stack.
    foreign_role: iam.IRole | None = None
    stack_roles: tuple[iam.IRole, iam.IRole] | None = None
    # CodeDeploy blue/green in another account: the CodeDeployToECS action's role there.
    codedeploy_role: iam.IRole | None = None
    # A rolling or native blue/green service in another account: its ARN there, as the
    # pipeline's stack writes it (its forwarded events name it).
    foreign_service_arn: str | None = None

    @property
    def name(self) -> str:
        return self.env.name

    @property
    def is_lambda(self) -> bool:
        return self.env.deploy.lambda_ is not None

    @property
    def strategy(self) -> str | None:
        ecs_deploy = self.env.deploy.ecs
        return ecs_deploy.strategy if ecs_deploy is not None else None

    @property
    def creates_service(self) -> bool:
        ecs_deploy = self.env.deploy.ecs
        return ecs_deploy is not None and ecs_deploy.create is not None

    @property
    def codedeploy_ecs(self) -> bool:
        return self.creates_service and self.strategy == "blue-green"

    @property
    def uses_codedeploy(self) -> bool:
        return self.is_lambda or self.codedeploy_ecs

    @property
    def group_name(self) -> str:
        """conveyor names each CodeDeploy application after its one group."""
        return self.naming.name("deploy", self.name)

    @property
    def cluster_name(self) -> str:
        if self.existing is not None:
            return self.existing.cluster_name
        return self.naming.name("cluster", self.name)

    @property
    def service_name(self) -> str:
        if self.existing is not None:
            return self.existing.service_name
        return self.naming.name("service", self.name)

    @property
    def function_name(self) -> str:
        return self.naming.name("function", self.name)

    def service_arn(self) -> str:
        return (
            f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"service/{self.cluster_name}/{self.service_name}"
        )

    def function_arn(self) -> str:
        return (
            f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
            f"function:{self.function_name}"
        )

    def url(self) -> str | None:
        """The environment's URL: its stack's output, read by the stage's deploy action."""
        if not self.creates_service:
            return None
        return f"#{{{variables_namespace(self.name)}.{URL_OUTPUT}}}"

    def check_url(self) -> str | None:
        """Where the validation reaches a created service: its URL, or the load balancer's
        own when the domain's DNS record is not conveyor's (it may not point at this load
        balancer yet when the first release is checked); the check then sends the domain as
        SNI and Host (Environment.validation)."""
        if not self.creates_service:
            return None
        domain = self.env.domain
        if domain is not None and domain.hosted_zone_id is None:
            return f"#{{{variables_namespace(self.name)}.{LOAD_BALANCER_URL_OUTPUT}}}"
        return self.url()


# The actions that hand CloudFormation a template with its parameters (the change set's
# execution reuses the values resolved when the change set was created).
RESOLVING_ACTIONS = ("Deploy", "ChangeSet")


def grant_stack_parameters(pipeline: codepipeline.Pipeline, part: EnvironmentParts) -> None:
    """The roles CDK gives an environment's CloudFormation actions (in the pipeline's account)
    may read the parameters of the stack's SSM-typed template parameters: CloudFormation
    resolves them with the caller's credentials (cloudformation_role.SSM_PARAMETER_TYPE)."""
    if part.stack_roles is not None:
        return  # another account's deploy role, granted in its bootstrap stack
    stage = pipeline.node.find_child(stage_name(part.name))
    for name in RESOLVING_ACTIONS:
        action = stage.node.try_find_child(name)
        role = action.node.try_find_child("CodePipelineActionRole") if action else None
        if isinstance(role, iam.Role) and not (
            name == "Deploy" and part.env.needs_approval  # the change set's execution
        ):
            grant_ssm_parameters(role, part.stack)


def alarm_validated_deploys(parts: list[EnvironmentParts]) -> str | None:
    """Why the pipeline's deploy actions need no validation action after them, when that is so:
    every environment without a check is a Lambda function whose alias CodeDeploy shifts in
    steps (canary or linear) inside the stack update, watching the function's error, throttle
    and duration alarms and rolling back when one fires (lambda_target.py). That happens in the
    environment stack's template, which CV074 cannot see from the pipeline's; an all-at-once
    shift has no window to watch, so it is never explained away here.
    https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html"""
    unchecked = [part for part in parts if part.env.validation is None]
    shifted = [
        part
        for part in unchecked
        if part.env.deploy.lambda_ is not None and part.env.deploy.lambda_.strategy != "all-at-once"
    ]
    if not unchecked or len(shifted) != len(unchecked):
        return None
    names = ", ".join(part.name for part in shifted)
    return (
        f"the Lambda deploys of {names} are validated inside their stack update: CodeDeploy "
        "shifts the alias in steps and rolls back on the function's error, throttle and "
        "duration alarms (the environment stack's deployment group)"
    )


class EnvironmentStage:
    """The actions of one environment's stage, in order."""

    def __init__(self, pipeline: Pipeline, part: EnvironmentParts) -> None:
        self.pipeline = pipeline
        self.part = part
        self.scope: Construct = pipeline
        self._order = 0
        self._logs: Any = None

    def _next(self) -> int:
        self._order += 1
        return self._order

    def actions(
        self,
        templates: codepipeline.Artifact,
        build_output: codepipeline.Artifact,
        projects: list[codebuild.IProject],
    ) -> list[codepipeline.IAction]:
        part = self.part
        found: list[codepipeline.IAction] = []
        if part.is_lambda:
            # First in the stage, before a change set names the copy's version: the stack
            # deploys the environment's own copy of the package, which the store keeps.
            found.append(
                self.pipeline.mark_deployed_package(part.name, projects, run_order=self._next())
            )
        found += self._stack_deploy(templates, build_output, projects)
        if part.creates_service or part.existing is not None:
            found.append(self.pipeline.mark_deployed(part.name, projects, run_order=1))
        if part.codedeploy_ecs:
            found.append(self._codedeploy(build_output))
        elif part.existing is not None:
            found.append(self._ecs_deploy(build_output))
        if part.env.validation is not None:
            found.append(self.pipeline.validation(part, run_order=self._next()))
        if part.env.tests is not None:
            found.append(self._job("Tests", part.env.tests, projects, after_deploy=True))
        return found

    # --- jobs in the environment's stage ----------------------------------------------------

    def _job(
        self,
        action_name: str,
        job: EnvironmentJob,
        projects: list[codebuild.IProject],
        *,
        after_deploy: bool,
    ) -> codepipeline.IAction:
        """A CodeBuild job on the source revision, with the environment's names (and, after
        the deploy, its URL) as variables. Its role gets what every conveyor job gets (logs,
        reports, the source artifact), nothing in the environment itself."""
        part = self.part
        pipeline = self.pipeline
        label = camel(part.name)
        if self._logs is None:
            self._logs = pipeline.log_group(f"JobLogs{label}", "jobs", part.name)
        built = CodeBuildJob(
            pipeline,
            f"{action_name}{label}",
            name=part.naming.name(action_name.lower(), part.name),
            description=f"conveyor {action_name.lower()} job of {part.name}",
            buildspec=check_buildspecs.environment_job_buildspec(job),
            compute=job.compute,
            timeout_minutes=job.timeout_minutes,
            key=pipeline.store.key,
            log_group=self._logs,
        )
        projects.append(built.project)
        return actions.CodeBuildAction(
            action_name=action_name,
            project=built.project,
            input=pipeline.source_output,
            environment_variables={
                name: codebuild.BuildEnvironmentVariable(value=value)
                for name, value in sorted(self._job_variables(after_deploy=after_deploy).items())
            },
            run_order=self._next(),
        )

    def _job_variables(self, *, after_deploy: bool) -> dict[str, str]:
        part = self.part
        found = {"CONVEYOR_ENVIRONMENT": part.name}
        if part.is_lambda:
            found["FUNCTION_NAME"] = part.function_name
            lambda_ = part.env.deploy.lambda_
            found["FUNCTION_ALIAS"] = lambda_.alias if lambda_ is not None else ""
        else:
            found["CLUSTER_NAME"] = part.cluster_name
            found["SERVICE_NAME"] = part.service_name
            found["IMAGE_URI"] = "#{Build.IMAGE_URI}"
        if self.pipeline.commit_id is not None:
            found["COMMIT_ID"] = self.pipeline.commit_id
        check = part.env.validation
        # The stack's Url output exists once this execution's deploy has run.
        url = (check.url if check is not None else None) or (part.url() if after_deploy else None)
        if url is not None:
            found["APP_URL"] = url
        return found

    # --- the stack ------------------------------------------------------------------------------

    def _parameters(self, build_output: codepipeline.Artifact) -> dict[str, Any]:
        part = self.part
        packages = self.pipeline.packages
        if part.is_lambda and packages is not None:
            # The environment's own copy of the release's package, by the version its
            # MarkDeployed job exported: kept by the package store however often other
            # environments build and release (PackageStore).
            # https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html
            namespace = deployed_package_namespace(part.name)
            return {
                CODE_BUCKET_PARAMETER: packages.bucket.bucket_name,
                CODE_KEY_PARAMETER: packages.deployed_key(part.name),
                CODE_VERSION_PARAMETER: f"#{{{namespace}.{buildspec.DEPLOYED_VERSION}}}",
            }
        if part.creates_service:
            # The image the build pushed, by digest: the same bytes in every environment; the
            # execution, so that re-running a release redeploys it (ecs_service.RELEASE_LABEL).
            # https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html
            return {
                IMAGE_PARAMETER: "#{Build.IMAGE_URI}",
                RELEASE_PARAMETER: codepipeline.GlobalVariables.EXECUTION_ID,
            }
        return {}

    def _role(self) -> iam.IRole:
        part = self.part
        store = self.pipeline.store
        stack = Stack.of(self.scope)
        asset_bucket = CDK_ASSET_BUCKET.format(account=Aws.ACCOUNT_ID, region=Aws.REGION)
        role = cloudformation_role(
            self.scope,
            f"CloudFormationRole{camel(part.name)}",
            naming=part.naming,
            env_name=part.name,
            stack=part.stack,
            tags=part.stack.resource_tags,
            code_buckets=[asset_bucket],
            code_keys=["*"],
        )
        acknowledgements.acknowledge(role, CDK_ASSET_FINDING, CDK_ASSET_REASON)
        packages = self.pipeline.packages
        if part.is_lambda and packages is not None:
            # Lambda reads the package with CloudFormation's credentials: the environment's
            # own object in the package store, encrypted with the pipeline's key.
            # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[packages.bucket.arn_for_objects(packages.deployed_key(part.name))],
                )
            )
            store.key.grant_decrypt(role)
        del stack
        return role

    def _stack_deploy(
        self,
        templates: codepipeline.Artifact,
        build_output: codepipeline.Artifact,
        projects: list[codebuild.IProject],
    ) -> list[codepipeline.IAction]:
        part = self.part
        stack_name = part.stack.stack_name
        template = templates.at_path(f"{stack_name}.template.json")
        action_role: iam.IRole | None = None
        if part.stack_roles is not None:
            action_role, role = part.stack_roles
        else:
            role = self._role()
        parameters = self._parameters(build_output)
        capabilities = [CfnCapabilities.NAMED_IAM]
        before = part.env.before
        if not part.env.needs_approval:
            jobs = [self._job("Before", before, projects, after_deploy=False)] if before else []
            return [
                *jobs,
                actions.CloudFormationCreateUpdateStackAction(
                    action_name="Deploy",
                    stack_name=stack_name,
                    template_path=template,
                    admin_permissions=False,
                    deployment_role=role,
                    parameter_overrides=parameters,
                    cfn_capabilities=capabilities,
                    variables_namespace=variables_namespace(part.name),
                    role=action_role,
                    run_order=self._next(),
                ),
            ]
        change_set = f"conveyor-{part.name}"
        create = actions.CloudFormationCreateReplaceChangeSetAction(
            action_name="ChangeSet",
            stack_name=stack_name,
            change_set_name=change_set,
            template_path=template,
            admin_permissions=False,
            deployment_role=role,
            parameter_overrides=parameters,
            cfn_capabilities=capabilities,
            role=action_role,
            run_order=self._next(),
        )
        approve = actions.ManualApprovalAction(
            action_name="Approve",
            notification_topic=self.pipeline.approval_topic(),
            additional_information=self._approval_notice(stack_name, change_set),
            run_order=self._next(),
        )
        # After the approval: nothing runs for a release nobody approved.
        jobs = [self._job("Before", before, projects, after_deploy=False)] if before else []
        execute = actions.CloudFormationExecuteChangeSetAction(
            action_name="Deploy",
            stack_name=stack_name,
            change_set_name=change_set,
            variables_namespace=variables_namespace(part.name),
            role=action_role,
            run_order=self._next(),
        )
        return [create, approve, *jobs, execute]

    def _approval_notice(self, stack_name: str, change_set: str) -> str:
        spec = self.pipeline.spec
        commit = " (commit #{Source.CommitId})" if spec.source.s3 is None else ""
        return (
            f"Deploy {spec.app} to {self.part.name}{commit}? A change set of stack {stack_name} "
            f"is waiting: CloudFormation console > Stacks > {stack_name} > Change sets > "
            f"{change_set}, or `aws cloudformation describe-change-set --stack-name "
            f"{stack_name} --change-set-name {change_set}`. Approving executes it."
        )

    # --- the service, where the stack update does not deploy it -------------------------------

    def _codedeploy(self, build_output: codepipeline.Artifact) -> codepipeline.IAction:
        """CodeDeploy blue/green: CloudFormation never changes the service's task definition
        (ecs_service.FargateWebService._freeze_task_definition); this action registers the
        pipeline's taskdef.json with the new image and shifts traffic."""
        part = self.part
        naming = part.naming
        scope = self.scope
        label = camel(part.name)
        # A parameter, defaulting to conveyor's name: the group lives in the environment's
        # stack, and the template says so instead of naming it as a literal (FM60).
        name = CfnParameter(
            scope,
            f"DeploymentGroup{label}Name",
            type="String",
            default=part.group_name,
            description=f"CodeDeploy application and deployment group of {part.name} (its stack)",
        ).value_as_string
        group = codedeploy.EcsDeploymentGroup.from_ecs_deployment_group_attributes(
            scope,
            f"DeploymentGroup{label}",
            application=codedeploy.EcsApplication.from_ecs_application_name(
                scope, f"Application{label}", name
            ),
            deployment_group_name=name,
            deployment_config=self._deployment_config(),
        )
        target = EcsTarget(
            service=ecs.BaseService.from_service_arn_with_cluster(
                scope, f"Service{label}", part.service_arn()
            ),
            cluster_name=part.cluster_name,
            service_name=part.service_name,
            task_roles=[
                iam.Role.from_role_arn(
                    scope, f"TaskRole{label}", role_arn(task_role_name(naming, part.name))
                ),
                iam.Role.from_role_arn(
                    scope,
                    f"ExecutionRole{label}",
                    role_arn(execution_role_name(naming, part.name)),
                ),
            ],
            url=None,
            task_family=naming.name("task", part.name),
            strategy="blue-green",
            deployment_group=group,
        )
        store = self.pipeline.store
        return actions.CodeDeployEcsDeployAction(
            action_name="CodeDeploy",
            deployment_group=group,
            task_definition_template_file=build_output.at_path(f"taskdef-{part.name}.json"),
            app_spec_template_file=build_output.at_path(f"appspec-{part.name}.yaml"),
            container_image_inputs=[
                actions.CodeDeployEcsContainerImageInput(
                    input=build_output, task_definition_placeholder="IMAGE1_NAME"
                )
            ],
            role=part.codedeploy_role
            or deploy_role(
                scope,
                f"DeployRole{label}",
                target=target,
                artifacts=LocalArtifacts(store.bucket, store.key),
            ),
            run_order=self._next(),
        )

    def _deployment_config(self) -> codedeploy.IEcsDeploymentConfig:
        ecs_deploy = self.part.env.deploy.ecs
        assert ecs_deploy is not None
        if ecs_deploy.traffic == "all-at-once":
            return codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
        return codedeploy.EcsDeploymentConfig.from_ecs_deployment_config_name(
            self.scope,
            f"DeploymentConfig{camel(self.part.name)}",
            deployment_config_name(self.part.naming, self.part.name),
        )

    def _ecs_deploy(self, build_output: codepipeline.Artifact) -> codepipeline.IAction:
        """A service conveyor does not create: the ECS deploy action switches its image."""
        part = self.part
        target = part.existing
        ecs_deploy = part.env.deploy.ecs
        assert target is not None and ecs_deploy is not None
        store = self.pipeline.store
        return actions.EcsDeployAction(
            action_name="DeployService",
            service=target.service,
            input=build_output,
            deployment_timeout=Duration.minutes(ecs_deploy.timeout_minutes),
            role=part.foreign_role
            or deploy_role(
                self.scope,
                f"DeployRole{camel(part.name)}",
                target=target,
                artifacts=LocalArtifacts(store.bucket, store.key),
            ),
            run_order=self._next(),
        )
