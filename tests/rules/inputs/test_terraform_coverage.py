"""Rules the coverage table says run on Terraform read what they need: each case below was a
false finding while the attribute it names was not mapped (docs/check.md's rule table)."""

from __future__ import annotations

import json
from typing import Any

from conveyor.rules import check_text

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/a/1/2"
QUEUE = "arn:aws:sqs:us-east-1:111122223333:dlq"


def state(**resources: dict[str, Any]) -> str:
    items = [
        {"address": address, "mode": "managed", "type": address.split(".")[0], "values": values}
        for address, values in resources.items()
    ]
    return json.dumps({"format_version": "1.0", "values": {"root_module": {"resources": items}}})


def fired(rule: str, text: str) -> set[str]:
    result = check_text(text, name="state.json")
    assert not result.errors
    return {f.resource for f in result.findings if f.rule == rule}


def messages(rule: str, text: str) -> list[str]:
    return [f.message for f in check_text(text, name="state.json").findings if f.rule == rule]


def _blue_green(pair: dict[str, Any]) -> str:
    return state(
        **{
            "aws_ecs_service.api": {
                "name": "api",
                "deployment_controller": [{"type": "CODE_DEPLOY"}],
            },
            "aws_codedeploy_deployment_group.api": {
                "deployment_group_name": "api",
                "deployment_style": [
                    {"deployment_type": "BLUE_GREEN", "deployment_option": "WITH_TRAFFIC_CONTROL"}
                ],
                "ecs_service": [{"cluster_name": "c", "service_name": "api"}],
                "load_balancer_info": [{"target_group_pair_info": [pair]}],
            },
        }
    )


def test_a_codedeploy_ecs_group_with_its_target_group_pair_is_wired() -> None:
    pair: dict[str, Any] = {
        "target_group": [{"name": "blue"}, {"name": "green"}],
        "prod_traffic_route": [{"listener_arns": [LISTENER]}],
        "test_traffic_route": [{"listener_arns": [LISTENER]}],
    }
    assert fired("CV071", _blue_green(pair)) == set()
    del pair["test_traffic_route"]
    assert messages("CV071", _blue_green(pair)) == [
        "ECS blue/green deployment group lacks a test listener"
    ]


def test_ecs_native_blue_green_reads_the_strategy_and_advanced_configuration() -> None:
    def service(advanced: list[dict[str, Any]]) -> str:
        balancer = {"target_group_arn": "arn:tg", "container_name": "app", "container_port": 80}
        return state(
            **{
                "aws_ecs_service.api": {
                    "name": "api",
                    "deployment_configuration": [{"strategy": "BLUE_GREEN"}],
                    "load_balancer": [{**balancer, "advanced_configuration": advanced}],
                }
            }
        )

    assert fired("CV071", service([])) == {"aws_ecs_service.api"}
    complete = {
        "alternate_target_group_arn": "arn:tg2",
        "production_listener_rule": "arn:rule",
        "role_arn": "arn:aws:iam::111122223333:role/ecs",
    }
    assert fired("CV071", service([complete])) == set()


def test_a_docker_hub_build_image_with_registry_credentials_is_not_anonymous() -> None:
    def project(environment: dict[str, Any]) -> str:
        base = {
            "type": "LINUX_CONTAINER",
            "image": "node:20",
            "compute_type": "BUILD_GENERAL1_SMALL",
        }
        return state(
            **{"aws_codebuild_project.b": {"name": "b", "environment": [{**base, **environment}]}}
        )

    assert fired("CV098", project({})) == {"aws_codebuild_project.b"}
    credential = {
        "credential": "arn:aws:secretsmanager:us-east-1:1:secret:hub",
        "credential_provider": "SECRETS_MANAGER",
    }
    assert fired("CV098", project({"registry_credential": [credential]})) == set()


def test_a_function_logging_to_a_log_group_it_names_has_one() -> None:
    def function(extra: dict[str, Any]) -> str:
        return state(
            **{"aws_lambda_function.f": {"function_name": "f", "runtime": "python3.12", **extra}}
        )

    assert fired("CV035", function({})) == {"aws_lambda_function.f"}
    logging = {"logging_config": [{"log_format": "JSON", "log_group": "/acme/f"}]}
    assert fired("CV035", function(logging)) == set()


def test_an_event_target_function_keeping_failed_events_is_not_flagged() -> None:
    fn_arn = "arn:aws:lambda:us-east-1:111122223333:function:f"

    def plan(function: dict[str, Any], **more: dict[str, Any]) -> str:
        return state(
            **{
                "aws_lambda_function.f": {"function_name": "f", "arn": fn_arn, **function},
                "aws_cloudwatch_event_rule.r": {"name": "r", "event_pattern": '{"source": ["x"]}'},
                "aws_cloudwatch_event_target.t": {"rule": "r", "target_id": "f", "arn": fn_arn},
                **more,
            }
        )

    assert fired("CV099", plan({})) == {"aws_cloudwatch_event_rule.r"}
    dead_letter = {"dead_letter_config": [{"target_arn": QUEUE}]}
    assert fired("CV099", plan(dead_letter)) == set()
    invoke_config = {
        "function_name": "f",
        "destination_config": [{"on_failure": [{"destination": QUEUE}]}],
    }
    assert (
        fired("CV099", plan({}, **{"aws_lambda_function_event_invoke_config.f": invoke_config}))
        == set()
    )


def test_a_schedule_that_runs_an_ecs_task_without_a_dead_letter_queue() -> None:
    """CV126 on Terraform: aws_scheduler_schedule's target.ecs_parameters, and a scheduled
    aws_cloudwatch_event_rule whose aws_cloudwatch_event_target has an ecs_target."""
    task = "arn:aws:ecs:us-east-1:111122223333:task-definition/report:3"

    def schedule(target: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "report",
            "schedule_expression": "cron(0 3 * * ? *)",
            "target": [
                {
                    "arn": "arn:aws:ecs:us-east-1:111122223333:cluster/jobs",
                    "role_arn": "arn:aws:iam::111122223333:role/scheduler",
                    **target,
                }
            ],
        }

    ecs = {"ecs_parameters": [{"task_definition_arn": task}]}
    assert fired("CV126", state(**{"aws_scheduler_schedule.report": schedule(ecs)})) == {
        "aws_scheduler_schedule.report"
    }
    kept = {**ecs, "dead_letter_config": [{"arn": QUEUE}]}
    assert fired("CV126", state(**{"aws_scheduler_schedule.report": schedule(kept)})) == set()
    # A schedule of something else (no ecs_parameters) is not judged.
    assert fired("CV126", state(**{"aws_scheduler_schedule.report": schedule({})})) == set()

    def rule(target: dict[str, Any]) -> str:
        return state(
            **{
                "aws_cloudwatch_event_rule.cleanup": {
                    "name": "cleanup",
                    "schedule_expression": "rate(1 hour)",
                },
                "aws_cloudwatch_event_target.cleanup": {
                    "rule": "cleanup",
                    "target_id": "cleanup",
                    "arn": "arn:aws:ecs:us-east-1:111122223333:cluster/jobs",
                    "ecs_target": [{"task_definition_arn": task}],
                    **target,
                },
            }
        )

    assert fired("CV126", rule({})) == {"aws_cloudwatch_event_rule.cleanup"}
    assert fired("CV126", rule({"dead_letter_config": [{"arn": QUEUE}]})) == set()


def test_cv124_reads_the_task_definition_a_terraform_service_runs() -> None:
    """A service with no load_balancer block runs a task definition of the same state: its
    container_definitions JSON decides whether any essential container has a healthCheck."""
    arn = "arn:aws:ecs:us-east-1:111122223333:task-definition/worker:3"

    def worker(container: dict[str, Any], balancer: bool = False) -> str:
        service: dict[str, Any] = {"name": "worker", "task_definition": arn}
        if balancer:
            service["load_balancer"] = [
                {"target_group_arn": "arn:tg", "container_name": "app", "container_port": 80}
            ]
        return state(
            **{
                "aws_ecs_task_definition.worker": {
                    "family": "worker",
                    "arn": arn,
                    "container_definitions": json.dumps([container]),
                },
                "aws_ecs_service.worker": service,
            }
        )

    app = {"name": "app", "image": "worker:1", "essential": True}
    assert fired("CV124", worker(app)) == {"aws_ecs_service.worker"}
    checked = {**app, "healthCheck": {"command": ["CMD-SHELL", "test -f /tmp/healthy"]}}
    assert fired("CV124", worker(checked)) == set()
    assert fired("CV124", worker(app, balancer=True)) == set()
