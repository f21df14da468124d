"""The CodeDeploy side of a blue-green web service: application, deployment group, traffic.

The pipeline's CodeDeployToECS action starts each release on this group (the stack cannot:
ecs_service.FargateWebService._freeze_task_definition). Created in the service's scope: the
construct ids, and so the logical ids, are the service's own.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from conveyor.constructs import web_entry
from conveyor.constructs.naming import Naming
from conveyor.spec.models import EcsDeploy


def deployment_config_name(naming: Naming, env_name: str) -> str:
    return naming.name("traffic", env_name)


def deployment_group(
    scope: Construct,
    *,
    naming: Naming,
    env_name: str,
    deploy: EcsDeploy,
    service: ecs.FargateService,
    sets: web_entry.BlueGreenListeners,
) -> codedeploy.EcsDeploymentGroup:
    """The CodeDeploy group: traffic shifting, the validation hooks (appspec), and
    CodeDeploy's own rollback while it shifts: a failed hook, a failed or stopped
    deployment reroute production traffic to the original task set. No alarms
    (ECS_DEPLOYMENTS_WATCH: why), so no DEPLOYMENT_STOP_ON_ALARM."""
    name = naming.name("deploy", env_name)
    config = _traffic(scope, naming=naming, env_name=env_name, deploy=deploy)
    group = codedeploy.EcsDeploymentGroup(
        scope,
        "DeploymentGroup",
        application=codedeploy.EcsApplication(scope, "Application", application_name=name),
        deployment_group_name=name,
        service=service,
        deployment_config=config,
        blue_green_deployment_config=codedeploy.EcsBlueGreenDeploymentConfig(
            blue_target_group=sets.blue,
            green_target_group=sets.green,
            listener=sets.production,
            test_listener=sets.test,
            termination_wait_time=Duration.minutes(deploy.bake_minutes),
        ),
        auto_rollback=codedeploy.AutoRollbackConfig(
            failed_deployment=True, stopped_deployment=True, deployment_in_alarm=False
        ),
    )
    resource = group.node.default_child
    assert isinstance(resource, codedeploy.CfnDeploymentGroup)
    resource.add_metadata(
        "conveyor",
        {
            "suppress": [
                {
                    "rule": "CV073",
                    "reason": "no alarm can judge only the replacement task set (its target "
                    "group alternates between releases); an alarm on the service would stop "
                    "the pipeline's stage rollback while the bad release serves (CV112). "
                    "The validation hooks judge the new revision; the pipeline's bake "
                    "watches the service's alarms after the release",
                }
            ]
        },
    )
    return group


def _traffic(
    scope: Construct, *, naming: Naming, env_name: str, deploy: EcsDeploy
) -> codedeploy.IEcsDeploymentConfig:
    """How CodeDeploy shifts production traffic: AWS's predefined all-at-once, or a canary or
    linear configuration of this environment's own."""
    if deploy.traffic == "all-at-once":
        return codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
    routing = (
        codedeploy.TrafficRouting.time_based_canary(
            interval=Duration.minutes(deploy.minutes), percentage=deploy.percent
        )
        if deploy.traffic == "canary"
        else codedeploy.TrafficRouting.time_based_linear(
            interval=Duration.minutes(deploy.minutes), percentage=deploy.percent
        )
    )
    return codedeploy.EcsDeploymentConfig(
        scope,
        "DeploymentConfig",
        # Named: the pipeline's deploy role reads it by name (no cross-stack reference).
        deployment_config_name=deployment_config_name(naming, env_name),
        traffic_routing=routing,
    )
