"""ECS container without a ``LogConfiguration``.

A container definition with no ``LogConfiguration`` sends its output nowhere: a task that fails
to start or crashes leaves no trace but its stopped reason, and the deployment that rolls back
cannot say why. Every container of an ``AWS::ECS::TaskDefinition`` needs a log driver
(``awslogs`` to a log group with retention, or ``awsfirelens``). A container list built by an
intrinsic is not judged.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conveyor.rules.engine import Context
from conveyor.rules.intrinsics import intrinsic_name
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.template import Resource


def _definitions(item: Any) -> list[dict[str, Any]]:
    """The container definitions an item may be: itself, or the branches of an Fn::If."""
    if intrinsic_name(item) == "Fn::If":
        arg = item["Fn::If"]
        branches = arg[1:] if isinstance(arg, list) and len(arg) == 3 else []
        return [d for branch in branches for d in _definitions(branch)]
    if isinstance(item, dict) and intrinsic_name(item) is None:
        return [item]
    return []


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    containers = res.properties.get("ContainerDefinitions")
    if not isinstance(containers, list):
        return
    for index, item in enumerate(containers):
        for container in _definitions(item):
            yield from _unlogged(res, index, container)


def _unlogged(res: Resource, index: int, container: dict[str, Any]) -> Iterator[Hit]:
    if "LogConfiguration" not in container:
        name = container.get("Name")
        shown = f"container {name!r}" if isinstance(name, str) else f"container {index}"
        yield Hit(
            res.logical_id,
            f"Properties.ContainerDefinitions.{index}",
            f"{shown} has no LogConfiguration; its output is lost and a failed task leaves no logs",
        )


RULE = Rule(
    id="CV078",
    title="ECS container without log configuration",
    severity=Severity.MEDIUM,
    resource_types=("AWS::ECS::TaskDefinition",),
    failure_modes=("FM23", "FM64"),
    why="S1, S2 and S5: logs were not sent to a pre-created CloudWatch log group; failed "
    "deployments could not be diagnosed.",
    fix_cloudformation="Add LogConfiguration: {LogDriver: awslogs, Options: {awslogs-group: "
    "!Ref LogGroup, awslogs-region: !Ref AWS::Region, awslogs-stream-prefix: app}} to every "
    "container definition, with an AWS::Logs::LogGroup that has RetentionInDays.",
    fix_cdk="task_definition.add_container(..., logging=ecs.LogDrivers.aws_logs("
    "stream_prefix='app', log_group=log_group))",
    fix_conveyor="Nothing to write: conveyor's containers log to their own log group.",
    check=check,
)
