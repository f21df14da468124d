"""The alarms each synthesized stack of a check run creates, by template file name, so a rule
on a pipeline can see what a stage's CloudFormation action deploys (its ``TemplatePath`` names
the file). A CDK app writes one ``<stack>.template.json`` per stack into ``cdk.out``; only those
files are read here, and only when more than one file is checked, so a run over unrelated
templates pays nothing. A file that cannot be read or parsed is left to the main pass, which
reports it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

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


def _alarm_names(path: Path) -> tuple[str, ...]:
    try:
        if path.stat().st_size > MAX_BYTES:
            return ()
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return ()
    resources = data.get("Resources") if isinstance(data, dict) else None
    if not isinstance(resources, dict):
        return ()
    names = {
        r["Properties"]["AlarmName"]
        for r in resources.values()
        if isinstance(r, dict)
        and r.get("Type") in ALARM_TYPES
        and isinstance(r.get("Properties"), dict)
        and isinstance(r["Properties"].get("AlarmName"), str)
    }
    return tuple(sorted(names))
