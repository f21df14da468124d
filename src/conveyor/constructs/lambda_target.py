"""A Lambda function deployed with traffic shifting: version, alias, CodeDeploy (FM62)."""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from conveyor.constructs import acknowledgements, defaults
from conveyor.constructs.deployment_grants import grant_deployment
from conveyor.constructs.handler_function import function_role
from conveyor.constructs.naming import Naming
from conveyor.spec.models import LambdaDeploy

RUNTIMES = {
    "python3.12": lambda_.Runtime.PYTHON_3_12,
    "python3.13": lambda_.Runtime.PYTHON_3_13,
    "nodejs20.x": lambda_.Runtime.NODEJS_20_X,
    "nodejs22.x": lambda_.Runtime.NODEJS_22_X,
}

_PLACEHOLDER_BODY = "conveyor: the first pipeline run has not deployed this function yet"


def _placeholder_code(runtime: str, handler: str) -> lambda_.Code:
    """Code that answers 503 until the pipeline deploys the real package.

    Written under the handler's own module name, so the function's handler setting is the real
    one from the start and a later stack update never points it elsewhere.
    """
    module, function = handler.rsplit(".", 1)
    folder = Path(tempfile.mkdtemp(prefix="conveyor-placeholder-"))
    if runtime.startswith("python"):
        path = folder / f"{module}.py"
        body = (
            f"def {function}(event, context):\n"
            f"    return {{'statusCode': 503, 'body': {_PLACEHOLDER_BODY!r}}}\n"
        )
    else:
        path = folder / f"{module}.js"
        body = (
            f"exports.{function} = async () => "
            f"({{ statusCode: 503, body: {_PLACEHOLDER_BODY!r} }});\n"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return lambda_.Code.from_asset(str(folder))


class LambdaCanaryTarget(Construct):
    """Function, alias, alarms, and a CodeDeploy deployment group that shifts the alias."""

    function: lambda_.Function
    alias: lambda_.Alias
    deployment_group: codedeploy.LambdaDeploymentGroup
    alarms: list[cloudwatch.IAlarm]

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
            code=_placeholder_code(settings.runtime, settings.handler),
            memory_size=settings.memory,
            timeout=Duration.seconds(settings.timeout_seconds),
            environment=dict(sorted(settings.env.items())),
            log_group=logs,
        )
        # prevents FM62: traffic shifting needs a published version and an alias.
        self.alias = lambda_.Alias(
            self, "Alias", alias_name=deploy.alias, version=self.function.current_version
        )
        self.alarms = self._alarms(naming, env_name, deploy, alarm_topic)
        name = naming.name("deploy", env_name)
        hook_function = hook(self) if hook is not None else None
        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            application=codedeploy.LambdaApplication(self, "Application", application_name=name),
            deployment_group_name=name,
            alias=self.alias,
            deployment_config=self._config(deploy),
            alarms=self.alarms,
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            post_hook=hook_function,
        )
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

    def _alarms(
        self, naming: Naming, env_name: str, deploy: LambdaDeploy, topic: defaults.NoticeTopic
    ) -> list[cloudwatch.IAlarm]:
        period = Duration.minutes(1)
        timeout_ms = deploy.function.timeout_seconds * 1000
        alarms: list[cloudwatch.IAlarm] = [
            defaults.alarm(
                self,
                "Errors",
                name=naming.name("errors", env_name),
                description=f"{naming.app} {env_name}: function errors; rolls a deployment back",
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
        alarms += [
            cloudwatch.Alarm.from_alarm_name(self, f"UserAlarm{i}", name)
            for i, name in enumerate(deploy.alarms)
        ]
        return alarms

    def grant_deploy(self, role: iam.IRole, scope: Construct) -> None:
        """What the deploy job needs: publish a version, read the alias, start CodeDeploy."""
        acknowledgements.function_versions(
            scope,
            self.function,
            "the deploy job publishes versions of this one function and reads its alias",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "lambda:GetAlias",
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:UpdateFunctionCode",
                    "lambda:PublishVersion",
                ],
                resources=[self.function.function_arn, f"{self.function.function_arn}:*"],
            )
        )
        grant_deployment(role, self.deployment_group)

    def deploy_variables(self, package: str) -> dict[str, str]:
        return {
            "FUNCTION_NAME": self.function.function_name,
            "FUNCTION_ALIAS": self.alias.alias_name,
            "FUNCTION_PACKAGE": package,
            "CODEDEPLOY_APPLICATION": self.deployment_group.application.application_name,
            "CODEDEPLOY_GROUP": self.deployment_group.deployment_group_name,
            "HOOK_FUNCTION": self.hook.function_name if self.hook is not None else "",
        }


def lambda_deploy_buildspec() -> dict[str, Any]:
    """Publish the built package as a version and let CodeDeploy shift the alias to it.

    CodeDeploy runs the validation hook and rolls the alias back on a failed hook or an alarm;
    the job waits for that outcome so the pipeline stage reflects it.
    """
    revision = (
        "import json, os\n"
        "spec = {'version': '0.0', 'Resources': [{'function': {'Type': 'AWS::Lambda::Function',"
        " 'Properties': {'Name': os.environ['FUNCTION_NAME'],"
        " 'Alias': os.environ['FUNCTION_ALIAS'],"
        " 'CurrentVersion': os.environ['CURRENT_VERSION'],"
        " 'TargetVersion': os.environ['TARGET_VERSION']}}}]}\n"
        "hook = os.environ.get('HOOK_FUNCTION')\n"
        "if hook:\n"
        "    spec['Hooks'] = [{'AfterAllowTraffic': hook}]\n"
        "print(json.dumps({'revisionType': 'AppSpecContent',"
        " 'appSpecContent': {'content': json.dumps(spec)}}))\n"
    )
    return {
        "version": "0.2",
        "env": {"shell": "bash", "exported-variables": ["FUNCTION_VERSION", "DEPLOYMENT_ID"]},
        "phases": {
            "build": {
                "commands": [
                    "set -euo pipefail",
                    'test -f "$FUNCTION_PACKAGE" || { echo "conveyor: the build output has no '
                    "$FUNCTION_PACKAGE; make build.commands write it, or set "
                    'deploy.lambda.function.package" >&2; exit 1; }',
                    'CURRENT_VERSION="$(aws lambda get-alias --function-name "$FUNCTION_NAME" '
                    '--name "$FUNCTION_ALIAS" --query FunctionVersion --output text)"',
                    'TARGET_VERSION="$(aws lambda update-function-code --function-name '
                    '"$FUNCTION_NAME" --zip-file "fileb://$FUNCTION_PACKAGE" --publish '
                    '--query Version --output text)"',
                    'aws lambda wait published-version-active --function-name "$FUNCTION_NAME" '
                    '--qualifier "$TARGET_VERSION"',
                    "export CURRENT_VERSION TARGET_VERSION",
                    'FUNCTION_VERSION="$TARGET_VERSION"',
                    'DEPLOYMENT_ID=""',
                    'if [ "$CURRENT_VERSION" = "$TARGET_VERSION" ]; then '
                    'echo "conveyor: version $TARGET_VERSION already live"; else '
                    f'REVISION="$(python3 -c {_quote(revision)})"; '
                    'DEPLOYMENT_ID="$(aws deploy create-deployment --application-name '
                    '"$CODEDEPLOY_APPLICATION" --deployment-group-name "$CODEDEPLOY_GROUP" '
                    '--revision "$REVISION" --query deploymentId --output text)"; '
                    'echo "conveyor: CodeDeploy $DEPLOYMENT_ID shifts $FUNCTION_ALIAS from '
                    '$CURRENT_VERSION to $TARGET_VERSION"; '
                    # Poll rather than `aws deploy wait`: its 30-minute limit is shorter than a
                    # slow linear shift; the job's own timeout bounds the loop.
                    'while true; do STATUS="$(aws deploy get-deployment --deployment-id '
                    '"$DEPLOYMENT_ID" --query deploymentInfo.status --output text)"; '
                    'case "$STATUS" in Succeeded) break;; Failed|Stopped) '
                    'echo "conveyor: CodeDeploy $DEPLOYMENT_ID ended $STATUS; the alias stays '
                    'on $CURRENT_VERSION" >&2; exit 1;; esac; sleep 15; done; fi',
                ]
            }
        },
    }


def _quote(text: str) -> str:
    return shlex.quote(text)
