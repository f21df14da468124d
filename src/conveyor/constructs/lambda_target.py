"""A Lambda function deployed with traffic shifting: version, alias, CodeDeploy (FM62)."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import CfnDeletionPolicy, Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.handler_function import function_role
from conveyor.constructs.naming import Naming
from conveyor.spec.models import LambdaDeploy

# Every runtime conveyor.yaml offers (conveyor.lambda_runtimes.OFFERED), as CDK names it.
RUNTIMES = {
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
    "python3.14": lambda_.Runtime.PYTHON_3_14,
    "nodejs22.x": lambda_.Runtime.NODEJS_22_X,
    "nodejs24.x": lambda_.Runtime.NODEJS_24_X,
}

# The environment stack's parameters naming the release's package: the pipeline's package
# store and the environment's own key in it (stages/environment.py passes them). No code
# exists before the first release creates the stack (FM110).
CODE_BUCKET_PARAMETER = "CodeBucket"
CODE_KEY_PARAMETER = "CodeKey"
# The package's object version: each release is a new version of the environment's own key in
# the pipeline's package store (its MarkDeployed job copies the build's package there), which
# keeps the versions an environment ran past other builds and the artifacts' expiry
# (PackageStore), so a rollback (CloudFormation's, or a stage rollback) finds the code it
# deploys again.
CODE_VERSION_PARAMETER = "CodeVersion"


class LambdaCanaryTarget(Construct):
    """Function, alias, alarms, and a CodeDeploy deployment group that shifts the alias.

    A release is a stack update with the new package: the function's code changes, a new
    version is published, and the alias's CodeDeployLambdaAliasUpdate policy (which CDK puts
    on an alias that has a deployment group) lets CodeDeploy shift traffic with its hook and
    alarms inside the update; a failure rolls the alias and the stack back.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html#cfn-attributes-updatepolicy-codedeploylambdaaliasupdate
    """

    function: lambda_.Function
    alias: lambda_.Alias
    deployment_group: codedeploy.LambdaDeploymentGroup
    alarms: list[cloudwatch.IAlarm]
    revision_alarms: list[cloudwatch.IAlarm]

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        env_name: str,
        deploy: LambdaDeploy,
        key: kms.Key,
        log_retention_days: int,
        production: bool,
        alarm_topic: defaults.NoticeTopic,
        code_bucket: str,
        code_key: str,
        code_version: str,
        hook: Callable[[Construct], lambda_.IFunction] | None = None,
    ) -> None:
        super().__init__(scope, id)
        settings = deploy.function
        logs = defaults.log_group(
            self,
            "Logs",
            name=naming.path("function", env_name),
            key=key,
            retention_days=log_retention_days,
            production=production,
        )
        role = function_role(self, logs, description=f"{naming.app} function ({env_name})")
        package = s3.Bucket.from_bucket_name(self, "Package", code_bucket)
        self.function = lambda_.Function(
            self,
            "Function",
            role=role,
            function_name=naming.name("function", env_name),
            description=f"{naming.app} ({env_name}), deployed by its conveyor pipeline",
            runtime=RUNTIMES[settings.runtime],  # prevents FM65: current runtimes only
            # The build installs wheels for this architecture (LAMBDA_PIP_PLATFORM).
            architecture=(
                lambda_.Architecture.ARM_64
                if settings.architecture == "arm64"
                else lambda_.Architecture.X86_64
            ),
            handler=settings.handler,
            code=lambda_.Code.from_bucket(package, code_key, code_version),
            memory_size=settings.memory,
            timeout=Duration.seconds(settings.timeout_seconds),
            environment=dict(sorted(settings.env.items())),
            log_group=logs,
        )
        # prevents FM62: traffic shifting needs a published version and an alias. A version's
        # description cannot be updated, only replaced: naming the package's object version
        # makes every release publish a new version (CDK's current_version hashes the parameter
        # token, not the package, and would never change).
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-version.html
        self.version = lambda_.Version(
            self,
            "Version",
            lambda_=self.function,
            description=f"conveyor release of {code_key} version {code_version}",
        )
        # The version a release replaces is deleted by CloudFormation before the pipeline's
        # Validate runs; keeping it leaves a version to point the alias back at by hand (the
        # validation's own rollback, which needed it first, was removed in issue 11: a stage
        # rollback publishes the last good package anew). The function's deletion still removes
        # every version.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html
        version_resource = self.version.node.default_child
        assert isinstance(version_resource, lambda_.CfnVersion)
        version_resource.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        self.alias = lambda_.Alias(self, "Alias", alias_name=deploy.alias, version=self.version)
        # The environment's alarms (every version behind the alias, and the spec's alarms:)
        # are the pipeline's to watch: its entry gate and its bake. CodeDeploy watches only
        # the alarms of the version this release publishes (revision_alarms: why).
        self.alarms = self._alarms(naming, env_name, deploy, alarm_topic)
        self.revision_alarms = self._revision_alarms(naming, env_name, deploy, alarm_topic)
        name = naming.name("deploy", env_name)
        hook_function = hook(self) if hook is not None else None
        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            application=codedeploy.LambdaApplication(self, "Application", application_name=name),
            deployment_group_name=name,
            alias=self.alias,
            deployment_config=self._config(deploy),
            alarms=self.revision_alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            post_hook=hook_function,
        )
        # The alias's update starts CodeDeploy's deployment, which reads the group's alarms
        # then: the group must already watch this release's alarms (made with its version), not
        # the replaced version's, which a rollback finds in ALARM. The UpdatePolicy's Ref to the
        # group is that order: CDK counts it as the alias's dependency on the group and drops an
        # explicit DependsOn as redundant (that CloudFormation orders by a Ref inside an
        # UpdatePolicy as by one in Properties is CDK's reading, not verified in an account).
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html
        self.hook = hook_function
        if hook_function is not None:
            acknowledgements.function_versions(
                self.deployment_group,
                hook_function,
                "CodeDeploy may invoke this deployment's own validation hook",
            )
        acknowledgements.acknowledge(
            self.function,
            "L1",
            f"{settings.runtime} is chosen in conveyor.yaml, which accepts only runtimes in AWS "
            "standard support (FM65)",
        )
        acknowledgements.acknowledge(
            self.deployment_group,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSCodeDeployRoleForLambdaLimited]",
            "AWS's service-role policy for CodeDeploy on Lambda, the documented least privilege "
            "for that service (FM42)",
        )

    def _config(self, deploy: LambdaDeploy) -> codedeploy.ILambdaDeploymentConfig:
        if deploy.strategy == "all-at-once":
            return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
        interval = Duration.minutes(deploy.minutes)
        routing = (
            codedeploy.TrafficRouting.time_based_canary(
                interval=interval, percentage=deploy.percent
            )
            if deploy.strategy == "canary"
            else codedeploy.TrafficRouting.time_based_linear(
                interval=interval, percentage=deploy.percent
            )
        )
        return codedeploy.LambdaDeploymentConfig(self, "DeploymentConfig", traffic_routing=routing)

    def _revision_alarms(
        self, naming: Naming, env_name: str, deploy: LambdaDeploy, topic: defaults.NoticeTopic
    ) -> list[cloudwatch.IAlarm]:
        """Errors and p99 duration of this release's version only, the alarms CodeDeploy
        watches while it shifts the alias (FM62, FM63).

        A stage rollback (the pipeline's OnFailure/OnSuccess ROLLBACK) updates this stack with
        the last good package, so CodeDeploy shifts the alias again while the bad version still
        serves: an alarm on the alias (every version behind it) is in ALARM then, CodeDeploy
        stops any deployment whose alarm is activated ("If any of the specified alarms are
        activated, the deployment stops") and, with DEPLOYMENT_STOP_ON_ALARM, rolls back to the
        bad version; the stack update fails and the rollback never completes.
        https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
        https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html
        So these alarms measure one version: Lambda's ExecutedVersion dimension ("metrics for a
        combination of alias and version ... compare error rates for two versions of a function
        that are both targets of a weighted alias").
        https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html
        And each release gets new alarms: the name carries the version number, and a new
        AlarmName replaces the alarm (AWS::CloudWatch::Alarm AlarmName: "Update requires:
        Replacement"), which starts in INSUFFICIENT_DATA; an updated alarm would keep the
        previous version's ALARM state ("When updating an existing alarm, its StateValue is
        left unchanged").
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
        Throttles are not here: Lambda throttles an invocation before any version runs it."""
        period = Duration.minutes(1)
        version = self.version.version
        dimensions = {
            "FunctionName": self.function.function_name,
            "Resource": f"{self.function.function_name}:{deploy.alias}",
            "ExecutedVersion": version,
        }

        def revision_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name=name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=period,
            )

        def named(kind: str) -> str:
            return Fn.join("", [naming.name(kind, env_name), "-v", version])

        return [
            defaults.alarm(
                self,
                "RevisionErrors",
                name=named("errors"),
                description=f"{naming.app} {env_name}: errors of the version this release "
                "published; stops its traffic shift and rolls it back",
                metric=revision_metric("Errors", "Sum"),
                threshold=1,
                topic=topic,
            ),
            defaults.alarm(
                self,
                "RevisionDuration",
                name=named("duration"),
                description=f"{naming.app} {env_name}: p99 duration of the version this "
                "release published near the timeout; stops its traffic shift and rolls it back",
                metric=revision_metric("Duration", "p99"),
                threshold=deploy.function.timeout_seconds * 1000 * 0.8,
                evaluation_periods=2,
                topic=topic,
            ),
        ]

    def _alarms(
        self, naming: Naming, env_name: str, deploy: LambdaDeploy, topic: defaults.NoticeTopic
    ) -> list[cloudwatch.IAlarm]:
        """The environment's alarms: every version behind the alias, which the pipeline's bake
        watches after a release. The spec's alarms: gate the stage's entry; no deployment
        watches them (they are not this release's own: _revision_alarms)."""
        period = Duration.minutes(1)
        timeout_ms = deploy.function.timeout_seconds * 1000
        alarms: list[cloudwatch.IAlarm] = [
            defaults.alarm(
                self,
                "Errors",
                name=naming.name("errors", env_name),
                description=f"{naming.app} {env_name}: function errors; watched after a release",
                metric=self.alias.metric_errors(period=period),
                threshold=1,
                topic=topic,
            ),
            defaults.alarm(
                self,
                "Throttles",
                name=naming.name("throttles", env_name),
                description=f"{naming.app} {env_name}: throttled invocations",
                metric=self.alias.metric_throttles(period=period),
                threshold=1,
                topic=topic,
            ),
            defaults.alarm(
                self,
                "Duration",
                name=naming.name("duration", env_name),
                description=f"{naming.app} {env_name}: p99 duration near the timeout",
                metric=self.alias.metric_duration(period=period, statistic="p99"),
                threshold=timeout_ms * 0.8,
                evaluation_periods=2,
                topic=topic,
            ),
        ]
        return alarms
