"""The alarms each synthesized stack of a check run creates, and the alarms its deployments
watch, by template file name, so a rule on a pipeline can see what a stage's CloudFormation
action deploys (its ``TemplatePath`` names the file).
A CDK app writes one ``<stack>.template.json`` per stack into ``cdk.out``; only those
files are read here, and only when more than one file is checked, so a run over unrelated
templates pays nothing. A file that cannot be read or parsed is left to the main pass, which
reports it."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conveyor.rules.intrinsics import as_list, get, intrinsic_name, ref_target, truthy
from conveyor.rules.template import MAX_BYTES

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
SUFFIX = ".template.json"


def deployed_alarms(paths: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(path, literal AlarmNames of the alarms it defines) for each stack template. Keyed by
    path, not file name: two cdk.out folders checked together may hold stacks of one name."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for path in paths:
        if not path.endswith(SUFFIX):
            continue
        names = _alarm_names(Path(path))
        if names:
            found.append((os.path.normpath(path), names))
    return tuple(found)


def _resources(path: Path) -> dict[str, Any]:
    """The file's Resources; nothing for a file the main pass will report (unreadable, not
    JSON, nested past the parser's recursion: json.loads raises RecursionError, no ValueError)
    or that is no regular file. A named pipe is opened without waiting for a writer (opening
    blocks until one comes, maybe never) and not read: its template is the main pass's."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return {}
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = json.loads(file.read())
    except (OSError, ValueError, RecursionError):
        return {}
    finally:
        os.close(fd)
    resources = data.get("Resources") if isinstance(data, dict) else None
    return resources if isinstance(resources, dict) else {}


def _alarm_names(path: Path) -> tuple[str, ...]:
    resources = _resources(path)
    names = {
        r["Properties"]["AlarmName"]
        for r in resources.values()
        if isinstance(r, dict)
        and r.get("Type") in ALARM_TYPES
        and isinstance(r.get("Properties"), dict)
        and isinstance(r["Properties"].get("AlarmName"), str)
    }
    return tuple(sorted(names))


@dataclass(frozen=True)
class Watch:
    """A deployment that watches alarms or rolls itself back: a CodeDeploy deployment group
    (``AlarmConfiguration``, ``AutoRollbackConfiguration``) or an ECS service
    (``DeploymentConfiguration.Alarms``)."""

    logical_id: str
    type: str
    group_name: str | None  # a deployment group's literal DeploymentGroupName
    ecs: bool  # an ECS service, or a deployment group of ECS services
    # The alarms it watches that are not its own release's (``own_release``): their literal
    # names, or the logical id of an alarm whose name is not literal.
    alarms: tuple[str, ...]
    rolls_back_itself: bool  # AutoRollbackConfiguration enabled with an event


def own_release(alarm: Any) -> bool:
    """An alarm that measures one Lambda version and is replaced with each version: its metric
    has the ``ExecutedVersion`` dimension and its ``AlarmName`` (not a literal) holds the same
    value, so a new version is a new alarm, which starts without data (an alarm updated in
    place keeps its state: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html"""
    if not isinstance(alarm, dict) or alarm.get("Type") != "AWS::CloudWatch::Alarm":
        return False
    props = alarm.get("Properties")
    if not isinstance(props, dict):
        return False
    version = [
        d.get("Value")
        for d in as_list(props.get("Dimensions"))
        if isinstance(d, dict) and d.get("Name") == "ExecutedVersion"
    ]
    name = props.get("AlarmName")
    if not version or isinstance(name, str) or name is None:
        return False
    return json.dumps(version[0], sort_keys=True) in json.dumps(name, sort_keys=True)


def _alarm_label(value: Any, resources: dict[str, Any]) -> tuple[str | None, bool]:
    """(the alarm's name or logical id, whether it is its release's own) for an alarm named
    literally or by a Ref to an alarm of the template."""
    if isinstance(value, str):
        for alarm in resources.values():
            if get(alarm, "Properties", "AlarmName") == value:
                return value, own_release(alarm)
        return value, False
    target = ref_target(value)
    if target is None or intrinsic_name(value) != "Ref":
        return None, False
    alarm = resources.get(target)
    literal = get(alarm, "Properties", "AlarmName")
    return (literal if isinstance(literal, str) else target), own_release(alarm)


def _foreign_alarms(values: list[Any], resources: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        label, own = _alarm_label(value, resources)
        if label is not None and not own:
            found.append(label)
    return tuple(found)


def watches(resources: dict[str, Any]) -> tuple[Watch, ...]:
    """The deployments of a template's resources that watch alarms or roll back on their own."""
    found: list[Watch] = []
    for lid, res in resources.items():
        if not isinstance(res, dict):
            continue
        props = res.get("Properties")
        props = props if isinstance(props, dict) else {}
        if res.get("Type") == "AWS::CodeDeploy::DeploymentGroup":
            config = props.get("AlarmConfiguration")
            names = [get(a, "Name") for a in as_list(get(config, "Alarms"))]
            alarms = _foreign_alarms(names, resources) if truthy(get(config, "Enabled")) else ()
            rollback = props.get("AutoRollbackConfiguration")
            name = props.get("DeploymentGroupName")
            found.append(
                Watch(
                    lid,
                    "AWS::CodeDeploy::DeploymentGroup",
                    name if isinstance(name, str) else None,
                    bool(as_list(props.get("ECSServices"))),
                    alarms,
                    truthy(get(rollback, "Enabled")) is True
                    and bool(as_list(get(rollback, "Events"))),
                )
            )
        elif res.get("Type") == "AWS::ECS::Service":
            config = get(props, "DeploymentConfiguration", "Alarms")
            if truthy(get(config, "Enable")) is not True:
                continue
            alarms = _foreign_alarms(as_list(get(config, "AlarmNames")), resources)
            if alarms:
                found.append(
                    Watch(
                        lid,
                        "AWS::ECS::Service",
                        None,
                        True,
                        alarms,
                        truthy(get(config, "Rollback")) is True,
                    )
                )
    return tuple(found)


def deployed_watches(paths: Iterable[str]) -> tuple[tuple[str, tuple[Watch, ...]], ...]:
    """(path, watches) for each stack template of the run (see deployed_alarms)."""
    found: list[tuple[str, tuple[Watch, ...]]] = []
    for path in paths:
        if not path.endswith(SUFFIX):
            continue
        found_here = watches(_resources(Path(path)))
        if found_here:
            found.append((os.path.normpath(path), found_here))
    return tuple(found)
