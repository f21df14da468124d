"""One environment's stages.

`Approve-<env>` (production) and `Release-<env>` (a gate or a `before` job) run what happens
once per release, before the deploy: the change set (one per execution: change_set_name) and
the approval whose notice says where to read it (FM76, FM110); then the release's mark (the
image's `deployed-<env>` tag, or the package's copy) and the `before` job. The window and alarm
gate holds the entry of these stages (plan.gated_stage_names), never of `Deploy-<env>`.
`Deploy-<env>` deploys the stack with the release's image or package, then (for CodeDeploy
blue/green or an existing service) the service deploy, then the validation and the tests; it
rolls back on failure.

Why separate stages (issue 11): a stage rollback runs the stage's actions again with the last good
execution's artifacts and variables, as a new execution
(https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html). Inside the
deploy stage, the approval would wait for a person in the middle of an incident, the `before`
job (a migration) would run the old release's migrations against a database the new one already
moved, a gate on the stage's entry could hold the rollback outside the window or while the bad
release's errors fire the gate's alarm (AWS does not document whether a rollback execution
passes the before-entry condition: FM124, CV118), and an execute-change-set action would look
for a change set CloudFormation discarded
when the stack was updated ("CloudFormation retains all change sets until you update the
stack": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-delete.html),
so the rollback itself would fail. So the deploy stage of production updates the stack with
exactly the template and parameters the approved change set was made from (the same
execution's artifact and variables), as every other environment does; executing the change set
by name could also run a later release's, made while this one deployed.
https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-CloudFormation.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from conveyor.constructs.deploy_role import LocalArtifacts, deploy_role
from conveyor.constructs.ecs_codedeploy import deployment_config_name
from conveyor.constructs.ecs_service import EcsTarget
from conveyor.constructs.ecs_task import (
    IMAGE_PARAMETER,
    RELEASE_PARAMETER,
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
from conveyor.constructs.scheduled_job import task_family
from conveyor.plan import Stage as PlannedStage
from conveyor.plan import prepare_stage_names
from conveyor.spec.models import Environment, EnvironmentJob, Spec
from conveyor.stages.conditions import stage_conditions
from conveyor.stages.release import deployed_package_namespace
from conveyor.stages.validation import validate_action

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline


def stage_name(env: str) -> str:
    return f"Deploy-{env}"


def change_set_name(env: str) -> str:
    """One change set per execution (issue 11, review defect 6). Under QUEUED, while one
    execution's Deploy-<env> makes its change set again and then executes it by name, the next
    execution's Approve-<env> makes its own: with one fixed name per environment, the next
    execution's CHANGE_SET_REPLACE could replace the change set between the two actions, and
    Deploy-<env> would execute a template nobody approved. The execution's id is in every
    execution's variables ("implicitly available at the start of each pipeline execution",
    https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html); it is
    a UUID, which may start with a digit, and a change set name must start with a letter and
    hold only letters, digits and hyphens, at most 128 characters
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html):
    `conveyor-<env>-` in front (an environment name is at most 15 characters: 61 in all).
    No accumulation: executing a change set deletes every other change set of the stack
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-execute.html),
    so those of rejected executions go with the next release."""
    return f"conveyor-{env}-{codepipeline.GlobalVariables.EXECUTION_ID}"


def change_set_name_pattern(env: str) -> str:
    """The names change_set_name gives once CodePipeline resolved the execution id."""
    return f"conveyor-{env}-*"


def grant_change_sets(pipeline: codepipeline.Pipeline, spec: Spec, part: EnvironmentParts) -> None:
    """CDK conditions its CloudFormation actions' change set calls on the configured name
    (`StringEqualsIfExists cloudformation:ChangeSetName`), which holds the execution-id variable
    unresolved, so it never equals the name CodePipeline sends: the actions' roles may make,
    read, delete and execute this environment's per-execution change sets by the name's
    pattern instead.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html"""
    if part.stack_roles is not None:
        return  # another account's deploy role: its bootstrap stack grants the stack's calls
    stack_arn = Stack.of(part.stack).format_arn(
        service="cloudformation", resource="stack", resource_name=f"{part.stack.stack_name}/*"
    )
    names = [stage_name(part.name), *prepare_stage_names(spec, part.env)]
    for stage in (pipeline.node.find_child(name) for name in names):
        for action_name in ("ChangeSet", "Deploy"):
            action = stage.node.try_find_child(action_name)
            role = action.node.try_find_child("CodePipelineActionRole") if action else None
            if not isinstance(role, iam.Role) or not part.env.needs_approval:
                continue
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "cloudformation:CreateChangeSet",
                        "cloudformation:DeleteChangeSet",
                        "cloudformation:DescribeChangeSet",
                        "cloudformation:ExecuteChangeSet",
                    ],
                    resources=[stack_arn],
                    conditions={
                        "StringLike": {
                            "cloudformation:ChangeSetName": change_set_name_pattern(part.name)
                        }
                    },
                )
            )


def variables_namespace(env: str) -> str:
    """The namespace of the stack deploy's output variables: the stack's outputs."""
    return f"Stack{camel(env)}"


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
    # An environment in another region than the pipeline's (regional_support.py): that
    # region, the image repository there, and its stack's CloudFormation role, made there.
    region: str | None = None
    image_repository_uri: str | None = None
    cloudformation_role: iam.IRole | None = None

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
    def is_job(self) -> bool:
        """A scheduled job (create.kind: job): a task definition and a schedule, no service."""
        ecs_deploy = self.env.deploy.ecs
        return (
            ecs_deploy is not None
            and ecs_deploy.create is not None
            and (ecs_deploy.create.kind == "job")
        )

    @property
    def has_service(self) -> bool:
        """An ECS service the pipeline deploys to: one conveyor creates (not a job's task) or an
        existing one."""
        return (self.creates_service and not self.is_job) or self.existing is not None

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
        """The environment's URL: its stack's output, read by the stage's deploy action (a
        backend, a worker or a job has none: no load balancer)."""
        ecs_deploy = self.env.deploy.ecs
        if ecs_deploy is None or ecs_deploy.create is None or ecs_deploy.create.kind != "web":
            return None
        return f"#{{{variables_namespace(self.name)}.{URL_OUTPUT}}}"

    def check_url(self) -> str | None:
        """Where the validation reaches a created service: its URL, or the load balancer's
        own when the domain's DNS record is not conveyor's (it may not point at this load
        balancer yet when the first release is checked); the check then sends the domain as
        SNI and Host (Environment.validation)."""
        if not self.creates_service or self.is_job:
            return None
        domain = self.env.domain
        if domain is not None and domain.hosted_zone_id is None:
            return f"#{{{variables_namespace(self.name)}.{LOAD_BALANCER_URL_OUTPUT}}}"
        return self.url()


# The actions that hand CloudFormation a template with its parameters (the change set's
# execution reuses the values resolved when the change set was created).
RESOLVING_ACTIONS = ("Deploy", "ChangeSet")


def grant_stack_parameters(
    pipeline: codepipeline.Pipeline, spec: Spec, part: EnvironmentParts
) -> None:
    """The roles CDK gives an environment's CloudFormation actions (in the pipeline's account)
    may read the parameters of the stack's SSM-typed template parameters: CloudFormation
    resolves them with the caller's credentials (cloudformation_role.SSM_PARAMETER_TYPE)."""
    if part.stack_roles is not None:
        return  # another account's deploy role, granted in its bootstrap stack
    names = [stage_name(part.name), *prepare_stage_names(spec, part.env)]
    for stage in (pipeline.node.find_child(name) for name in names):
        for name in RESOLVING_ACTIONS:
            action = stage.node.try_find_child(name)
            role = action.node.try_find_child("CodePipelineActionRole") if action else None
            if isinstance(role, iam.Role):
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
    workers = [part for part in unchecked if part.env.is_worker]
    # A backend's stack update waits for its rolling deployment, which completes when the new
    # tasks pass the health command and is rolled back by the circuit breaker when they never
    # do (Environment.checked_by_health_command).
    healthy = [part for part in unchecked if part.env.checked_by_health_command]
    if not unchecked or len(shifted) + len(workers) + len(healthy) != len(unchecked):
        return None
    reasons = []
    if shifted:
        names = ", ".join(part.name for part in shifted)
        reasons.append(
            f"the Lambda deploys of {names} are validated inside their stack update: CodeDeploy "
            "shifts the alias in steps and rolls back on the function's error, throttle and "
            "duration alarms (the environment stack's deployment group)"
        )
    if workers:
        # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
        names = ", ".join(part.name for part in workers)
        reasons.append(
            f"the workers of {names} answer no request and are validated inside their stack "
            "update: the ECS deployment waits for the new tasks' container health check "
            "(create.health_command) and its circuit breaker rolls back a release whose tasks "
            "never turn healthy, failing the update"
        )
    if healthy:
        names = ", ".join(part.name for part in healthy)
        reasons.append(
            f"the backend deploys of {names} are validated inside their stack update: the "
            "rolling deployment completes only when the new tasks pass the container health "
            "command, and its circuit breaker rolls back and fails the update when they never do"
        )
    return "; ".join(reasons)


class EnvironmentStage:
    """The actions of one environment's stages, in order."""

    def __init__(self, pipeline: Pipeline, part: EnvironmentParts) -> None:
        self.pipeline = pipeline
        self.part = part
        self.scope: Construct = pipeline
        self._order = 0
        self._logs: Any = None
        self._stack_roles: tuple[iam.IRole | None, iam.IRole] | None = None

    def _next(self) -> int:
        self._order += 1
        return self._order

    @property
    def _marks_image(self) -> bool:
        return self.part.creates_service or self.part.existing is not None

    def prepare_actions(
        self,
        stage: str,
        templates: codepipeline.Artifact,
        build_output: codepipeline.Artifact,
        projects: list[codebuild.IProject],
    ) -> list[codepipeline.IAction]:
        """`Approve-<env>`: the change set, the image's mark (so the registry keeps an image
        waiting for the approval, where no `Release-<env>` marks it) and the approval.
        `Release-<env>`: the release's mark, then the `before` job; after the approval (nothing
        runs for a release nobody approved) and behind the gate again (plan.gated_stage_names:
        a migration never runs outside the window)."""
        part = self.part
        self._order = 0
        found: list[codepipeline.IAction] = []
        if stage.startswith("Approve-"):
            if part.is_lambda:
                # Before the change set, which names the copy's version (and so does the deploy
                # stage's update: the same variables).
                found.append(self._mark_package(projects))
            found.append(self._change_set(templates, build_output))
            if self._marks_image and not self._releases:
                found.append(self.pipeline.marks.image(part.name, projects, run_order=1))
            found.append(self._approval())
            return found
        # Release-<env>: real work for the gate to hold (a stage needs an action). The mark
        # first: an image or package gone while the release waited (an approval waits up to
        # 7 days) fails here, before the job or the stack changes anything. It reads the
        # gate's alarms again first: AWS does not once the window opens, so an execution that
        # waited at the entry for the window would otherwise run with alarms read hours
        # before (buildspec.gate_alarm_commands). None in another account (entry_alarms).
        alarms = self.pipeline.spec.entry_alarms(part.env)
        if part.is_lambda:
            # An extra copy, its version not exported (the namespace is the copy the change set
            # or the deploy stage reads); the copy is idempotent, so that one reuses this one.
            found.append(
                self.pipeline.marks.package(
                    part.name, projects, run_order=self._next(), exported=False, gate_alarms=alarms
                )
            )
        else:
            found.append(
                self.pipeline.marks.image(
                    part.name, projects, run_order=self._next(), gate_alarms=alarms
                )
            )
        if part.env.before is not None:
            found.append(self._job("Before", part.env.before, projects, after_deploy=False))
        return found

    @property
    def _releases(self) -> bool:
        """Whether the environment has a `Release-<env>` stage, which marks the release."""
        return f"Release-{self.part.name}" in prepare_stage_names(self.pipeline.spec, self.part.env)

    def actions(
        self,
        templates: codepipeline.Artifact,
        build_output: codepipeline.Artifact,
        projects: list[codebuild.IProject],
    ) -> list[codepipeline.IAction]:
        """`Deploy-<env>`: what its rollback runs again with the last good release."""
        part = self.part
        self._order = 0
        found: list[codepipeline.IAction] = []
        if part.is_lambda and not part.env.needs_approval:
            # First in the stage: the stack deploys the environment's own copy of the package,
            # which the store keeps (a rollback copies the last good release's package again).
            # Kept here even after Release-<env>'s copy: what a rollback of this stage needs is
            # made in this stage.
            found.append(self._mark_package(projects))
        if part.env.needs_approval:
            # The change set again, then its execution: the approval stage's change set of a
            # stack that does not exist yet leaves it in REVIEW_IN_PROGRESS, which a
            # CREATE_UPDATE cannot update (only executing a change set creates it,
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html),
            # and a rollback must execute a change set of the last good release's template and
            # parameters, made in this stage, never the approved one by name (CV108).
            found.append(self._change_set(templates, build_output))
            found.append(self._execute_change_set())
        else:
            found.append(self._stack_deploy(templates, build_output))
        if self._marks_image and not part.env.needs_approval and not self._releases:
            found.append(self.pipeline.marks.image(part.name, projects, run_order=1))
        if part.codedeploy_ecs:
            found.append(self._codedeploy(build_output))
        elif part.existing is not None:
            found.append(self._ecs_deploy(build_output))
        if part.env.validation is not None:
            found.append(
                validate_action(
                    self.pipeline, part, stage=stage_name(part.name), run_order=self._next()
                )
            )
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
            if part.is_job:
                # The family whose latest revision the schedule runs (no service to name).
                found["TASK_FAMILY"] = task_family(part.naming, part.name)
            else:
                found["SERVICE_NAME"] = part.service_name
            # In another region, the copy the environment's stack deploys (buildspec
            # .replica_commands), by the same digest.
            found["IMAGE_URI"] = (
                f"{part.image_repository_uri}@#{{Build.IMAGE_DIGEST}}"
                if part.image_repository_uri is not None
                else "#{Build.IMAGE_URI}"
            )
        if part.region is not None:
            # The job runs in the pipeline's region, where CodeBuild sets AWS_REGION and
            # AWS_DEFAULT_REGION ("The AWS Region where the build is running",
            # https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html):
            # there the environment's cluster and service do not exist, and a job that reads
            # that as "not created yet, nothing to migrate" would skip its work every release.
            found["ENVIRONMENT_REGION"] = part.region
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
            # In another region, that region's package store, where MarkDeployed copied it:
            # Lambda reads code only from a bucket in the function's region (CV127).
            # https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html
            support = self.pipeline.regions.get(part.region or "")
            return {
                CODE_BUCKET_PARAMETER: (
                    support.package_bucket_name
                    if support is not None
                    else packages.bucket.bucket_name
                ),
                CODE_KEY_PARAMETER: packages.deployed_key(part.name),
                CODE_VERSION_PARAMETER: f"#{{{namespace}.{buildspec.DEPLOYED_VERSION}}}",
            }
        if part.creates_service:
            # The image the build pushed, by digest: the same bytes in every environment; the
            # execution, so that re-running a release redeploys it (ecs_task.RELEASE_LABEL).
            # https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html
            # In another region, the same digest in that region's repository, which the build
            # pushed too (buildspec.replica_commands).
            image = (
                f"{part.image_repository_uri}@#{{Build.IMAGE_DIGEST}}"
                if part.image_repository_uri is not None
                else "#{Build.IMAGE_URI}"
            )
            return {
                IMAGE_PARAMETER: image,
                RELEASE_PARAMETER: codepipeline.GlobalVariables.EXECUTION_ID,
            }
        return {}

    def _role(self) -> iam.IRole:
        part = self.part
        if part.cloudformation_role is not None:
            return part.cloudformation_role  # made in the environment's region's stack
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

    def _mark_package(self, projects: list[codebuild.IProject]) -> codepipeline.IAction:
        return self.pipeline.marks.package(self.part.name, projects, run_order=self._next())

    def _roles(self) -> tuple[iam.IRole | None, iam.IRole]:
        """(the action's role, CloudFormation's service role) of this environment's stack
        actions: another account's, or one made here once for both stages."""
        if self._stack_roles is None:
            part = self.part
            self._stack_roles = part.stack_roles if part.stack_roles else (None, self._role())
        return self._stack_roles

    def _template(self, templates: codepipeline.Artifact) -> codepipeline.ArtifactPath:
        return templates.at_path(f"{self.part.stack.stack_name}.template.json")

    def _stack_deploy(
        self, templates: codepipeline.Artifact, build_output: codepipeline.Artifact
    ) -> codepipeline.IAction:
        part = self.part
        action_role, role = self._roles()
        return actions.CloudFormationCreateUpdateStackAction(
            action_name="Deploy",
            region=part.region,
            stack_name=part.stack.stack_name,
            template_path=self._template(templates),
            admin_permissions=False,
            deployment_role=role,
            parameter_overrides=self._parameters(build_output),
            cfn_capabilities=[CfnCapabilities.NAMED_IAM],
            variables_namespace=variables_namespace(part.name),
            role=action_role,
            run_order=self._next(),
        )

    def _change_set(
        self, templates: codepipeline.Artifact, build_output: codepipeline.Artifact
    ) -> codepipeline.IAction:
        """What the approver reads: the change the deploy stage will make (same template and
        parameters), named for this execution (change_set_name), so a queued release never
        replaces it; executing a change set deletes the stack's others."""
        part = self.part
        action_role, role = self._roles()
        return actions.CloudFormationCreateReplaceChangeSetAction(
            action_name="ChangeSet",
            region=part.region,
            stack_name=part.stack.stack_name,
            change_set_name=self._change_set_name,
            template_path=self._template(templates),
            admin_permissions=False,
            deployment_role=role,
            parameter_overrides=self._parameters(build_output),
            cfn_capabilities=[CfnCapabilities.NAMED_IAM],
            role=action_role,
            run_order=self._next(),
        )

    def _execute_change_set(self) -> codepipeline.IAction:
        part = self.part
        action_role, _ = self._roles()
        return actions.CloudFormationExecuteChangeSetAction(
            action_name="Deploy",
            region=part.region,
            stack_name=part.stack.stack_name,
            change_set_name=self._change_set_name,
            variables_namespace=variables_namespace(part.name),
            role=action_role,
            run_order=self._next(),
        )

    @property
    def _change_set_name(self) -> str:
        return change_set_name(self.part.name)

    def _approval(self) -> codepipeline.IAction:
        return actions.ManualApprovalAction(
            action_name="Approve",
            notification_topic=self.pipeline.approval_topic(),
            additional_information=self._approval_notice(
                self.part.stack.stack_name, self._change_set_name
            ),
            run_order=self._next(),
        )

    def _approval_notice(self, stack_name: str, change_set: str) -> str:
        spec = self.pipeline.spec
        commit = " (commit #{Source.CommitId})" if spec.source.s3 is None else ""
        # In another region the change set is there, and the AWS CLI and the console look in
        # the caller's own region unless told (a command line option overrides "any
        # corresponding profile setting, or environment variable setting",
        # https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-options.html).
        region = self.part.region
        flag = f" --region {region}" if region else ""
        console = f"CloudFormation console in {region}" if region else "CloudFormation console"
        # This execution's own change set (change_set_name), never a later one's.
        return (
            f"Deploy {spec.app} to {self.part.name}{commit}? This execution's change set: "
            f"`aws cloudformation describe-change-set --stack-name {stack_name} "
            f"--change-set-name {change_set}{flag}` (or {console} > Stacks > "
            f"{stack_name} > Change sets). Approving deploys its template and parameters in "
            f"{stage_name(self.part.name)}."
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


def environment_stages(
    pipeline: Pipeline,
    parts: Sequence[EnvironmentParts],
    planned: Mapping[str, PlannedStage],
    templates: codepipeline.Artifact,
    build_output: codepipeline.Artifact,
    projects: list[codebuild.IProject],
) -> list[codepipeline.StageProps]:
    """Each environment's stages, environment after environment, with the plan's conditions."""
    stages: list[codepipeline.StageProps] = []
    for part in parts:
        environment = EnvironmentStage(pipeline, part)
        for prepare in prepare_stage_names(pipeline.spec, part.env):
            # Once per release, never again in a rollback (this module's docstring: why); the
            # gate before the approval and again before the first change, never on the stage
            # that rolls back (plan.gated_stage_names).
            stages.append(
                codepipeline.StageProps(
                    stage_name=prepare,
                    actions=environment.prepare_actions(prepare, templates, build_output, projects),
                    **stage_conditions(planned[prepare].conditions),
                )
            )
        name = stage_name(part.env.name)
        stages.append(
            codepipeline.StageProps(
                stage_name=name,
                actions=environment.actions(templates, build_output, projects),
                # Rollback on failure, alarm gates, bake and deployment window.
                **stage_conditions(planned[name].conditions),
            )
        )
    return stages


def grant_stack_actions(
    pipeline: codepipeline.Pipeline, spec: Spec, parts: Sequence[EnvironmentParts]
) -> None:
    """What the roles CDK gives each environment's CloudFormation actions lack: the stack's
    SSM parameters and its per-execution change sets."""
    for part in parts:
        grant_stack_parameters(pipeline, spec, part)
        grant_change_sets(pipeline, spec, part)
