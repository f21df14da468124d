"""One environment's own stack: its key, network, cluster, service, load balancer, function and
alias, alarms, deployment groups and validation hooks.

The pipeline deploys it (a CloudFormation action per release, with the release's image or
package as a parameter), never `conveyor deploy`: infrastructure changes travel the same road
as code, through staging and production's approval (FM110). The stack takes nothing from the
pipeline's stack by reference (no Fn::ImportValue): the pipeline's first deploy comes before
any environment stack exists, and another account could not import anyway. What it needs from
the pipeline's side (the image repository) it names by conveyor's deterministic names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import (
    Aspects,
    Aws,
    CfnOutput,
    CfnParameter,
    DefaultStackSynthesizer,
    Duration,
    Fn,
)
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as sns_subscriptions
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults, feature_flags
from conveyor.constructs.artifact_store import AccessLogBucket
from conveyor.constructs.backend_service import FargateBackendService
from conveyor.constructs.ecs_service import FargateWebService
from conveyor.constructs.ecs_task import ECR_DIGEST_PATTERN, IMAGE_PARAMETER, RELEASE_PARAMETER
from conveyor.constructs.handler_function import HandlerFunction
from conveyor.constructs.idempotency_table import IdempotencyTable
from conveyor.constructs.lambda_target import (
    CODE_BUCKET_PARAMETER,
    CODE_KEY_PARAMETER,
    CODE_VERSION_PARAMETER,
    LambdaCanaryTarget,
)
from conveyor.constructs.naming import Naming
from conveyor.constructs.scheduled_job import ScheduledJob
from conveyor.constructs.stacks import AccountStack
from conveyor.constructs.tagging import TagUnmanagedResources, apply_tags
from conveyor.constructs.worker_service import (
    QUEUE_ARN_OUTPUT,
    QUEUE_KEY_OUTPUT,
    QUEUE_URL_OUTPUT,
    WorkerService,
)
from conveyor.spec.models import Environment, HttpCheck, Spec

URL_OUTPUT = "Url"
# The load balancer's own address: where a domain's DNS record points when it is not
# conveyor's, and what validation calls then (with the domain as SNI and Host).
LOAD_BALANCER_URL_OUTPUT = "LoadBalancerUrl"
# The qualifier `cdk bootstrap` uses unless told otherwise (its bucket and roles carry it).
# https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
BOOTSTRAP_QUALIFIER = "hnb659fds"


def environment_stack_name(naming: Naming, env: Environment) -> str:
    return naming.name(env.name)


def hook_function_name(naming: Naming, env_name: str) -> str:
    """The validation hook's function name (CodeDeploy's appspec names it)."""
    return naming.name("validate-http", f"{env_name}-hook")


def vpc_validator_name(naming: Naming, env_name: str) -> str:
    """The function that validates an internal service from inside its VPC (the pipeline's
    Validate action invokes it by this name)."""
    return naming.name("validate-http", f"{env_name}-vpc")


def ca_environment(check: HttpCheck) -> dict[str, str]:
    """A private CA for the check, as the handler reads it (VALIDATE_CA_CERTIFICATE)."""
    return {"VALIDATE_CA_CERTIFICATE": check.ca_certificate.strip()} if check.ca_certificate else {}


class EnvironmentStack(AccountStack):
    """The stack of one environment, in its own account (the pipeline's unless `account:`).

    Its template names its account by token (AccountStack), so the same template deploys
    wherever the pipeline's CloudFormation action sends it (FM25).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        spec: Spec,
        env: Environment,
        naming: Naming,
        tags: Mapping[str, str],
        emails: Sequence[str],
    ) -> None:
        super().__init__(
            scope,
            environment_stack_name(naming, env),
            env=(
                CdkEnvironment(account=env.account, region=spec.environment_region(env))
                if env in spec.foreign_environments
                else (
                    CdkEnvironment(region=spec.environment_region(env))
                    if spec.pipeline_region
                    else None
                )
            ),
            description=f"conveyor {spec.app}: environment {env.name}, deployed by its pipeline",
            termination_protection=env.is_production,
            # The pipeline's CloudFormation role deploys this template, not the CDK CLI: no
            # check of the CDK bootstrap version (its SSM parameter) in it.
            synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
        )
        self.spec = spec
        self.env_spec = env
        self.naming = naming
        feature_flags.apply_recommended(self)
        stack_tags = {**tags, defaults.TAG_ENVIRONMENT: env.name}
        # Every taggable resource of this stack carries them; its CloudFormation role may
        # manage only keys that do (cloudformation_role.py).
        self.resource_tags = stack_tags
        apply_tags(self, stack_tags)
        Aspects.of(self).add(TagUnmanagedResources(stack_tags))
        # prevents FM76: each environment's data is encrypted with its own key.
        self.key = defaults.encryption_key(
            self,
            "Key",
            alias=naming.name("key", env.name),
            description=f"conveyor {naming.app}: {env.name} logs, functions and alarms",
            production=env.is_production,
        )
        defaults.allow_logs_to_use_key(self.key, log_group_prefix=naming.path(""))
        self.function: LambdaCanaryTarget | None = None
        self.web: FargateWebService | None = None
        self.worker: WorkerService | None = None
        self.job: ScheduledJob | None = None
        self.backend: FargateBackendService | None = None
        create = env.deploy.ecs.create if env.deploy.ecs is not None else None
        if env.deploy.lambda_ is not None:
            self._function(env)
        elif create is not None and create.kind == "worker":
            self._worker_service(env)
        elif create is not None and create.kind == "job":
            self._job(env)
        elif create is not None and create.kind == "backend":
            self._backend_service(env)
        elif create is not None:
            self._web_service(env)
        if env in spec.foreign_environments:
            self._asset_bucket_by_token()
        if spec.environment_region(env) != spec.pipeline_region:
            creates_service = env.deploy.ecs is not None and env.deploy.ecs.create is not None
            if creates_service:
                self._forward_service_events()
            if env.deploy.lambda_ is not None:
                self._forward_deployment_events()

    def _forward_service_events(self) -> None:
        """ECS tells of the service's deployments (and the rollback of a failed one) on the
        default bus of this stack's region; the pipeline's ECS rollback notice listens on the
        pipeline region's. A rule here puts the service's deployment state changes there.
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html"""
        service = self.web or self.worker or self.backend
        assert service is not None
        env = self.env_spec
        target = service.target
        rule = events.Rule(
            self,
            "ServiceDeploymentEvents",
            rule_name=self.naming.name("service-events", env.name),
            description=(
                f"conveyor {self.spec.app}: {env.name}'s ECS service deployments, to the "
                "pipeline region's notices"
            ),
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Deployment State Change"],
                resources=[
                    f"arn:{Aws.PARTITION}:ecs:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"service/{target.cluster_name}/{target.service_name}"
                ],
            ),
        )
        rule.add_target(self._pipeline_bus("ECS deployment"))

    def _forward_deployment_events(self) -> None:
        """CodeDeploy tells of the function's deployments (the alias shift CloudFormation's
        update policy starts, and its rollback) on the default bus of this stack's region; the
        pipeline's history and CodeDeploy notices listen on the pipeline region's, by the
        application's name (conveyor names the application after its one group). A rule here
        puts the application's state changes there.
        https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html"""
        assert self.function is not None
        env = self.env_spec
        rule = events.Rule(
            self,
            "DeploymentEvents",
            rule_name=self.naming.name("deployment-events", env.name),
            description=(
                f"conveyor {self.spec.app}: {env.name}'s CodeDeploy deployments, to the "
                "pipeline region's history and notices"
            ),
            event_pattern=events.EventPattern(
                source=["aws.codedeploy"],
                detail_type=["CodeDeploy Deployment State-change Notification"],
                detail={"application": [self.naming.name("deploy", env.name)]},
            ),
        )
        rule.add_target(self._pipeline_bus("CodeDeploy deployment"))

    def _pipeline_bus(self, what: str) -> targets.EventBus:
        """The pipeline region's default bus as a rule's target, through a role only
        EventBridge may assume, allowed events:PutEvents on that bus alone (the default bus
        takes events from its own account without a resource policy). Forwarded events keep
        their source, detail, resources and region, so the pipeline's rules match them as
        they match their own region's.
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html"""
        env = self.env_spec
        # The pipeline's region as a parameter, never a literal (FM25).
        region = CfnParameter(
            self,
            "PipelineRegion",
            type="String",
            default=self.spec.pipeline_region,
            allowed_pattern=r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$",
            description=f"Region of the {self.spec.app} pipeline, whose notices hear this stack",
        ).value_as_string
        bus = events.EventBus.from_event_bus_arn(
            self,
            "PipelineBus",
            f"arn:{Aws.PARTITION}:events:{region}:{Aws.ACCOUNT_ID}:event-bus/default",
        )
        role = iam.Role(
            self,
            "ServiceEventsRole" if self.function is None else "DeploymentEventsRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=(
                f"conveyor {self.spec.app}: forwards {env.name}'s {what} events to the "
                "pipeline's region"
            ),
        )
        return targets.EventBus(bus, role=role)

    def _asset_bucket_by_token(self) -> None:
        """The hooks' code lives in this account's CDK bootstrap bucket. The CDK names that
        bucket with the stack's concrete account (the asset is published there); the template
        names it with AWS::AccountId and AWS::Region instead, like every other ARN here (FM25)."""
        literal = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{self.env_spec.account}-"
        for child in self.node.find_all():
            if not isinstance(child, lambda_.CfnFunction):
                continue
            code = self.resolve(child.code)
            if isinstance(code, dict) and str(code.get("s3Bucket", "")).startswith(literal):
                child.add_property_override(
                    "Code.S3Bucket",
                    Fn.sub(
                        f"cdk-{BOOTSTRAP_QUALIFIER}-assets-${{AWS::AccountId}}-${{AWS::Region}}"
                    ),
                )

    def _alarm_topic(self) -> defaults.NoticeTopic:
        """Alarms notify a topic in their own stack and account (the primary audience again):
        a reference to the pipeline's topic would tie this stack to the pipeline's."""
        topic = defaults.encrypted_topic(
            self, "AlarmTopic", name=self.naming.name("alarms", self.env_spec.name), key=self.key
        )
        for email in self._emails():
            topic.add_subscription(sns_subscriptions.EmailSubscription(email))
        return topic

    def _emails(self) -> list[str]:
        audiences = self.spec.notifications.all_audiences()
        return list(next(iter(audiences.values())).email)

    def _function(self, env: Environment) -> None:
        deploy = env.deploy.lambda_
        assert deploy is not None
        check = env.validation
        bucket = CfnParameter(
            self,
            CODE_BUCKET_PARAMETER,
            type="String",
            description="Bucket of the release's package (the pipeline's package store)",
        )
        key = CfnParameter(
            self,
            CODE_KEY_PARAMETER,
            type="String",
            description="Key of the function's package in the pipeline's package store",
        )
        version = CfnParameter(
            self,
            CODE_VERSION_PARAMETER,
            type="String",
            description="The release: the version of the package the pipeline's build uploaded",
        )
        self.function = LambdaCanaryTarget(
            self,
            "Function",
            naming=self.naming,
            env_name=env.name,
            deploy=deploy,
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            alarm_topic=self._alarm_topic(),
            code_bucket=bucket.value_as_string,
            code_key=key.value_as_string,
            code_version=version.value_as_string,
            hook=(
                (lambda s: self._hook(s, check, None, check.url or ""))
                if check is not None and check.url is not None
                else None
            ),
        )
        CfnOutput(self, "FunctionAlias", value=self.function.alias.function_arn)

    def _release_parameters(self) -> tuple[str, str]:
        """The release's image (by digest) and the pipeline execution deploying it."""
        image = CfnParameter(
            self,
            IMAGE_PARAMETER,
            type="String",
            allowed_pattern=ECR_DIGEST_PATTERN,
            constraint_description="an ECR image pinned by digest (the pipeline's build)",
            description="The release's image: the pipeline's build, by digest",
        )
        release = CfnParameter(
            self,
            RELEASE_PARAMETER,
            type="String",
            default="none",
            description=(
                "The pipeline execution deploying the release: a new execution redeploys an "
                "unchanged image (a re-run after a validation rollback)"
            ),
        )
        return image.value_as_string, release.value_as_string

    def _platform(self) -> str:
        # The tasks run on the architecture the image is built for (exec format errors
        # otherwise).
        return self.spec.build.docker.platform if self.spec.build.docker else "linux/amd64"

    def _worker_service(self, env: Environment) -> None:
        """A worker and its queue (create.kind: worker): no load balancer, no URL; the queue's
        address and key are outputs, for producers (docs/pipelines.md, Workers)."""
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        image, release = self._release_parameters()
        self.worker = WorkerService(
            self,
            "Worker",
            naming=self.naming,
            env_name=env.name,
            deploy=ecs_deploy,
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            repository=self._repository(),
            image=image,
            release=release,
            platform=self._platform(),
            alarm_topic=self._alarm_topic(),
        )
        CfnOutput(self, "ServiceName", value=self.worker.target.service_name)
        CfnOutput(self, QUEUE_URL_OUTPUT, value=self.worker.queue.queue_url)
        CfnOutput(self, QUEUE_ARN_OUTPUT, value=self.worker.queue.queue_arn)
        CfnOutput(self, QUEUE_KEY_OUTPUT, value=self.key.key_arn)

    def _backend_service(self, env: Environment) -> None:
        """A backend (create.kind: backend): no load balancer, no URL; its Service Connect
        endpoint (and namespace, when it creates one) are outputs (backend_service.py)."""
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        image, release = self._release_parameters()
        self.backend = FargateBackendService(
            self,
            "Backend",
            naming=self.naming,
            env_name=env.name,
            deploy=ecs_deploy,
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            repository=self._repository(),
            image=image,
            release=release,
            platform=self._platform(),
        )
        CfnOutput(self, "ServiceName", value=self.backend.target.service_name)

    def _job(self, env: Environment) -> None:
        """A scheduled job (create.kind: job): the release's task definition, run by
        EventBridge Scheduler; no service, no load balancer, no URL."""
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        image, release = self._release_parameters()
        self.job = ScheduledJob(
            self,
            "Job",
            naming=self.naming,
            env_name=env.name,
            deploy=ecs_deploy,
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            repository=self._repository(),
            image=image,
            release=release,
            platform=self._platform(),
            alarm_topic=self._alarm_topic(),
        )
        target = self.job.target
        CfnOutput(self, "ClusterName", value=target.cluster_name)
        CfnOutput(self, "ScheduleName", value=target.schedule_name)

    def _web_service(self, env: Environment) -> None:
        ecs_deploy = env.deploy.ecs
        assert ecs_deploy is not None
        check = env.validation
        image, release = self._release_parameters()
        # prevents FM76: the environment's load balancer logs to its own bucket.
        access_logs = AccessLogBucket(
            self,
            "AccessLogs",
            production=env.is_production,
            expire_days=max(90, self.spec.retention.log_days),
        ).bucket
        self.web = FargateWebService(
            self,
            "Web",
            naming=self.naming,
            env_name=env.name,
            deploy=ecs_deploy,
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            access_logs=access_logs,
            repository=self._repository(),
            image=image,
            release=release,
            platform=self._platform(),
            alarm_topic=self._alarm_topic(),
            hook=(
                (lambda s, vpc, test_url: self._hook(s, check, vpc, test_url))
                if check is not None
                else None
            ),
        )
        if check is not None and ecs_deploy.create is not None and not ecs_deploy.create.public:
            self._vpc_validator(check, self.web.vpc)
        target = self.web.target
        CfnOutput(self, "ServiceName", value=target.service_name)
        if target.url is not None:
            CfnOutput(self, URL_OUTPUT, value=target.url)
        if target.load_balancer_url is not None:
            CfnOutput(self, LOAD_BALANCER_URL_OUTPUT, value=target.load_balancer_url)

    def _vpc_validator(self, check: HttpCheck, vpc: ec2.IVpc) -> None:
        """The pipeline's validation of an internal service (create.public: false), run from
        the VPC's private subnets: a function outside the VPC cannot reach an internal load
        balancer, whose name resolves to private addresses. It reports to CodePipeline through
        the NAT gateway. The pipeline's Validate action invokes it by name (no reference
        between the stacks); the check's settings arrive as the action's UserParameters.
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme
        https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html
        https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-invoke-lambda-function.html"""
        env = self.env_spec
        validator = HandlerFunction(
            self,
            "VpcValidator",
            handler="validate_http",
            naming=self.naming,
            env_name=f"{env.name}-vpc",
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            environment=ca_environment(check),
            timeout=Duration.minutes(10),
            description=f"conveyor {self.naming.app}: validates {env.name} from its VPC",
            vpc=vpc,
        )
        # Its decision per job is kept like the pipeline's validator's (issue 17/2), in a
        # table of this stack: the pipeline's table and key are the pipeline stack's.
        IdempotencyTable(
            self,
            "Idempotency",
            naming=self.naming,
            key=self.key,
            production=env.is_production,
            env_name=env.name,
        ).grant(validator.function)
        validator.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"],
                resources=["*"],
            )
        )
        acknowledgements.acknowledge(
            validator,
            "IAM5[Resource::*]",
            "codepipeline:PutJobSuccessResult/PutJobFailureResult support no resource-level "
            "permissions",
        )

    def _repository(self) -> ecr.IRepository:
        """The pipeline's image repository, by name: in the pipeline's account, which is this
        one unless the environment has its own (then the repository's policy lets this
        account pull, see foreign_account.py)."""
        name = self.naming.name("images")
        account = Aws.ACCOUNT_ID
        if self.env_spec in self.spec.foreign_environments:
            account = CfnParameter(
                self,
                "PipelineAccountId",
                type="String",
                default=self.spec.account,
                allowed_pattern=r"^\d{12}$",
                description=f"Account of the {self.spec.app} pipeline and its image repository",
            ).value_as_string
        return ecr.Repository.from_repository_attributes(
            self,
            "Images",
            repository_name=name,
            repository_arn=f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:{account}:repository/{name}",
        )

    def _hook(
        self, scope: Construct, check: HttpCheck | None, vpc: ec2.IVpc | None, url: str
    ) -> lambda_.IFunction:
        """The validation check as a deployment lifecycle hook (CodeDeploy, or ECS's native
        blue/green): a bad version is rolled back before (ECS test traffic) or right after
        (Lambda) users reach it (FM63)."""
        assert check is not None
        env = self.env_spec
        # ECS: the test listener's URL plus the check's path; Lambda: the spec's URL.
        target = f"{url}{check.path}" if vpc is not None else url
        function = HandlerFunction(
            scope,
            "ValidationHook",
            handler="validate_http",
            naming=self.naming,
            env_name=f"{env.name}-hook",
            key=self.key,
            log_retention_days=self.spec.retention.log_days,
            production=env.is_production,
            environment={
                "VALIDATE_URL": target,
                "VALIDATE_EXPECT_STATUS": str(check.expect),
                "VALIDATE_BODY_CONTAINS": check.body_contains or "",
                "VALIDATE_RETRIES": str(check.retries),
                "VALIDATE_INTERVAL_SECONDS": str(check.interval_seconds),
                "VALIDATE_TIMEOUT_SECONDS": str(check.timeout_seconds),
                "VALIDATE_SERVER_NAME": check.server_name or "",
                **ca_environment(check),
            },
            timeout=Duration.minutes(10),
            description=f"conveyor {self.naming.app}: validates {env.name} during CodeDeploy",
            vpc=vpc,
        ).function
        if env.deploy.ecs is not None and env.deploy.ecs.strategy == "native-blue-green":
            return function  # ECS reads the hook's return value; no CodeDeploy call
        group = self.naming.name("deploy", env.name)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["codedeploy:PutLifecycleEventHookExecutionStatus"],
                resources=[
                    # conveyor names each CodeDeploy application after its one group.
                    f"arn:{Aws.PARTITION}:codedeploy:{Aws.REGION}:{Aws.ACCOUNT_ID}:"
                    f"deploymentgroup:{group}/{group}"
                ],
            )
        )
        return function
