"""The Validate action of `Deploy-<env>`: after the deploy, the HTTP check runs against the
environment; a failure fails the stage, whose OnFailure ROLLBACK deploys the last good release
again (FM63). The check itself rolls nothing back (handlers/validate_http/app.py: why).

A public service is checked by a function in the pipeline's stack; an internal one by the
function its environment's stack holds in its VPC, invoked by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_lambda as lambda_

from conveyor.constructs import acknowledgements
from conveyor.constructs.environment_stack import ca_environment, vpc_validator_name
from conveyor.constructs.handler_function import HandlerFunction
from conveyor.constructs.naming import camel

if TYPE_CHECKING:
    from conveyor.pipeline import Pipeline
    from conveyor.stages.environment import EnvironmentParts


def validate_action(
    pipeline: Pipeline, part: EnvironmentParts, *, stage: str, run_order: int
) -> codepipeline.IAction:
    """The Validate action of `stage` (the environment's deploy stage), which the pipeline's
    cdk-nag acknowledgements find by (stage, action)."""
    env = part.env
    check = env.validation
    assert check is not None
    url = check.url
    if url is None:
        # The load balancer's address: the stack's Url output, as the deploy action's
        # variable (its name is CloudFormation's to choose).
        base = part.check_url()
        assert base is not None
        url = f"{base}{check.path}"
    parameters: dict[str, Any] = {
        "url": url,
        "expect_status": check.expect,
        "body_contains": check.body_contains,
        "retries": check.retries,
        "interval_seconds": check.interval_seconds,
        "timeout_seconds": check.timeout_seconds,
    }
    if check.server_name is not None:
        parameters["server_name"] = check.server_name
    ecs_deploy = env.deploy.ecs
    if ecs_deploy is not None and ecs_deploy.create is not None and not ecs_deploy.create.public:
        return _vpc_validation(pipeline, part, parameters, stage=stage, run_order=run_order)
    spec = pipeline.spec
    validator = HandlerFunction(
        pipeline,
        f"Validate{camel(env.name)}",
        handler="validate_http",
        naming=pipeline.naming,
        env_name=env.name,
        # The validator runs in the pipeline's stack, whose key it uses: the environment's
        # key belongs to the environment's stack.
        key=pipeline.store.key,
        log_retention_days=spec.retention.log_days,
        production=env.is_production,
        # UserParameters hold at most 1000 characters: a CA certificate travels here.
        environment=ca_environment(check),
        timeout=Duration.minutes(10),
        description=f"conveyor {spec.app}: validates {env.name} after each deploy",
    )
    function = validator.function
    pipeline.idempotency.grant(function)
    acknowledgements.acknowledge(
        validator,
        "IAM5[Resource::*]",
        "codepipeline:PutJobSuccessResult/PutJobFailureResult support no resource-level "
        "permissions",
    )
    pipeline.acknowledged.invocations.append((stage, "Validate", function))
    return actions.LambdaInvokeAction(
        action_name="Validate",
        lambda_=function,
        user_parameters=parameters,
        run_order=run_order,
    )


def _vpc_validation(
    pipeline: Pipeline,
    part: EnvironmentParts,
    parameters: dict[str, Any],
    *,
    stage: str,
    run_order: int,
) -> codepipeline.IAction:
    """An internal service's check runs in its VPC: the environment's stack holds the
    function (environment_stack.vpc_validator_name), this action invokes it by name, in
    this account (the spec keeps internal services in the pipeline's account)."""
    name = vpc_validator_name(pipeline.naming, part.env.name)
    arn = f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{name}"
    function = lambda_.Function.from_function_arn(
        pipeline, f"VpcValidator{camel(part.env.name)}", arn
    )
    action = actions.LambdaInvokeAction(
        action_name="Validate",
        lambda_=function,
        user_parameters=parameters,
        run_order=run_order,
    )
    pipeline.acknowledged.vpc_invocations.append((stage, "Validate", name))
    return action
