"""Tests and security scans run one after another instead of in parallel.

Heuristic: actions of category Build or Test whose action or stage name says test, lint, scan,
audit or security are "checks". When two or more checks sit in different stages or run orders
and none consumes another's output artifact, they could run side by side in one stage with the
same RunOrder. A check that reads another action's output variables (``#{Build.IMAGE_URI}``,
e.g. an image scan of the image the build pushed), or an artifact an earlier action of its stage
writes (an image scan of the image archive a pull request's build wrote), depends on that
action and may follow it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from conveyor.rules.engine import Context
from conveyor.rules.model import Hit, Rule, Severity
from conveyor.rules.patterns import lazy
from conveyor.rules.pipelines import Action, actions
from conveyor.rules.template import Resource

CHECK = lazy(r"test|lint|scan|audit|secur|sast|trivy|bandit|snyk", re.IGNORECASE)


VARIABLE = lazy(r"#\{([A-Za-z0-9@_-]+)\.")


def _reads_variables(action: Action) -> bool:
    text = json.dumps(action.configuration)
    return any(ns != "codepipeline" for ns in VARIABLE.findall(text))


def _reads_earlier_output(action: Action, every: list[Action]) -> bool:
    """The check reads an artifact an earlier action of its own stage writes (an image scan of
    the image archive a build wrote, when nothing is pushed)."""
    written = {
        output
        for other in every
        if other.stage_index == action.stage_index and other.run_order < action.run_order
        for output in other.outputs
    }
    return any(name in written for name in action.inputs)


def check(res: Resource, ctx: Context) -> Iterator[Hit]:
    every = list(actions(res))
    checks = [
        a
        for a in every
        if a.category in ("Build", "Test")
        and (CHECK.search(a.name) or CHECK.search(a.stage))
        and not _reads_variables(a)
        and not _reads_earlier_output(a, every)
    ]
    slots = {(a.stage_index, a.run_order) for a in checks}
    if len(checks) < 2 or len(slots) < 2:
        return
    outputs = {o for a in checks for o in a.outputs}
    if any(i in outputs for a in checks for i in a.inputs):
        return
    later = sorted(checks, key=lambda a: (a.stage_index, a.run_order))[-1]
    yield Hit(
        res.logical_id,
        later.path,
        f"checks {', '.join(repr(a.name) for a in checks)} run in sequence; put them in one "
        "stage with the same RunOrder so they run in parallel",
    )


RULE = Rule(
    id="CV041",
    title="Tests and scans run in sequence",
    severity=Severity.INFO,
    resource_types=("AWS::CodePipeline::Pipeline",),
    failure_modes=("FM29",),
    why="S3: tests and security scans ran one after the other; the fix ran them in parallel to "
    "meet the build-time target.",
    fix_cloudformation="Place independent test and scan actions in one stage with equal RunOrder.",
    fix_cdk="pipeline.add_stage(stage_name='Checks', actions=[tests, scans]) with the same "
    "run_order.",
    fix_conveyor="Nothing to write: checks.tests and checks.scans run in one parallel stage.",
    check=check,
)
